"""IoT File Service v3, read-only: ``GET /api/iotfile/v3/files/{entityId}`` (the file search ``mc
asset-info`` calls after the events; reference section 8 asks the simulator to accept what ``mc`` sends).

The simulated tenant stores no files: the simulator serves no upload. A search for a known asset
therefore answers ``200 []`` (the service answers a plain JSON array of file metadata, SDK
``IotFileClient.GetFiles``); an unknown asset id, or one received from another tenant, is a 404 in the
``{"errors":[…]}`` shape, as in Asset Management. Its parameters are still checked (IoT File docs,
"Filtering"): ``offset`` 0..10000 and ``limit`` (default 500) non-negative integers, ``count`` ``true`` or
``false``, ``order`` one of ``updated``, ``path``, ``name`` with an optional ``asc``/``desc``. ``filter``
is not checked: the docs say a malformed filter is ignored.

Project choices (UNCONFIRMED): the scope ``iot.fil.r`` (``tui.sim.config``, modelled on ``iot.tim.r``),
the 404 for an unknown asset and the error code ``mdsp.core.iotfile.badRequest``.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tui.sim.errors import SimHTTPError
from tui.sim.filters import query_value
from tui.sim.model import TenantState
from tui.sim.security import require_token

PATH = "/api/iotfile/v3/files/{entityId}"
FILE_READ = "iot.fil.r"
BAD_REQUEST = "mdsp.core.iotfile.badRequest"
MAX_OFFSET = 10_000
ORDER = re.compile(r"^(updated|path|name)(\s+(asc|desc))?$", re.IGNORECASE)


def _bad(message: str) -> SimHTTPError:
    return SimHTTPError(400, message, code=BAD_REQUEST)


def _count(request: Request, name: str, maximum: int | None = None) -> None:
    value = query_value(request, name)
    if not value:
        return
    if not value.isdigit() or (maximum is not None and int(value) > maximum):
        limit = f" up to {maximum}" if maximum is not None else ""
        raise _bad(f"Parameter '{name}' must be a non-negative integer{limit}")


async def search_files(request: Request) -> JSONResponse:
    require_token(request, FILE_READ)
    _count(request, "offset", MAX_OFFSET)
    _count(request, "limit")
    count = query_value(request, "count")
    if count and count.lower() not in ("true", "false"):
        raise _bad("Parameter 'count' must be true or false")
    order = query_value(request, "order")
    if order and not ORDER.match(order):
        raise _bad("Parameter 'order' must be one of updated, path, name, optionally with asc or desc")
    entity_id = request.path_params["entityId"]
    state: TenantState = request.app.state.tenant
    with state.lock:
        asset = state.assets.get(entity_id)
        known = asset is not None and asset.deleted is None and not asset.shared
    if not known:
        raise SimHTTPError(404, f"Asset with id '{entity_id}' not found", code="mdsp.core.generic.notFound")
    # The tenant stores no files (see the module docstring).
    return JSONResponse([])


def routes() -> list[Route]:
    return [Route(PATH, search_files, methods=["GET"])]
