"""Reading a WhatsApp export into records (:mod:`groupops.importers.whatsapp`):
:class:`WhatsAppReader` opens the ``.txt`` or the ``.zip``, decides the layout and the date
order once, then cuts the text a 4 MiB block at a time into records (messages, media, joins
and departures): a :class:`Batch` of columns a block (:meth:`WhatsAppReader.batches`, what
the analytics read) or :data:`Record` tuples (:meth:`WhatsAppReader.records`);
:func:`chat_name` reads the chat's name from the file name."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate, compress, repeat
from operator import add, contains, is_, not_
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


@dataclass
class Batch:
    """Records as parallel lists (row ``i`` of each is the ``i``-th :data:`Record`'s field), a
    block of the file at a time: :meth:`WhatsAppReader.batches`. ``extra`` holds the extras
    of the rows that have any (not None), by row."""

    line: list[int] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    author: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    content: list[ContentKind] = field(default_factory=list)
    extra: dict[int, dict[str, Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.line)

    def put(self, found: Record | list[Record] | None) -> None:
        """What the general path (``emit``) made of one line: a record, several, or none."""
        if found is None:
            return
        records: list[Record] = [found] if isinstance(found, tuple) else found
        for r in records:
            if r[6] is not None:
                self.extra[len(self.line)] = r[6]
            self.line.append(r[0])
            self.epoch.append(r[1])
            self.kind.append(r[2])
            self.author.append(r[3])
            self.text.append(r[4])
            self.content.append(r[5])

    def rows(self) -> Iterator[Record]:
        """The batch as :data:`Record` tuples."""
        extras: list[dict[str, Any] | None] = [None] * len(self.line)
        for i, x in self.extra.items():
            extras[i] = x
        cols = (self.line, self.epoch, self.kind, self.author, self.text, self.content, extras)
        return zip(*cols, strict=True)


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
    #: reads dates and times not read before into ``bases`` and ``times``; False if one is
    #: unreadable (its error is then the general path's to raise, in line order)
    learn: Callable[[Iterable[str], Iterable[str]], bool]
    #: date string -> the local seconds since 1970 of its day's start
    bases: dict[str, int]
    clock: LocalClock
    name: str


def _author(raw: str) -> str:
    """The author of a line from what comes before its first ": " ("" if that is no name)."""
    return "" if '"' in raw or "“" in raw or len(raw) > 100 else clean_name(raw)


def _body(head: str | None, text: str) -> str:
    """A message's body again from what the split cut it into."""
    return text if head is None else f"{head}: {text}"


_MARKED = ("<", "\u200e", "\u200f")


class WhatsAppReader:
    """Reads one WhatsApp export. Layout, ASCII-or-not stamps and the date order are decided
    once; :meth:`batches` then cuts each 4 MiB block with one ``re.split`` (C speed: stamp,
    author and text of every message) and reads the block a column at a time (dates and
    times are parsed once per distinct string, zone offsets once per local hour)."""

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
        # what a line without author says of members, by its text (joins and departures repeat)
        system_seen: dict[str, list[tuple[str, str, str | None]]] = {}
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
                    author = author_cache[raw] = _author(raw)
            else:
                author = ""
                c2 = body.find(":")
                if c2 > 0 and clean_name(body[:c2]) in author_cache.values():
                    author = clean_name(body[:c2])
                    cut = c2 - 1
            if not author:
                members = system_seen.get(body)
                if members is None:
                    if len(system_seen) > 65536:
                        system_seen.clear()
                    members = system_seen[body] = ws.system_members(strip_marks(body).strip())
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

        bases: dict[str, int] = {}

        def learn(dates: Iterable[str], times: Iterable[str]) -> bool:
            try:
                for d in dates:
                    if d not in bases:
                        day = day_cache.get(d)
                        if day is None:
                            day = day_cache[d] = day_of(d, 0)
                        bases[d] = (day - 719163) * 86400
                for t in times:
                    if t not in time_cache:
                        time_cache[t] = seconds_of(t, 0)
            except Exception:  # whatever it is, the general path raises it at its line
                return False
            return True

        return _Parser(day_cache, time_cache, author_cache, emit, learn, bases, clock, name)

    def records(self) -> Iterator[Record]:
        """Every record in file order (see :data:`Record`)."""
        for batch in self.batches():
            yield from batch.rows()

    def batches(self) -> Iterator[Batch]:
        """Every record in file order, as columns: one :class:`Batch` per 4 MiB block."""
        parser = self._parser()
        emit, name = parser.emit, parser.name
        splitter, di, ti = self.layout.splitter(self.ascii_only)
        # each record in the split: [lead marks, <the stamp's groups>..., what comes before the
        # first ": " of the line or None, the text after]
        width = splitter.groups + 1
        ai, bi = width - 2, width - 1
        line = 0  # the line number of the next line to read
        pending: tuple[int, str, str, str, str] | None = None
        blank = " \t\ufeff\n" + wt_marks
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
                out = Batch()
                if pending is not None:
                    out.put(emit(*pending))
                last = n - width
                line = self._block(
                    parser,
                    out,
                    line,
                    block.count("\n") - pre.count("\n") == n // width,
                    parts[1:last:width],
                    parts[1 + di : last : width],
                    parts[1 + ti : last : width],
                    parts[1 + ai : last : width],
                    parts[width:last:width],
                )
                head, text = parts[last + ai], parts[last + bi]
                body = text if head is None else f"{head}: {text}"
                pending = (line, parts[last], parts[last + di], parts[last + ti], body)
                line += text.count("\n") + 1
                if out.line:
                    yield out
        if pending is None:
            raise ImportFormatError(N_("no WhatsApp message in the file"), file=name)
        out = Batch()
        out.put(emit(*pending))
        if out.line:
            yield out

    def _block(
        self,
        parser: _Parser,
        out: Batch,
        line: int,
        one_line_each: bool,
        leads: list[str],
        dates: list[str],
        times: list[str],
        heads: list[str | None],
        texts: list[str],
    ) -> int:
        """The records of a block's whole messages added to ``out`` (their stamps' fields,
        what comes before the first ": " of their line or None, and the texts after it, as
        the split cut them; ``one_line_each``: no message of them goes on over more lines);
        the line number after them.

        The hot path, a column at a time at C speed (``map`` of str methods and dict look-ups,
        no Python code a message): every message is taken for a plain message of a known
        author, then the few that may be anything else (no known author, a marked, special or
        empty text) go through the general path (``emit``) in file order, and replace theirs.
        The dates and times new to the block are read first, once each, and so are the
        authors new to it up to the first line that asks which names are known (one with ":"
        and no ": ", as emit reads it)."""
        emit, authors_seen = parser.emit, parser.authors
        k = len(texts)
        rows = range(k)
        if one_line_each:
            ats = list(range(line, line + k))
            end = line + k
            multi: list[int] = []
        else:
            multi = list(compress(rows, map(contains, texts, repeat("\n"))))
            steps = [1] * k
            for i in multi:
                steps[i] += texts[i].count("\n")
            ats = list(accumulate(steps, initial=line))
            end = ats.pop()
        bases = list(map(parser.bases.get, dates))
        secs = list(map(parser.times.get, times))
        if None in bases or None in secs:
            new_dates = dict.fromkeys(compress(dates, map(is_, bases, repeat(None))))
            new_times = dict.fromkeys(compress(times, map(is_, secs, repeat(None))))
            if not parser.learn(new_dates, new_times):
                # an unreadable date or time: line by line, for the first error in file order
                for i in rows:
                    out.put(emit(ats[i], leads[i], dates[i], times[i], _body(heads[i], texts[i])))
                return end
            bases = list(map(parser.bases.__getitem__, dates))
            secs = list(map(parser.times.__getitem__, times))
        epochs = parser.clock.epochs(list(map(add, bases, secs)))
        # the general path's lines: those without "name: " on their first line first
        general: set[int] = set()
        upto = k
        if None in heads:
            general.update(compress(rows, map(is_, heads, repeat(None))))
            upto = next((i for i in sorted(general) if texts[i].find(":") > 0), k)
        names = list(map(authors_seen.get, heads))  # type: ignore[arg-type]
        if None in names:
            for i in compress(rows, map(is_, names, repeat(None))):
                raw = heads[i]
                if raw:
                    found = authors_seen.get(raw)
                    if found is None:
                        if i >= upto:
                            continue  # first seen after the question: emit learns it
                        found = authors_seen[raw] = _author(raw)
                    names[i] = found
        general.update(compress(rows, map(not_, names)))  # unknown, not a name, or none
        if any(leads):
            general.update(compress(rows, leads))
        if "" in texts:
            general.update(compress(rows, map(not_, texts)))
        general.update(compress(rows, map(str.startswith, texts, repeat(_MARKED))))
        for i in compress(rows, map(str.endswith, texts, repeat(")"))):
            if " (" in texts[i]:
                general.add(i)
        general.update(i for i in multi if ")\n" in texts[i])
        general.update(compress(rows, map(wt.SPECIAL_RAW.__contains__, texts)))
        contents = [ContentKind.TEXT] * k
        for word in ("http", "HTTP"):
            for i in compress(rows, map(contains, texts, repeat(word))):
                if contents[i] is ContentKind.TEXT:
                    contents[i] = text_kind(texts[i])
        kinds = [MESSAGE] * k
        extra: dict[int, dict[str, Any]] = {}
        # the general path's lines, in file order: one record each replaces the line's in
        # place; none or several are spliced in below
        spliced: dict[int, list[Record]] = {}
        for i in sorted(general):
            found = emit(ats[i], leads[i], dates[i], times[i], _body(heads[i], texts[i]))
            if type(found) is list and len(found) == 1:
                found = found[0]
            if type(found) is tuple:
                ats[i], epochs[i], kinds[i], names[i], texts[i], contents[i], x = found
                if x is not None:
                    extra[i] = x
            else:
                spliced[i] = found or []
        # extras go with their rows (``extra`` is in row order: the general path's)
        extras = iter(extra.items())
        nxt = next(extras, None)
        prev = 0
        for i in [*sorted(spliced), k]:
            base = len(out.line) - prev
            while nxt is not None and nxt[0] < i:
                out.extra[base + nxt[0]] = nxt[1]
                nxt = next(extras, None)
            if prev == 0 and i == k:
                # nothing spliced: the whole columns
                out.line += ats
                out.epoch += epochs
                out.kind += kinds
                out.author += names  # type: ignore[arg-type]  # every one found by now
                out.text += texts
                out.content += contents
                break
            out.line += ats[prev:i]
            out.epoch += epochs[prev:i]
            out.kind += kinds[prev:i]
            out.author += names[prev:i]  # type: ignore[arg-type]
            out.text += texts[prev:i]
            out.content += contents[prev:i]
            for r in spliced.get(i, ()):
                out.put(r)
            prev = i + 1
        return end

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
