"""The stamps of WhatsApp message lines (:mod:`groupops.importers.whatsapp`): the header
layouts (iOS, iOS time first, Android, the old colon form) as regexes for any digits, marks and
AM/PM markers, :func:`sniff` to detect one from the first lines, and the dates: their fields,
years in other eras, and the day/month/year order inferred over a whole file
(:func:`infer_order`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from groupops.importers.text import strip_marks

_M = r"[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]*"
_LEAD = r"[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff]*"
_DATE = (
    r"(?:[^\W\d_]{1,3}\.?\s?)?\d{1,4}"
    + _M
    + r"(?:[./\-]\s?|年)"
    + _M
    + r"\d{1,2}"
    + _M
    + r"(?:[./\-]\s?|月)"
    + _M
    + r"\d{1,4}(?:\.|日)?"
)
#: the text up to the first ": " of a line, if it has one (possessive: no backtracking)
_AUTHOR = r"(?:([^\n:]*+(?::(?! )[^\n:]*+)*+): )?"
_AP = r"[^\W\d_]{1,4}\.?(?:\s?[^\W\d_]{1,4}\.?)?"
_TIME = r"(?:" + _AP + r"\s?)?\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:[\s\u202f\u00a0]?" + _M + _AP + r")?"


@dataclass(frozen=True)
class Layout:
    """One header layout. ``head`` matches a header at a line's start (groups ``date`` and
    ``time``); ``splitter(ascii_only)`` is the pattern :meth:`re.Pattern.split` cuts a text
    block with: ``\n`` + (lead marks) + the stamp's groups, so that the regex engine jumps
    from line end to line end instead of trying every position."""

    name: str
    head: str
    ascii_head: str
    body: str  # the header without its leading marks, with named groups
    ascii_body: str

    def header(self, ascii_only: bool) -> str:
        return self.ascii_head if ascii_only else self.head

    def splitter(self, ascii_only: bool) -> tuple[re.Pattern[str], int, int]:
        """(pattern, index of the date group, index of the time group), groups counted after
        the lead-marks group. The last group is what comes before the first ": " of the
        header's line (the author, as the reader takes it), None when the line has none."""
        body = self.ascii_body if ascii_only else self.body
        named = re.compile(body)
        di, ti = named.groupindex["date"], named.groupindex["time"]
        plain = re.sub(r"\(\?P<\w+>", "(", body)
        lead = r"\u200e?" if ascii_only else _LEAD
        return re.compile(r"\n(" + lead + ")" + plain + _AUTHOR), di, ti

    def date_finder(self, ascii_only: bool) -> re.Pattern[str]:
        """``\n`` + marks + everything up to and including the date group (one group)."""
        body = self.ascii_body if ascii_only else self.body
        cut = body.index("(?P<date>")
        end = _group_end(body, cut)
        prefix = re.sub(r"\(\?P<\w+>", "(?:", body[:cut])
        date_pat = re.sub(r"\(\?P<\w+>", "(?:", body[cut + len("(?P<date>") : end])
        lead = r"\u200e?" if ascii_only else _LEAD
        return re.compile(r"\n(?:" + lead + ")" + prefix + "(" + date_pat + ")")


def _group_end(pattern: str, start: int) -> int:
    """The index of the ``)`` closing the group opened at ``start``."""
    depth = 0
    i = start
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            j = i + 1
            while j < len(pattern) and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced pattern")


def _layout(name: str, fmt: str) -> Layout:
    ascii_date = r"[0-9]{1,4}[./\-] ?[0-9]{1,2}[./\-] ?[0-9]{1,4}\.?"
    ascii_time = r"[0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2})?(?:[ \u202f\u00a0]?[APap]\.? ?[Mm]\.?)?"
    body_fmt = fmt.removeprefix("{LEAD}")
    body = body_fmt.format(M=_M, DATE=_DATE, TIME=_TIME)
    ascii_body = body_fmt.format(M="", DATE=ascii_date, TIME=ascii_time).replace(r"\s", " ")
    return Layout(name, _LEAD + body, r"\u200e?" + ascii_body, body, ascii_body)


LAYOUTS = (
    _layout("ios", r"{LEAD}\[{M}(?P<date>{DATE}){M}[,،]?\s{M}(?P<time>{TIME}){M}\] "),
    _layout("ios_time_first", r"{LEAD}\[{M}(?P<time>{TIME}){M}[,،]\s{M}(?P<date>{DATE}){M}\] "),
    _layout("android", r"{LEAD}(?P<date>{DATE}){M}[,،]?\s{M}(?P<time>{TIME}){M} [-–] "),
    _layout("colon", r"{LEAD}(?P<date>{DATE}){M}[,،]?\s{M}(?P<time>{TIME}){M}: "),
)
_HEADS = [re.compile(layout.head) for layout in LAYOUTS]
_DIGITS = re.compile(r"\d+")
_LETTERS = re.compile(r"[^\W\d_]+(?:\.\s?[^\W\d_]+)*\.?")


def sniff(lines: list[str]) -> tuple[Layout, int] | None:
    """The layout most of the sample's lines start with, and how many do."""
    best: tuple[Layout, int] | None = None
    for layout, head in zip(LAYOUTS, _HEADS, strict=True):
        n = sum(1 for line in lines if head.match(line))
        if n and (best is None or n > best[1]):
            best = (layout, n)
    return best


# -- dates -------------------------------------------------------------------------------------


def _year(raw: int, digits: int, era: str, buddhist: bool = False) -> int:
    era_key = era.strip(" .").casefold()
    if era_key in ("r", "ｒ", "令和", "令"):
        return 2018 + raw
    if era_key in ("h", "ｈ", "平成", "平"):
        return 1988 + raw
    if era_key in ("พ.ศ", "พศ", "be"):
        return raw - 543 if raw > 2400 else 1957 + raw
    if digits <= 2:
        # a file whose two-digit years all lie in 52..99 counts in the Buddhist era (2552 BE =
        # 2009, the year WhatsApp began); decided once per file (DateOrder.buddhist)
        return 1957 + raw if buddhist else 2000 + raw
    if raw >= 2400:  # Buddhist era (Thai): 2565 = 2022
        return raw - 543
    return raw


@dataclass
class DateOrder:
    """Which field is the year, the month and the day; decided once per file."""

    order: str  # "dmy", "mdy", "ymd", "ydm"
    buddhist: bool = False  # two-digit years are Buddhist-era (Thai phones)

    def split(self, fields: list[int]) -> tuple[int, int, int]:
        a, b, c = fields
        if self.order == "dmy":
            return c, b, a
        if self.order == "mdy":
            return c, a, b
        if self.order == "ymd":
            return a, b, c
        return a, c, b  # ydm


def _fields(date_str: str) -> tuple[str, list[int], list[int]]:
    clean = strip_marks(date_str)
    era_m = re.match(r"^\s*([^\W\d_][^\d]*?)\s?(?=\d)", clean)
    era = era_m.group(1) if era_m else ""
    nums = _DIGITS.findall(clean)
    return era, [int(n) for n in nums[:3]], [len(n) for n in nums[:3]]


def infer_order(dates: list[str], twelve_hour_english: bool) -> DateOrder:
    """Decide the day/month/year order (and a Buddhist-era calendar) from every distinct date
    string of a file, in order of first appearance."""
    found = _infer_order(dates, twelve_hour_english)
    parsed = [_fields(d) for d in dates]
    idx = {"dmy": 2, "mdy": 2, "ymd": 0, "ydm": 0}[found.order]
    years = [p[1][idx] for p in parsed if len(p[1]) == 3 and p[2][idx] <= 2 and not p[0]]
    found.buddhist = bool(years) and min(years) >= 52
    return found


def _infer_order(dates: list[str], twelve_hour_english: bool) -> DateOrder:
    parsed = [_fields(d) for d in dates]
    parsed = [p for p in parsed if len(p[1]) == 3]
    if not parsed:
        return DateOrder("dmy")
    if any(p[0] or p[2][0] >= 3 for p in parsed):
        # year first: y/m/d unless a second field over 12 says y/d/m
        if any(p[1][1] > 12 for p in parsed) and not any(p[1][2] > 12 for p in parsed):
            return DateOrder("ydm")
        return DateOrder("ymd")
    first_big = any(p[1][0] > 12 for p in parsed)
    second_big = any(p[1][1] > 12 for p in parsed)
    if first_big and not second_big:
        return DateOrder("dmy")
    if second_big and not first_big:
        return DateOrder("mdy")

    def backwards(order: str) -> int:
        o = DateOrder(order)
        n = 0
        prev: tuple[int, int, int] | None = None
        for _, f, digits in parsed:
            y, m, d = o.split(f)
            key = (_year(y, digits[2], ""), m, d)
            if prev is not None and key < prev:
                n += 1
            prev = key
        return n

    dmy, mdy = backwards("dmy"), backwards("mdy")
    if dmy != mdy:
        return DateOrder("dmy" if dmy < mdy else "mdy")
    return DateOrder("mdy" if twelve_hour_english else "dmy")
