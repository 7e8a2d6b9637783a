"""MindConnect MQTT v3 certificates (reference 5.3, the project's contract).

CA certificates: upload, list (HAL), get, delete (If-Match), registration code, verify (proof of
possession). Agent certificates: create (key and certificate issued by a simulator-internal MQTT CA,
returned once in both response shapes), list (HAL), get (never a private key), delete.

Project choices beyond 5.3: a second agent certificate with an existing name is a ``409``; the
registration code is rotated once the CA certificate is verified; ``createdAt`` is the simulator clock.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import uuid
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.sim.certs import (
    CertificateError,
    MqttCa,
    check_ca_certificate,
    check_verification_certificate,
    fingerprint_sha256,
    iso_utc,
    load_single_certificate,
)
from tui.sim.config import SimConfig
from tui.sim.errors import SimHTTPError
from tui.sim.filters import hal_page, json_object, parse_paging
from tui.sim.model import TenantState
from tui.sim.security import require_token

PREFIX = "/api/mindconnectmqtt/v3"
MQTT_READ = "mdsp:core:mindconnectmqtt.read"
MQTT_WRITE = "mdsp:core:mindconnectmqtt.write"
CA_LIMIT = 2
CODE_BAD = "mdsp.core.mindconnectmqtt.badRequest"
CODE_INVALID_CERT = "mdsp.core.mindconnectmqtt.invalidCertificate"
CODE_LIMIT = "mdsp.core.mindconnectmqtt.caCertificateLimitReached"
CODE_DUPLICATE = "mdsp.core.mindconnectmqtt.caCertificateAlreadyExists"
CODE_VERIFIED = "mdsp.core.mindconnectmqtt.caCertificateAlreadyVerified"
CODE_VERIFY = "mdsp.core.mindconnectmqtt.verificationFailed"
CODE_NOT_FOUND = "mdsp.core.mindconnectmqtt.notFound"
CODE_AGENT_EXISTS = "mdsp.core.mindconnectmqtt.agentCertificateAlreadyExists"
AGENT_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CA_LOCK = threading.Lock()


# ------------------------------------------------------------------------------------------- helpers


def _state(request: Request) -> TenantState:
    return request.app.state.tenant


def _now(request: Request) -> dt.datetime:
    config: SimConfig = request.app.state.config
    return dt.datetime.fromtimestamp(config.clock(), dt.UTC)


def _bad(message: str, code: str = CODE_BAD) -> SimHTTPError:
    return SimHTTPError(400, message, code=code)


def _not_found(kind: str, ident: str) -> SimHTTPError:
    return SimHTTPError(
        404,
        f"{kind} '{ident}' not found",
        code=CODE_NOT_FOUND,
        message_parameters=[{"name": "id", "value": ident}],
    )


async def _json_object(request: Request) -> dict[str, Any]:
    return await json_object(request, _bad)


def ulid(ms: int) -> str:
    """A 26-character ULID: 48-bit millisecond time + 80 random bits, Crockford base 32."""
    value = ((ms & ((1 << 48) - 1)) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_CROCKFORD[rem])
    return "".join(reversed(chars))


def mqtt_ca(request: Request) -> MqttCa:
    """The app's internal MQTT CA (created on first use, one per app)."""
    with _CA_LOCK:
        ca = getattr(request.app.state, "mqtt_ca", None)
        if ca is None:
            ca = MqttCa.generate(_state(request).tenant, _now(request))
            request.app.state.mqtt_ca = ca
    return ca


def _public(resource: dict[str, Any]) -> dict[str, Any]:
    """A stored resource without internal fields (those starting with '_')."""
    return {k: v for k, v in resource.items() if not k.startswith("_")}


def _if_match(request: Request) -> str | None:
    value = request.headers.get("if-match")
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip().strip('"').strip() or None


# ----------------------------------------------------------------------------------- CA certificates


def _ca_resource(request: Request, cert_id: str) -> dict[str, Any]:
    resource = _state(request).ca_certificates.get(cert_id)
    if resource is None:
        raise _not_found("CA certificate", cert_id)
    return resource


async def upload_ca(request: Request) -> JSONResponse:
    require_token(request, MQTT_WRITE)
    body = await _json_object(request)
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 128 or len(name) > 128:
        raise _bad("'name' is required: 1 to 128 characters")
    description = body.get("description", "")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise _bad("'description' must be a string")
    try:
        cert = load_single_certificate(body.get("caCertificate"), "caCertificate")
        check_ca_certificate(cert)
    except CertificateError as exc:
        raise _bad(str(exc), CODE_INVALID_CERT) from None
    fingerprint = fingerprint_sha256(cert)
    state = _state(request)
    now = _now(request)
    with state.lock:
        if any(r["fingerprintSha256"] == fingerprint for r in state.ca_certificates.values()):
            raise SimHTTPError(
                409, "This CA certificate (same SHA-256 fingerprint) is already uploaded", code=CODE_DUPLICATE
            )
        if len(state.ca_certificates) >= CA_LIMIT:
            raise _bad(
                f"At most {CA_LIMIT} CA certificates are allowed per environment; delete one first",
                CODE_LIMIT,
            )
        cert_id = uuid.uuid4().hex
        resource: dict[str, Any] = {
            "id": cert_id,
            "name": name,
            "description": description,
            "status": "NOT_VERIFIED",
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "serialNumber": format(cert.serial_number, "x"),
            "validFrom": iso_utc(cert.not_valid_before_utc),
            "validTo": iso_utc(cert.not_valid_after_utc),
            "fingerprintSha256": fingerprint,
            "caCertificate": cert.public_bytes(Encoding.PEM).decode("ascii"),
            "etag": 0,
            "createdAt": iso_utc(now),
            "_registrationCode": secrets.token_hex(32),
        }
        state.ca_certificates[cert_id] = resource
        out = _public(resource)
    return JSONResponse(out, status_code=201, headers={"ETag": f'"{out["etag"]}"'})


async def list_ca(request: Request) -> JSONResponse:
    require_token(request, MQTT_READ)
    page, size = parse_paging(request, request.app.state.config.max_page_size)
    state = _state(request)
    with state.lock:
        items = [_public(r) for r in state.ca_certificates.values()]
    window = items[page * size : page * size + size]
    return JSONResponse(hal_page(request, "caCertificates", window, len(items), page, size))


async def get_ca(request: Request) -> JSONResponse:
    require_token(request, MQTT_READ)
    with _state(request).lock:
        out = _public(_ca_resource(request, request.path_params["id"]))
    return JSONResponse(out, headers={"ETag": f'"{out["etag"]}"'})


async def delete_ca(request: Request) -> Response:
    require_token(request, MQTT_WRITE)
    state = _state(request)
    cert_id = request.path_params["id"]
    with state.lock:
        resource = _ca_resource(request, cert_id)
        etag = _if_match(request)
        if etag is None:
            raise SimHTTPError(
                428,
                "Deleting a CA certificate requires an If-Match header with its current etag",
                code="mdsp.core.mindconnectmqtt.ifMatchRequired",
            )
        if etag != "*" and etag != str(resource["etag"]):
            raise SimHTTPError(
                412,
                f"If-Match {etag} does not match the CA certificate's current etag {resource['etag']}",
                code="mdsp.core.mindconnectmqtt.etagMismatch",
            )
        del state.ca_certificates[cert_id]
    return Response(status_code=204)


async def registration_code(request: Request) -> JSONResponse:
    require_token(request, MQTT_READ)
    with _state(request).lock:
        code = _ca_resource(request, request.path_params["id"])["_registrationCode"]
    return JSONResponse({"registrationCode": code})


async def verify_ca(request: Request) -> JSONResponse:
    require_token(request, MQTT_WRITE)
    body = await _json_object(request)
    state = _state(request)
    cert_id = request.path_params["id"]
    with state.lock:
        resource = _ca_resource(request, cert_id)
        if resource["status"] == "VERIFIED":
            raise SimHTTPError(409, "The CA certificate is already verified", code=CODE_VERIFIED)
        try:
            verification = load_single_certificate(
                body.get("verificationCertificate"), "verificationCertificate"
            )
            ca = load_single_certificate(resource["caCertificate"], "CA certificate")
            check_verification_certificate(verification, ca, resource["_registrationCode"], _now(request))
        except CertificateError as exc:
            raise _bad(str(exc), CODE_VERIFY) from None
        resource["status"] = "VERIFIED"
        resource["etag"] += 1
        resource["_registrationCode"] = secrets.token_hex(32)
        out = _public(resource)
    return JSONResponse(out, headers={"ETag": f'"{out["etag"]}"'})


# -------------------------------------------------------------------------------- agent certificates


def _agent_resource(request: Request, cert_id: str) -> dict[str, Any]:
    resource = _state(request).agent_certificates.get(cert_id)
    if resource is None:
        raise _not_found("Agent certificate", cert_id)
    return resource


async def create_agent_certificate(request: Request) -> JSONResponse:
    require_token(request, MQTT_WRITE)
    body = await _json_object(request)
    name = body.get("name")
    if not isinstance(name, str) or not AGENT_NAME.match(name):
        raise _bad("'name' is required: 1 to 64 characters from letters, digits, '_', '-' and '.'")
    owner = body.get("owner")
    if owner is not None and not isinstance(owner, str):
        raise _bad("'owner' must be a string")
    state = _state(request)
    client_id = f"{state.tenant}_{name}"
    with state.lock:
        if any(r["name"] == name for r in state.agent_certificates.values()):
            raise SimHTTPError(
                409, f"An agent certificate named '{name}' already exists", code=CODE_AGENT_EXISTS
            )
    now = _now(request)
    # RSA key generation takes tens of milliseconds: keep it off the event loop.
    ca = await run_in_threadpool(mqtt_ca, request)
    # CN = the name, so that the client id is <tenant>_<CN> as for every MQTT certificate (5.1).
    cert_pem, key_pem = await run_in_threadpool(ca.issue, name, now)
    resource: dict[str, Any] = {
        "id": ulid(int(now.timestamp() * 1000)),
        "name": name,
        "agentName": client_id,
        "clientId": client_id,
        "owner": owner,
        "agentId": uuid.uuid4().hex,
        "status": "READY",
        "publicKey": cert_pem,
        "credentials": {"certificatePem": cert_pem},
        "createdAt": iso_utc(now),
    }
    with state.lock:
        if any(r["name"] == name for r in state.agent_certificates.values()):
            raise SimHTTPError(
                409, f"An agent certificate named '{name}' already exists", code=CODE_AGENT_EXISTS
            )
        state.agent_certificates[resource["id"]] = resource
    # The private key is returned in this response only and is never stored.
    out = {
        **resource,
        "privateKey": key_pem,
        "credentials": {"certificatePem": cert_pem, "privateKey": key_pem},
    }
    return JSONResponse(out, status_code=201)


async def list_agent_certificates(request: Request) -> JSONResponse:
    require_token(request, MQTT_READ)
    page, size = parse_paging(request, request.app.state.config.max_page_size)
    state = _state(request)
    with state.lock:
        items = [_agent_public(r) for r in state.agent_certificates.values()]
    window = items[page * size : page * size + size]
    return JSONResponse(hal_page(request, "agentCertificates", window, len(items), page, size))


def _agent_public(resource: dict[str, Any]) -> dict[str, Any]:
    out = _public(resource)
    out["credentials"] = {"certificatePem": resource["credentials"]["certificatePem"]}
    return out


async def get_agent_certificate(request: Request) -> JSONResponse:
    require_token(request, MQTT_READ)
    with _state(request).lock:
        out = _agent_public(_agent_resource(request, request.path_params["id"]))
    return JSONResponse(out)


async def delete_agent_certificate(request: Request) -> Response:
    require_token(request, MQTT_WRITE)
    state = _state(request)
    cert_id = request.path_params["id"]
    with state.lock:
        _agent_resource(request, cert_id)
        del state.agent_certificates[cert_id]
    return Response(status_code=204)


def routes() -> list[Route]:
    ca = PREFIX + "/caCertificates"
    agent = PREFIX + "/agentCertificates"
    return [
        Route(ca, upload_ca, methods=["POST"]),
        Route(ca, list_ca, methods=["GET"]),
        Route(ca + "/{id}", get_ca, methods=["GET"]),
        Route(ca + "/{id}", delete_ca, methods=["DELETE"]),
        Route(ca + "/{id}/registrationCode", registration_code, methods=["GET"]),
        Route(ca + "/{id}/verify", verify_ca, methods=["POST"]),
        Route(agent, create_agent_certificate, methods=["POST"]),
        Route(agent, list_agent_certificates, methods=["GET"]),
        Route(agent + "/{id}", get_agent_certificate, methods=["GET"]),
        Route(agent + "/{id}", delete_agent_certificate, methods=["DELETE"]),
    ]
