"""Typed JSON decoding with msgspec: bytes (or already parsed objects) straight into models.

Every failure becomes a ``ResponseFormatError`` whose message names what was expected and where, e.g.
``unexpected asset listing: expected a string, got a number at _embedded.assets[3].name``.
Decoding is lenient where the contract allows variants (``strict=False``: numbers sent as strings,
``"true"``/``"false"`` for booleans); unknown fields are ignored.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from tui.api.errors import ResponseFormatError

T = TypeVar("T")

_TYPE_WORDS = {
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
    "object": "an object",
    "array": "an array",
}
_QUOTED = re.compile(r"`([^`]*)`")


def _words(match: re.Match[str]) -> str:
    parts = [part.strip() for part in match.group(1).split("|")]
    if all(part in _TYPE_WORDS for part in parts):
        return " or ".join(_TYPE_WORDS[part] for part in parts)
    return match.group(0)  # a field name, kept quoted


def describe_error(err: Exception) -> str:
    """msgspec's message in plain words: ``Expected `str`, got `int` - at `$.a[0]` `` becomes
    ``expected a string, got a whole number at a[0]``."""
    text = str(err)
    text, _, where = text.partition(" - at `")
    text = _QUOTED.sub(_words, text)
    if text[:1].isupper():
        text = text[0].lower() + text[1:]
    where = where.rstrip("`").removeprefix("$").removeprefix(".")
    return f"{text} at {where}" if where else text


def decode(content: bytes | str, type_: type[T], *, what: str) -> T:
    """Decode a JSON body into ``type_``; a malformed or mistyped body raises ``ResponseFormatError``."""
    try:
        return msgspec.json.decode(content, type=type_, strict=False)
    except msgspec.ValidationError as err:
        raise ResponseFormatError(f"unexpected {what}: {describe_error(err)}") from None
    except msgspec.DecodeError:
        size = len(content)
        raise ResponseFormatError(f"unexpected {what}: not valid JSON ({size} bytes)") from None


def convert(data: Any, type_: type[T], *, what: str) -> T:
    """Convert already parsed JSON (dicts and lists) into ``type_``, with the same errors as ``decode``."""
    try:
        return msgspec.convert(data, type_, strict=False)
    except msgspec.ValidationError as err:
        raise ResponseFormatError(f"unexpected {what}: {describe_error(err)}") from None


def to_builtins(obj: Any) -> Any:
    """A model as plain JSON data (dicts, lists, strings, numbers) with the API's field names."""
    return msgspec.json.decode(msgspec.json.encode(obj))


def encode(obj: Any) -> bytes:
    """A model (or a list of models) as compact JSON with the API's field names."""
    return msgspec.json.encode(obj)
