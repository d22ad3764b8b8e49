"""Import exports into the engine's database, and write the normalised events as JSON lines.

One transaction per file (``Engine.store_only``): a file that fails half-way leaves nothing
behind. Features do not run on imported history (no welcome for a join of 2019); the events,
groups, members and memberships (joined/left, inviter) are stored exactly as live ones are, so
the same analytics read both. Re-importing a file stores nothing new: event ids are stable.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import IO, Any

from groupops.domain.errors import InvalidOption
from groupops.domain.events import Event, EventKind
from groupops.engine.core import Engine
from groupops.files import as_user_file
from groupops.i18n import N_
from groupops.importers import Columns, detect, read, read_columns
from groupops.importers.base import Note, check_readable
from groupops.importers.text import strip_marks

log = logging.getLogger(__name__)

LINE_FORMATS = {"whatsapp", "irc", "wechat"}
BATCH = 2000


@dataclass
class ImportResult:
    file: str
    fmt: str
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    chats: set[str] = field(default_factory=set)
    #: what the operator should know about the reading (e.g. the encoding used)
    notes: list[Note] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.fmt,
            "chats": len(self.chats),
            "messages": self.kinds.get(EventKind.MESSAGE.value, 0),
            "joined": self.kinds.get(EventKind.MEMBER_JOINED.value, 0),
            "left": self.kinds.get(EventKind.MEMBER_LEFT.value, 0),
            "stored": self.stored,
            "already there": self.duplicates,
        }


def _batches(events: Iterable[Event], size: int = BATCH) -> Iterator[list[Event]]:
    batch: list[Event] = []
    for e in events:
        batch.append(e)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


#: formats whose ids are whole numbers (a line, Telegram's message id): ``--events-out``
#: writes them as JSON numbers. Discord's (too large for a JSON reader's doubles) and Slack's
#: (``1452837352.000006``) stay strings
NUMBER_IDS = LINE_FORMATS | {"telegram"}
_PLACEHOLDER_FLAGS = ("media", "deleted", "call")


def json_id(value: str, fmt: str) -> Any:
    """An id as ``--events-out`` writes it: a number in the formats of :data:`NUMBER_IDS`,
    else the string; ``id`` and ``reply_to`` are alike, so a reply joins its message."""
    if fmt in NUMBER_IDS and value.isascii() and value.lstrip("-").isdigit():
        return int(value)
    return value


def event_line(event: Event, fmt: str, reply_to: list[str], inferred: bool) -> dict[str, Any]:
    """One ``--events-out`` object: ``id`` (the 0-based line for line formats, else the
    platform message id; a notice's events share the id of the message the platform wrote
    for it), ``file``, ``kind``, ``time`` (ISO 8601 UTC), ``author``, ``text``,
    ``content_kind``, ``reply_to`` (ids, of ``id``'s JSON type) and ``reply_inferred``; plus
    ``chat``, ``user_id``, ``format`` and ``event_id``."""
    line = event.data.get("line")
    ident: Any
    if fmt in LINE_FORMATS and isinstance(line, int):
        ident = line
    else:
        ident = json_id(
            event.message_id or str(event.data.get("message_id") or "") or event.event_id, fmt
        )
    text = event.text
    if any(event.data.get(flag) for flag in _PLACEHOLDER_FLAGS):
        # a placeholder ("‎image omitted"): its words, not WhatsApp's direction mark
        text = strip_marks(text).strip()
    return {
        "id": ident,
        "file": event.data.get("file", ""),
        "kind": event.kind.value,
        "time": event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "author": event.user_name or event.user_id,
        "user_id": event.user_id,
        "chat": event.chat_id,
        "text": text,
        "content_kind": event.content_kind.value,
        "reply_to": [json_id(r, fmt) for r in reply_to],
        "reply_inferred": inferred,
        "format": fmt,
        "event_id": event.event_id,
    }


def _explicit_replies(event: Event) -> list[str]:
    found = event.data.get("reply_to")
    if isinstance(found, list | tuple):
        return [str(x) for x in found]
    return [event.reply_to_message_id] if event.reply_to_message_id else []


Inferrer = Callable[[Columns], Sequence[Sequence[str]]]


def reply_inferrer() -> Inferrer | None:
    """``groupops.analytics.replies.infer_replies`` when the analytics are installed.

    The contract: ``infer_replies(columns: Columns) -> Sequence[Sequence[str]]``, one entry
    per row of ``columns`` (in file order, as :func:`groupops.importers.read` yields the
    events), each the ``message_id``s that row answers (empty for rows that answer nothing and
    for joins/departures). Rows whose platform recorded a reply keep the recorded one."""
    try:
        module = importlib.import_module("groupops.analytics.replies")
    except ImportError:
        return None
    found = getattr(module, "infer_replies", None)
    return found if callable(found) else None


def _inferred_links(path: Path, tz: str | tzinfo | None, infer: Inferrer) -> list[list[str]]:
    cols = read_columns(path, tz)
    links = [[str(x) for x in row] for row in infer(cols)]
    if len(links) != len(cols):
        raise ValueError(f"infer_replies gave {len(links)} rows for {len(cols)}")
    return links


def import_file(
    engine: Engine | None,
    path: Path,
    *,
    tz: str | tzinfo | None = None,
    fmt: str | None = None,
    events_out: IO[str] | None = None,
) -> ImportResult:
    """Read one export; store it in one transaction (when ``engine`` is given) and write its
    events as JSON lines to ``events_out`` (when given). A typed error leaves nothing stored;
    a missing or unreadable file is refused before anything is read (by ``detect``, or here
    when the format is given)."""
    if fmt is None:
        fmt = detect(path)
    else:
        check_readable(path)
    result = ImportResult(path.name, fmt)

    inferred: list[list[str]] | None = None
    infer = reply_inferrer() if events_out is not None else None
    if infer is not None:
        try:
            inferred = _inferred_links(path, tz, infer)
        except (TypeError, ValueError, KeyError) as exc:  # a contract mismatch: say so
            log.warning("reply inference skipped for %s: %s", path.name, exc)

    def counted(events: Iterable[Event]) -> Iterator[Event]:
        for i, e in enumerate(events):
            result.events += 1
            result.kinds[e.kind.value] += 1
            result.chats.add(e.chat_id)
            if events_out is not None:
                links, was_inferred = _explicit_replies(e), False
                if not links and inferred is not None and inferred[i]:
                    links, was_inferred = inferred[i], True
                events_out.write(
                    json.dumps(event_line(e, fmt, links, was_inferred), ensure_ascii=False) + "\n"
                )
            yield e

    stream = counted(read(path, tz, fmt, result.notes))
    if engine is None:
        for _ in stream:
            pass
        return result
    source = f"import:{fmt}"
    known = _groups_of(engine, source)
    stored = engine.store_only(_batches(stream))
    result.stored, result.duplicates = stored.stored, stored.duplicates
    _zone_new_groups(engine, source, result.chats - known, tz)
    return result


def _groups_of(engine: Engine, source: str) -> set[str]:
    """The chats of ``source`` that are groups in the database already."""
    from sqlalchemy import select

    from groupops.storage.tables import groups

    with engine.db.connect() as conn:
        return set(
            conn.execute(select(groups.c.chat_id).where(groups.c.source == source)).scalars()
        )


def _zone_new_groups(engine: Engine, source: str, chats: set[str], tz: str | tzinfo | None) -> None:
    """The groups this import made live in the zone of the export's times (``--tz``, else
    UTC), not the workspace's: ``analyze --group`` then counts the days and hours that
    ``analyze FILE --tz`` counts. A group that was there keeps its own."""
    if not chats:
        return
    from sqlalchemy import update

    from groupops.storage.tables import groups

    zone = "UTC" if tz is None else getattr(tz, "key", None) or str(tz)
    with engine.db.begin() as conn:
        conn.execute(
            update(groups)
            .where(groups.c.source == source, groups.c.chat_id.in_(sorted(chats)))
            .values(timezone=zone)
        )
    engine.directory.invalidate()


class AtomicText:
    """A text file written to a temporary sibling and renamed into place on success only.

    Made before anything is read or stored: a target that cannot be written (a folder, a
    parent that is a file, no permission) is an InvalidOption naming ``where`` at once, not
    an OSError at the rename after the import went through."""

    def __init__(self, target: Path, where: str = "--events-out") -> None:
        self.target = target
        if target.is_dir():
            raise InvalidOption(
                N_("{target} is a folder; give a file name in it"), where=where, target=target
            )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent))
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise InvalidOption(
                N_("cannot write {target}: {detail}"), where=where, target=target, detail=reason
            ) from None
        self.tmp = Path(name)
        self.handle: IO[str] = os.fdopen(fd, "w", encoding="utf-8")

    def part(self) -> tuple[IO[str], Path]:
        """A scratch file for one input: appended to the output only if that input succeeds."""
        fd, name = tempfile.mkstemp(
            prefix=f".{self.target.name}.part.", dir=str(self.target.parent)
        )
        return os.fdopen(fd, "w+", encoding="utf-8"), Path(name)

    def keep(self, part: IO[str], path: Path) -> None:
        part.seek(0)
        for chunk in iter(lambda: part.read(1 << 20), ""):
            self.handle.write(chunk)
        part.close()
        path.unlink(missing_ok=True)

    @staticmethod
    def drop(part: IO[str], path: Path) -> None:
        part.close()
        path.unlink(missing_ok=True)

    def commit(self) -> None:
        self.handle.close()
        as_user_file(self.tmp)
        self.tmp.replace(self.target)

    def abort(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)
