"""The same text across groups, a batch at a time.

The copies of a batch's fingerprints are read in one query, compared in memory in event order,
and the new ones written in one statement at the end: a few statements per batch instead of
two per message. The table (not process memory) holds them, so several workers see each
other's copies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from groupops.features.moderation.tables import moderation_copies
from groupops.storage.bulk import Bulk
from groupops.storage.db import driver_cursor
from groupops.storage.types import sqlite_text

CHUNK = 400

_c = moderation_copies.c
#: built once (one per batch, but a statement built per call costs more than its run)
_LOAD = (
    select(
        _c.id,
        _c.fingerprint,
        _c.group_id,
        _c.member_id,
        _c.source,
        _c.chat_id,
        _c.message_id,
        _c.seen_at,
        _c.removed,
    )
    .where(
        _c.workspace_id == bindparam("ws"),
        _c.fingerprint.in_(bindparam("fps", expanding=True)),
        _c.seen_at > bindparam("since"),
    )
    .order_by(_c.id)
)
#: the same on SQLite's own cursor: every live batch runs it, and through SQLAlchemy the
#: statement's set-up (an IN list expanded per call) cost several times its run
_SQLITE_LOAD = (
    "SELECT id, fingerprint, group_id, member_id, source, chat_id, message_id, seen_at, removed"
    " FROM moderation_copies WHERE workspace_id = ?"
    " AND fingerprint IN (SELECT value FROM json_each(?)) AND seen_at > ? ORDER BY id"
)
_SAVE = Bulk(insert(moderation_copies))
_MARK_REMOVED = Bulk(
    update(moderation_copies).where(_c.id == bindparam("copy_id")).values(removed=True)
)


def _rows(conn: Connection, ws: int, fps: list[str], since: datetime) -> list[Any]:
    """The stored copies of ``fps`` seen after ``since``, in _LOAD's columns and order."""
    if conn.dialect.name != "sqlite":
        return list(conn.execute(_LOAD, {"ws": ws, "fps": fps, "since": since}).all())
    with driver_cursor(conn) as cursor:
        found = cursor.execute(_SQLITE_LOAD, (ws, json.dumps(fps), sqlite_text(since))).fetchall()
    return [(*r[:7], datetime.fromisoformat(r[7]).replace(tzinfo=UTC), r[8]) for r in found]


@dataclass(slots=True)
class Copy:
    id: int | None  # None: seen in this batch, not written yet
    group_id: int
    member_id: int | None
    source: str
    chat_id: str
    message_id: str
    seen_at: datetime
    removed: bool = False


@dataclass
class CopyBook:
    """The copies a batch needs, by (workspace, fingerprint)."""

    known: dict[tuple[int, str], list[Copy]] = field(default_factory=dict)
    new: list[tuple[int, str, Copy]] = field(default_factory=list)
    removed_ids: set[int] = field(default_factory=set)

    @classmethod
    def load(
        cls, conn: Connection, wanted: dict[int, set[str]], since: datetime | None
    ) -> CopyBook:
        book = cls()
        if since is None:
            return book
        for ws, fps in wanted.items():
            ordered = sorted(fps)
            for start in range(0, len(ordered), CHUNK):
                for r in _rows(conn, ws, ordered[start : start + CHUNK], since):
                    book.known.setdefault((ws, r[1]), []).append(
                        Copy(int(r[0]), int(r[2]), r[3], r[4], r[5], r[6], r[7], bool(r[8]))
                    )
        return book

    def add(self, ws: int, fp: str, copy: Copy, window: timedelta) -> tuple[int, list[Copy]]:
        """Record ``copy``; return in how many groups the text was seen within ``window`` and
        the earlier copies not removed yet."""
        copies = self.known.setdefault((ws, fp), [])
        copies.append(copy)
        self.new.append((ws, fp, copy))
        since = copy.seen_at - window
        recent = [x for x in copies if x.seen_at > since]
        earlier = [x for x in recent if x is not copy and not x.removed and x.message_id]
        return len({x.group_id for x in recent}), earlier

    def remove(self, ws: int, fp: str, window: timedelta, now: datetime) -> None:
        """Mark every recent copy removed (their deletes have been emitted)."""
        for x in self.known.get((ws, fp), []):
            if x.seen_at > now - window and not x.removed:
                x.removed = True
                if x.id is not None:
                    self.removed_ids.add(x.id)

    def save(self, conn: Connection) -> None:
        if self.new:
            _SAVE.run(
                conn,
                [
                    {
                        "workspace_id": ws,
                        "fingerprint": fp,
                        "group_id": x.group_id,
                        "member_id": x.member_id,
                        "source": x.source,
                        "chat_id": x.chat_id,
                        "message_id": x.message_id,
                        "seen_at": x.seen_at,
                        "removed": x.removed,
                    }
                    for ws, fp, x in self.new
                ],
            )
        if self.removed_ids:
            _MARK_REMOVED.run(conn, [{"copy_id": i} for i in sorted(self.removed_ids)])
