"""The same text across groups, a batch at a time.

The copies of a batch's fingerprints are read in one query, compared in memory in event order,
and the new ones written in one statement at the end: a few statements per batch instead of
two per message. The table (not process memory) holds them, so several workers see each
other's copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, select, update

from groupops.features.moderation.tables import moderation_copies
from groupops.storage.bulk import Bulk

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
_SAVE = Bulk(insert(moderation_copies))
_MARK_REMOVED = Bulk(
    update(moderation_copies).where(_c.id == bindparam("copy_id")).values(removed=True)
)


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
                params = {"ws": ws, "fps": ordered[start : start + CHUNK], "since": since}
                rows = conn.execute(_LOAD, params).all()
                for r in rows:
                    book.known.setdefault((ws, r.fingerprint), []).append(
                        Copy(
                            int(r.id),
                            int(r.group_id),
                            r.member_id,
                            r.source,
                            r.chat_id,
                            r.message_id,
                            r.seen_at,
                            bool(r.removed),
                        )
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
