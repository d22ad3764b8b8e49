"""The ladder: an offence is a strike; the member's counted strikes within ``warning_ttl_days``
choose the step (warn, mute, kick or ban; the settings' ``steps``). The offending message is
removed, a notice says what happened (at most ``notices_per_minute`` a group), earlier copies
of a cross-group spam are removed too, and a removal may blacklist the member (blacklist.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select

from groupops.domain.actions import ANNOUNCES, Action, ActionKind
from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.moderation import reasons
from groupops.features.moderation.blacklist import blacklist
from groupops.features.moderation.copies import Copy
from groupops.features.moderation.decisions import Batch, kicked, log
from groupops.features.moderation.detectors import Finding
from groupops.features.moderation.memory import StagedDeques
from groupops.features.moderation.ops import read_evidence
from groupops.features.moderation.removed import take_back
from groupops.features.moderation.settings import ModerationSettings
from groupops.features.moderation.tables import moderation_decisions
from groupops.i18n import N_
from groupops.storage.bulk import One

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
    "known_ad": N_("this is a known ad"),
}
MINUTES = (N_("1 minute"), N_("{n} minutes"))
HOURS = (N_("1 hour"), N_("{n} hours"))
DAYS = (N_("1 day"), N_("{n} days"))


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


_d = moderation_decisions.c
#: built once (a statement built per call costs several times its run on SQLite)
_STRIKES = One(
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


def strikes(ctx: BatchContext, state: Batch, key: tuple[int, int], ttl_days: int) -> int:
    """The member's counted strikes within ``ttl_days``: read at their first offence in
    the batch, counted on in memory after that (see punish)."""
    known = state.strikes.get(key)
    if known is not None:
        return known
    since = ctx.now - timedelta(days=ttl_days)
    params = {"g": key[0], "m": key[1], "since": since}
    found = state.strikes[key] = int(_STRIKES.scalar(ctx.conn, params))
    return found


#: the notices posted per group, their times oldest first (memory.py: a batch's count once it
#: commits)
Notices = StagedDeques[int, datetime]


def notice_allowed(notices: Notices, group_id: int, now: datetime, per_minute: int) -> bool:
    """Whether a notice may be posted now: at most ``per_minute`` a group."""
    sent = notices.change(group_id)
    while sent and sent[0] <= now - timedelta(minutes=1):
        sent.popleft()
    if len(sent) >= per_minute:
        return False
    sent.append(now)
    return True


def punish(
    ctx: BatchContext,
    item: Incoming,
    group: GroupInfo,
    s: ModerationSettings,
    finding: Finding,
    copies: list[Copy],
    state: Batch,
    notices: Notices,
) -> None:
    """Take the step the member's strikes reach for ``finding``, record the decision and
    suppress the message (later features do not count it); ``copies``: earlier copies of a
    cross-group spam, removed with it."""
    event = item.event
    assert item.member_id is not None
    key = (group.id, item.member_id)
    t = ctx.gettext(group)
    name = event.user_name or event.user_id
    reason = t(REASONS.get(finding.rule, REASONS["keyword"]))
    evidence = read_evidence(finding.evidence)[0][:80]
    why = reasons.FINDING.format(rule=finding.rule, evidence=evidence)
    steps = s.steps()
    if key in state.escalated:
        # already muted or removed in this batch: just remove the message
        step, seconds, index, counted = "delete", 0, None, False
    else:
        so_far = strikes(ctx, state, key, s.warning_ttl_days)
        state.strikes[key] = so_far + 1  # the decision below counts from now on
        at = min(so_far, len(steps) - 1)
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
        actions.append(Action(kind, event.source, event.chat_id, user_id=event.user_id, reason=why))
        notice = _fmt(t, KICK_TEXT if step == "kick" else BAN_TEXT, name=name, reason=reason)
    if step in ("mute", "kick", "ban"):
        state.escalated.add(key)
    if step in ("kick", "ban"):
        state.removed.add(key)
    if notice and s.notify and notice_allowed(notices, group.id, ctx.now, s.notices_per_minute):
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
    if event.kind == EventKind.MESSAGE_EDITED and event.message_id:
        # the message was counted for the text it had before (points, a check-in, an
        # introduction): what it earned goes, and the bot's replies to it (removed.py)
        take_back(ctx, state, group, event.source, event.chat_id, event.message_id, finding.rule)
    for action in actions:
        ctx.emit(action, item)
    by_id = {g.id: g for g in ctx.groups_of_workspace(group.workspace_id)} if copies else {}
    for (action, gid), c in zip(copy_deletes, copies, strict=True):
        target = by_id.get(gid)
        if target is not None:
            ctx.emit_for_group(action, target)
            # the earlier copy was counted (points, an introduction): taken back (removed.py)
            take_back(ctx, state, target, c.source, c.chat_id, c.message_id, finding.rule)
    decision_id = log(
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
        kicked(ctx, group, event.user_id, decision_id, finding.rule)
        if s.blacklist and finding.rule in s.blacklist_rules:
            blacklist(ctx, item, group, s, finding.rule, decision_id, step, state)
