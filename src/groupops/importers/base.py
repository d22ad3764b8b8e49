"""What every importer shares: the typed error, reading bytes safely, ids, names, content kinds.

An importer turns one export file into :class:`groupops.domain.events.Event` objects, in file
order, streaming (memory stays flat as files grow). The contract every format keeps:

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

import codecs
import hashlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from groupops.domain.errors import GroupopsError
from groupops.domain.events import MAX_NAME_LEN, ContentKind, Event, EventKind
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
_BOM = b"\xef\xbb\xbf"


def file_key(head: bytes, fmt: str) -> str:
    """A short id of an export file from its format and first 64 KiB (``head``: the file's
    first :data:`KEY_HEAD_BYTES` bytes, or all of a shorter file): the same file (renamed or
    not, or a later, longer export of the same chat) gives the same key, so re-importing adds
    nothing. Line ends and a byte-order mark do not count: the ``.txt`` WhatsApp saves and the
    ``_chat.txt`` in the ``.zip`` it shares (CRLF) are one chat, not two. (A file with LF ends
    and no mark keeps the key it had before this rule.)"""
    text = head.removeprefix(_BOM).replace(b"\r\n", b"\n")[:KEY_PREFIX_BYTES]
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


# -- encodings ---------------------------------------------------------------------------------

UTF8 = "utf-8"
GB18030 = "gb18030"
#: what the operator reads about an encoding
ENCODING_LABELS = {UTF8: "UTF-8", GB18030: "GB18030"}
NOT_UTF8 = N_("the file is not UTF-8 text (bytes no UTF-8 character is made of); save it as UTF-8")
NEITHER_UTF8_NOR_GB18030 = N_(
    "the file is neither UTF-8 nor GB18030 (GBK) text (bytes neither is made of); save it as UTF-8"
)
BROKEN_TEXT = N_(
    "the file reads as {encoding} up to here, then has bytes that are no {encoding} text"
    " (a damaged file?)"
)
#: the note of a file read in an encoding other than UTF-8
READ_AS = {GB18030: N_("{file}: not UTF-8; read as GB18030 (GBK)")}


class Transcoded(io.RawIOBase):
    """The text of a byte stream, as UTF-8 bytes, read in the first of ``encodings`` its bytes
    are (UTF-8, then e.g. GB18030 for what Excel on Chinese Windows saves). The choice is
    made on the first block that holds a byte other than ASCII (ASCII reads the same in all
    of them). Bytes that are text in none of them, or that break the chosen encoding later
    on, are an :class:`ImportFormatError` naming the file and the byte offset: nothing is
    replaced by U+FFFD. Reading in another encoding than UTF-8 is told in ``options``'s notes
    (:data:`READ_AS`). A UTF-8 byte-order mark is kept (the readers drop it)."""

    def __init__(
        self,
        raw: IO[bytes],
        file: str,
        encodings: tuple[str, ...] = (UTF8,),
        options: Options | None = None,
        block: int = 1 << 20,
    ) -> None:
        self.raw = raw
        self.file = file
        self.encodings = encodings
        self.options = options
        self.block = block
        self.encoding: str | None = None
        self._decoder: codecs.IncrementalDecoder | None = None
        self._pos = 0  # bytes of ``raw`` read so far
        self._out = b""
        self._at = 0  # bytes of ``_out`` handed out
        self._held = b""  # undecided bytes kept for the next block
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._at >= len(self._out) and not (self._eof and not self._held):
            self._out, self._at = self._fill(), 0
        n = min(len(buffer), len(self._out) - self._at)
        buffer[:n] = self._out[self._at : self._at + n]
        self._at += n
        return n

    def _fill(self) -> bytes:
        data = self.raw.read(self.block)
        start = self._pos - len(self._held)
        self._pos += len(data)
        final = not data
        if final:
            self._eof = True
        if self._decoder is None:
            data, self._held = self._held + data, b""
            if data.isascii() and not final:
                return data  # the same bytes in every candidate: not decided yet
            return self._decide(data, start, final)
        return self._decode(self._decoder, data, start, final)

    def _decide(self, data: bytes, start: int, final: bool) -> bytes:
        failed: list[UnicodeDecodeError] = []
        for encoding in self.encodings:
            decoder = codecs.getincrementaldecoder(encoding)("strict")
            try:
                text = decoder.decode(data, final)
            except UnicodeDecodeError as exc:
                failed.append(exc)
                continue
            if text.isascii() and not final:
                # its first other character is cut at the block's end: decide on more
                self._held = data
                return b""
            self.encoding, self._decoder = encoding, decoder
            if encoding == UTF8:
                return data
            if self.options is not None and encoding in READ_AS:
                self.options.note(Note(READ_AS[encoding], (("file", self.file),)))
            return text.encode()
        # where the candidate that read furthest stopped
        furthest = max(failed, key=lambda exc: exc.start)
        reason = NOT_UTF8 if len(self.encodings) == 1 else NEITHER_UTF8_NOR_GB18030
        raise ImportFormatError(reason, file=self.file, offset=start + furthest.start)

    def _decode(
        self, decoder: codecs.IncrementalDecoder, data: bytes, start: int, final: bool
    ) -> bytes:
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                BROKEN_TEXT,
                file=self.file,
                offset=start - pending + exc.start,
                encoding=ENCODING_LABELS.get(self.encoding or "", self.encoding),
            ) from None
        return data if self.encoding == UTF8 else text.encode()


def text_stream(
    raw: IO[bytes],
    file: str,
    encodings: tuple[str, ...] = (UTF8,),
    options: Options | None = None,
    newline: str | None = None,
) -> io.TextIOWrapper:
    """``raw`` as text (see :class:`Transcoded`; a BOM dropped, ``newline`` as for ``open``)."""
    buffered = io.BufferedReader(Transcoded(raw, file, encodings, options))
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", newline=newline)


def _windows_1252(data: bytes) -> str:
    """``data`` read as Windows-1252; the five bytes it leaves undefined as Latin-1."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return "".join(bytes((c,)).decode("cp1252", errors="ignore") or chr(c) for c in data)


READ_LINES_AS = N_("{file}: {lines} line(s) not in UTF-8, read as Windows-1252 (Latin-1)")


class LineText:
    """Lines of a byte stream, each decoded on its own: as UTF-8, else (a line another client
    wrote, as IRC logs mix them) as Windows-1252, the bytes it leaves undefined as Latin-1, so
    no line is lost and none holds U+FFFD. A BOM is dropped, CRLF/CR fold to LF, NUL is
    removed. Lines are counted exactly as the file counts them: every LF (or lone CR) ends
    one. ``fallback_lines`` counts the lines not read as UTF-8."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.fallback_lines = 0

    def __iter__(self) -> Iterator[str]:
        first = True
        for chunk in self.raw:
            if first:
                chunk = chunk.removeprefix(_BOM)
                first = False
            for piece in chunk.splitlines() or [b""]:
                try:
                    line = piece.decode()
                except UnicodeDecodeError:
                    self.fallback_lines += 1
                    line = _windows_1252(piece)
                if "\x00" in line:
                    line = line.replace("\x00", "")
                yield line

    def note(self, file: str, options: Options) -> None:
        """Tell ``options`` how many lines were not UTF-8 (when any were)."""
        if self.fallback_lines:
            options.note(Note(READ_LINES_AS, (("file", file), ("lines", self.fallback_lines))))


# -- names -------------------------------------------------------------------------------------

MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u061c"
_MARKS_TABLE = {ord(c): None for c in MARKS}
_SPACES_RE = re.compile(r"[\s\u00a0\u202f\u2007]+")  # what clean_name folds into one space
_PHONE_RE = re.compile(r"^\+?[\d\s\-().]{6,}$")


def strip_marks(text: str) -> str:
    # the marks are not ASCII: an ASCII text (most) skips translate's per-character look-ups
    return text if text.isascii() else text.translate(_MARKS_TABLE)


def clean_name(name: str) -> str:
    """A display name without direction marks and with single spaces."""
    # = _SPACES_RE.sub(" ", ...).strip(): split() cuts at the same characters (str.isspace,
    # which the regex's \s is, and covers \u00a0 \u202f \u2007), four times faster
    return " ".join(strip_marks(name).split())


def user_key(name: str) -> str:
    """The user id of an author known only by the name an export shows: the cleaned name, a phone
    number reduced to ``+`` and digits (so ``+7 999 999-99-99`` and ``+79999999999`` match)."""
    cleaned = clean_name(name)
    if _PHONE_RE.match(cleaned) and sum(c.isdigit() for c in cleaned) >= 6:
        return "+" + "".join(c for c in cleaned if c.isdigit())
    return cleaned[:255]


# -- content kinds -----------------------------------------------------------------------------

URL_RE = re.compile(r"https?://[^\s<>\"'\u3000，。）)]+", re.IGNORECASE)

ARTICLE_HOSTS = ("mp.weixin.qq.com",)
ARTICLE_PREFIXES = ("zhuanlan.zhihu.com/p/", "www.toutiao.com/article", "m.toutiao.com/article")
NETDISK_HOSTS = (
    "pan.baidu.com",
    "yun.baidu.com",
    "aliyundrive.com",
    "www.aliyundrive.com",
    "alipan.com",
    "www.alipan.com",
    "pan.quark.cn",
    "115.com",
    "115cdn.com",
    "anxia.com",
    "cloud.189.cn",
    "caiyun.139.com",
    "yun.139.com",
    "share.weiyun.com",
    "www.123pan.com",
    "123pan.com",
    "pan.xunlei.com",
    "drive.google.com",
    "www.dropbox.com",
    "dropbox.com",
    "1drv.ms",
    "onedrive.live.com",
    "mega.nz",
)
NETDISK_SUFFIXES = (".lanzoux.com", ".lanzoui.com", ".lanzous.com", ".lanzouw.com", ".115.com")


def link_kind(url: str) -> ContentKind:
    """article link (WeChat official-account articles and kin), net-disk link, or H5/web link."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return ContentKind.H5_LINK
    if host in ARTICLE_HOSTS:
        return ContentKind.ARTICLE_LINK if parts.path.startswith("/s") else ContentKind.H5_LINK
    hostpath = host + parts.path
    if any(hostpath.startswith(p) for p in ARTICLE_PREFIXES):
        return ContentKind.ARTICLE_LINK
    if host in NETDISK_HOSTS or host.endswith(NETDISK_SUFFIXES):
        return ContentKind.NETDISK_LINK
    return ContentKind.H5_LINK


_LINK_RANK = {ContentKind.NETDISK_LINK: 0, ContentKind.ARTICLE_LINK: 1, ContentKind.H5_LINK: 2}


def text_kind(text: str) -> ContentKind:
    """TEXT, or the kind of the most specific link in the text (net-disk > article > H5)."""
    if "http" not in text and "HTTP" not in text:
        return ContentKind.TEXT
    best: ContentKind | None = None
    for m in URL_RE.finditer(text):
        kind = link_kind(m.group(0))
        if best is None or _LINK_RANK[kind] < _LINK_RANK[best]:
            best = kind
    return best or ContentKind.TEXT


_PICTURE_EXT = {"jpg", "jpeg", "png", "gif", "heic", "heif", "bmp", "tif", "tiff", "svg", "avif"}
_VIDEO_EXT = {"mp4", "mov", "3gp", "mkv", "avi", "webm", "m4v", "wmv", "flv"}
_VOICE_EXT = {"opus", "ogg", "oga", "m4a", "mp3", "aac", "amr", "wav", "silk", "flac", "wma"}
_OTHER_EXT = {"vcf"}


def file_kind(name: str, mime: str = "") -> ContentKind:
    """The content kind of an attached file from its name (WhatsApp's IMG-/VID-/PTT-/STK-
    prefixes and ``00000012-PHOTO-...`` names, else the extension) or MIME type."""
    base = name.rsplit("/", 1)[-1]
    upper = base.upper()
    if upper.startswith("STK-") or "-STICKER-" in upper or upper.startswith("STICKER"):
        return ContentKind.STICKER
    if upper.startswith(("PTT-", "AUD-")) or "-AUDIO-" in upper:
        return ContentKind.VOICE
    if upper.startswith("IMG-") or "-PHOTO-" in upper or "-GIF-" in upper:
        return ContentKind.PICTURE
    if upper.startswith("VID-") or "-VIDEO-" in upper:
        return ContentKind.VIDEO
    ext = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    if ext == "webp":
        return ContentKind.STICKER if "sticker" in mime else ContentKind.PICTURE
    if ext in _PICTURE_EXT or mime.startswith("image/"):
        return ContentKind.PICTURE
    if ext in _VIDEO_EXT or mime.startswith("video/"):
        return ContentKind.VIDEO
    if ext in _VOICE_EXT or mime.startswith("audio/"):
        return ContentKind.VOICE
    if ext in _OTHER_EXT:
        return ContentKind.OTHER
    return ContentKind.FILE


def obj(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def clip_id(value: object) -> str:
    """A platform id as the string an Event accepts (at most 255 characters)."""
    return str(value)[:255] if value is not None else ""


def clean_text(text: str) -> str:
    """A text as an Event keeps it: without NUL characters (a database cannot store them)."""
    return text.replace("\x00", "") if "\x00" in text else text


def reaction_count(reactions: object) -> int:
    """The number of reactions in a platform's list of ``{"count": n, ...}`` objects (an object
    without a count is one reaction; anything that is no list counts none)."""
    if not isinstance(reactions, list):
        return 0
    total = 0
    for r in reactions:
        if isinstance(r, dict):
            try:
                total += int(r.get("count", 1))
            except (TypeError, ValueError):
                total += 1
    return total


def member_event(
    source: str,
    event_id: str,
    kind: EventKind,
    occurred_at: datetime,
    chat_id: str,
    user_id: str,
    user_name: str,
    data: dict[str, Any],
    message_id: str = "",
) -> Event:
    """A join or departure from a platform's message about it (a Slack ``channel_join``, a
    Discord ``GuildMemberJoin``, a Telegram service message): validated, with no message id of
    its own; ``message_id``, the id of the platform's message that told it, goes into
    ``data["message_id"]`` (``--events-out`` names the event by it, as the messages are)."""
    if kind not in (EventKind.MEMBER_JOINED, EventKind.MEMBER_LEFT):
        raise ValueError(f"member_event: {kind} is no membership change")
    if message_id:
        data = {**data, "message_id": message_id}
    return Event(
        source=source,
        event_id=event_id,
        kind=kind,
        occurred_at=occurred_at,
        chat_id=chat_id,
        user_id=user_id,
        user_name=user_name,
        data=data,
    )


# -- events without re-validation --------------------------------------------------------------

_set = object.__setattr__
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def trusted_event(
    source: str,
    event_id: str,
    kind: EventKind,
    occurred_at: datetime,
    chat_id: str,
    user_id: str,
    user_name: str,
    message_id: str,
    text: str,
    content_kind: ContentKind,
    data: dict[str, Any],
) -> Event:
    """An :class:`Event` built without running its validation again: for the line-format
    importers' hot path only (building a validated Event costs ~5x parsing its line), whose
    values already keep every rule ``Event.__post_init__`` checks: non-empty ids of at most 255
    characters, a tz-aware UTC time, no NUL in the text, a user for member events, enums for
    kinds. ``tests/importers`` checks that every such event equals the validated one."""
    e = object.__new__(Event)
    _set(e, "source", source)
    _set(e, "event_id", event_id)
    _set(e, "kind", kind)
    _set(e, "occurred_at", occurred_at)
    _set(e, "chat_id", chat_id)
    _set(e, "user_id", user_id)
    _set(e, "user_name", user_name[:MAX_NAME_LEN])
    _set(e, "message_id", message_id)
    _set(e, "text", text)
    _set(e, "content_kind", content_kind)
    _set(e, "reply_to_message_id", "")
    _set(e, "reply_to_user_id", "")
    _set(e, "is_admin", False)
    _set(e, "data", MappingProxyType(data) if data else _EMPTY)
    return e
