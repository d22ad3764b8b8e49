"""Chat exports -> the engine's Events: the same model live bots produce.

Public API (used by ``groupops import``, ``groupops analyze`` and the analytics):

* :func:`detect` ``(path) -> str``: the format name (one of :data:`FORMATS`), or
  :class:`UnknownFormat`.
* :func:`read` ``(path, tz=None, fmt=None) -> Iterator[Event]``: the file's events in file
  order, streaming. Kinds: MESSAGE, MEMBER_JOINED, MEMBER_LEFT. ``source`` is
  ``import:<format>``; ``message_id`` is the platform id, or for line formats (whatsapp, irc,
  wechat) the 0-based line of the message's first line; ``data`` has ``file``, ``line`` or
  ``index``, ``reply_to`` (explicit ids, where the platform records them), ``reactions`` (where
  recorded); joins have ``inviter_user_id``/``inviter_name`` or ``via``; departures
  ``removed_by``. See ``groupops.importers.base`` for the whole contract.
* :func:`read_event_columns` ``(path, tz=None, fmt=None, progress=None)``: what :func:`read`
  gives, as parallel lists (no Event objects), for the formats that have such a fast path
  (WhatsApp); None for the others.
* :func:`read_columns` ``(path, tz=None) -> Columns``: the same messages as flat arrays, for
  analytics on large files (WhatsApp is parsed without building Event objects).

``tz`` names the zone of the naive local times some exports write (WhatsApp, IRC, WeChat's
StrTime, old Telegram ``date``); default UTC. Any malformed input raises
:class:`ImportFormatError` (a :class:`~groupops.domain.errors.GroupopsError`) naming the file,
the line or byte offset, and the reason; nothing else escapes.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterator
from datetime import tzinfo
from pathlib import Path

from groupops.domain.events import Event
from groupops.i18n import N_
from groupops.importers import discord, irc, slack, telegram, wechat, whatsapp, whatsapp_stamps
from groupops.importers.base import (
    CANNOT_READ,
    UNREADABLE,
    UNREADABLE_ZIP,
    ZIP_ERRORS,
    FileUnreadable,
    ImportFormatError,
    Note,
    Options,
    UnknownFormat,
    check_readable,
    read_head,
)
from groupops.importers.columns import Columns, read_columns

FORMATS = ("whatsapp", "telegram", "discord", "slack", "irc", "wechat")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
DAMAGED_ZIP = N_("a damaged or incomplete zip (its end is missing): download the export again")
DAMAGED_IN_ZIP = N_("a damaged zip ({detail}): download the export again")

__all__ = [
    "FORMATS",
    "Columns",
    "ImportFormatError",
    "Note",
    "UnknownFormat",
    "detect",
    "read",
    "read_columns",
    "read_event_columns",
]

_READERS: dict[str, Callable[[Path, Options], Iterator[Event]]] = {
    "whatsapp": whatsapp.events,
    "telegram": telegram.events,
    "discord": discord.events,
    "slack": slack.events,
    "irc": irc.events,
    "wechat": wechat.events,
}


def detect(path: str | Path) -> str:
    """The export format of ``path`` (a file, or an unpacked Slack export folder). A path that
    names nothing is :class:`~groupops.importers.base.FileMissing` (``not_found``), one that
    cannot be read :class:`~groupops.importers.base.FileUnreadable` (``unreadable``)."""
    path = Path(path)
    check_readable(path)
    if path.is_dir():
        names = [str(p.relative_to(path)).replace("\\", "/") for p in path.rglob("*.json")]
        if slack.is_slack(names):
            return "slack"
        raise UnknownFormat(N_("a folder that is no Slack export"), file=path.name)
    if not path.is_file():  # a fifo, a device
        raise UnknownFormat(N_("not a file"), file=str(path))
    try:
        head = read_head(path)
    except OSError as exc:
        raise FileUnreadable(CANNOT_READ, file=str(path), detail=exc.strerror or str(exc)) from None
    if not head.strip():
        raise UnknownFormat(N_("the file is empty"), file=path.name)
    if head.startswith(_ZIP_MAGIC) and not zipfile.is_zipfile(path):
        # a zip's directory is at its end: a download cut short has none
        raise ImportFormatError(DAMAGED_ZIP, file=path.name)
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except ZIP_ERRORS as exc:
            raise ImportFormatError(UNREADABLE_ZIP, file=path.name, detail=str(exc)) from None
        if slack.is_slack(names):
            return "slack"
        if any(n.lower().endswith(".txt") for n in names):
            return "whatsapp"
        raise UnknownFormat(N_("a zip with neither a Slack export nor a chat .txt"), file=path.name)
    text = head.decode("utf-8-sig", errors="replace")
    stripped = text.lstrip()
    if stripped[:1] == "{" or (stripped[:1] == "[" and stripped[1:].lstrip()[:1] in ("{", "]")):
        if '"guild"' in text and '"channel"' in text:
            return "discord"
        if '"messages"' in text or '"chats"' in text:
            return "telegram"
        raise UnknownFormat(
            N_("JSON, but neither Telegram nor DiscordChatExporter"), file=path.name
        )
    lines = text.splitlines()
    if lines and wechat.has_header(lines[0]):
        return "wechat"
    sample = lines[:400]
    if len(head) >= 65536 and len(sample) > 1:
        sample = sample[:-1]
    wa = whatsapp_stamps.sniff(sample)
    ir = irc.sniff(sample)
    wa_n = wa[1] if wa else 0
    ir_n = ir[1] if ir else 0
    if wa_n == 0 and ir_n == 0:
        raise UnknownFormat(
            N_("no known chat export (WhatsApp, Telegram, Discord, Slack, IRC, WeChat CSV)"),
            file=path.name,
        )
    return "whatsapp" if wa_n >= ir_n else "irc"


def read(
    path: str | Path,
    tz: str | tzinfo | None = None,
    fmt: str | None = None,
    notes: list[Note] | None = None,
) -> Iterator[Event]:
    """The events of one export, in file order, streaming. ``notes``, when given, gets what
    the operator should know about the reading (e.g. the file was GB18030, not UTF-8) as
    :class:`~groupops.importers.base.Note` objects, each once, by the time the events end."""
    path = Path(path)
    fmt = fmt or detect(path)
    if fmt not in _READERS:
        raise UnknownFormat(
            N_("unknown format {fmt!r}; one of {formats}"),
            file=path.name,
            fmt=fmt,
            formats=", ".join(FORMATS),
        )
    return _guarded(_READERS[fmt](path, Options.make(tz, notes)), path)


def read_event_columns(
    path: str | Path,
    tz: str | tzinfo | None = None,
    fmt: str | None = None,
    progress: Callable[[int], None] | None = None,
    notes: list[Note] | None = None,
) -> whatsapp.EventColumns | None:
    """The events of one export as :class:`~groupops.importers.whatsapp.EventColumns` (the
    same values :func:`read` gives, without Event objects) where the format has such a fast
    path (WhatsApp), else None. Raises what :func:`read` raises. ``progress`` gets the
    number of events read so far, now and then."""
    path = Path(path)
    fmt = fmt or detect(path)
    if fmt != "whatsapp":
        return None
    try:
        return whatsapp.event_columns(path, Options.make(tz, notes), progress)
    except ImportFormatError:
        raise
    except ZIP_ERRORS as exc:
        raise _unreadable(exc, path) from None


def _guarded(events: Iterator[Event], path: Path) -> Iterator[Event]:
    """Only typed errors leave an importer: an OS error mid-file becomes one, too."""
    try:
        yield from events
    except ImportFormatError:
        raise
    except ZIP_ERRORS as exc:  # Unicode errors are ValueErrors
        # a damaged zip or disk: the reason, never a traceback
        raise _unreadable(exc, path) from None


def _unreadable(exc: BaseException, path: Path) -> ImportFormatError:
    """What reading ``path`` failed with, said for the operator: a zip whose content does not
    check out (a bad checksum, a broken stream) is damaged, and the cure is a new download."""
    if isinstance(exc, zipfile.BadZipFile | zlib.error | EOFError):
        return ImportFormatError(DAMAGED_IN_ZIP, file=path.name, detail=str(exc))
    return ImportFormatError(UNREADABLE, file=path.name, detail=str(exc))
