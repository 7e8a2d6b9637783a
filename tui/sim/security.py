"""The simulator's signing key, token issuing and Bearer-token checks (reference 1.1, 1.2, 1.4, 8).

One RSA key per app: ``create_app`` puts a ``SigningKey`` at ``app.state.signing_key``. Routes call
``require_token(request, scope)`` to get the claims of a valid token or an error in the API's shape.
"""

from __future__ import annotations

import base64
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request

from tui.sim.config import SimClient, SimConfig
from tui.sim.errors import SimHTTPError, shape_for_path

ALGORITHM = "RS256"
SCHEMAS = ["urn:siemens:mindsphere:iam:v1"]
# Invented value for the custom "cat" claim (reference 1.4, project choice).
CLIENT_TOKEN_CATEGORY = "client-token:v1"
VERIFIED_MAX = 256


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair with a key id. The private key never leaves this object."""

    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)
    # Claims of tokens this key verified (see ``decode_token``).
    verified: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or f"key-id-{uuid.uuid4().hex[:8]}", key)

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    @property
    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def jwk(self) -> dict[str, str]:
        """The key as ``token_keys`` lists it: kty, e, use, kid, alg, value (PEM), n."""
        numbers = self.public_key.public_numbers()
        return {
            "kty": "RSA",
            "e": _b64url_uint(numbers.e),
            "use": "sig",
            "kid": self.kid,
            "alg": ALGORITHM,
            "value": self.public_pem,
            "n": _b64url_uint(numbers.n),
        }

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})


def issuer_for(tenant: str, host: str) -> str:
    """``https://{tenant}.piam.<host>/oauth/token`` style issuer built from the request host."""
    return f"https://{tenant}.piam.{host}/oauth/token"


def issue_token(
    key: SigningKey, config: SimConfig, client: SimClient, *, host: str, audience: list[str] | None = None
) -> tuple[str, dict[str, Any]]:
    """Sign a token for ``client``; returns the JWT and its claims."""
    iat = int(config.clock())
    claims: dict[str, Any] = {
        "jti": uuid.uuid4().hex,
        "sub": client.client_id,
        "scope": list(client.scopes),
        "client_id": client.client_id,
        "cid": client.client_id,
        "azp": client.client_id,
        "grant_type": "client_credentials",
        "iat": iat,
        "exp": iat + int(config.token_ttl),
        "iss": issuer_for(config.tenant, host),
        "zid": config.tenant,
        "ten": config.tenant,
        "aud": audience or [client.client_id],
        "schemas": SCHEMAS,
        "cat": CLIENT_TOKEN_CATEGORY,
    }
    return key.sign(claims), claims


def decode_token(key: SigningKey, token: str, now: float) -> dict[str, Any]:
    """Verify signature and ``exp`` against the simulator's clock; raises ``jwt.InvalidTokenError``.

    Tokens whose signature this key verified are remembered (at most ``VERIFIED_MAX``): verifying RS256
    costs more than serving a small response, and clients send one token with many requests. ``exp`` is
    checked on every call.
    """
    claims = key.verified.get(token)
    if claims is None:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False},
        )
        with key.lock:
            if len(key.verified) >= VERIFIED_MAX:
                key.verified.pop(next(iter(key.verified)))
            key.verified[token] = claims
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or now >= exp:
        raise jwt.ExpiredSignatureError("token expired")
    return claims


def require_token(request: Request, scope: str | None = None) -> dict[str, Any]:
    """Claims of the request's valid Bearer token; SimHTTPError 401/403 in the path's error shape."""
    shape = shape_for_path(request.url.path)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise SimHTTPError(
            401,
            "Full authentication is required to access this resource",
            code="mdsp.core.generic.unauthorized",
            shape=shape,
            oauth_error="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="simulator"'},
        )
    key: SigningKey = request.app.state.signing_key
    config: SimConfig = request.app.state.config
    try:
        claims = decode_token(key, token, config.clock())
    except jwt.ExpiredSignatureError:
        raise SimHTTPError(
            401,
            "Access token expired",
            code="mdsp.core.generic.tokenExpired",
            shape=shape,
            oauth_error="invalid_token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    except jwt.InvalidTokenError:
        raise SimHTTPError(
            401,
            "Invalid access token",
            code="mdsp.core.generic.invalidToken",
            shape=shape,
            oauth_error="invalid_token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    if scope is not None:
        scopes = claims.get("scope") or []
        if isinstance(scopes, str):
            scopes = scopes.split()
        if scope not in scopes:
            raise SimHTTPError(
                403,
                f"Access denied: the token lacks the scope '{scope}'",
                code="mdsp.core.generic.forbidden",
                shape=shape,
                oauth_error="insufficient_scope",
            )
    return claims
