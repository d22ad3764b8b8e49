"""WhatsApp chat exports: the ``.txt`` and the ``.zip`` WhatsApp shares (``_chat.txt`` inside).

Layouts (detected from the first lines, then one compiled regex for the whole file):

* iOS ``[d/m/yy, HH:MM:SS] Name: text`` (also without the comma, with ``.`` in the time, time
  first as in Vietnamese ``[HH:MM:SS, d/m/yy]``);
* Android ``d/m/yy, HH:MM - Name: text`` (``.``/``-``/``/`` dates, two- or four-digit years);
* the old ``d/m/yy HH:MM: Name: text``.

Any digits (Arabic-Indic, Persian, Devanagari, Thai...), direction marks anywhere in the stamp,
12-hour clocks with localized AM/PM markers before or after the time, Buddhist-era years
(2565, or two-digit 65) and Japanese-era years (``R4/3/18``, ``令和4/3/18``, ``H31/4/30``), CRLF,
a BOM. Day/month order is inferred over the whole file: a first pass collects the distinct date
strings (cheap: a C-level findall), then a value over 12 decides, else the order under which the
dates run forward, else month-first only for a US-style 12-hour English clock.

Times are local to the exporting phone: ``Options.tz`` says which zone (default UTC).

Records come from :func:`records`; :func:`events` turns them into Events, and the analytics fast
path reads :func:`records` directly (see ``groupops.importers.columns``).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from groupops.domain.events import MAX_NAME_LEN, ContentKind, Event, EventKind
from groupops.i18n import N_
from groupops.importers import whatsapp_text as wt
from groupops.importers.base import (
    IMPOSSIBLE_TIME,
    KEY_HEAD_BYTES,
    MAX_EPOCH,
    MIN_EPOCH,
    OUT_OF_RANGE,
    UNREADABLE_ZIP,
    ZIP_ERRORS,
    ImportFormatError,
    LocalClock,
    Options,
    clean_name,
    strip_marks,
    text_kind,
    trusted_event,
    user_key,
    utc_at,
)

FORMAT = "whatsapp"
SOURCE = "import:whatsapp"

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
        the lead-marks group."""
        body = self.ascii_body if ascii_only else self.body
        named = re.compile(body)
        di, ti = named.groupindex["date"], named.groupindex["time"]
        plain = re.sub(r"\(\?P<\w+>", "(", body)
        lead = r"\u200e?" if ascii_only else _LEAD
        return re.compile(r"\n(" + lead + ")" + plain), di, ti

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
_STAMP_ASCII = re.compile(r"[\x00-\x7f\u200e\u202f\u00a0]*")
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


# -- records -----------------------------------------------------------------------------------

MESSAGE, JOINED, LEFT = "m", "j", "l"
# (line, epoch seconds UTC, kind, author name, text, content kind, extras or None)
Record = tuple[int, int, str, str, str, ContentKind, dict[str, Any] | None]


class _Opener:
    """Opens the chat text of a .txt or a WhatsApp .zip, as many times as asked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.member: str | None = None
        if zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as zf:
                    names = [n for n in zf.namelist() if n.lower().endswith(".txt")]
            except ZIP_ERRORS as exc:
                raise ImportFormatError(UNREADABLE_ZIP, file=path.name, detail=str(exc)) from None
            if not names:
                raise ImportFormatError(N_("the zip holds no chat .txt"), file=path.name)
            names.sort(key=lambda n: (not n.endswith("_chat.txt"), n.count("/"), len(n)))
            self.member = names[0]

    def open(self) -> IO[bytes]:
        if self.member is None:
            return self.path.open("rb")
        try:
            zf = zipfile.ZipFile(self.path)
            return zf.open(self.member)
        except ZIP_ERRORS as exc:
            raise ImportFormatError(
                N_("cannot open {member} in the zip: {detail}"),
                file=self.path.name,
                member=self.member,
                detail=str(exc),
            ) from None

    @property
    def label(self) -> str:
        return self.path.name + (f"!{self.member}" if self.member else "")


def _chunks(raw: IO[bytes], size: int = 1 << 22) -> Iterator[str]:
    """Decoded text in pieces that end at a line end (universal newlines, BOM dropped)."""
    import io

    reader = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=None)
    rest = ""
    while True:
        block = reader.read(size)
        if not block:
            if rest:
                yield rest
            return
        block = rest + block
        if "\x00" in block:  # NUL bytes (a damaged file) cannot be stored: dropped
            block = block.replace("\x00", "")
        cut = block.rfind("\n")
        if cut < 0:
            rest = block
            continue
        rest = block[cut + 1 :]
        yield block[: cut + 1]


_DOWNLOAD_COPY = re.compile(r"\s*\(\d{1,3}\)$")  # "chat (1).txt": a browser's second download


def chat_name(path: Path) -> str:
    """The chat's name from the export's file name: "WhatsApp Chat with X.txt",
    "WhatsApp Chat - X.zip", "Chat WhatsApp s uživatelem X.txt", "Чат WhatsApp с контактом X"
    give "X"; any other name is the chat's name as it is. A browser's " (1)" after a second
    download of the same file is no part of it."""
    stem = _DOWNLOAD_COPY.sub("", path.stem) or path.stem
    m = re.match(
        r"(?i)^\W*(?:(?:chat|чат|conversa|conversación|discussion)\s+)?whats\s?app"
        r"(?:\s*(?:chat|чат))?\s*(?:with|mit|con|avec|com|met|dengan|ile|s\s+uživatelem|"
        r"с\s+контактом|с\s+группой|з|-|–|:)?\s+(.+)$",
        stem,
    )
    if m and m.group(1).strip():
        return m.group(1).strip()[:255]
    return stem[:255] or "whatsapp"


@dataclass
class _Parser:
    days: dict[str, int]
    times: dict[str, int]
    authors: dict[str, str]
    emit: Callable[[int, str, str, str, str], Any]
    fixed: bool
    clock: LocalClock
    name: str


class WhatsAppReader:
    """Reads one WhatsApp export. Layout, ASCII-or-not stamps and the date order are decided
    once; :meth:`records` then cuts each 4 MiB block with one ``re.split`` (C speed) and does
    a few dictionary look-ups per message (dates and times are parsed once per distinct
    string)."""

    def __init__(self, path: Path, options: Options) -> None:
        self.path = path
        self.options = options
        self.opener = _Opener(path)
        self.name = path.name
        with self.opener.open() as fh:
            raw = fh.read(KEY_HEAD_BYTES)
        head = raw[:65536]
        sample_text = head.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
        all_lines = sample_text.split("\n")
        sample = all_lines[:400]
        if len(head) == 65536 and len(sample) > 1:
            sample = sample[:-1]  # the last line may be cut
        found = sniff(sample)
        if found is None:
            raise ImportFormatError(
                N_("no WhatsApp message line in the first lines"), file=self.name
            )
        self.layout = found[0]
        general = re.compile(self.layout.head)
        fast = re.compile(self.layout.ascii_head)
        n_general = sum(1 for ln in sample if general.match(ln))
        n_fast = sum(1 for ln in sample if fast.match(ln))
        # plain ASCII stamps (the common case) get the faster pattern
        self.ascii_only = n_fast == n_general
        self.sample_dates: list[str] = []
        self.sample_markers: set[str] = set()
        for ln in sample:
            m = general.match(ln)
            if m:
                self.sample_dates.append(m.group("date"))
                t = m.group("time")
                if not (t[-1].isdigit() and t[0].isdigit()):
                    self.sample_markers.add(t)
        # the sample holds every date of the file: no need to read it twice
        self.sample_complete = len(head) < 65536 and len(all_lines) <= 400
        self.chat_id = chat_name(path)

    # -- pass 1 -----------------------------------------------------------------------------
    def _all_dates(self) -> list[str]:
        """Distinct date strings of the whole file, in order of first appearance (a C-level
        findall per block; only run when the first lines leave the day/month order open)."""
        finder = self.layout.date_finder(self.ascii_only)
        dates: dict[str, None] = dict.fromkeys(self.sample_dates)
        with self.opener.open() as fh:
            for chunk in _chunks(fh):
                dates.update(dict.fromkeys(finder.findall("\n" + chunk)))
        return list(dates)

    def date_order(self) -> DateOrder:
        english12 = any(
            re.search(r"(?i)\b[ap]\.?\s?m\.?$", strip_marks(t))
            for t in list(self.sample_markers)[:50]
        )
        dates = list(dict.fromkeys(self.sample_dates))
        order = infer_order(dates, english12)
        settled = any(len(f[1]) == 3 and max(f[1][:2]) > 12 for f in map(_fields, dates))
        if not settled and not self.sample_complete and order.order in ("dmy", "mdy"):
            order = infer_order(self._all_dates(), english12)
        return order

    # -- pass 2 -----------------------------------------------------------------------------
    def _parser(self) -> _Parser:
        """The per-file state: caches of parsed dates, times and authors, and ``emit`` (the
        general path for one record)."""
        order = self.date_order()
        clock = LocalClock(self.options.tz)
        fixed = clock.fixed
        day_cache: dict[str, int] = {}
        time_cache: dict[str, int] = {}
        author_cache: dict[str, str] = {}
        name = self.opener.label
        ydigit_index = {"dmy": 2, "mdy": 2, "ymd": 0, "ydm": 0}[order.order]

        def day_of(date_str: str, line: int) -> int:
            era, nums, digits = _fields(date_str)
            if len(nums) != 3:
                raise ImportFormatError(
                    N_("unreadable date {date!r}"), file=name, line=line, date=date_str
                )
            y, mo, d = order.split(nums)
            try:
                year = _year(y, digits[ydigit_index], era, order.buddhist)
                return date(year, mo, d).toordinal()
            except ValueError:
                raise ImportFormatError(
                    N_("impossible date {date!r} read as {order}"),
                    file=name,
                    line=line,
                    date=strip_marks(date_str),
                    order=order.order,
                ) from None

        def seconds_of(time_str: str, line: int) -> int:
            if time_str.isascii() and time_str.replace(":", "").isdigit():
                # the common "14:56" / "14:56:07": no marker, no marks
                hms = [int(x) for x in time_str.split(":")]
                if len(hms) in (2, 3) and hms[0] < 24 and hms[1] < 60 and hms[-1] < 60:
                    return hms[0] * 3600 + hms[1] * 60 + (hms[2] if len(hms) == 3 else 0)
            clean = strip_marks(time_str).replace("\u202f", " ").replace("\u00a0", " ")
            nums = _DIGITS.findall(clean)
            h, mi = int(nums[0]), int(nums[1])
            s = int(nums[2]) if len(nums) > 2 else 0
            marker = " ".join(_LETTERS.findall(clean))
            if marker:
                pm = wt.ampm(marker)
                if pm is None:
                    raise ImportFormatError(
                        N_("unknown AM/PM marker {marker!r}"), file=name, line=line, marker=marker
                    )
                if h <= 12:
                    if pm and h < 12:
                        h += 12
                    elif not pm and h == 12:
                        h = 0
            if h > 23 or mi > 59 or s > 60:
                raise ImportFormatError(IMPOSSIBLE_TIME, file=name, line=line, time=clean)
            return h * 3600 + mi * 60 + min(s, 59)

        special = wt.SPECIAL_RAW
        http_kind = text_kind
        TEXT = ContentKind.TEXT

        def emit(line: int, lead: str, d: str, t: str, body: str) -> Any:
            """A record, a list of records (several joins on one line), or None."""
            day = day_cache.get(d)
            if day is None:
                day = day_cache[d] = day_of(d, line)
            secs = time_cache.get(t)
            if secs is None:
                secs = time_cache[t] = seconds_of(t, line)
            epoch = (day - 719163) * 86400 + secs if fixed else clock.epoch(day, secs)
            cut = body.find(": ")
            if cut > 0:
                raw = body[:cut]
                author = author_cache.get(raw)
                if author is None:
                    bad = '"' in raw or "“" in raw or len(raw) > 100
                    author = author_cache[raw] = "" if bad else clean_name(raw)
            else:
                author = ""
                c2 = body.find(":")
                if c2 > 0 and clean_name(body[:c2]) in author_cache.values():
                    author = clean_name(body[:c2])
                    cut = c2 - 1
            if not author:
                members = wt.system_members(strip_marks(body).strip())
                return self._members(line, epoch, members) if members else None
            text = body[cut + 2 :]
            first = text[:1]
            if (
                first in "<\u200e\u200f"
                or lead
                or (text[-1:] == ")" and " (" in text)
                or ")\n" in text
            ):
                return self._special(line, epoch, author, text, bool(lead))
            if len(text) <= 80:
                tag = special.get(text)  # exact (capitalised) forms; marked texts went above
                if tag is not None:
                    return (line, epoch, MESSAGE, author, text, ContentKind.OTHER, {tag: True})
            if "http" in text or "HTTP" in text:
                return (line, epoch, MESSAGE, author, text, http_kind(text), None)
            return (line, epoch, MESSAGE, author, text, TEXT, None)

        return _Parser(day_cache, time_cache, author_cache, emit, fixed, clock, name)

    def records(self) -> Iterator[Record]:
        """Every record in file order (see :data:`Record`)."""
        parser = self._parser()
        day_cache, time_cache, author_cache = parser.days, parser.times, parser.authors
        emit, fixed, clock, name = parser.emit, parser.fixed, parser.clock, parser.name
        http_kind = text_kind
        TEXT = ContentKind.TEXT

        splitter, di, ti = self.layout.splitter(self.ascii_only)
        # each record in the split: [lead marks, <the body's groups>..., the text after]
        width = splitter.groups + 1
        bi = width - 1
        line = 0  # the line number of the next line to read
        pending: tuple[int, str, str, str, str] | None = None
        blank = " \t\ufeff\n" + wt_marks
        special_raw = wt.SPECIAL_RAW
        day_get, time_get, author_get = day_cache.get, time_cache.get, author_cache.get
        with self.opener.open() as fh:
            for chunk in _chunks(fh):
                block = "\n" + (chunk[:-1] if chunk.endswith("\n") else chunk)
                parts = splitter.split(block)
                pre = parts[0]
                if pre:
                    # lines before the first header of this block: the continuation of the
                    # previous block's last message, or blank lines at the file's start
                    if pending is not None:
                        p = pending
                        pending = (p[0], p[1], p[2], p[3], p[4] + pre)
                    elif pre.strip(blank):
                        raise ImportFormatError(
                            N_("a line that is no message before the first message"),
                            file=name,
                            line=line,
                        )
                    line += pre.count("\n")
                n = len(parts)
                if n == 1:
                    continue
                if pending is not None:
                    r = emit(*pending)
                    if r is not None:
                        if type(r) is tuple:
                            yield r
                        else:
                            yield from r
                last = n - width
                # the hot path, inlined: a plain message from a known author (columns are
                # sliced out of the split at C speed; a few C-level checks a message)
                for lead, d, t, body in zip(
                    parts[1:last:width],
                    parts[1 + di : last : width],
                    parts[1 + ti : last : width],
                    parts[width:last:width],
                    strict=True,
                ):
                    at = line
                    line += body.count("\n") + 1
                    day = day_get(d)
                    secs = time_get(t)
                    cut = body.find(": ")
                    if day is not None and secs is not None and cut > 0 and not lead:
                        author = author_get(body[:cut])
                        if author:
                            text = body[cut + 2 :]
                            if (
                                text
                                and text[0] not in "<\u200e\u200f"
                                and (
                                    ")" not in text
                                    or not ((text[-1] == ")" and " (" in text) or ")\n" in text)
                                )
                                and (len(text) > 60 or text not in special_raw)
                            ):
                                epoch = (
                                    (day - 719163) * 86400 + secs
                                    if fixed
                                    else clock.epoch(day, secs)
                                )
                                if "http" in text or "HTTP" in text:
                                    yield (at, epoch, MESSAGE, author, text, http_kind(text), None)
                                else:
                                    yield (at, epoch, MESSAGE, author, text, TEXT, None)
                                continue
                    r = emit(at, lead, d, t, body)
                    if r is not None:
                        if type(r) is tuple:
                            yield r
                        else:
                            yield from r
                pending = (line, parts[last], parts[last + di], parts[last + ti], parts[last + bi])
                line += parts[last + bi].count("\n") + 1
        if pending is None:
            raise ImportFormatError(N_("no WhatsApp message in the file"), file=name)
        r = emit(*pending)
        if r is not None:
            if type(r) is tuple:
                yield r
            else:
                yield from r

    def _special(
        self, line: int, epoch: int, author: str, text: str, marked: bool
    ) -> Record | list[Record] | None:
        """Media, attachments, deleted messages, calls, and iOS notices written as messages."""
        notice = text[:1] in "\u200e\u200f" and not marked
        if notice:
            # iOS writes notices as a message of the chat: "Group: ‎X added Y"
            body = strip_marks(text).strip()
            members = wt.system_members(body)
            if members:
                return self._members(line, epoch, members)
            if wt.is_ios_notice(body):
                return None
        media = wt.media_kind(text, marked)
        if media is not None:
            return (line, epoch, MESSAGE, author, text, media[0], media[1])
        if wt.is_deleted(text):
            return (line, epoch, MESSAGE, author, text, ContentKind.OTHER, {"deleted": True})
        if wt.is_call(text):
            return (line, epoch, MESSAGE, author, text, ContentKind.OTHER, {"call": True})
        if notice and author == self.chat_id and "://" not in text:
            # a marked text from the chat's own name that is no media, deletion or location:
            # one of the many other group notices ("‎X changed the group description")
            return None
        return (line, epoch, MESSAGE, author, text, text_kind(text), None)

    @staticmethod
    def _members(line: int, epoch: int, members: list[tuple[str, str, str | None]]) -> list[Record]:
        out: list[Record] = []
        for kind, who, actor in members:
            if kind == "joined":
                extra: dict[str, Any] = {}
                if actor:
                    extra = {"inviter_user_id": user_key(actor), "inviter_name": actor}
                out.append((line, epoch, JOINED, who, "", ContentKind.TEXT, extra))
            elif kind == "joined_link":
                out.append((line, epoch, JOINED, who, "", ContentKind.TEXT, {"via": "invite_link"}))
            elif kind == "left":
                out.append((line, epoch, LEFT, who, "", ContentKind.TEXT, {}))
            else:
                removed = {"removed_by": user_key(actor or ""), "removed_by_name": actor or ""}
                out.append((line, epoch, LEFT, who, "", ContentKind.TEXT, removed))
        return out


wt_marks = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

_KINDS = {MESSAGE: EventKind.MESSAGE, JOINED: EventKind.MEMBER_JOINED, LEFT: EventKind.MEMBER_LEFT}


@dataclass
class EventColumns:
    """What :func:`events` yields, as parallel lists instead of Event objects (building those
    costs more than parsing the lines): row ``i`` holds the fields of the ``i``-th Event.
    ``data`` has, for the rows that carry any, the Event's ``data`` beyond ``file`` and
    ``line`` (media, inviter, ``via``, ...). For the analytics of large exports."""

    epoch: list[int]  # occurred_at as seconds since 1970 UTC
    kind: list[EventKind]
    user_id: list[str]
    user_name: list[str]
    message_id: list[str]
    text: list[str]
    content: list[ContentKind]
    data: dict[int, dict[str, Any]]
    messages: int = 0
    #: the chat's id (every row's ``chat_id``), part of each row's event id
    chat: str = ""

    def __len__(self) -> int:
        return len(self.epoch)

    def event_ids(self, chat: str | None = None) -> list[str]:
        """Each row's ``event_id``, as :func:`events` makes it (:class:`ContentIds`); with
        ``chat``, as if the rows were of that chat (``""``: ids that ignore the chat)."""
        ids = ContentIds(self.chat if chat is None else chat)
        kinds = [k.value for k in self.kind]
        return list(map(ids.next, self.epoch, kinds, self.user_id, self.text))

    def only(self, rows: list[int]) -> EventColumns:
        """The columns of ``rows`` (indices, ascending) alone."""
        new_index = {old: new for new, old in enumerate(rows)}
        kinds = [self.kind[i] for i in rows]
        return EventColumns(
            epoch=[self.epoch[i] for i in rows],
            kind=kinds,
            user_id=[self.user_id[i] for i in rows],
            user_name=[self.user_name[i] for i in rows],
            message_id=[self.message_id[i] for i in rows],
            text=[self.text[i] for i in rows],
            content=[self.content[i] for i in rows],
            data={new_index[i]: d for i, d in self.data.items() if i in new_index},
            messages=sum(1 for k in kinds if k is EventKind.MESSAGE),
            chat=self.chat,
        )


class ContentIds:
    """Event ids made of what an event is, not where it sits in its file: the chat, the minute,
    and a digest of kind, author and text (with ``.1``, ``.2`` for the further identical ones
    of that minute). Two exports of one chat (the ``.txt`` and the ``.zip``, last month's and
    this month's, one that WhatsApp cut to its latest messages) give their shared messages
    the same ids, so importing both stores each once."""

    def __init__(self, chat: str) -> None:
        self.prefix = hashlib.blake2b(chat.encode(), digest_size=6).hexdigest()
        self.seen: dict[tuple[int, str], int] = {}
        self.minute = -1

    def next(self, epoch: int, kind: str, user_id: str, text: str) -> str:
        raw = f"{kind}\0{user_id}\0{text}".encode()
        digest = hashlib.blake2b(raw, digest_size=8).hexdigest()
        if epoch != self.minute:
            self.minute = epoch
            if len(self.seen) > 4096:  # identical ones share a minute: keep only recent ones
                self.seen.clear()
        key = (epoch, digest)
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        return f"{self.prefix}:{epoch}:{digest}.{n}" if n else f"{self.prefix}:{epoch}:{digest}"


def event_columns(
    path: Path,
    options: Options,
    progress: Callable[[int], None] | None = None,
) -> EventColumns:
    """:func:`events` as :class:`EventColumns`: the same values, a few C-level passes over
    the records instead of one Event per record. ``progress`` gets the number of records
    read so far, every 20,000."""
    import gc
    from itertools import islice
    from operator import itemgetter

    reader = WhatsAppReader(path, options)
    out = EventColumns([], [], [], [], [], [], [], {}, chat=reader.chat_id)
    uid_of: dict[str, str] = {}
    name_of: dict[str, str] = {}
    line_, epoch_, kind_, author_, text_, content_, extra_ = map(itemgetter, range(7))
    message, kinds = MESSAGE, _KINDS
    # the records a batch at a time (their tuples never all alive at once), each column one
    # C-level map; the cyclic GC is paused meanwhile (it would rescan the growing lists)
    gc_was = gc.isenabled()
    gc.disable()
    try:
        it = reader.records()
        while batch := list(islice(it, 20_000)):
            base = len(out.epoch)
            epochs = list(map(epoch_, batch))
            if min(epochs) < MIN_EPOCH or max(epochs) > MAX_EPOCH:  # as events() refuses it
                bad = next(r for r in batch if not MIN_EPOCH <= r[1] <= MAX_EPOCH)
                raise ImportFormatError(OUT_OF_RANGE, file=reader.opener.label, line=bad[0])
            out.epoch += epochs
            kind = list(map(kind_, batch))
            out.kind += map(kinds.__getitem__, kind)
            authors = list(map(author_, batch))
            for a in dict.fromkeys(authors):
                if a not in uid_of:
                    uid_of[a] = user_key(a) or "unknown"
                    name_of[a] = a[:MAX_NAME_LEN]
            out.user_id += map(uid_of.__getitem__, authors)
            out.user_name += map(name_of.__getitem__, authors)
            mids = list(map(str, map(line_, batch)))
            for j in [j for j, k in enumerate(kind) if k != message]:
                mids[j] = ""
                out.messages -= 1
            out.messages += len(batch)
            out.message_id += mids
            out.text += map(text_, batch)
            out.content += map(content_, batch)
            for j, x in enumerate(map(extra_, batch)):
                if x:
                    out.data[base + j] = dict(x)
            if progress is not None:
                progress(len(out.epoch))
    finally:
        if gc_was:
            gc.enable()
    return out


def events(path: Path, options: Options) -> Iterator[Event]:
    """The file's Events (``event_id`` from what each event is: :class:`ContentIds`)."""
    reader = WhatsAppReader(path, options)
    chat, fname, label = reader.chat_id, path.name, reader.opener.label
    ids = ContentIds(chat)
    users: dict[str, str] = {}
    moments: dict[int, datetime] = {}  # one datetime per distinct second, not per message
    for line, epoch, kind, author, text, content, extra in reader.records():
        data: dict[str, Any] = {"file": fname, "line": line}
        if extra:
            data.update(extra)
        when = moments.get(epoch)
        if when is None:
            if len(moments) > 200_000:
                moments.clear()
            when = moments[epoch] = utc_at(epoch, label, line)
        uid = users.get(author)
        if uid is None:
            uid = users[author] = user_key(author) or "unknown"
        yield trusted_event(
            SOURCE,
            ids.next(epoch, _KINDS[kind].value, uid, text),
            _KINDS[kind],
            when,
            chat,
            uid,
            author,
            str(line) if kind == MESSAGE else "",
            text,
            content,
            data,
        )
