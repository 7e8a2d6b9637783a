"""In-process transport: httpx talks to the simulator app without a socket.

``sim_transport(app)`` behaves like the network would: a connection dropped by the simulator's fault
injection surfaces as ``httpx.RemoteProtocolError``, the same error a real dropped connection gives.
"""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

from tui.sim.faults import ConnectionDropped


class SimTransport(httpx.ASGITransport):
    """``httpx.ASGITransport`` that turns ``ConnectionDropped`` into ``httpx.RemoteProtocolError``."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None


def sim_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """An httpx transport that serves requests from ``app`` in-process."""
    return SimTransport(app=app)
