"""Asset Management filter, sort and HAL paging (reference 2.2, 2.3, 7).

``compile_filter(text, fields)`` turns the JSON filter syntax into a predicate over records. ``fields``
maps each filterable field name to a getter; a getter may return a tuple to make a field multi-valued
(``hasType``: the record matches when any value does). Unknown fields are ignored, as the docs say.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request

from tui.sim.errors import SimHTTPError

T = TypeVar("T")
Getter = Callable[[Any], Any]
Predicate = Callable[[Any], bool]

FILTER_CODE = "mdsp.core.assetmanagement.badFilter"
PAGING_CODE = "mdsp.core.assetmanagement.badPaging"
SORT_CODE = "mdsp.core.assetmanagement.badSort"


def _bad(message: str, code: str = FILTER_CODE) -> SimHTTPError:
    return SimHTTPError(400, message, code=code)


# ---------------------------------------------------------------- timestamps


def parse_timestamp(value: Any) -> float | None:
    """ISO-8601 text (``2018-01-01T00:00:00.00Z``) to epoch seconds; None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python wants 0, 3 or 6 fractional digits before 3.11; normalise to 6 to be safe.
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)$", text)
    if match:
        frac = (match.group(2) or "").ljust(6, "0")[:6]
        text = f"{match.group(1)}.{frac}{match.group(3)}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _required_timestamp(value: Any, op: str) -> float:
    parsed = parse_timestamp(value)
    if parsed is None:
        raise _bad(f"Invalid timestamp for '{op}': {value!r}; expected e.g. 2018-01-01T00:00:00.00Z")
    return parsed


def _parse_between(value: Any) -> tuple[float, bool, float, bool]:
    if not isinstance(value, str):
        raise _bad(
            "'between' expects an interval string such as '[2018-01-01T00:00:00Z, 2018-02-01T00:00:00Z)'"
        )
    text = value.strip()
    if len(text) < 5 or text[0] not in "[(" or text[-1] not in "])" or "," not in text:
        raise _bad(f"Invalid interval for 'between': {value!r}")
    low_text, _, high_text = text[1:-1].partition(",")
    low = _required_timestamp(low_text, "between")
    high = _required_timestamp(high_text, "between")
    return low, text[0] == "[", high, text[-1] == "]"


# ---------------------------------------------------------------- filter compiler

_STRING_OPS = {"startsWith", "endsWith", "contains"}
_OPERATORS = {"eq", "in", "before", "after", "between", "not", "or", "and"} | _STRING_OPS
_LOGICAL = {"and", "or", "not"}


def _values(getter: Getter, record: Any) -> tuple[Any, ...]:
    value = getter(record)
    return value if isinstance(value, tuple) else (value,)


def _equal(actual: Any, expected: Any) -> bool:
    if expected is None:
        return actual is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    if isinstance(actual, int | float) and not isinstance(expected, int | float):
        return str(actual) == str(expected)
    return actual == expected


def _value_test(op: str, arg: Any) -> Callable[[Any], bool]:
    """A test on one field value for operator ``op``."""
    if op == "eq":
        return lambda v: _equal(v, arg)
    if op == "in":
        items = arg.get("value") if isinstance(arg, dict) else arg
        if not isinstance(items, list):
            raise _bad("'in' expects {\"value\": [...]}")
        return lambda v: any(_equal(v, item) for item in items)
    if op in _STRING_OPS:
        if not isinstance(arg, str):
            raise _bad(f"'{op}' expects a string")
        method = {"startsWith": str.startswith, "endsWith": str.endswith, "contains": str.__contains__}[op]
        return lambda v: isinstance(v, str) and method(v, arg)
    if op in ("before", "after"):
        bound = _required_timestamp(arg, op)

        def timed(v: Any) -> bool:
            ts = parse_timestamp(v) if not isinstance(v, int | float) else float(v)
            if ts is None:
                return False
            return ts < bound if op == "before" else ts > bound

        return timed
    if op == "between":
        low, low_in, high, high_in = _parse_between(arg)

        def within(v: Any) -> bool:
            ts = parse_timestamp(v) if not isinstance(v, int | float) else float(v)
            if ts is None:
                return False
            return (ts >= low if low_in else ts > low) and (ts <= high if high_in else ts < high)

        return within
    raise _bad(f"Unsupported filter operator '{op}'")


def _field_predicate(getter: Getter, cond: Any) -> Predicate:
    """Predicate for one field: ``cond`` is a plain value (equals) or an object of operators."""
    if not isinstance(cond, dict):
        if isinstance(cond, list):
            raise _bad("A field condition must be a value or an object of operators")
        test = _value_test("eq", cond)
        return lambda r: any(test(v) for v in _values(getter, r))
    if not cond:
        raise _bad("Empty filter condition")
    parts: list[Predicate] = []
    for op, arg in cond.items():
        if op not in _OPERATORS:
            raise _bad(f"Unsupported filter operator '{op}'")
        if op == "not":
            inner = _field_predicate(getter, arg)
            parts.append(_negation(inner))
        elif op in ("or", "and"):
            branches = (
                arg
                if isinstance(arg, list)
                else [{k: v} for k, v in arg.items()]
                if isinstance(arg, dict)
                else None
            )
            if not branches:
                raise _bad(f"'{op}' inside a field expects a list of conditions")
            preds = [_field_predicate(getter, branch) for branch in branches]
            if op == "or":
                parts.append(_any_of(preds))
            else:
                parts.append(_all_of(preds))
        else:
            test = _value_test(op, arg)
            parts.append(_any_value(getter, test))
    if len(parts) == 1:
        return parts[0]
    return lambda r: all(p(r) for p in parts)


def _always(_record: Any) -> bool:
    return True


def _negation(inner: Predicate) -> Predicate:
    return lambda r: not inner(r)


def _any_of(preds: list[Predicate]) -> Predicate:
    return lambda r: any(p(r) for p in preds)


def _all_of(preds: list[Predicate]) -> Predicate:
    return lambda r: all(p(r) for p in preds)


def _any_value(getter: Getter, test: Callable[[Any], bool]) -> Predicate:
    return lambda r: any(test(v) for v in _values(getter, r))


def _sort_of(key_of: Callable[[Any, str], Any], field: str, record: Any) -> Any:
    return _sort_key(key_of(record, field))


def _expr_predicate(expr: Any, fields: dict[str, Getter]) -> Predicate:
    """Predicate for an object of fields and logical operators (implicit and)."""
    if not isinstance(expr, dict):
        raise _bad("A filter must be a JSON object")
    parts: list[Predicate] = []
    for key, value in expr.items():
        if key == "and":
            if isinstance(value, list):
                preds = [_expr_predicate(item, fields) for item in value]
                parts.append(_all_of(preds))
            else:
                parts.append(_expr_predicate(value, fields))
        elif key == "or":
            if isinstance(value, list):
                preds = [_expr_predicate(item, fields) for item in value]
            elif isinstance(value, dict):
                preds = [_expr_predicate({k: v}, fields) for k, v in value.items()]
            else:
                raise _bad("'or' expects an object or a list")
            if not preds:
                raise _bad("'or' needs at least one condition")
            parts.append(_any_of(preds))
        elif key == "not":
            inner = _expr_predicate(value, fields)
            parts.append(_negation(inner))
        elif key in fields:
            parts.append(_field_predicate(fields[key], value))
        # Any other field is ignored (reference 2.3).
    if not parts:
        return _always
    if len(parts) == 1:
        return parts[0]
    return lambda r: all(p(r) for p in parts)


def parse_filter_json(text: str | None) -> dict[str, Any] | None:
    if text is None or not text.strip():
        return None
    try:
        expr = json.loads(text)
    except ValueError:
        raise _bad("The filter is not valid JSON") from None
    if not isinstance(expr, dict):
        raise _bad("A filter must be a JSON object")
    return expr


def compile_filter(expr: dict[str, Any] | None, fields: dict[str, Getter]) -> Predicate:
    if expr is None:
        return _always
    return _expr_predicate(expr, fields)


def mentions_field(expr: Any, name: str) -> bool:
    """Whether a field name occurs as a key anywhere in the filter."""
    if isinstance(expr, dict):
        return any(key == name or mentions_field(value, name) for key, value in expr.items())
    if isinstance(expr, list):
        return any(mentions_field(item, name) for item in expr)
    return False


def top_level_equals(expr: dict[str, Any] | None, name: str) -> str | None:
    """The value of a top-level (or explicit-and) ``{name: "x"}`` / ``{name: {"eq": "x"}}`` condition."""
    if not expr:
        return None
    for scope in (expr, expr.get("and") if isinstance(expr.get("and"), dict) else None):
        if not isinstance(scope, dict) or name not in scope:
            continue
        cond = scope[name]
        if isinstance(cond, str):
            return cond
        if isinstance(cond, dict) and list(cond) == ["eq"] and isinstance(cond["eq"], str):
            return cond["eq"]
    return None


# ---------------------------------------------------------------- paging and sort


def query_value(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value.strip() if value is not None else None


def query_text(request: Request, name: str) -> str | None:
    """A query parameter stripped of white space; None when absent or empty."""
    return query_value(request, name) or None


def query_parsed(
    request: Request, name: str, parse: Callable[[str], T], bad: Callable[[str], Exception]
) -> T | None:
    """A query parameter run through ``parse``; its ValueError becomes ``bad("Parameter 'name': ...")``."""
    value = query_text(request, name)
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise bad(f"Parameter '{name}': {exc}") from None


async def json_object(request: Request, bad: Callable[[str], Exception]) -> dict[str, Any]:
    """The request body as a JSON object; ``bad(message)`` is raised (a 400 of the API's kind) otherwise."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise bad("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object")
    return body


def parse_bool(request: Request, name: str, default: bool = False) -> bool:
    value = query_value(request, name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(f"Parameter '{name}' must be true or false", code=PAGING_CODE)


def parse_paging(request: Request, max_size: int, default_size: int = 10) -> tuple[int, int]:
    """(page, size). ``size`` below 1 means the default (Spring style); above the maximum it is clamped."""

    def number(name: str, default: int) -> int:
        value = query_value(request, name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise _bad(f"Parameter '{name}' must be an integer", code=PAGING_CODE) from None

    page = max(number("page", 0), 0)
    size = number("size", default_size)
    if size < 1:
        size = default_size
    return page, min(size, max(1, max_size))


def parse_sort(
    request: Request, allowed: Iterable[str], default_field: str = "name"
) -> list[tuple[str, bool]]:
    """Sort keys as (field, descending). Accepts ``name,asc``, ``name,desc``, ``ASC``, ``DESC``, ``name``."""
    allowed_set = set(allowed)
    specs: list[tuple[str, bool]] = []
    for raw in request.query_params.getlist("sort"):
        text = raw.strip()
        if not text:
            continue
        field, _, direction = (part.strip() for part in text.partition(","))
        if field.upper() in ("ASC", "DESC") and not direction:
            field, direction = default_field, field
        direction = direction.upper() or "ASC"
        if direction not in ("ASC", "DESC"):
            raise _bad(f"Invalid sort direction '{direction}': use asc or desc", code=SORT_CODE)
        if field not in allowed_set:
            raise _bad(f"Cannot sort by '{field}'", code=SORT_CODE)
        specs.append((field, direction == "DESC"))
    return specs or [(default_field, False)]


def sort_records(
    records: list[T], specs: Sequence[tuple[str, bool]], key_of: Callable[[T, str], Any]
) -> list[T]:
    """Stable multi-key sort; ``None`` sorts first ascending."""
    result = list(records)
    for field, descending in reversed(specs):
        result.sort(key=partial(_sort_of, key_of, field), reverse=descending)
    return result


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))


def _page_url_prefix(request: Request) -> str:
    """The request URL without ``page``/``size``, ready for ``page=…&size=…`` to be appended."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "size")]
    base = str(request.url.replace(query="")).rstrip()
    return f"{base}?{urlencode(params)}&" if params else f"{base}?"


def page_url(request: Request, page: int, size: int) -> str:
    return f"{_page_url_prefix(request)}page={page}&size={size}"


def hal_page(
    request: Request, key: str, items: list[dict[str, Any]], total: int, page: int, size: int
) -> dict[str, Any]:
    """The HAL envelope of 2.2 with the ``_links`` of section 7; ``_embedded`` omitted when empty."""
    total_pages = math.ceil(total / size) if size else 0
    prefix = _page_url_prefix(request)
    links: dict[str, Any] = {
        "self": {"href": f"{prefix}page={page}&size={size}"},
        "first": {"href": f"{prefix}page=0&size={size}"},
        "last": {"href": f"{prefix}page={max(total_pages - 1, 0)}&size={size}"},
    }
    if page > 0:
        links["prev"] = {"href": f"{prefix}page={min(page - 1, max(total_pages - 1, 0))}&size={size}"}
    if page < total_pages - 1:
        links["next"] = {"href": f"{prefix}page={page + 1}&size={size}"}
    body: dict[str, Any] = {}
    if items:
        body["_embedded"] = {key: items}
    body["_links"] = links
    body["page"] = {"size": size, "totalElements": total, "totalPages": total_pages, "number": page}
    return body
