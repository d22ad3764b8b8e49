"""What every importer shares: the typed errors, the reading options and local clock, file keys.

An importer turns one export file into :class:`groupops.domain.events.Event` objects, in file
order, streaming (memory stays flat as files grow). Beside this module: ``encoding`` reads an
export's bytes as text (UTF-8, GB18030, Windows-1252 lines), ``text`` cleans names and tells
content kinds, ``events`` builds the events. The contract every format keeps:

* ``source`` is ``f"import:{format}"``; ``chat_id`` a stable id of the chat (the platform's id
  where the export records one, else the chat's name, else the file's stem);
* ``event_id`` is stable: re-importing the same file yields the same ids, so the engine's
  idempotent store adds nothing the second time;
* ``message_id`` is the platform's message id, or for line-based formats (WhatsApp, IRC, WeChat
  CSV) the 0-based line number of the message's first line in its file, as a string;
* ``data`` holds ``file`` (file name), ``line`` (0-based line, line formats) or ``index`` (0-based
  position in the export, JSON formats), ``reply_to`` (explicit ids the platform recorded, a
  list), ``reactions`` (a count, where recorded) and format-specific extras. Joins carry
  ``inviter_user_id``/``inviter_name`` (who added them, the key the engine's directory reads) or
  ``via="invite_link"``; departures carry ``removed_by`` when someone removed the member.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import compress, repeat
from operator import floordiv, is_, sub
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from groupops.domain.errors import GroupopsError
from groupops.i18n import N_

# -- errors ------------------------------------------------------------------------------------


class ImportFormatError(GroupopsError):
    """An export could not be read: names the file, the line (or byte offset) and the reason.

    Raised by every importer for any malformed input; nothing else escapes an importer."""

    code = "import_format"

    def __init__(
        self,
        reason: str,
        *,
        file: str | Path,
        line: int | None = None,
        offset: int | None = None,
        **params: Any,
    ) -> None:
        self.file = str(file)
        self.line = line
        self.offset = offset
        where = self.file
        if line is not None:
            where += f", line {line + 1}"  # people count lines from 1
        elif offset is not None:
            where += f", byte {offset}"
        super().__init__(reason, where=where, **params)
        self.reason = self.message

    def localized(self, gettext: Callable[[str], str]) -> str:
        """The error in the language of ``gettext``, its place and reason joined as that
        language joins them (``：`` in Chinese)."""
        where = self.localized_where(gettext)
        text = self.localized_message(gettext)
        return gettext(PLACE_REASON).format(place=where, reason=text) if where else text

    def localized_where(self, gettext: Callable[[str], str]) -> str | None:
        if self.line is not None:
            return gettext(AT_LINE).format(file=self.file, line=self.line + 1)
        if self.offset is not None:
            return gettext(AT_BYTE).format(file=self.file, offset=self.offset)
        return self.file

    def localized_place(self, gettext: Callable[[str], str]) -> str | None:
        """Where in the file, without the file: ``line 2``, ``byte 120``, or None."""
        if self.line is not None:
            return gettext(LINE).format(line=self.line + 1)
        if self.offset is not None:
            return gettext(BYTE).format(offset=self.offset)
        return None


PLACE_REASON = N_("{place}: {reason}")
AT_LINE = N_("{file}, line {line}")
AT_BYTE = N_("{file}, byte {offset}")
LINE = N_("line {line}")
BYTE = N_("byte {offset}")

# reasons more than one importer gives; ``detail`` is the system's or the parser's own words
# (not ``reason``: that is ImportFormatError's own argument)
UNREADABLE = N_("unreadable: {detail}")
UNREADABLE_ZIP = N_("unreadable zip: {detail}")
MALFORMED_JSON = N_("malformed JSON: {detail}")
IMPOSSIBLE_DATE = N_("impossible date {date!r}")
IMPOSSIBLE_TIME = N_("impossible time {time!r}")


MALFORMED_JSON_IN = N_("malformed JSON in {member}: {detail}")


def json_error_text(exc: BaseException) -> str:
    """A JSON parser's complaint on one line: yajl appends a multi-line excerpt with a caret
    pointing at the spot, which breaks one-line-per-file error reports."""
    first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
    return first[:200]


JSON_CUT = N_("the file ends before its JSON does (cut short? export or download it again)")
JSON_BAD_CHARACTER = N_("a character JSON does not allow here")
JSON_TRAILING = N_("more text after the end of the JSON")
JSON_MISSING_SEPARATOR = N_("a comma or a closing bracket is missing")
JSON_BAD_KEY = N_("an object key that is no quoted string")
JSON_NOT_UTF8 = N_("bytes that are no UTF-8 text")
JSON_NOTHING = N_("no JSON value where one should start")
#: the common complaints of yajl (ijson) and of Python's json, by a word of their text, and
#: what an operator reads instead (checked in order: the first that matches)
_JSON_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("premature eof", "incomplete json", "unterminated string", "eof while"), JSON_CUT),
    (("utf8", "utf-8", "codec can't decode"), JSON_NOT_UTF8),
    (("trailing garbage", "extra data", "additional data"), JSON_TRAILING),
    (
        ("expect ',' or", "expecting ',' delimiter", "expecting ':' delimiter"),
        JSON_MISSING_SEPARATOR,
    ),
    (("invalid object key", "expecting property name"), JSON_BAD_KEY),
    (("expecting value",), JSON_NOTHING),
    (
        ("invalid char", "lexical error", "invalid control character", "invalid \\escape"),
        JSON_BAD_CHARACTER,
    ),
)


def json_cause(exc: BaseException) -> str | None:
    """The msgid that says in plain words what a JSON parser's error means, or None."""
    if isinstance(exc, UnicodeDecodeError):
        return JSON_NOT_UTF8
    text = str(exc).casefold()
    for words, cause in _JSON_CAUSES:
        if any(w in text for w in words):
            return cause
    return None


class MalformedJson(ImportFormatError):
    """A JSON export the parser stopped in: the common causes said in the operator's words
    (:func:`json_cause`, translated), any other in the parser's own; the byte offset kept."""

    def __init__(
        self, exc: BaseException, *, file: str | Path, offset: int | None = None, member: str = ""
    ) -> None:
        self.cause = json_cause(exc)
        detail = self.cause or json_error_text(exc)
        if member:
            super().__init__(
                MALFORMED_JSON_IN, file=file, offset=offset, member=member, detail=detail
            )
        else:
            super().__init__(MALFORMED_JSON, file=file, offset=offset, detail=detail)

    def localized_message(self, gettext: Callable[[str], str]) -> str:
        params = dict(self.params)
        if self.cause is not None:
            params["detail"] = gettext(self.cause)
        return gettext(self.template).format(**params)


class UnknownFormat(ImportFormatError):
    """No importer recognises the file."""

    code = "import_unknown_format"


class FileMissing(ImportFormatError):
    """The path names nothing (a typo, a file moved away)."""

    code = "not_found"


class FileUnreadable(ImportFormatError):
    """The path is there but this process may not read it (permissions, a disk error)."""

    code = "unreadable"


NO_SUCH_FILE = N_("no such file")
PERMISSION_DENIED = N_("cannot read the file (permission denied)")
CANNOT_READ = N_("cannot read the file: {detail}")


def check_readable(path: Path) -> None:
    """Refuse, before anything is read, a path that names nothing (:class:`FileMissing`) or
    one that cannot be opened for reading (:class:`FileUnreadable`): a file, or the folder of
    an unpacked export. Both name ``path`` as given. Anything else (a fifo, a device) is left
    to the format's recognition."""
    try:
        if path.is_dir():
            with os.scandir(path):
                pass
        elif not path.exists():
            raise FileMissing(NO_SUCH_FILE, file=str(path))
        elif path.is_file():
            with path.open("rb"):
                pass
    except FileNotFoundError:
        raise FileMissing(NO_SUCH_FILE, file=str(path)) from None
    except PermissionError:
        raise FileUnreadable(PERMISSION_DENIED, file=str(path)) from None
    except OSError as exc:
        raise FileUnreadable(CANNOT_READ, file=str(path), detail=exc.strerror or str(exc)) from None


def refusal_text(exc: GroupopsError, path: str | Path, gettext: Callable[[str], str]) -> str:
    """What ``exc`` says about the export ``path``, for a line that already names ``path``:
    ``line 2: impossible time '25:61'`` (or the reason alone) when the error is about that
    file, so the line names the file once; the whole error otherwise (a member of a zip,
    another file, an option)."""
    if isinstance(exc, ImportFormatError) and exc.file in (str(path), Path(path).name):
        place = exc.localized_place(gettext)
        text = exc.localized_message(gettext)
        return gettext(PLACE_REASON).format(place=place, reason=text) if place else text
    return exc.localized(gettext)


# what reading a damaged or unsupported zip can raise (encrypted members, unknown compression,
# bad CRC, truncated streams): always turned into an ImportFormatError
ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    ValueError,
    EOFError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


# -- options -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    """Something the operator should know about how a file was read, which is no error: e.g.
    that it was not UTF-8 and which encoding was used. ``message`` is a msgid (``N_``) filled
    with ``params``."""

    message: str
    params: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        return self.message.format(**dict(self.params))

    def localized(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.message).format(**dict(self.params))


@dataclass(frozen=True, slots=True)
class Options:
    """How to read naive local times (WhatsApp, IRC, WeChat StrTime, old Telegram ``date``):
    the exporting phone's or server's zone. Default UTC. ``notes`` collects what a reader
    tells about the reading (:class:`Note`, each once), for the import's summary."""

    tz: tzinfo = UTC
    notes: list[Note] = field(default_factory=list, compare=False, hash=False)

    @classmethod
    def make(cls, tz: str | tzinfo | None = None, notes: list[Note] | None = None) -> Options:
        found = [] if notes is None else notes
        if tz is None:
            return cls(notes=found)
        if isinstance(tz, str):
            from groupops.domain.time import zone

            return cls(zone(tz), found)
        return cls(tz, found)

    def note(self, note: Note) -> None:
        if note not in self.notes:
            self.notes.append(note)


class LocalClock:
    """Naive local (day, seconds-of-day) -> UTC datetime, fast: UTC offsets are cached per
    local hour, datetimes per minute are not built twice."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.fixed = tz is UTC or (isinstance(tz, ZoneInfo) and tz.key in ("UTC", "Etc/UTC"))
        self._offsets: dict[int, int] = {}

    def offset(self, ordinal: int, hour: int) -> int:
        if self.fixed:
            return 0
        key = ordinal * 24 + hour
        found = self._offsets.get(key)
        if found is None:
            local = datetime.combine(date.fromordinal(ordinal), datetime.min.time()).replace(
                hour=hour, tzinfo=self.tz
            )
            delta = local.utcoffset() or timedelta(0)
            found = self._offsets[key] = int(delta.total_seconds())
        return found

    def epoch(self, ordinal: int, seconds: int) -> int:
        """Seconds since 1970-01-01 UTC of a local day ordinal plus seconds of that day."""
        return (ordinal - EPOCH_ORDINAL) * 86400 + seconds - self.offset(ordinal, seconds // 3600)

    def epochs(self, local: list[int]) -> list[int]:
        """:meth:`epoch` of many local times at once, each given as the seconds since
        1970-01-01 of the local calendar and clock (``(ordinal - EPOCH_ORDINAL) * 86400 +
        seconds``): the zone is asked once per distinct local hour, the rest is C-level maps.
        A new list (``local`` itself for a fixed clock)."""
        if self.fixed:
            return local
        hours = list(map((EPOCH_ORDINAL * 24).__add__, map(floordiv, local, repeat(3600))))
        offsets = self._offsets
        found = list(map(offsets.get, hours))
        if None in found:
            for key in dict.fromkeys(compress(hours, map(is_, found, repeat(None)))):
                self.offset(key // 24, key % 24)
            found = list(map(offsets.__getitem__, hours))
        return list(map(sub, local, found))


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_from_epoch(seconds: float) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


#: the epoch seconds a datetime holds: years 1 to 9999 in UTC (a local time near either end,
#: moved to UTC by its zone, may fall outside)
MIN_EPOCH = (date(1, 1, 1).toordinal() - EPOCH_ORDINAL) * 86400
MAX_EPOCH = (date(9999, 12, 31).toordinal() - EPOCH_ORDINAL) * 86400 + 86399
OUT_OF_RANGE = N_("a time out of range: in UTC it falls before year 1 or after year 9999")


def utc_at(seconds: int, file: str, line: int) -> datetime:
    """:func:`utc_from_epoch` of the local time read at ``line``, or the ImportFormatError of
    one outside :data:`MIN_EPOCH`..:data:`MAX_EPOCH` (never an OverflowError)."""
    try:
        return utc_from_epoch(seconds)
    except OverflowError:
        raise ImportFormatError(OUT_OF_RANGE, file=file, line=line) from None


# -- files -------------------------------------------------------------------------------------

KEY_PREFIX_BYTES = 65536
#: what a reader reads for :func:`file_key`: with CRLF line ends, 64 KiB of text as LF
KEY_HEAD_BYTES = 2 * KEY_PREFIX_BYTES
BOM = b"\xef\xbb\xbf"


def file_key(head: bytes, fmt: str) -> str:
    """A short id of an export file from its format and first 64 KiB (``head``: the file's
    first :data:`KEY_HEAD_BYTES` bytes, or all of a shorter file): the same file (renamed or
    not, or a later, longer export of the same chat) gives the same key, so re-importing adds
    nothing. Line ends and a byte-order mark do not count: the ``.txt`` WhatsApp saves and the
    ``_chat.txt`` in the ``.zip`` it shares (CRLF) are one chat, not two. (A file with LF ends
    and no mark keeps the key it had before this rule.)"""
    text = head.removeprefix(BOM).replace(b"\r\n", b"\n")[:KEY_PREFIX_BYTES]
    return hashlib.sha1(fmt.encode() + b"\0" + text).hexdigest()[:12]


def read_head(path: Path, size: int = KEY_HEAD_BYTES) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


class CountingReader(io.RawIOBase):
    """Wraps a binary stream and counts the bytes read, to name a byte offset in errors."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data
