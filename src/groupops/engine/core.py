"""engine.handle(events): one transaction per batch.

store events (dedupe) -> resolve group/member -> each enabled feature, isolated -> derived
events -> actions into the outbox (degraded to owner tasks where the platform cannot).
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy import Engine as SAEngine
from sqlalchemy.dialects import postgresql

from groupops.domain.events import Event, EventKind
from groupops.engine import bot
from groupops.engine.clock import Clock
from groupops.engine.context import BatchContext, Emitted, GroupInfo, Incoming
from groupops.engine.directory import Directory
from groupops.engine.outbox import Handed, write_actions, write_and_hand_off
from groupops.engine.templates import TemplateRenderer
from groupops.features.registry import FeatureRegistry
from groupops.i18n import Catalogs
from groupops.platforms.base import Capabilities
from groupops.storage.db import driver_cursor
from groupops.storage.tables import events, feature_errors, forgotten_members, rejected_events
from groupops.storage.types import sqlite_text

log = logging.getLogger(__name__)

MAX_DERIVED_ROUNDS = 3
TICK_SOURCE = "groupops"


@dataclass
class BatchResult:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    actions: int = 0
    owner_tasks: int = 0
    feature_errors: int = 0
    seqs: list[int] = field(default_factory=list)
    #: actions claimed for the live deliverer in the batch's transaction (see hand_off_lease)
    handed: list[Handed] = field(default_factory=list)


def _payload(event: Event) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if event.user_name:
        payload["user_name"] = event.user_name
    if event.is_admin:
        payload["is_admin"] = True
    if event.reply_to_user_id:
        payload["reply_to_user_id"] = event.reply_to_user_id
    if event.data:
        payload["data"] = dict(event.data)
    return payload


def _event_row(event: Event, group_id: int | None, member_id: int | None) -> dict[str, Any]:
    return {
        "source": event.source,
        "event_id": event.event_id,
        "kind": event.kind.value,
        "occurred_at": event.occurred_at,
        "chat_id": event.chat_id,
        "user_id": event.user_id,
        "message_id": event.message_id,
        "content_kind": event.content_kind.value,
        "text": event.text,
        "reply_to_message_id": event.reply_to_message_id,
        "payload": _payload(event),
        "group_id": group_id,
        "member_id": member_id,
    }


_f = forgotten_members.c
_FORGOTTEN_LAST = select(func.max(_f.id))
_FORGOTTEN_SINCE = select(_f.id, _f.member_id).where(_f.id > bindparam("after")).order_by(_f.id)
_SQLITE_FORGOTTEN = "SELECT id, member_id FROM forgotten_members WHERE id > ? ORDER BY id"

_SQLITE_INSERT = (
    "INSERT OR IGNORE INTO events (source, event_id, kind, occurred_at, chat_id, user_id,"
    " message_id, content_kind, text, reply_to_message_id, payload, group_id, member_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


#: json.dumps(..., ensure_ascii=False) without building an encoder per call
_PAYLOAD_JSON = json.JSONEncoder(ensure_ascii=False).encode


def _sqlite_row(event: Event, group_id: int | None, member_id: int | None) -> tuple[Any, ...]:
    """``_event_row`` as the driver's parameters, built directly (a row per stored event)."""
    return (
        event.source,
        event.event_id,
        event.kind.value,
        sqlite_text(event.occurred_at),
        event.chat_id,
        event.user_id,
        event.message_id,
        event.content_kind.value,
        event.text,
        event.reply_to_message_id,
        _PAYLOAD_JSON(_payload(event)),
        group_id,
        member_id,
    )


Ids = tuple[GroupInfo | None, int | None]


def _gid_mid(ids: Ids) -> tuple[int | None, int | None]:
    return (ids[0].id if ids[0] is not None else None), ids[1]


def in_event_order(emitted: list[Emitted], stored: Sequence[tuple[int, Any]]) -> list[Emitted]:
    """The batch's actions in the order of the events that caused them: features run one
    after another over the whole batch, so without this a newcomer's first message could be
    warned about before they are welcomed. Actions of one event keep the features' order
    (moderation's removal before its warning); actions not caused by an event of the batch (a
    level-up, a combined welcome, what a derived event caused) follow, in the order decided."""
    position = {seq: i for i, (seq, _) in enumerate(stored)}
    last = len(position)
    return sorted(
        emitted,
        key=lambda e: position.get(e.cause_seq, last) if e.cause_seq is not None else last,
    )


class Engine:
    def __init__(
        self,
        db: SAEngine,
        registry: FeatureRegistry,
        capabilities_of: Callable[[str], Capabilities],
        clock: Clock,
        catalogs: Catalogs | None = None,
        directory: Directory | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.capabilities_of = capabilities_of
        self.clock = clock
        self.catalogs = catalogs or Catalogs()
        self.templates = TemplateRenderer()
        self.directory = directory or Directory(clock=clock.now)
        self._on_commit: list[Callable[[BatchResult], None]] = []
        #: while a deliverer runs in this process (App.start): batches claim their actions for
        #: it for this many seconds, and it sends them from BatchResult.handed (None: queued)
        self.hand_off_lease: float | None = None
        self.settings_refresh_seconds = 2.0
        self._refreshed_at = 0.0
        self._settings_cache: dict[tuple[str, int], tuple[Any, Any, Any]] = {}
        #: the last forgotten_members row this engine has acted on (None: before its first batch)
        self._forgotten_seen: int | None = None
        #: features that keep state across batches hear whether the batch was kept
        self._committed_hooks = _hooks(registry, "committed")
        self._rolled_back_hooks = _hooks(registry, "rolled_back")

    def on_commit(self, callback: Callable[[BatchResult], None]) -> None:
        """Called after each committed batch (the deliverer wakes up on it)."""
        self._on_commit.append(callback)

    # -- entry points ----------------------------------------------------------------------
    def handle(self, batch: Sequence[Event], *, run_features: bool = True) -> BatchResult:
        result = BatchResult(received=len(batch))
        try:
            with self.db.begin() as conn:
                if time.monotonic() - self._refreshed_at > self.settings_refresh_seconds:
                    self.directory.refresh_groups(conn)
                    self._refreshed_at = time.monotonic()
                self._drop_forgotten(conn)
                stored, known = self._store(conn, batch)
                result.stored = len(stored)
                result.duplicates = len(batch) - len(stored)
                result.seqs = [seq for seq, _ in stored]
                if stored:
                    incoming = self.directory.resolve(conn, stored, known)
                    if run_features:
                        # the bot removed or its rights changed: kept on the group, told to
                        # the operator, before the features (and their ticks) look at it
                        result.owner_tasks += bot.apply(
                            conn,
                            incoming,
                            now=self.clock.now(),
                            catalogs=self.catalogs,
                            directory=self.directory,
                        )
                        ctx = self._context(conn)
                        self._dispatch(ctx, incoming, result)
                        self._derived_rounds(ctx, result)
                        self._write_outbox(conn, in_event_order(ctx.actions, stored), result)
        except BaseException:
            self._settled(kept=False)
            raise
        self._settled(kept=True)
        for callback in self._on_commit:
            callback(result)
        return result

    def _settled(self, *, kept: bool) -> None:
        """A batch's (or the warm-up's) transaction is over: the directory and the features
        that hold state between batches keep what it staged, or drop it."""
        if kept:
            self.directory.committed()
        else:
            self.directory.rolled_back()
        for hook in self._committed_hooks if kept else self._rolled_back_hooks:
            hook()

    def _drop_forgotten(self, conn: Connection) -> None:
        """Members forgotten since the last batch (admin.forget_member, perhaps in another
        process): the directory and the features drop what they hold of them in memory (the
        features' ``delete_member_data`` again: their rows are already gone). Before the first
        batch (or warm-up) only where the list ends is read: nothing was held yet."""
        if self._forgotten_seen is None:
            self._forgotten_seen = int(conn.execute(_FORGOTTEN_LAST).scalar() or 0)
            return
        if conn.dialect.name == "sqlite":  # every batch asks: the driver's own cursor is
            with driver_cursor(conn) as cursor:  # a tenth of a statement through SQLAlchemy
                rows = cursor.execute(_SQLITE_FORGOTTEN, (self._forgotten_seen,)).fetchall()
        else:
            rows = conn.execute(_FORGOTTEN_SINCE, {"after": self._forgotten_seen}).all()
        for row_id, member_id in rows:
            self.directory.forget_member(int(member_id))
            for feature in self.registry.features:
                feature.delete_member_data(conn, int(member_id))
            self._forgotten_seen = int(row_id)

    def warm_up(self) -> None:
        """Read ahead, before live events arrive, who is who (``Directory.warm_up``) and what
        the features keep between batches for every known group (``warm_up(ctx)``, with a
        context of no events): the first batches then wait for no look-up or bulk read."""
        warming = [
            (f.name, hook)
            for f in self.registry.features
            if callable(hook := getattr(f, "warm_up", None))
        ]
        try:
            with self.db.connect() as conn:
                self._drop_forgotten(conn)  # where the list ends, before anything is read
                self.directory.warm_up(conn)
                ctx = self._context(conn)
                for name, hook in warming:
                    ctx.feature = name
                    hook(ctx)
                conn.rollback()
        except BaseException:
            self._settled(kept=False)
            raise
        self._settled(kept=True)

    def store_only(self, batches: Iterable[Sequence[Event]]) -> BatchResult:
        """Store events with their groups, members and memberships, and run no feature, every
        batch in ONE transaction: all or nothing. Imports of history use this (a join of 2019
        must not be welcomed today); an error from the batches' iterator rolls it all back."""
        result = BatchResult()
        try:
            with self.db.begin() as conn:
                for batch in batches:
                    result.received += len(batch)
                    stored, known = self._store(conn, batch)
                    result.stored += len(stored)
                    result.duplicates += len(batch) - len(stored)
                    if stored:
                        self.directory.resolve(conn, stored, known)
        except BaseException:
            self.directory.rolled_back()
            raise
        self.directory.committed()
        return result

    def reject(self, source: str, raw: str, error: BaseException) -> None:
        """Keep what could not be turned into an event, with the reason, for an operator."""
        self._keep_rejected(source, raw, str(error))

    def reject_event(self, event: Event, error: BaseException) -> None:
        """Keep an event the engine could not take, as JSON (``Event.to_json``), with the
        reason (the error's type and message), for an operator. The App and the live adapters
        set such an event aside this way instead of stalling their stream on it."""
        raw = json.dumps(event.to_json(), ensure_ascii=False, default=str)
        self._keep_rejected(event.source, raw, f"{type(error).__name__}: {error}")

    def _keep_rejected(self, source: str, raw: str, reason: str) -> None:
        with self.db.begin() as conn:
            conn.execute(
                insert(rejected_events).values(
                    source=source[:100],
                    raw=raw[:100_000],
                    error=reason[:2000],
                    created_at=self.clock.now(),
                )
            )

    def tick(self, now: datetime | None = None) -> BatchResult:
        """The clock's event, once per minute of (real or simulated) time."""
        when = (now or self.clock.now()).replace(second=0, microsecond=0)
        return self.handle([Event(TICK_SOURCE, f"tick:{when.isoformat()}", EventKind.TICK, when)])

    # -- steps -----------------------------------------------------------------------------
    def _context(self, conn: Connection) -> BatchContext:
        # every group the bot is in, read once per batch (features ask per decision: a query
        # each time cost ~1.5 ms); read again only when the batch has created a group since,
        # or the bot left or came back to one. A group the bot is not in is in no feature's
        # scheduled work: what it would post there could only be refused (engine/bot.py)
        cached: list[tuple[tuple[int, int], list[GroupInfo]]] = []

        def all_groups() -> list[GroupInfo]:
            version = (self.directory.groups_created, self.directory.groups_changed)
            if not cached or cached[0][0] != version:
                present = [g for g in self.directory.groups_in(conn) if g.bot_in_chat]
                cached[:] = [(version, present)]
            return list(cached[0][1])

        return BatchContext(
            conn=conn,
            now=self.clock.now(),
            catalogs=self.catalogs,
            templates=self.templates,
            capabilities_of=self.capabilities_of,
            groups_of_workspace=lambda ws: [g for g in all_groups() if g.workspace_id == ws],
            all_groups=all_groups,
            settings_cache=self._settings_cache,
            features=tuple(self.registry.features),
        )

    def _store(
        self, conn: Connection, batch: Sequence[Event]
    ) -> tuple[list[tuple[int, Event]], dict[tuple[str, str], Ids]]:
        """Insert the batch's new events with their group and member; what is already stored
        (a platform re-delivered it) is skipped. Returns the new (seq, event) pairs."""
        unique: dict[tuple[str, str], Event] = {}
        for event in batch:
            unique.setdefault((event.source, event.event_id), event)
        if not unique:
            return [], {}
        fresh = list(unique.values())
        known = {key: self.directory.ids(conn, e) for key, e in unique.items()}
        rows = [(e, *_gid_mid(known[(e.source, e.event_id)])) for e in fresh]
        if conn.dialect.name == "sqlite":
            by_key = self._store_sqlite(conn, rows)
        else:
            stmt = (
                postgresql.insert(events)
                .on_conflict_do_nothing(index_elements=["source", "event_id"])
                .returning(
                    events.c.seq, events.c.source, events.c.event_id, sort_by_parameter_order=True
                )
            )
            result = conn.execute(stmt, [_event_row(e, g, m) for e, g, m in rows]).all()
            by_key = {(r.source, r.event_id): int(r.seq) for r in result}
        stored = [
            (by_key[(e.source, e.event_id)], e) for e in fresh if (e.source, e.event_id) in by_key
        ]
        return stored, known

    @staticmethod
    def _store_sqlite(
        conn: Connection, rows: list[tuple[Event, int | None, int | None]]
    ) -> dict[tuple[str, str], int]:
        # The batch holds SQLite's write lock (BEGIN IMMEDIATE): the rows above the old maximum
        # are exactly the ones this INSERT OR IGNORE added. One C-level executemany is several
        # times faster than a statement per row or RETURNING.
        with driver_cursor(conn) as cursor:
            before = cursor.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            cursor.executemany(_SQLITE_INSERT, [_sqlite_row(e, g, m) for e, g, m in rows])
            added = cursor.execute(
                "SELECT seq, source, event_id FROM events WHERE seq > ?", (before,)
            ).fetchall()
        return {(source, event_id): int(seq) for seq, source, event_id in added}

    def _enabled(self, ctx: BatchContext, feature: Any, item: Incoming) -> bool:
        """Whether the feature is on for the event's group. Stored settings that no longer
        validate are that feature's error for that group, never the batch's."""
        if item.group is None:
            return True
        try:
            return bool(ctx.settings(feature, item.group, feature.settings_model).enabled)
        except ValidationError as exc:
            key = (feature.name, item.group.id)
            if key not in ctx.bad_settings:
                ctx.bad_settings.add(key)
                log.error("settings of %s in group %s are invalid", feature.name, item.group.id)
                ctx.conn.execute(
                    insert(feature_errors).values(
                        feature=feature.name,
                        event_seq=item.seq,
                        error=f"invalid settings in group {item.group.id}: {exc}"[:4000],
                        created_at=ctx.now,
                    )
                )
            return False

    def _dispatch(self, ctx: BatchContext, incoming: list[Incoming], result: BatchResult) -> None:
        for feature in self.registry.features:
            handles, suppressed = feature.handles, ctx.suppressed
            enabled: dict[int | None, bool] = {}  # by group: asked once per feature and batch
            batch = []
            for i in incoming:
                if i.event.kind not in handles or i.seq in suppressed:
                    continue
                gid = i.group.id if i.group is not None else None
                on = enabled.get(gid)
                if on is None:
                    on = enabled[gid] = self._enabled(ctx, feature, i)
                if on:
                    batch.append(i)
            if not batch:
                continue
            ctx.feature = feature.name
            if self._run_isolated(ctx, feature, batch):
                continue
            # the feature failed somewhere in the batch: run it event by event so that
            # only the events it cannot handle are left out
            for one in batch:
                if not self._run_isolated(ctx, feature, [one], record=True):
                    result.feature_errors += 1

    def _run_isolated(
        self, ctx: BatchContext, feature: Any, batch: list[Incoming], record: bool = False
    ) -> bool:
        marks = (len(ctx.actions), len(ctx.derived), set(ctx.suppressed))
        try:
            with _savepoint(ctx.conn):
                feature.handle(ctx, batch)
            return True
        except Exception as exc:
            del ctx.actions[marks[0] :]
            del ctx.derived[marks[1] :]
            ctx.suppressed = marks[2]
            if record:
                log.error(
                    "feature %s failed on event %s: %s",
                    feature.name,
                    batch[0].seq,
                    exc,
                    exc_info=exc,
                )
                ctx.conn.execute(
                    insert(feature_errors).values(
                        feature=feature.name,
                        event_seq=batch[0].seq,
                        error="".join(traceback.format_exception_only(exc)).strip()[:4000],
                        created_at=ctx.now,
                    )
                )
            return False

    def _derived_rounds(self, ctx: BatchContext, result: BatchResult) -> None:
        for _ in range(MAX_DERIVED_ROUNDS):
            if not ctx.derived:
                return
            derived, ctx.derived = ctx.derived, []
            stored, known = self._store(ctx.conn, derived)
            if not stored:
                continue
            incoming = self.directory.resolve(ctx.conn, stored, known)
            self._dispatch(ctx, incoming, result)
        if ctx.derived:
            log.warning("derived events still pending after %d rounds", MAX_DERIVED_ROUNDS)

    def _write_outbox(self, conn: Connection, emitted: list[Emitted], result: BatchResult) -> None:
        if not emitted:
            return
        groups_ws: dict[int, int] = {}

        def workspace_of(item: Emitted) -> int:
            if item.group_id is not None:
                if not groups_ws:
                    groups_ws.update({g.id: g.workspace_id for g in self.directory.groups_in(conn)})
                if item.group_id in groups_ws:
                    return groups_ws[item.group_id]
            return self.directory.source_workspace(conn, item.action.source, self.clock.now())

        now = self.clock.now()
        # what is aimed at a group the bot is not in (an event of the batch before it was
        # removed, another group's cross-group removal) goes to the dead letters, saying why
        away = self.directory.chats_without_bot(conn)
        if self.hand_off_lease is not None:
            queued, tasks, result.handed = write_and_hand_off(
                conn,
                emitted,
                now=now,
                until=now + timedelta(seconds=self.hand_off_lease),
                capabilities_of=self.capabilities_of,
                workspace_of=workspace_of,
                away=away,
            )
            result.owner_tasks += tasks
            result.actions += queued
            return
        ids, task_ids = write_actions(
            conn,
            emitted,
            now=now,
            capabilities_of=self.capabilities_of,
            workspace_of=workspace_of,
            away=away,
        )
        result.owner_tasks += len(task_ids)
        result.actions += len(ids)


def _hooks(registry: FeatureRegistry, name: str) -> list[Callable[..., None]]:
    """The features' optional ``name`` methods (see features.base.Feature)."""
    found = [getattr(f, name, None) for f in registry.features]
    return [hook for hook in found if callable(hook)]


@contextmanager
def _savepoint(conn: Connection) -> Iterator[None]:
    """A feature's work, undone alone if it fails. On SQLite the savepoint is the driver's
    own (SQLAlchemy's nested transaction costs ~0.2 ms a feature and batch, most of a small
    live batch's fixed cost); elsewhere SQLAlchemy's."""
    if conn.dialect.name != "sqlite":
        with conn.begin_nested():
            yield
        return
    with driver_cursor(conn) as cursor:
        cursor.execute("SAVEPOINT feature")
        try:
            yield
        except BaseException:
            cursor.execute("ROLLBACK TO feature")
            cursor.execute("RELEASE feature")
            raise
        cursor.execute("RELEASE feature")
