"""Reading a WhatsApp export into records (:mod:`groupops.importers.whatsapp`):
:class:`WhatsAppReader` opens the ``.txt`` or the ``.zip``, decides the layout and the date
order once, then cuts the text a 4 MiB block at a time into :data:`Record` tuples (messages,
media, joins and departures); :func:`chat_name` reads the chat's name from the file name."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from groupops.domain.events import ContentKind
from groupops.i18n import N_
from groupops.importers import whatsapp_system as ws
from groupops.importers import whatsapp_text as wt
from groupops.importers.base import (
    IMPOSSIBLE_TIME,
    KEY_HEAD_BYTES,
    UNREADABLE_ZIP,
    ZIP_ERRORS,
    ImportFormatError,
    LocalClock,
    Options,
)
from groupops.importers.encoding import text_stream
from groupops.importers.text import clean_name, strip_marks, text_kind, user_key
from groupops.importers.whatsapp_stamps import (
    _DIGITS,
    _LETTERS,
    DateOrder,
    _fields,
    _year,
    infer_order,
    sniff,
)

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


#: the longest line, and message, read (characters): WhatsApp allows 65,536 in a message, so
#: only a damaged or crafted file (a zip of gigabytes without a line end) goes over
MAX_TEXT = 1 << 20
TOO_LONG = N_(
    "a line or message longer than {most} characters (WhatsApp allows 65,536): not a chat"
    " export, or a damaged one"
)


def _chunks(raw: IO[bytes], name: str, size: int = 1 << 22) -> Iterator[str]:
    """Decoded text in pieces that end at a line end (universal newlines, BOM dropped).
    WhatsApp writes UTF-8: other bytes are an ImportFormatError at their offset, never
    U+FFFD (see :class:`~groupops.importers.encoding.Transcoded`). A line over
    :data:`MAX_TEXT` characters is an ImportFormatError at that line (it was held whole, and
    copied at every block: hours and gigabytes for a zip bomb)."""
    reader = text_stream(raw, name)
    rest = ""
    lines = 0
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
        done, rest = block[: cut + 1], block[cut + 1 :]
        if done:
            lines += done.count("\n")
        if len(rest) > MAX_TEXT:
            raise ImportFormatError(TOO_LONG, file=name, line=lines, most=MAX_TEXT)
        if done:
            yield done


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
        #: the names iOS writes the group's notices under: the chat's name from the file name,
        #: and the names "created group" and renaming notices give
        self.group_names = {self.chat_id}

    # -- pass 1 -----------------------------------------------------------------------------
    def _all_dates(self) -> list[str]:
        """Distinct date strings of the whole file, in order of first appearance (a C-level
        findall per block; only run when the first lines leave the day/month order open)."""
        finder = self.layout.date_finder(self.ascii_only)
        dates: dict[str, None] = dict.fromkeys(self.sample_dates)
        with self.opener.open() as fh:
            for chunk in _chunks(fh, self.opener.label):
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
                members = ws.system_members(strip_marks(body).strip())
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
            for chunk in _chunks(fh, name):
                block = "\n" + (chunk[:-1] if chunk.endswith("\n") else chunk)
                parts = splitter.split(block)
                pre = parts[0]
                if pre:
                    # lines before the first header of this block: the continuation of the
                    # previous block's last message, or blank lines at the file's start
                    if pending is not None:
                        p = pending
                        if len(p[4]) + len(pre) > MAX_TEXT:  # a message's lines without end
                            raise ImportFormatError(TOO_LONG, file=name, line=p[0], most=MAX_TEXT)
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
            members = ws.system_members(body)
            if members:
                return self._members(line, epoch, members)
            if ws.is_ios_notice(body):
                return None
            known, group = ws.group_notice(body)
            if known:
                # "Runners: ‎Ann created group "Runners"": whatever the file is called, the
                # notice names the group, and the group's later unknown notices go too
                if group:
                    self.group_names.add(clean_name(group))
                return None
        media = wt.media_kind(text, marked)
        if media is not None:
            return (line, epoch, MESSAGE, author, text, media[0], media[1])
        if wt.is_deleted(text):
            return (line, epoch, MESSAGE, author, text, ContentKind.OTHER, {"deleted": True})
        if wt.is_call(text):
            return (line, epoch, MESSAGE, author, text, ContentKind.OTHER, {"call": True})
        if notice and author in self.group_names and "://" not in text:
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
