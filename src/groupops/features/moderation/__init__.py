"""moderation: keep ads, floods and spam out; warn, mute, then kick; a workspace blacklist.

Runs first (order 10): a message it removes is suppressed, so check-in and points never see it,
and a blacklisted member's join is suppressed, so welcome never greets them.

Every decision is a row in ``moderation_decisions`` with the rule, the evidence and the actions;
:func:`undo_decision` reverts one, :func:`moderation_log` lists them (the CLI calls both).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError
from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select

from groupops.domain.actions import ANNOUNCES, Action, ActionKind
from groupops.domain.events import ContentKind, EventKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.base import FeatureSettings
from groupops.features.commands import command_words, is_command
from groupops.features.moderation.copies import Copy, CopyBook
from groupops.features.moderation.detectors import (
    Finding,
    KeywordMatcher,
    Text,
    detect_any_link,
    detect_contacts,
    detect_invites,
    detect_links,
    detect_phones,
    fingerprint,
    snippet,
)
from groupops.features.moderation.ops import (
    blacklist_entries,
    evidence_of,
    moderation_log,
    read_evidence,
    undo_decision,
)
from groupops.features.moderation.removed import removal
from groupops.features.moderation.settings import ModerationSettings, parse_settings
from groupops.features.moderation.tables import (
    moderation_blacklist,
    moderation_copies,
    moderation_decisions,
)
from groupops.i18n import N_
from groupops.storage.bulk import Bulk
from groupops.storage.tables import events, groups, identities, memberships

__all__ = [
    "ModerationFeature",
    "ModerationSettings",
    "blacklist_entries",
    "moderation_log",
    "parse_settings",
    "undo_decision",
]

# -- what members read (English msgids; zh_CN in zh_CN.po-fragment) ---------------------------
WARN_TEXT = N_("⚠️ {name}: {reason}. Warning {count} of {limit}.")
MUTE_TEXT = N_("🔇 {name} is muted for {duration}: {reason}.")
KICK_TEXT = N_("🚫 {name} was removed from the group: {reason}.")
BAN_TEXT = N_("⛔ {name} was banned from the group: {reason}.")
REASONS = {
    "link": N_("links are not allowed here"),
    "invite": N_("invitations to other groups are not allowed"),
    "phone": N_("phone numbers are not allowed here"),
    "contact": N_("asking people to contact you privately is not allowed"),
    "keyword": N_("this message contains a forbidden word"),
    "flood": N_("too many messages in a short time"),
    "cross_group": N_("the same message was posted in several groups"),
    "newcomer_link": N_("new members may not post links yet"),
}
MINUTES = (N_("1 minute"), N_("{n} minutes"))
HOURS = (N_("1 hour"), N_("{n} hours"))
DAYS = (N_("1 day"), N_("{n} days"))

#: content a newcomer in strict mode may not share (cards of links, articles, net disks, files)
LINK_KINDS = frozenset(
    {ContentKind.H5_LINK, ContentKind.ARTICLE_LINK, ContentKind.NETDISK_LINK, ContentKind.FILE}
)
#: the longest cross-group window a setting allows: older copies are forgotten on the tick
COPIES_KEEP = timedelta(seconds=86400)
FLOOD_KEEP = timedelta(seconds=3600)
#: how many earlier copies of a cross-group spam one decision removes at most
MAX_COPY_DELETES = 50


def _fmt(t: Callable[[str], str], msgid: str, **values: Any) -> str:
    """Translate and fill in; a broken translation falls back to the English text."""
    try:
        return t(msgid).format(**values)
    except (KeyError, IndexError, ValueError):
        return msgid.format(**values)


def duration(t: Callable[[str], str], seconds: int) -> str:
    for unit, (one, many) in ((86400, DAYS), (3600, HOURS), (60, MINUTES)):
        if seconds >= unit and seconds % unit == 0:
            n = seconds // unit
            return t(one) if n == 1 else _fmt(t, many, n=n)
    n = max(1, round(seconds / 60))
    return t(MINUTES[0]) if n == 1 else _fmt(t, MINUTES[1], n=n)


_e, _d = events.c, moderation_decisions.c
#: built once (a statement built per call costs several times its run on SQLite)
_STORED_WINDOW = (
    select(_e.member_id, _e.occurred_at, _e.seq, _e.text)
    .where(
        _e.group_id == bindparam("g"),
        _e.occurred_at > bindparam("start"),
        _e.kind == EventKind.MESSAGE.value,
        _e.seq < bindparam("seq"),
        _e.member_id.is_not(None),
    )
    .order_by(_e.seq)
)
_LAST_FLOODS = (
    select(_d.member_id, func.max(_d.event_seq).label("seq"))
    .where(_d.group_id == bindparam("g"), _d.rule == "flood", _d.event_seq >= bindparam("seq"))
    .group_by(_d.member_id)
)

_STRIKES = (
    select(func.count())
    .select_from(moderation_decisions)
    .where(
        _d.group_id == bindparam("g"),
        _d.member_id == bindparam("m"),
        _d.counted.is_(True),
        _d.undone_at.is_(None),
        _d.created_at > bindparam("since"),
    )
)
_LOG = insert(moderation_decisions).returning(_d.id)
_LOGS = Bulk(insert(moderation_decisions))
_LISTED = select(moderation_blacklist.c.rule, moderation_blacklist.c.decision_id).where(
    moderation_blacklist.c.workspace_id == bindparam("ws"),
    moderation_blacklist.c.member_id == bindparam("m"),
)


@dataclass
class _Batch:
    """What one handle() call shares: texts in normal form, the copies across groups, and the
    members already muted or removed in this batch."""

    texts: dict[int, Text] = field(default_factory=dict)
    book: CopyBook = field(default_factory=CopyBook)
    escalated: set[tuple[int, int]] = field(default_factory=set)
    #: (group, member) removed in this batch, by a decision there or by the blacklist
    removed: set[tuple[int, int]] = field(default_factory=set)
    #: (group, member) -> their counted strikes, read once a batch and counted on here
    strikes: dict[tuple[int, int], int] = field(default_factory=dict)
    #: decisions whose id nobody needs, written together (see _log)
    logs: list[dict[str, Any]] = field(default_factory=list)
    #: the batch's messages by (source, chat, message id): a copy removed here is suppressed
    messages: dict[tuple[str, str, str], Incoming] = field(default_factory=dict)


class ModerationFeature:
    name: ClassVar[str] = "moderation"
    order: ClassVar[int] = 10
    settings_model: ClassVar[type[FeatureSettings]] = ModerationSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset(
        {EventKind.MESSAGE, EventKind.MESSAGE_EDITED, EventKind.MEMBER_JOINED, EventKind.TICK}
    )

    def __init__(self) -> None:
        # per instance (the App owns it): recent message times per (group, member) for floods,
        # recent notices per group, compiled keyword lists
        self._recent: dict[tuple[int, int], deque[tuple[datetime, int]]] = {}
        #: groups whose flood windows were read from storage, with the window's length then
        self._warm: dict[int, int] = {}
        self._notices: dict[int, deque[datetime]] = {}
        self._matchers: dict[tuple[tuple[str, ...], tuple[str, ...]], KeywordMatcher] = {}

    # -- the protocol ----------------------------------------------------------------------
    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        state = self._prepare(ctx, batch)
        for item in batch:
            kind = item.event.kind
            if kind == EventKind.TICK:
                self._tick(ctx, item.event.occurred_at)
            elif item.group is None or item.member_id is None or item.is_admin:
                continue  # admins are exempt from every rule
            elif kind == EventKind.MEMBER_JOINED:
                self._joined(ctx, item, item.group, state)
            else:
                self._message(ctx, item, item.group, state)
        self._write_logs(ctx, state)
        state.book.save(ctx.conn)

    def _prepare(self, ctx: BatchContext, batch: Sequence[Incoming]) -> _Batch:
        """Normalise the batch's texts and read the copies their fingerprints need, at once."""
        state = _Batch()
        wanted: dict[int, set[str]] = {}
        since: datetime | None = None
        cold: dict[int, tuple[GroupInfo, Incoming]] = {}  # group -> its first message here
        for item in batch:
            group, event = item.group, item.event
            if group is None or item.member_id is None or item.is_admin:
                continue
            if event.kind == EventKind.MESSAGE and group.id not in cold:
                cold[group.id] = (group, item)
            if event.kind == EventKind.MESSAGE and event.message_id:
                state.messages[(event.source, event.chat_id, event.message_id)] = item
            if event.kind not in (EventKind.MESSAGE, EventKind.MESSAGE_EDITED):
                continue
            if not event.text.strip():
                continue
            text = state.texts[item.seq] = Text.of(event.text)
            s = self._settings(ctx, group)
            if event.kind != EventKind.MESSAGE or not s.detect_cross_group:
                continue
            if len(text.squeezed) < s.cross_group_min_chars:
                continue
            wanted.setdefault(group.workspace_id, set()).add(fingerprint(text))
            start = event.occurred_at - timedelta(seconds=s.cross_group_window_seconds)
            since = start if since is None else min(since, start)
        state.book = CopyBook.load(ctx.conn, wanted, since)
        for group, first in cold.values():
            s = self._settings(ctx, group)
            if s.detect_flood and self._warm.get(group.id, 0) < s.flood_seconds:
                self._read_windows(ctx, group, first.event.occurred_at, first.seq, s.flood_seconds)
        return state

    def warm_up(self, ctx: BatchContext) -> None:
        """At the start of a live process: every group's flood windows up to now, so that no
        first batch of a group waits for them."""
        for group in ctx.all_groups():
            try:
                s = self._settings(ctx, group)
            except ValidationError:
                continue  # the engine reports the settings when an event of the group comes
            if s.enabled and s.detect_flood:
                self._read_windows(ctx, group, ctx.now, None, s.flood_seconds)

    def _read_windows(
        self, ctx: BatchContext, group: GroupInfo, until: datetime, seq: int | None, seconds: int
    ) -> None:
        """Read the group's flood windows from storage once per process: messages stored
        before ``seq`` (this batch's first; None: all) that a flood of ``seconds`` ending at
        ``until`` could still count, minus those already punished as a flood (the bot may have
        restarted in the middle of one). From then on every message passes through this
        feature, so the windows stay complete in memory."""
        start = until - timedelta(seconds=seconds)
        params = {"g": group.id, "start": start, "seq": seq if seq is not None else 2**62}
        rows = ctx.conn.execute(_STORED_WINDOW, params).all()
        self._warm[group.id] = seconds
        if not rows:
            return
        punished = {
            int(r.member_id): int(r.seq or 0)
            for r in ctx.conn.execute(_LAST_FLOODS, {"g": group.id, "seq": int(rows[0].seq)})
        }
        words = command_words(ctx, group)
        for r in rows:
            mid, seq = int(r.member_id), int(r.seq)
            if seq <= punished.get(mid, 0) or words.matches(r.text or ""):
                continue  # punished already, or a command (no flood: see _message)
            recent = self._recent.setdefault((group.id, mid), deque())
            if all(seq != known for _, known in recent):
                recent.append((r.occurred_at, seq))

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        conn.execute(
            delete(moderation_decisions).where(moderation_decisions.c.member_id == member_id)
        )
        conn.execute(
            delete(moderation_blacklist).where(moderation_blacklist.c.member_id == member_id)
        )
        conn.execute(delete(moderation_copies).where(moderation_copies.c.member_id == member_id))
        for key in [k for k in self._recent if k[1] == member_id]:
            del self._recent[key]

    # -- messages --------------------------------------------------------------------------
    def _settings(self, ctx: BatchContext, group: GroupInfo) -> ModerationSettings:
        return ctx.settings(self, group, ModerationSettings)

    def _matcher(self, s: ModerationSettings) -> KeywordMatcher:
        key = (tuple(s.keywords_zh), tuple(s.keywords_en))
        matcher = self._matchers.get(key)
        if matcher is None:
            if len(self._matchers) > 256:
                self._matchers.clear()
            matcher = self._matchers[key] = KeywordMatcher.build(*key)
        return matcher

    def _content(
        self, text: Text | None, kind: ContentKind, s: ModerationSettings, newcomer: bool
    ) -> Finding | None:
        strict = newcomer and s.newcomer_strict
        if text is not None:
            if s.detect_invites and (found := detect_invites(text, s.allowed_domains)):
                return found
            if strict and (found := detect_any_link(text)):
                return found
            if s.detect_links and (found := detect_links(text, s.allowed_domains)):
                return found
            if s.detect_phones and (found := detect_phones(text)):
                return found
            if s.detect_contacts and (found := detect_contacts(text)):
                return found
            if s.detect_keywords and (s.keywords_zh or s.keywords_en):
                found = self._matcher(s).find(text)
                if found:
                    return found
        if strict and kind in LINK_KINDS:
            return Finding("newcomer_link", kind.value)
        return None

    def _message(self, ctx: BatchContext, item: Incoming, group: GroupInfo, state: _Batch) -> None:
        s = self._settings(ctx, group)
        event = item.event
        assert item.member_id is not None
        when = event.occurred_at
        newcomer = (
            item.joined_at is not None
            and s.newcomer_hours > 0
            and when - item.joined_at < timedelta(hours=s.newcomer_hours)
        )
        text = state.texts.get(item.seq)
        finding = self._content(text, event.content_kind, s, newcomer)
        copies: list[Copy] = []
        if event.kind == EventKind.MESSAGE:
            # a command the bot answers ("签到", "/points") is no flood: a newcomer trying
            # them one after another must not be warned for it
            flooding = s.detect_flood and not is_command(ctx, group, event.text)
            flood = self._flood(ctx, item, group, s) if flooding else None
            finding = finding or flood
            if finding is None and text is not None and s.detect_cross_group:
                found = self._cross_group(item, group, text, s, state.book)
                if found is not None:
                    finding, copies = found
        if finding is not None:
            self._punish(ctx, item, group, s, finding, copies, state)

    def _flood(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: ModerationSettings
    ) -> Finding | None:
        assert item.member_id is not None
        key = (group.id, item.member_id)
        when = item.event.occurred_at
        # taken out and put back: the windows stay in the order of their latest message, so
        # the tick finds the stale ones at the front instead of looking at every one
        recent = self._recent.pop(key, None)
        if recent is None:  # nothing in the window (the group's stored windows are read)
            recent = deque()
        self._recent[key] = recent
        if any(seq == item.seq for _, seq in recent):
            return None  # the same event again (the batch is being re-run event by event)
        recent.append((when, item.seq))
        start = when - timedelta(seconds=s.flood_seconds)
        while recent and recent[0][0] <= start:
            recent.popleft()
        while len(recent) > s.flood_messages:
            recent.popleft()
        if len(recent) >= s.flood_messages:
            recent.clear()  # the next flood needs flood_messages new messages
            return Finding(
                "flood", evidence_of("flood", count=s.flood_messages, seconds=s.flood_seconds)
            )
        return None

    def _cross_group(
        self, item: Incoming, group: GroupInfo, text: Text, s: ModerationSettings, book: CopyBook
    ) -> tuple[Finding, list[Copy]] | None:
        if len(text.squeezed) < s.cross_group_min_chars:
            return None
        event = item.event
        fp = fingerprint(text)
        window = timedelta(seconds=s.cross_group_window_seconds)
        copy = Copy(
            None,
            group.id,
            item.member_id,
            event.source,
            event.chat_id,
            event.message_id,
            event.occurred_at,
        )
        seen_in, earlier = book.add(group.workspace_id, fp, copy, window)
        if seen_in < s.cross_group_min_groups:
            return None
        book.remove(group.workspace_id, fp, window, event.occurred_at)
        found = evidence_of("cross_group", count=seen_in, text=snippet(text.norm, 80))
        return Finding("cross_group", found), earlier[:MAX_COPY_DELETES]

    # -- the ladder ------------------------------------------------------------------------
    def _strikes(
        self, ctx: BatchContext, state: _Batch, key: tuple[int, int], ttl_days: int
    ) -> int:
        """The member's counted strikes within ``ttl_days``: read at their first offence in
        the batch, counted on in memory after that (see _punish)."""
        known = state.strikes.get(key)
        if known is not None:
            return known
        since = ctx.now - timedelta(days=ttl_days)
        params = {"g": key[0], "m": key[1], "since": since}
        found = state.strikes[key] = int(ctx.conn.execute(_STRIKES, params).scalar_one())
        return found

    def _notice_allowed(self, group_id: int, now: datetime, per_minute: int) -> bool:
        sent = self._notices.setdefault(group_id, deque())
        while sent and sent[0] <= now - timedelta(minutes=1):
            sent.popleft()
        if len(sent) >= per_minute:
            return False
        sent.append(now)
        return True

    def _punish(
        self,
        ctx: BatchContext,
        item: Incoming,
        group: GroupInfo,
        s: ModerationSettings,
        finding: Finding,
        copies: list[Copy],
        state: _Batch,
    ) -> None:
        event = item.event
        assert item.member_id is not None
        key = (group.id, item.member_id)
        t = ctx.gettext(group)
        name = event.user_name or event.user_id
        reason = t(REASONS.get(finding.rule, REASONS["keyword"]))
        why = f"moderation: {finding.rule} ({read_evidence(finding.evidence)[0][:80]})"
        steps = s.steps()
        if key in state.escalated:
            # already muted or removed in this batch: just remove the message
            step, seconds, index, counted = "delete", 0, None, False
        else:
            strikes = self._strikes(ctx, state, key, s.warning_ttl_days)
            state.strikes[key] = strikes + 1  # the decision below counts from now on
            at = min(strikes, len(steps) - 1)
            (step, seconds), index, counted = steps[at], at + 1, True
        actions: list[Action] = []
        if s.delete_offending_message and event.message_id:
            actions.append(
                Action(
                    ActionKind.DELETE,
                    event.source,
                    event.chat_id,
                    message_id=event.message_id,
                    reason=why,
                )
            )
        notice = ""
        if step == "warn":
            warns = [i for i, (k, _) in enumerate(steps) if k == "warn"]
            count = sum(1 for i in warns if i < (index or 0))
            notice = _fmt(t, WARN_TEXT, name=name, reason=reason, count=count, limit=len(warns))
        elif step == "mute":
            until = ctx.now + timedelta(seconds=seconds)
            actions.append(
                Action(
                    ActionKind.MUTE,
                    event.source,
                    event.chat_id,
                    user_id=event.user_id,
                    until=until,
                    reason=why,
                )
            )
            notice = _fmt(t, MUTE_TEXT, name=name, reason=reason, duration=duration(t, seconds))
        elif step in ("kick", "ban"):
            kind = ActionKind.KICK if step == "kick" else ActionKind.BAN
            actions.append(
                Action(kind, event.source, event.chat_id, user_id=event.user_id, reason=why)
            )
            notice = _fmt(t, KICK_TEXT if step == "kick" else BAN_TEXT, name=name, reason=reason)
        if step in ("mute", "kick", "ban"):
            state.escalated.add(key)
        if step in ("kick", "ban"):
            state.removed.add(key)
        if notice and s.notify and self._notice_allowed(group.id, ctx.now, s.notices_per_minute):
            # a mute, kick or ban notice says what the platform did: it is not posted when
            # the platform refused it (the deliverer's ANNOUNCES, see docs/operations.md)
            data = {ANNOUNCES: step} if step != "warn" else {}
            if s.delete_offending_message or not event.message_id:
                actions.append(
                    Action(ActionKind.SEND, event.source, event.chat_id, text=notice, data=data)
                )
            else:
                actions.append(
                    Action(
                        ActionKind.REPLY,
                        event.source,
                        event.chat_id,
                        text=notice,
                        message_id=event.message_id,
                        data=data,
                    )
                )
        copy_deletes = [
            (
                Action(ActionKind.DELETE, c.source, c.chat_id, message_id=c.message_id, reason=why),
                int(c.group_id),
            )
            for c in copies
        ]
        ctx.suppress(item)  # check-in, points and welcome must not count a removed offence
        for action in actions:
            ctx.emit(action, item)
        by_id = {g.id: g for g in ctx.groups_of_workspace(group.workspace_id)} if copies else {}
        for (action, gid), c in zip(copy_deletes, copies, strict=True):
            target = by_id.get(gid)
            if target is not None:
                ctx.emit_for_group(action, target)
                # the earlier copy was counted (points, an introduction) unless it is in this
                # batch: suppressed here, taken back by the features after (see removed.py)
                earlier = state.messages.get((c.source, c.chat_id, c.message_id))
                if earlier is not None:
                    ctx.suppress(earlier)
                ctx.derive(removal(c.source, c.chat_id, c.message_id, finding.rule, ctx.now))
        decision_id = self._log(
            ctx,
            state,
            group,
            item,
            rule=finding.rule,
            evidence=finding.evidence,
            step=step,
            index=index,
            counted=counted,
            actions=[*actions, *(a for a, _ in copy_deletes)],
            later=step not in ("kick", "ban"),  # only a removal's id is needed (below)
        )
        if step in ("kick", "ban"):
            self._kicked(ctx, group, event.user_id, decision_id, finding.rule)
            if s.blacklist and finding.rule in s.blacklist_rules:
                self._blacklist(ctx, item, group, s, finding.rule, decision_id, step, state)

    def _log(
        self,
        ctx: BatchContext,
        state: _Batch,
        group: GroupInfo,
        item: Incoming | None,
        *,
        rule: str,
        evidence: str,
        step: str,
        actions: Sequence[Action],
        index: int | None = None,
        counted: bool = False,
        parent_id: int | None = None,
        target: tuple[str, str, str, int] | None = None,
        later: bool = False,
    ) -> int:
        """Record a decision; returns its id. With ``later`` it is written with the batch's
        others at the end of handle() (one statement for all), and the id is 0. Decisions
        keep their order: one written now first writes those waiting."""
        if item is not None:
            e = item.event
            source, chat_id, user_id, member_id = e.source, e.chat_id, e.user_id, item.member_id
            user_name, message_id, seq = e.user_name, e.message_id, item.seq
        else:
            assert target is not None
            source, chat_id, user_id, member_id = target
            user_name, message_id, seq = "", "", None
        row = {
            "created_at": ctx.now,
            "workspace_id": group.workspace_id,
            "group_id": group.id,
            "member_id": member_id,
            "source": source,
            "chat_id": chat_id,
            "user_id": user_id,
            "user_name": user_name,
            "message_id": message_id,
            "event_seq": seq,
            "rule": rule,
            "evidence": evidence,
            "step": step,
            "step_index": index,
            "actions": [a.to_json() for a in actions],
            "counted": counted,
            "by": "auto",
            "parent_id": parent_id,
        }
        if later:
            state.logs.append(row)
            return 0
        self._write_logs(ctx, state)
        return int(ctx.conn.execute(_LOG, row).scalar_one())

    @staticmethod
    def _write_logs(ctx: BatchContext, state: _Batch) -> None:
        if state.logs:
            _LOGS.run(ctx.conn, state.logs)
            state.logs = []

    def _kicked(
        self, ctx: BatchContext, group: GroupInfo, user_id: str, decision_id: int, rule: str
    ) -> None:
        """Tell the directory (and later features) that the member is out of the group."""
        ctx.derive_removed(
            group, user_id, f"moderation:{decision_id}", {"rule": rule, "decision_id": decision_id}
        )

    # -- the blacklist ---------------------------------------------------------------------
    def _blacklist(
        self,
        ctx: BatchContext,
        item: Incoming,
        group: GroupInfo,
        s: ModerationSettings,
        rule: str,
        decision_id: int,
        step: str,
        state: _Batch,
    ) -> None:
        assert item.member_id is not None
        b = moderation_blacklist.c
        listed = ctx.conn.execute(
            select(b.member_id).where(
                b.workspace_id == group.workspace_id, b.member_id == item.member_id
            )
        ).first()
        if listed is None:
            ctx.conn.execute(
                insert(moderation_blacklist).values(
                    workspace_id=group.workspace_id,
                    member_id=item.member_id,
                    rule=rule,
                    decision_id=decision_id,
                    created_at=ctx.now,
                    by="auto",
                )
            )
        if not s.blacklist_kick_everywhere:
            return
        m, g, i = memberships.c, groups.c, identities.c
        elsewhere = ctx.conn.execute(
            select(g.id, g.source, g.chat_id, i.user_id)
            .select_from(
                memberships.join(groups, g.id == m.group_id).join(
                    identities, and_(i.member_id == m.member_id, i.source == g.source)
                )
            )
            .where(
                m.member_id == item.member_id,
                m.status == "active",
                m.is_admin.is_(False),
                g.workspace_id == group.workspace_id,
                g.id != group.id,
            )
            .order_by(g.id)
        ).all()
        if not elsewhere:
            return
        by_id = {x.id: x for x in ctx.groups_of_workspace(group.workspace_id)}
        kind = ActionKind.KICK if step == "kick" else ActionKind.BAN
        for row in elsewhere:
            other = by_id.get(int(row.id))
            if other is None or (other.id, item.member_id) in state.removed:
                continue  # already removed there in this batch (the same ad posted there too)
            state.removed.add((other.id, item.member_id))
            state.escalated.add((other.id, item.member_id))
            action = Action(
                kind,
                row.source,
                row.chat_id,
                user_id=row.user_id,
                reason=f"moderation: blacklisted for {rule} in {group.title}",
            )
            ctx.emit_for_group(action, other)
            child = self._log(
                ctx,
                state,
                other,
                None,
                rule="blacklist",
                evidence=evidence_of(
                    "blacklisted_in", rule=rule, group=group.title, decision=decision_id
                ),
                step=step,
                actions=[action],
                parent_id=decision_id,
                target=(row.source, row.chat_id, row.user_id, item.member_id),
            )
            self._kicked(ctx, other, row.user_id, child, "blacklist")

    def _joined(self, ctx: BatchContext, item: Incoming, group: GroupInfo, state: _Batch) -> None:
        s = self._settings(ctx, group)
        if not s.blacklist:
            return
        listed = ctx.conn.execute(_LISTED, {"ws": group.workspace_id, "m": item.member_id}).first()
        if listed is None:
            return
        event = item.event
        step = s.blacklist_action
        kind = ActionKind.KICK if step == "kick" else ActionKind.BAN
        action = Action(
            kind, event.source, event.chat_id, user_id=event.user_id, reason="blacklisted"
        )
        ctx.emit(action, item)
        ctx.suppress(item)  # welcome (and everyone after) must not greet them
        decision_id = self._log(
            ctx,
            state,
            group,
            item,
            rule="blacklist",
            evidence=(
                evidence_of("on_blacklist_by", rule=listed.rule, decision=int(listed.decision_id))
                if listed.decision_id
                else evidence_of("on_blacklist", rule=listed.rule)
            ),
            step=step,
            actions=[action],
        )
        self._kicked(ctx, group, event.user_id, decision_id, "blacklist")

    # -- the clock -------------------------------------------------------------------------
    def _tick(self, ctx: BatchContext, now: datetime) -> None:
        ctx.conn.execute(
            delete(moderation_copies).where(moderation_copies.c.seen_at < now - COPIES_KEEP)
        )
        stale = now - FLOOD_KEEP
        gone = []
        for key, q in self._recent.items():  # latest message first to last (see _flood)
            if q and q[-1][0] >= stale:
                break
            gone.append(key)
        for key in gone:
            del self._recent[key]
        for gid in [g for g, q in self._notices.items() if not q or q[-1] < stale]:
            del self._notices[gid]
