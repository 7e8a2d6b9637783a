"""Fast JSON responses for the simulator (msgspec).

Bodies are the same compact JSON Starlette's ``JSONResponse`` writes (``json.dumps`` with
``separators=(",", ":")``, ``ensure_ascii=False``, UTF-8): same key order, same separators, same
strings, and floats as the shortest text that round-trips, as Python's ``repr``. Two differences, both
valid JSON that every parser (the client, Siemens' ``mc``) reads as the same value: floats of 1e16 and
above or below 1e-4 are spelled ``1e22`` / ``0.00001234`` where Python writes ``1e+22`` / ``1.234e-05``,
and a non-finite float becomes ``null`` where ``json.dumps`` would write invalid JSON (``NaN``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import JSONResponse

_encode = msgspec.json.encode


def dumps(content: Any) -> bytes:
    """``content`` as compact UTF-8 JSON bytes."""
    return _encode(content)


class FastJSONResponse(JSONResponse):
    """``JSONResponse`` whose body is encoded by msgspec (about ten times faster than ``json``)."""

    def render(self, content: Any) -> bytes:
        return _encode(content)
