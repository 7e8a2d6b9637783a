"""One cleaning rule for every value a person pastes or types: secrets, URLs and identifiers.

Pasted credentials carry invisible passengers: a byte-order mark (U+FEFF) from a file saved by Notepad, a
zero-width space (U+200B) from a web page or an e-mail, a non-breaking space, a stray tab or line break.
Stored as they are, they fail much later as "wrong client secret". So at every input boundary (the paste
area, every form field, ``--secret-stdin``, the hidden prompt, environment variables, files read, the secret
store's ``set``) the value goes through ``clean_value`` (or ``clean_secret``), before anything is stored:

* a leading BOM and surrounding whitespace are removed;
* any remaining invisible or control character is refused with a message that names it and its position:
  "the client secret contains an invisible character, U+200B, at position 26";
* spaces inside a value are refused too, except where ``allow_spaces`` (file paths); ``clean_text`` is the
  rule for free text (command-line arguments, searches), where spaces, tabs and line breaks are ordinary;
* a secret shorter than ``MIN_SECRET_LENGTH`` is refused: it is not a real client secret (and a value that
  short cannot be masked in text without mangling ordinary words).

Messages never contain the value itself.
"""

from __future__ import annotations

import unicodedata

from tui.api.errors import MIN_SECRET_LENGTH

__all__ = [
    "BOM",
    "MIN_SECRET_LENGTH",
    "InputError",
    "clean_secret",
    "clean_text",
    "clean_value",
    "describe_character",
    "strip_bom",
]

BOM = "\ufeff"

# Characters outside the Cc/Cf/Z*/Co/Cn/Cs categories that still render as nothing.
_INVISIBLE_EXTRA = frozenset(
    {
        0x034F,  # combining grapheme joiner
        0x115F,  # Hangul choseong filler
        0x1160,  # Hangul jungseong filler
        0x17B4,  # Khmer vowel inherent aq
        0x17B5,  # Khmer vowel inherent aa
        0x2800,  # braille pattern blank
        0x3164,  # Hangul filler
        0xFFA0,  # halfwidth Hangul filler
    }
)
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


class InputError(ValueError):
    """A typed or pasted value is not acceptable; the message is one line naming the problem."""


def strip_bom(text: str) -> str:
    """``text`` without a leading byte-order mark (also one after leading whitespace)."""
    stripped = text.lstrip()
    if stripped.startswith(BOM):
        return stripped[1:]
    return text


def _is_invisible(ch: str) -> bool:
    code = ord(ch)
    if code in _INVISIBLE_EXTRA or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
        return True  # the extras and the variation selectors
    return unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp", "Co", "Cn", "Cs")


def describe_character(ch: str) -> str | None:
    """How a refused character is named in a message, or None when the character is acceptable."""
    code = ord(ch)
    if ch == " ":
        return "a space"
    if ch == "\t":
        return "a tab"
    if ch in _LINE_BREAKS:
        return "a line break"
    if unicodedata.category(ch) == "Cc":
        return f"a control character, U+{code:04X},"
    if ch == "\ufffd":
        return "a replacement character, U+FFFD (text decoded with the wrong encoding),"
    if _is_invisible(ch):
        return f"an invisible character, U+{code:04X},"
    return None


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _position(text: str, index: int) -> int:
    """The 1-based position of ``text[index]`` as a person counts the characters they see. A combining mark
    (``u`` + U+0308 is one ``ü``, as text copied from macOS file names holds), an emoji skin-tone modifier
    and the second regional indicator of a flag are drawn with the character before them, so they do not
    count as characters of their own (the refused character itself always counts)."""
    position = 0
    flag_open = False  # the last character was the first half of a flag
    for ch in text[:index]:
        if _is_regional(ch):
            flag_open = not flag_open
            position += flag_open
            continue
        flag_open = False
        if position and (unicodedata.category(ch) in ("Mn", "Mc", "Me") or 0x1F3FB <= ord(ch) <= 0x1F3FF):
            continue
        position += 1
    return position + 1


def clean_value(value: str, what: str, *, allow_spaces: bool = False) -> str:
    """``value`` without a leading BOM and surrounding whitespace; ``InputError`` for any invisible or
    control character left inside (and any space, unless ``allow_spaces``).

    ``what`` names the field in the message ("client secret", "token URL", "IHUB_CLIENT_ID").
    Positions are 1-based, counted in the cleaned value as it is seen: a letter with a combining accent
    (``u`` + U+0308), an emoji with its skin tone or a flag counts as one character (``_position``).
    """
    text = strip_bom(value).strip()
    for offset, ch in enumerate(text):
        if allow_spaces and ch == " ":
            continue
        words = describe_character(ch)
        if words is None:
            continue
        index = _position(text, offset)
        if ch in _LINE_BREAKS:
            raise InputError(
                f"the {what} contains {words} at position {index} (was more than one line pasted into it?)"
            )
        raise InputError(f"the {what} contains {words} at position {index}")
    return text


def clean_text(value: str, what: str) -> str:
    """``clean_value`` for free text (a command-line argument, a search, a description, a path): spaces,
    tabs and line breaks are ordinary there; any other invisible or control character is refused, named."""
    text = strip_bom(value).strip()
    for offset, ch in enumerate(text):
        if ch in " \t\n\r":
            continue
        words = describe_character(ch)
        if words is not None:
            raise InputError(f"the {what} contains {words} at position {_position(text, offset)}")
    return text


def clean_secret(value: str, what: str = "client secret") -> str:
    """``clean_value`` for a secret, which must also be non-empty and at least ``MIN_SECRET_LENGTH`` long."""
    text = clean_value(value, what)
    if not text:
        raise InputError(f"the {what} is empty")
    if len(text) < MIN_SECRET_LENGTH:
        raise InputError(
            f"the {what} is too short to be real ({len(text)} characters; Insights Hub issues much longer "
            "ones): was only part of it pasted?"
        )
    return text
