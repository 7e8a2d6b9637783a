"""Event Management v3, read-only: ``GET /api/eventmanagement/v3/events`` (what ``mc asset-info`` and
``mc events --mode list`` call; reference section 8 asks the simulator to accept what ``mc`` sends).

The simulated tenant records no events: no simulated device or agent raises one, and the simulator
serves no way to create them. Every query therefore answers a HAL page without items, with ``page``
metadata for the requested page and size (``totalElements`` 0), in the shape of the asset listings
(reference 2.2 and the ``_links``/empty-page contract of section 7). Its parameters are still checked,
so a request the real service refuses is refused here too:

- ``size`` 1..500 (default 20; the documented maximum, larger sizes are clamped), ``page`` 0-based.
- ``filter``: the JSON filter syntax of Asset Management (``timestamp`` with ``before``/``after``/
  ``between``, ``typeId``, ``correlationId``, ``entityId``, ``code``, ``severity``, ``source``,
  ``acknowledged``, ``assetTypeId``, ``parentAssetId``; custom fields are ignored). Bad JSON or an
  unknown operator is a 400.
- ``sort``: ``field,asc|desc`` on those fields (default ``timestamp,desc``, what the SDK sends).
- ``history``, ``includeShared``, ``enablePageCache``: ``true`` or ``false``.

Project choices (UNCONFIRMED): the scope ``mdsp:core:em.read`` (``tui.sim.config``), the error codes
``mdsp.core.eventmanagement.*`` in the ``{"errors":[…]}`` shape (reference 6 lists Events there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tui.sim.encoding import FastJSONResponse
from tui.sim.errors import SimHTTPError
from tui.sim.filters import compile_filter, hal_page, parse_filter_json, parse_sort, query_value
from tui.sim.security import require_token

PATH = "/api/eventmanagement/v3/events"
EM_READ = "mdsp:core:em.read"
BAD_REQUEST = "mdsp.core.eventmanagement.badRequest"
DEFAULT_SIZE = 20
MAX_SIZE = 500
EVENT_FIELDS = (
    "timestamp", "typeId", "correlationId", "entityId", "code", "severity", "source", "acknowledged",
    "assetTypeId", "parentAssetId",
)  # fmt: skip

T = TypeVar("T")


def _bad(message: str) -> SimHTTPError:
    return SimHTTPError(400, message, code=BAD_REQUEST)


def _checked(parse: Callable[[], T]) -> T:
    """Run a shared Asset Management parser; its 400 gets this API's error code."""
    try:
        return parse()
    except SimHTTPError as exc:
        raise _bad(exc.message) from None


def _integer(request: Request, name: str, default: int) -> int:
    value = query_value(request, name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise _bad(f"Parameter '{name}' must be an integer") from None


def _boolean(request: Request, name: str) -> None:
    value = query_value(request, name)
    if value and value.lower() not in ("true", "false"):
        raise _bad(f"Parameter '{name}' must be true or false")


def _field_getter(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda event: event.get(name)


async def list_events(request: Request) -> JSONResponse:
    require_token(request, EM_READ)
    page = _integer(request, "page", 0)
    size = _integer(request, "size", DEFAULT_SIZE)
    if page < 0:
        raise _bad("Parameter 'page' must not be negative")
    if size < 1:
        raise _bad("Parameter 'size' must be at least 1")
    size = min(size, MAX_SIZE)
    for name in ("history", "includeShared", "enablePageCache"):
        _boolean(request, name)
    _checked(lambda: parse_sort(request, EVENT_FIELDS, default_field="timestamp"))
    fields = {name: _field_getter(name) for name in EVENT_FIELDS}
    _checked(lambda: compile_filter(parse_filter_json(query_value(request, "filter")), fields))
    # The tenant records no events (see the module docstring): every query matches none.
    return FastJSONResponse(hal_page(request, "events", [], 0, page, size))


def routes() -> list[Route]:
    return [Route(PATH, list_events, methods=["GET"])]
