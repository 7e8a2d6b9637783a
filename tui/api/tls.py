"""TLS settings in the httpx 0.28 style: an ``ssl.SSLContext`` passed as ``verify``.

Verification is on by default and trusts the system store plus certifi's bundle. A custom CA bundle (a
PEM file or a directory of hashed certificates) is added on top, e.g. for a TLS-inspecting proxy;
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` / ``REQUESTS_CA_BUNDLE`` are honoured when set. Proxies come from the
standard ``HTTPS_PROXY`` / ``NO_PROXY`` variables through httpx's ``trust_env=True``.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

from tui.api.errors import TransportError

ENV_BUNDLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
ENV_DIRS = ("SSL_CERT_DIR",)


def _load(ctx: ssl.SSLContext, location: str, origin: str) -> None:
    path = Path(location).expanduser()
    try:
        if path.is_dir():
            ctx.load_verify_locations(capath=str(path))
        elif path.is_file():
            ctx.load_verify_locations(cafile=str(path))
        else:
            raise TransportError(f"CA bundle not found: {path} ({origin})", kind=TransportError.CONFIG)
    except ssl.SSLError as exc:
        raise TransportError(
            f"CA bundle {path} ({origin}) holds no usable PEM certificate: {exc.reason or exc}",
            kind=TransportError.CONFIG,
        ) from None
    except OSError as exc:
        raise TransportError(
            f"cannot read CA bundle {path} ({origin}): {exc.strerror or exc}", kind=TransportError.CONFIG
        ) from None


def ssl_context(
    ca_bundle: str | None = None, *, verify: bool = True, trust_env: bool = True
) -> ssl.SSLContext | bool:
    """An ``SSLContext`` with verification on; ``False`` only when ``verify=False`` is asked for."""
    if not verify:
        return False
    ctx = ssl.create_default_context()  # system store, CERT_REQUIRED, check_hostname
    try:
        import certifi

        ctx.load_verify_locations(cafile=certifi.where())
    except (ImportError, OSError, ssl.SSLError):
        pass
    if trust_env:
        for name in ENV_BUNDLES:
            value = os.environ.get(name)
            if value and Path(value).expanduser().exists():
                _load(ctx, value, name)
        for name in ENV_DIRS:
            value = os.environ.get(name)
            if value and Path(value).expanduser().is_dir():
                _load(ctx, value, name)
    if ca_bundle:
        _load(ctx, ca_bundle, "ca_bundle")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx
