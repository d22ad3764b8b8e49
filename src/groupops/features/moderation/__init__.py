"""moderation: keep ads, floods and spam out; warn, mute, then kick; a workspace blacklist.

Runs first (order 10): a message it removes is suppressed, so check-in and points never see it,
and a blacklisted member's join is suppressed, so welcome never greets them.

Every decision is a row in ``moderation_decisions`` with the rule, the evidence and the actions;
:func:`undo_decision` reverts one, :func:`moderation_log` lists them (the CLI calls both).

The package: ``checks`` (what a message is checked for, floods counted in memory), ``ladder``
(the step an offence reaches and its actions and notice), ``blacklist`` (listing, removal from
the other groups, a listed member's join), ``decisions`` (a batch's shared state and its
decision rows), ``detectors`` and ``copies`` (what finds content and cross-group copies),
``known_ads`` (the library of known ads: the texts blacklisted members were removed for),
``removed`` (a removal of an earlier message, told to later features), ``memory`` (flood windows
and notices kept between batches, changed by a batch once it commits), ``ops`` (the log, undo
and the blacklist for operators).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from pydantic import ValidationError
from sqlalchemy import Connection, delete

from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.base import FeatureSettings
from groupops.features.moderation import blacklist, checks, known_ads, ladder
from groupops.features.moderation.checks import Matchers, Windows
from groupops.features.moderation.decisions import Batch, write_logs
from groupops.features.moderation.ladder import Notices
from groupops.features.moderation.memory import StagedDeques
from groupops.features.moderation.ops import blacklist_entries, moderation_log, undo_decision
from groupops.features.moderation.settings import ModerationSettings, parse_settings
from groupops.features.moderation.tables import (
    moderation_blacklist,
    moderation_copies,
    moderation_decisions,
)

__all__ = [
    "ModerationFeature",
    "ModerationSettings",
    "blacklist_entries",
    "moderation_log",
    "parse_settings",
    "undo_decision",
]

#: the longest cross-group window a setting allows: older copies are forgotten on the tick
COPIES_KEEP = timedelta(seconds=86400)
FLOOD_KEEP = timedelta(seconds=3600)


class ModerationFeature:
    name: ClassVar[str] = "moderation"
    order: ClassVar[int] = 10
    settings_model: ClassVar[type[FeatureSettings]] = ModerationSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset(
        {EventKind.MESSAGE, EventKind.MESSAGE_EDITED, EventKind.MEMBER_JOINED, EventKind.TICK}
    )

    def __init__(self) -> None:
        # per instance (the App owns it): recent message times per (group, member) for floods,
        # recent notices per group (both changed by a batch once it commits: memory.py),
        # compiled keyword lists
        self._recent: Windows = StagedDeques()
        #: groups whose flood windows were read from storage, with the window's length then
        self._warm: dict[int, int] = {}
        self._notices: Notices = StagedDeques()
        self._matchers: Matchers = {}

    # -- the protocol ----------------------------------------------------------------------
    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        try:
            self._handle(ctx, batch)
        except BaseException:
            # the engine runs the batch again event by event: what this call counted is not
            self._recent.call_failed()
            self._notices.call_failed()
            raise
        self._recent.call_done()
        self._notices.call_done()

    def committed(self) -> None:
        self._recent.committed()
        self._notices.committed()

    def rolled_back(self) -> None:
        self._recent.rolled_back()
        self._notices.rolled_back()

    def _handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        state = checks.prepare(ctx, self, batch, self._warm, self._recent)
        for item in batch:
            kind = item.event.kind
            if kind == EventKind.TICK:
                self._tick(ctx, item.event.occurred_at)
            elif item.group is None or item.member_id is None or item.is_admin:
                continue  # admins are exempt from every rule
            elif kind == EventKind.MEMBER_JOINED:
                blacklist.joined(ctx, item, item.group, self._settings(ctx, item.group), state)
            else:
                self._message(ctx, item, item.group, state)
        write_logs(ctx, state)
        state.book.save(ctx.conn)

    def warm_up(self, ctx: BatchContext) -> None:
        """At the start of a live process: every group's flood windows up to now, so that no
        first batch of a group waits for them."""
        for group in ctx.all_groups():
            try:
                s = self._settings(ctx, group)
            except ValidationError:
                continue  # the engine reports the settings when an event of the group comes
            if s.enabled and s.detect_flood:
                checks.read_windows(
                    ctx, group, ctx.now, None, s.flood_seconds, self._warm, self._recent
                )

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        known_ads.forget_member(conn, member_id)  # found through their decisions: first
        conn.execute(
            delete(moderation_decisions).where(moderation_decisions.c.member_id == member_id)
        )
        conn.execute(
            delete(moderation_blacklist).where(moderation_blacklist.c.member_id == member_id)
        )
        conn.execute(delete(moderation_copies).where(moderation_copies.c.member_id == member_id))
        self._recent.forget(lambda key: key[1] == member_id)

    # -- messages --------------------------------------------------------------------------
    def _settings(self, ctx: BatchContext, group: GroupInfo) -> ModerationSettings:
        return ctx.settings(self, group, ModerationSettings)

    def _message(self, ctx: BatchContext, item: Incoming, group: GroupInfo, state: Batch) -> None:
        """Checked (checks.py); a finding is punished (ladder.py, which may blacklist)."""
        s = self._settings(ctx, group)
        found = checks.examine(ctx, item, group, s, state, self._recent, self._matchers)
        if found is not None:
            finding, copies = found
            if finding.rule == known_ads.RULE:  # straight to blacklist_action
                s = known_ads.ladder_settings(s)
            ladder.punish(ctx, item, group, s, finding, copies, state, self._notices)

    # -- the clock -------------------------------------------------------------------------
    def _tick(self, ctx: BatchContext, now: datetime) -> None:
        ctx.conn.execute(
            delete(moderation_copies).where(moderation_copies.c.seen_at < now - COPIES_KEEP)
        )
        known_ads.drop_expired(ctx.conn, now)
        stale = now - FLOOD_KEEP
        checks.drop_stale(self._recent, stale)
        self._notices.drop_stale(lambda q: not q or q[-1] < stale)
