"""IoT Time Series v3 (reference section 3): read with Link paging, write, delete.

Timestamps go in as timezone-aware datetimes (or ISO strings, passed through) and go out as ISO 8601
with milliseconds and ``Z``. Records stay plain dicts; ``tui.api.models.record_time`` parses ``_time``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui.api import contract as C
from tui.api.models import format_time

if TYPE_CHECKING:
    from tui.api.client import ApiClient

# Keep each write comfortably under the documented 1 MB body limit (3.2).
MAX_WRITE_BYTES = 900_000


def _ts(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_time(value)
    return str(value)


def _select(select: str | Iterable[str] | None) -> str | None:
    if select is None:
        return None
    if isinstance(select, str):
        return select or None
    joined = ",".join(select)
    return joined or None


class TimeSeries:
    def __init__(self, client: ApiClient) -> None:
        self._c = client

    def _path(self, entity: str, aspect: str) -> str:
        return C.TS_PATH.format(entity=entity, aspect=aspect)

    def _params(
        self,
        from_: datetime | str | None,
        to: datetime | str | None,
        limit: int | None,
        select: str | Iterable[str] | None,
        sort: str | None,
        latest_value: bool,
    ) -> dict[str, Any]:
        if sort is not None and sort not in ("asc", "desc"):
            raise ValueError("sort must be 'asc' or 'desc'")
        if isinstance(from_, datetime) and isinstance(to, datetime) and from_ >= to:
            raise ValueError("'from' must be before 'to'")
        params: dict[str, Any] = {
            C.TS_PARAM_FROM: _ts(from_),
            C.TS_PARAM_TO: _ts(to),
            C.TS_PARAM_SELECT: _select(select),
            C.TS_PARAM_SORT: sort,
        }
        if limit is not None:
            if limit < 1:
                raise ValueError("limit must be at least 1")
            params[C.TS_PARAM_LIMIT] = min(limit, C.TS_MAX_LIMIT)
        if latest_value:
            params[C.TS_PARAM_LATEST] = True
        return {k: v for k, v in params.items() if v is not None}

    async def iter(
        self,
        entity: str,
        aspect: str,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        *,
        select: str | Iterable[str] | None = None,
        sort: str | None = None,
        page_limit: int = C.TS_MAX_LIMIT,
        latest_value: bool = False,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record in ``(from_, to]``, page by page (``limit`` per request, following ``Link``)."""
        params = self._params(from_, to, page_limit, select, sort, latest_value)
        async for record in self._c.paginate_link(self._path(entity, aspect), params):
            yield record

    async def read(
        self,
        entity: str,
        aspect: str,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        limit: int | None = None,
        select: str | Iterable[str] | None = None,
        sort: str | None = None,
        latest_value: bool = False,
    ) -> list[dict[str, Any]]:
        """Records in ``(from_, to]``: all, or the first ``limit`` (pages beyond 2000 follow ``Link``).

        Without ``from_``/``to`` the service returns only the newest record.
        """
        page_limit = min(limit, C.TS_MAX_LIMIT) if limit is not None else C.TS_MAX_LIMIT
        params = self._params(from_, to, page_limit, select, sort, latest_value)
        out: list[dict[str, Any]] = []
        async for record in self._c.paginate_link(self._path(entity, aspect), params):
            out.append(record)
            if limit is not None and len(out) >= limit:
                break
        return out

    async def write(self, entity: str, aspect: str, records: Iterable[dict[str, Any]]) -> int:
        """Write records (``PUT``; same ``_time`` replaces a record). Returns how many were sent.

        ``_time`` may be an aware datetime. Bodies are split to stay under the 1 MB limit.
        """
        prepared: list[dict[str, Any]] = []
        for record in records:
            if C.TS_TIME not in record:
                raise ValueError("every record needs a _time")
            item = dict(record)
            item[C.TS_TIME] = _ts(item[C.TS_TIME])
            prepared.append(item)
        if not prepared:
            return 0
        path = self._path(entity, aspect)
        for chunk in _chunks(prepared):
            await self._c.request("PUT", path, json=chunk, expected=C.TS_WRITE_STATUSES)
        return len(prepared)

    async def delete(self, entity: str, aspect: str, from_: datetime | str, to: datetime | str) -> None:
        """Delete all properties in ``(from_, to]``."""
        params = self._params(from_, to, None, None, None, False)
        await self._c.request(
            "DELETE", self._path(entity, aspect), params=params, expected=C.TS_DELETE_STATUSES
        )


def _chunks(records: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    size = 2
    for record in records:
        length = len(json.dumps(record, separators=(",", ":"))) + 1
        if chunk and size + length > MAX_WRITE_BYTES:
            yield chunk
            chunk, size = [], 2
        chunk.append(record)
        size += length
    if chunk:
        yield chunk
