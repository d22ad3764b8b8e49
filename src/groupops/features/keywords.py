"""How a member's message is matched against a list of command keywords: check-in's keywords
and the points feature's commands alike.

Upper or lower case makes no difference; after a CJK keyword the content may follow at once
("打卡读了20页"); after a Latin one or a command there must be a break ("/checkin read", not
"/checking"); a command may carry the bot's name, as Telegram writes it
(``/checkin@groupops_bot read 20 pages``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

#: after a CJK keyword the content may follow at once; after a Latin one or a command, one of
#: these first
_BREAK = re.compile(r"[\s:：,，.。!！\-—]")


@lru_cache(maxsize=256)
def _prepared(keywords: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The keywords' lower-case prefixes (a quick "none of them") and, longest first, each
    keyword with its lower-case form."""
    ordered = sorted(keywords, key=len, reverse=True)
    return tuple(kw.lower() for kw in ordered), tuple((kw, kw.lower()) for kw in ordered)


def match_keyword(text: str, keywords: Sequence[str]) -> tuple[str, str] | None:
    """``(keyword, rest)`` when ``text`` is or starts with one of ``keywords``."""
    prefixes, ordered = _prepared(tuple(keywords))
    stripped = text.strip()
    low = stripped.lower()
    if not low.startswith(prefixes):  # most messages: no keyword at all
        return None
    for kw, k in ordered:
        if not low.startswith(k):
            continue
        rest = stripped[len(kw) :]
        if rest.startswith("@") and kw.startswith("/"):  # /checkin@groupops_bot read 20 pages
            rest = " " + rest.partition(" ")[2]
        if rest and not _BREAK.match(rest[0]) and kw.isascii():
            continue
        return kw, rest.strip(" \t\r\n:：,，-—")
    return None


@lru_cache(maxsize=256)
def _lowered(keywords: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(kw.lower() for kw in keywords)


def may_match(text: str, *keyword_lists: Sequence[str]) -> bool:
    """False when ``text`` starts with none of the keywords of any of ``keyword_lists``:
    then neither :func:`match_keyword` nor :func:`is_keyword` finds one in any of them (both
    need the stripped, lower-case text to start with the keyword's lower-case form). One look
    for a feature's several commands, where most messages are none of them."""
    every: tuple[str, ...] = ()
    for keywords in keyword_lists:
        every += tuple(keywords)
    return text.strip().lower().startswith(_lowered(every))


def is_keyword(text: str, keywords: Sequence[str]) -> bool:
    """Whether ``text`` is one of ``keywords`` and nothing more (``/top@yourbot`` is
    ``/top``)."""
    if not keywords:
        return False
    hit = match_keyword(text, keywords)
    return hit is not None and not hit[1]
