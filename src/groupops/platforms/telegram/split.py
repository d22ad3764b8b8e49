"""A text longer than Telegram takes in one message, as several messages.

Telegram refuses a message longer than 4,096 characters ("Bad Request: message is too long"),
counted as UTF-16 code units (an emoji outside the basic plane counts two). groupops sends its
messages as plain text (no ``parse_mode``), so that count is the text's own. A longer text is cut
at the last paragraph break that fits, else the last line break, else the last sentence end,
else the last space, else (one unbroken run of characters) as many characters as fit: never
inside a character, so never between the two halves of a surrogate pair. A boundary in the
first half of the part is passed over for a lesser one further on, so no part is a stub. The
whitespace at a cut goes (Telegram would trim it anyway); nothing else is added or lost.
"""

from __future__ import annotations

import re

#: the longest text of one message, in UTF-16 code units (the Bot API's sendMessage)
MESSAGE_MAX = 4096

#: where a text may be cut, best first; each match's end is where the part ends, the
#: whitespace it holds goes
_BOUNDARIES = (
    re.compile(r"\n[ \t]*\n\s*"),  # a paragraph break
    re.compile(r"\n\s*"),  # a line break
    re.compile(r"(?<=[.!?…])\s+|(?<=[。！？；])\s*"),  # a sentence end
    re.compile(r"\s+"),  # a space
)


def utf16_len(text: str) -> int:
    """Telegram's length of ``text``: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units."""
    if len(text) * 2 <= limit:
        return len(text)
    units = 0
    for i, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def _cut(text: str, fits: int) -> tuple[int, int]:
    """(end of the part, start of the rest) for a text of which ``fits`` characters fit."""
    window = text[: fits + 1]  # whitespace right after the last character that fits is a cut
    for boundary in _BOUNDARIES:
        best = None
        for m in boundary.finditer(window):
            if m.start() > fits:
                break
            if m.start() >= fits // 2 and m.start() > 0:
                best = m
        if best is not None:
            return best.start(), best.end()
    return fits, fits


def split_message(text: str, limit: int = MESSAGE_MAX) -> list[str]:
    """``text`` as the messages to send, in order, each at most ``limit`` UTF-16 code units.
    A text that fits is returned as it is."""
    if limit < 2:
        raise ValueError(f"a message limit of {limit} cannot hold every character")
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        end, start = _cut(rest, _fitting(rest, limit))
        part = rest[:end].rstrip()
        if part:
            parts.append(part)
        rest = rest[start:].lstrip() if start > end else rest[start:]
    if not parts:
        return [rest]
    if rest.strip():
        parts.append(rest.rstrip())
    return parts
