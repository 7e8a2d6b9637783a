"""IoT Time Series v3 (reference section 3, contract in section 7).

``GET/PUT/DELETE /api/iottimeseries/v3/timeseries/{entityId}/{propertySetName}`` over the synthetic
signal of ``tui.sim.signals`` with written records overlaid and deleted ranges removed.

Project choices (UNCONFIRMED points of the reference):
- ``limit`` above ``config.ts_limit`` (default 2000) is clamped, not refused; ``limit`` below 1 is a 400.
- Only ``from``: ``to`` is now. No ``from`` (with or without ``to``): only the newest record at or before
  ``to`` (default now).
- Paging: ``Link: <absolute URL>; rel="next"`` with ``from`` = the last ``_time`` (ascending) or, for
  ``sort=desc``, ``to`` = the last ``_time`` minus one millisecond.
- ``latestValue=true``: per property the newest value at least 5 minutes and at most 90 days old
  relative to the simulator clock; ``from``/``to``/``limit`` are ignored; records grouped by ``_time``
  (ascending).
- ``select`` naming an unknown property is a 400; ``<var>_qc`` comes with its variable.
- Write: ``204``; all or nothing; body above 1 MB: ``413``. Delete: ``204``, no range limit.
- The synthetic signal starts when the asset was created (``createdAt``); written data may be older.
- Errors: ``{"id","message"}``; unknown asset or aspect ``404``; bad parameters or bodies ``400``.
- Assets received from another tenant (sharing mode RECEIVER): their time series are readable (the IoT
  APIs have no ``includeShared``), writes and deletes are ``403``.
- Aspects sampled once a second (the demo pumps' ``Vibration``) answer any range from the synthetic
  signal too: 86 400 records a day, paged by ``Link`` like any other.
"""

from __future__ import annotations

import json
import math
import re
from itertools import islice
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tui.sim.config import SimConfig
from tui.sim.encoding import FastJSONResponse, records_json
from tui.sim.errors import ID_MESSAGE, SimHTTPError
from tui.sim.filters import query_parsed, query_text
from tui.sim.model import AspectType, TenantState, find_aspect
from tui.sim.security import require_token
from tui.sim.signals import (
    DAY_MS,
    INT32,
    INT64,
    AspectSignal,
    Series,
    TimeFormatError,
    VariableSpec,
    format_time,
    merge_ranges,
    parse_time,
)

PREFIX = "/api/iottimeseries/v3"
TS_READ = "iot.tim.r"
TS_WRITE = "iot.tim.w"
TS_DELETE = "iot.tim.d"
MAX_BODY_BYTES = 1024 * 1024
LATEST_MIN_AGE_MS = 5 * 60 * 1000
LATEST_MAX_AGE_MS = 90 * DAY_MS
STRING_MAX = 255
BIG_STRING_MAX = 100_000
ASSET_ID = re.compile(r"^[a-f0-9]{32}$")
BEFORE_ALL_MS = -(1 << 62)
AFTER_ALL_MS = 1 << 62


def _bad(message: str, shape: str = ID_MESSAGE, code: str | None = None) -> SimHTTPError:
    return SimHTTPError(400, message, shape=shape, code=code)


def now_ms(config: SimConfig) -> int:
    return int(math.floor(config.clock() * 1000))


def resolve_aspect(
    state: TenantState, asset_id: str, aspect_name: str, shape: str = ID_MESSAGE
) -> AspectType:
    """The dynamic aspect type of ``aspect_name`` on a live asset; 404 in ``shape`` otherwise."""
    asset = state.assets.get(asset_id) if ASSET_ID.match(asset_id) else None
    if asset is None or asset.deleted is not None:
        raise SimHTTPError(
            404, f"Asset '{asset_id}' not found", shape=shape, code="mdsp.core.generic.notFound"
        )
    aspect_type = find_aspect(state, asset_id, aspect_name)
    if aspect_type is None or aspect_type.category != "dynamic":
        what = "dynamic aspect" if aspect_type is not None else "aspect"
        raise SimHTTPError(
            404,
            f"No {what} '{aspect_name}' on asset '{asset_id}'",
            shape=shape,
            code="mdsp.core.generic.notFound",
        )
    return aspect_type


def _check_writable(state: TenantState, asset_id: str) -> None:
    """Time series of an asset received from another tenant can be read, not written or deleted (403)."""
    asset = state.assets[asset_id]
    if asset.shared:
        raise SimHTTPError(
            403,
            f"Asset '{asset_id}' is shared with this tenant by tenant '{asset.owner}': its time series "
            "are read-only",
            shape=ID_MESSAGE,
        )


def signal_for(config: SimConfig, asset_id: str, aspect_name: str, aspect_type: AspectType) -> AspectSignal:
    specs = [
        VariableSpec(v.name, v.dataType.upper(), v.unit or "", bool(v.qualityCode), v.length)
        for v in aspect_type.variables
    ]
    return AspectSignal(config.seed, asset_id, aspect_name, specs, max(1, int(aspect_type.sample_period_s)))


def load_series(
    request: Request, asset_id: str, aspect_name: str, shape: str = ID_MESSAGE
) -> tuple[AspectType, Series]:
    """The aspect type and a snapshot of its series (synthetic + writes - deletions) for one request."""
    state: TenantState = request.app.state.tenant
    config: SimConfig = request.app.state.config
    with state.lock:
        aspect_type = resolve_aspect(state, asset_id, aspect_name, shape)
        key = (asset_id, aspect_name)
        writes = dict(state.ts_writes.get(key, {}))
        deleted = list(state.ts_deleted.get(key, []))
        created = state.assets[asset_id].createdAt
    if not aspect_type.synthetic:
        # An MQTT agent's aspect: only what the agent published (tui.sim.agents).
        deleted.append((BEFORE_ALL_MS, AFTER_ALL_MS))
    elif created > 0:
        # No synthetic data before the asset existed (written data is kept).
        deleted.append((BEFORE_ALL_MS, int(created * 1000)))
    series = Series(signal_for(config, asset_id, aspect_name, aspect_type), writes, deleted, now_ms(config))
    return aspect_type, series


def _query(request: Request, name: str) -> str | None:
    return query_text(request, name)


def _time_param(request: Request, name: str) -> int | None:
    return query_parsed(request, name, parse_time, _bad)


def _select(request: Request, aspect_type: AspectType) -> list[str] | None:
    value = _query(request, "select")
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    known = {v.name for v in aspect_type.variables}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise _bad(f"Unknown properties in select: {', '.join(unknown)} (aspect '{aspect_type.name}')")
    return names or None


def _bool_param(request: Request, name: str) -> bool:
    value = _query(request, name)
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise _bad(f"Parameter '{name}' must be true or false")
    return value.lower() == "true"


def _render(t: int, rec: dict[str, Any], select: list[str] | None) -> dict[str, Any] | None:
    out: dict[str, Any] = {"_time": format_time(t)}
    if select is None:
        out.update(rec)
        return out
    for name in select:
        if name in rec:
            out[name] = rec[name]
            if name + "_qc" in rec:
                out[name + "_qc"] = rec[name + "_qc"]
    return out if len(out) > 1 else None


async def read_timeseries(request: Request) -> Response:
    require_token(request, TS_READ)
    asset_id = request.path_params["entityId"]
    aspect_name = request.path_params["propertySetName"]
    config: SimConfig = request.app.state.config
    aspect_type, series = load_series(request, asset_id, aspect_name)
    select = _select(request, aspect_type)
    from_ms = _time_param(request, "from")
    to_ms = _time_param(request, "to")
    sort = (_query(request, "sort") or "asc").lower()
    if sort not in ("asc", "desc"):
        raise _bad("Parameter 'sort' must be asc or desc")
    limit_text = _query(request, "limit")
    limit = config.ts_limit
    if limit_text is not None:
        try:
            limit = int(limit_text)
        except ValueError:
            raise _bad("Parameter 'limit' must be an integer") from None
        if limit < 1:
            raise _bad("Parameter 'limit' must be at least 1")
        limit = min(limit, max(1, config.ts_limit))
    now = series.now_ms

    if _bool_param(request, "latestValue"):
        names = select or [v.name for v in aspect_type.variables]
        found = series.latest_values(names, now - LATEST_MIN_AGE_MS, now - LATEST_MAX_AGE_MS)
        grouped: dict[int, dict[str, Any]] = {}
        for name in names:
            if name in found:
                t, value, qc = found[name]
                rec = grouped.setdefault(t, {"_time": format_time(t)})
                rec[name] = value
                if qc is not None:
                    rec[name + "_qc"] = qc
        return FastJSONResponse([grouped[t] for t in sorted(grouped)])

    if from_ms is None:
        at = now if to_ms is None else to_ms
        for t, rec in series.records(at - 400 * DAY_MS, at, descending=True):
            out = _render(t, rec, select)
            if out is not None:
                return FastJSONResponse([out])
        return FastJSONResponse([])

    if to_ms is None:
        to_ms = now
    if from_ms > to_ms:
        raise _bad("Parameter 'from' must not be later than 'to'")
    descending = sort == "desc"
    fast = _page_from_columns(series, from_ms, to_ms, limit, descending, select)
    if fast is not None:
        body, last_t = fast
        headers: dict[str, str] = {}
        if last_t is not None:
            headers["Link"] = _next_link(request, from_ms, to_ms, last_t, descending)
        return Response(body, media_type="application/json", headers=headers)
    rendered = (
        (t, out)
        for t, rec in series.records(from_ms, to_ms, descending)
        if (out := _render(t, rec, select)) is not None
    )
    page = list(islice(rendered, limit + 1))
    headers = {}
    if len(page) > limit:
        page = page[:limit]
        headers["Link"] = _next_link(request, from_ms, to_ms, page[-1][0], descending)
    return FastJSONResponse([out for _t, out in page], headers=headers)


def _next_link(request: Request, from_ms: int, to_ms: int, last_t: int, descending: bool) -> str:
    """The ``Link`` header to the rest of the range after a full page ending at ``last_t``."""
    if descending:
        params = {"from": format_time(from_ms), "to": format_time(last_t - 1)}
    else:
        params = {"from": format_time(last_t), "to": format_time(to_ms)}
    return f'<{request.url.include_query_params(**params)}>; rel="next"'


def _page_from_columns(
    series: Series, from_ms: int, to_ms: int, limit: int, descending: bool, select: list[str] | None
) -> tuple[bytes, int | None] | None:
    """A page of synthetic records as JSON built from columns (``records_json``), and the time of its
    last record when more follow; None when written records fall in the range (``_render`` them).

    The same bytes as rendering record by record: synthetic records carry every variable.
    """
    block = series.columns(from_ms, to_ms, limit + 1, descending, list(dict.fromkeys(select or ())))
    if block is None:
        return None
    more = len(block.times) > limit
    times = block.times[:limit]
    columns: list[tuple[str, list[Any]]] = []
    for name, values in block.values.items():
        columns.append((name, values[:limit]))
        qcs = block.qcs.get(name)
        if qcs is not None:
            columns.append((name + "_qc", qcs[:limit]))
    return records_json(times, columns), times[-1] if more else None


def _check_value(var: Any, value: Any, where: str) -> None:
    dtype = var.dataType.upper()
    if dtype == "BOOLEAN":
        ok = isinstance(value, bool)
    elif dtype in ("INT", "LONG"):
        lo, hi = INT32 if dtype == "INT" else INT64
        ok = isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
    elif dtype == "DOUBLE":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    elif dtype in ("STRING", "BIG_STRING"):
        limit = var.length or (BIG_STRING_MAX if dtype == "BIG_STRING" else STRING_MAX)
        if isinstance(value, str) and len(value) > limit:
            raise _bad(f"{where}: '{var.name}' is longer than {limit} characters")
        ok = isinstance(value, str)
    elif dtype == "TIMESTAMP":
        ok = isinstance(value, str)
        if ok:
            try:
                parse_time(value)
            except TimeFormatError:
                ok = False
    else:
        ok = True
    if not ok:
        raise _bad(f"{where}: '{var.name}' must be a {dtype} value, got {json.dumps(value)[:40]}")


def _parse_records(raw: Any, aspect_type: AspectType) -> dict[int, dict[str, Any]]:
    if not isinstance(raw, list):
        raise _bad("The request body must be a JSON array of records")
    variables = {v.name: v for v in aspect_type.variables}
    parsed: dict[int, dict[str, Any]] = {}
    for index, item in enumerate(raw):
        where = f"Record {index}"
        if not isinstance(item, dict):
            raise _bad(f"{where} is not a JSON object")
        stamp = item.get("_time")
        if not isinstance(stamp, str):
            raise _bad(f"{where} has no '_time'")
        try:
            t = parse_time(stamp)
        except TimeFormatError as exc:
            raise _bad(f"{where}: {exc}") from None
        rec: dict[str, Any] = {}
        for key, value in item.items():
            if key == "_time":
                continue
            if key.endswith("_qc") and key[:-3] in variables and key not in variables:
                base = variables[key[:-3]]
                if not base.qualityCode:
                    raise _bad(f"{where}: '{base.name}' has no quality code")
                if value is None:
                    continue
                if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFFFFFF:
                    raise _bad(f"{where}: '{key}' must be a non-negative integer quality code")
                rec[key] = value
                continue
            var = variables.get(key)
            if var is None:
                raise _bad(f"{where}: unknown property '{key}' (aspect '{aspect_type.name}')")
            if value is None:
                continue
            _check_value(var, value, where)
            rec[key] = value
        for key in list(rec):
            if key.endswith("_qc") and key[:-3] not in rec:
                del rec[key]  # a quality code without its value means nothing
        parsed[t] = rec
    return parsed


async def write_timeseries(request: Request) -> Response:
    require_token(request, TS_WRITE)
    asset_id = request.path_params["entityId"]
    aspect_name = request.path_params["propertySetName"]
    state: TenantState = request.app.state.tenant
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise SimHTTPError(413, "The request body is larger than 1 MB", shape=ID_MESSAGE)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise SimHTTPError(413, "The request body is larger than 1 MB", shape=ID_MESSAGE)
    with state.lock:
        aspect_type = resolve_aspect(state, asset_id, aspect_name)
        _check_writable(state, asset_id)
    try:
        raw = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise _bad("The request body is not valid JSON") from None
    records = _parse_records(raw, aspect_type)
    with state.lock:
        resolve_aspect(state, asset_id, aspect_name)
        state.ts_writes.setdefault((asset_id, aspect_name), {}).update(records)
    return Response(status_code=204)


async def delete_timeseries(request: Request) -> Response:
    require_token(request, TS_DELETE)
    asset_id = request.path_params["entityId"]
    aspect_name = request.path_params["propertySetName"]
    state: TenantState = request.app.state.tenant
    from_ms = _time_param(request, "from")
    to_ms = _time_param(request, "to")
    if from_ms is None or to_ms is None:
        raise _bad("Deleting time series requires both 'from' and 'to'")
    if from_ms >= to_ms:
        raise _bad("Parameter 'from' must be earlier than 'to'")
    with state.lock:
        resolve_aspect(state, asset_id, aspect_name)
        _check_writable(state, asset_id)
        key = (asset_id, aspect_name)
        writes = state.ts_writes.get(key)
        if writes:
            for t in [t for t in writes if from_ms < t <= to_ms]:
                del writes[t]
        state.ts_deleted[key] = merge_ranges([*state.ts_deleted.get(key, []), (from_ms, to_ms)])
    return Response(status_code=204)


def routes() -> list[Route]:
    path = PREFIX + "/timeseries/{entityId}/{propertySetName}"
    return [
        Route(path, read_timeseries, methods=["GET"]),
        Route(path, write_timeseries, methods=["PUT"]),
        Route(path, delete_timeseries, methods=["DELETE"]),
    ]
