"""IoT TS Aggregates v4 (reference section 4). Interval unit and value are checked before sending."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui.api import contract as C
from tui.api.errors import ResponseFormatError
from tui.api.models import AggregateInterval, format_time

if TYPE_CHECKING:
    from tui.api.client import ApiClient


def validate_interval(interval_value: int | None, interval_unit: str | None) -> tuple[int | None, str | None]:
    """Normalise and check ``(intervalValue, intervalUnit)``; a clear ``ValueError`` if not allowed."""
    if interval_value is None and interval_unit is None:
        return None, None
    if interval_value is None or interval_unit is None:
        raise ValueError("give both interval value and interval unit, or neither")
    unit = str(interval_unit).strip().lower()
    if unit not in C.AGG_INTERVALS:
        raise ValueError(f"interval unit must be one of {', '.join(C.AGG_INTERVALS)} (got {interval_unit!r})")
    if isinstance(interval_value, bool) or not isinstance(interval_value, int):
        raise ValueError("interval value must be a whole number")
    allowed = C.AGG_INTERVALS[unit]
    if interval_value not in allowed:
        if unit == "minute":
            hint = "an even number from 2 to 60"
        else:
            hint = f"{min(allowed)} to {max(allowed)}"
        raise ValueError(f"{interval_value} {unit} is not allowed: the value for '{unit}' must be {hint}")
    return interval_value, unit


class Aggregates:
    def __init__(self, client: ApiClient) -> None:
        self._c = client

    async def get(
        self,
        asset_id: str,
        aspect: str,
        from_: datetime | None = None,
        to: datetime | None = None,
        interval_value: int | None = None,
        interval_unit: str | None = None,
        select: str | Iterable[str] | None = None,
        count: int | None = None,
    ) -> list[AggregateInterval]:
        items = await self.get_items(
            asset_id, aspect, from_, to, interval_value, interval_unit, select=select, count=count
        )
        return [AggregateInterval.from_json(item) for item in items]

    async def get_items(
        self,
        asset_id: str,
        aspect: str,
        from_: datetime | None = None,
        to: datetime | None = None,
        interval_value: int | None = None,
        interval_unit: str | None = None,
        select: str | Iterable[str] | None = None,
        count: int | None = None,
    ) -> list[dict[str, Any]]:
        """The aggregate objects as the API sends them (``starttime``, ``endtime``, one object per
        variable with the fields of reference 4), for callers that keep the API's field names."""
        value, unit = validate_interval(interval_value, interval_unit)
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive whole number")
        if from_ is not None and to is not None and from_ >= to:
            raise ValueError("'from' must be before 'to'")
        if select is not None and not isinstance(select, str):
            select = ",".join(select)
        params: dict[str, Any] = {
            C.AGG_PARAM_ASSET: asset_id,
            C.AGG_PARAM_ASPECT: aspect,
            C.AGG_PARAM_FROM: format_time(from_) if from_ is not None else None,
            C.AGG_PARAM_TO: format_time(to) if to is not None else None,
            C.AGG_PARAM_INTERVAL_VALUE: value,
            C.AGG_PARAM_INTERVAL_UNIT: unit,
            C.AGG_PARAM_SELECT: select or None,
            C.AGG_PARAM_COUNT: count,
        }
        body = await self._c.get_json(C.AGG_PATH, params=params)
        if isinstance(body, list):  # tolerate a bare array
            items = body
        elif isinstance(body, dict):
            items = body.get(C.AGG_FIELD) or []
        else:
            raise ResponseFormatError("expected an object with 'aggregates'")
        if not isinstance(items, list):
            raise ResponseFormatError("'aggregates' is not a list")
        for item in items:
            if not isinstance(item, dict):
                raise ResponseFormatError("an aggregate is not a JSON object")
        return items
