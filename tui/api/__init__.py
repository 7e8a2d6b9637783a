"""The async API layer for Insights Hub (httpx). No Textual here.

Typical use::

    async with ApiClient(ConnectionConfig(gateway, credentials)) as api:
        root = await api.assets.root()
        async for asset in api.assets.children(root.asset_id):
            ...
"""

from tui.api.auth import Credentials, CredentialStyle, Token, TokenProvider, detect_style
from tui.api.client import ApiClient, ConnectionConfig
from tui.api.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
    TokenError,
    TransportError,
)

__all__ = [
    "ApiClient",
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ConnectionConfig",
    "CredentialStyle",
    "Credentials",
    "ForbiddenError",
    "NotFoundError",
    "PreconditionFailedError",
    "PreconditionRequiredError",
    "RateLimitedError",
    "ResponseFormatError",
    "ServerError",
    "Token",
    "TokenError",
    "TokenProvider",
    "TransportError",
    "detect_style",
]
