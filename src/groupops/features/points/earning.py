"""What earns points: a message or a reply (a per-member cooldown so floods don't pay, a
minimum length, never a command to the bot), a check-in (its streak gift with it), a reaction
received (once per member and message, a daily cap), and what a removed message earned taken
back. Each rule decides how much and calls
:meth:`Ledger.award <groupops.features.points.ledger.Ledger.award>`.

Reactions: a member's first reaction to a message is what counts for its author. Later ones by
the same member to the same message (another emoji, or the same one taken back and given
again: Telegram sends an update each time, Matrix a new m.reaction after a redaction) pay
nothing. A reaction taken back keeps what it paid: on Matrix (and for Telegram's members with
several emojis on a message) one emoji taken back says nothing of the member's others, and a
point taken back on another day than it was paid would have to give back a cap of a day gone
by or eat into today's. A first reaction that came once the author's day was capped counts too:
it paid nothing, and pays nothing when given again the next day (the cap is not put off).

Who reacted to what is kept in points_reactions, read once a batch for the batch's reactions
(one query, see prefetch_targets), written at the ledger's flush, and dropped at the feature's
ticks ``PointsFeature.REACTIONS_KEPT_DAYS`` (30) after the first reaction: past that, a
member's reaction to the same message pays once more, at most once in that many days."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, select

from groupops.domain.events import ContentKind, Event, EventKind
from groupops.domain.time import local_day
from groupops.engine.context import BatchContext, GroupInfo, Incoming, Named
from groupops.engine.withdraw import caused_by, message_seqs, withdraw
from groupops.features.commands import is_command
from groupops.features.points.ledger import LEVEL_UP_DATA, Ledger, Pending
from groupops.features.points.settings import PointsSettings, level_of
from groupops.features.points.tables import points_ledger, points_reactions
from groupops.storage.tables import events, identities, members, memberships

#: what a message earned, and the check-in it made (see take_back_removed)
_PAID_FOR = select(points_ledger.c.points).where(
    points_ledger.c.cause_seq.in_(bindparam("seqs", expanding=True)),
    points_ledger.c.member_id == bindparam("m"),
    points_ledger.c.reason.in_(("message", "reply", "checkin", "makeup", "gift")),
)

#: the author of a message named by its platform id (uses ix_events_message)
_MESSAGE_AUTHOR = (
    select(events.c.user_id)
    .where(
        events.c.source == bindparam("src"),
        events.c.chat_id == bindparam("chat"),
        events.c.message_id == bindparam("msg"),
        events.c.kind == EventKind.MESSAGE.value,
    )
    .limit(1)
)
_r = points_reactions.c
#: who has reacted to the batch's messages (the groups' and the messages' rows at once: a
#: message id of one group found in another is left aside)
_REACTED = select(_r.group_id, _r.message_id, _r.member_id).where(
    _r.group_id.in_(bindparam("gids", expanding=True)),
    _r.message_id.in_(bindparam("msgs", expanding=True)),
)
#: first reactions kept long enough (see the module's docstring)
_OLD_REACTIONS = delete(points_reactions).where(_r.at < bindparam("before"))


#: who a reaction pays: the author's member id, admin flag in the group, name


def _reaction_targets(which_users: Any) -> Any:
    return (
        select(
            identities.c.user_id,
            identities.c.member_id,
            memberships.c.is_admin,
            members.c.display_name,
        )
        .join(members, members.c.id == identities.c.member_id)
        .outerjoin(
            memberships,
            and_(
                memberships.c.member_id == identities.c.member_id,
                memberships.c.group_id == bindparam("g"),
            ),
        )
        .where(identities.c.source == bindparam("src"), which_users)
    )


#: the members behind platform users (the authors that replies answer), up to 500 at once
_MEMBERS_OF = select(identities.c.user_id, identities.c.member_id).where(
    identities.c.source == bindparam("src"),
    identities.c.user_id.in_(bindparam("users", expanding=True)),
)

_REACTION_TARGET = _reaction_targets(identities.c.user_id == bindparam("user"))
#: the same for the authors of a batch's reactions in one group, at once
_REACTION_TARGETS = _reaction_targets(identities.c.user_id.in_(bindparam("users", expanding=True)))


def _author_named(event: Event) -> str:
    """The author of the message a reaction is to, where the platform says it."""
    return event.reply_to_user_id or str(event.data.get("target_user_id") or "")


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    """``ids`` 500 at a time: what one query of a batch's reads asks for at most."""
    for start in range(0, len(ids), 500):
        yield ids[start : start + 500]


def prefetch_targets(ledger: Ledger, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
    """Whom the batch's reactions pay, one query per group and platform (up to 500
    authors a query) instead of one a reaction; who has reacted to their messages
    already, one query for the batch (up to 500 messages a query); and who the authors its
    replies answer are, one query per platform (up to 500 a query)."""
    authors: dict[tuple[int, str], set[str]] = {}
    messages: dict[tuple[int, str], None] = {}
    answered: dict[str, set[str]] = {}
    for item in batch:
        event = item.event
        if event.kind == EventKind.MESSAGE:
            if event.reply_to_user_id and event.reply_to_user_id != event.user_id:
                answered.setdefault(event.source, set()).add(event.reply_to_user_id)
        elif event.kind == EventKind.REACTION and item.group is not None:
            author = _author_named(event)
            if author:
                authors.setdefault((item.group.id, event.source), set()).add(author)
            if event.message_id and not event.data.get("removed"):
                messages[(item.group.id, event.message_id)] = None
    pending = ledger.batch()
    _read_reacted(ctx, pending, messages)
    for source, users in answered.items():
        wanted = sorted(u for u in users if (source, u) not in pending.answered)
        for chunk in _chunks(wanted):
            pending.answered.update(((source, u), None) for u in chunk)
            for user, mid in ctx.conn.execute(_MEMBERS_OF, {"src": source, "users": chunk}):
                pending.answered[(source, str(user))] = int(mid)
    targets = pending.targets
    for (gid, source), users in authors.items():
        wanted = sorted(users)
        for key_user in wanted:
            targets[(gid, source, key_user)] = None
        for chunk in _chunks(wanted):
            params = {"g": gid, "src": source, "users": chunk}
            for row in ctx.conn.execute(_REACTION_TARGETS, params):
                targets[(gid, source, str(row.user_id))] = row


def _read_reacted(
    ctx: BatchContext, pending: Pending, messages: dict[tuple[int, str], None]
) -> None:
    """Who has reacted to ``messages`` ((group, message) each), into ``pending.reacted``."""
    wanted = [key for key in messages if key not in pending.reacted_read]
    if not wanted:
        return
    gids = sorted({g for g, _ in wanted})
    msgs = sorted({m for _, m in wanted})
    asked = set(wanted)
    for chunk in _chunks(msgs):
        params = {"gids": gids, "msgs": chunk}
        for gid, msg, mid in ctx.conn.execute(_REACTED, params):
            if (gid, msg) in asked:
                pending.reacted.add((int(gid), str(msg), int(mid)))
    pending.reacted_read.update(asked)


def _first_reaction(ledger: Ledger, ctx: BatchContext, item: Incoming, group: GroupInfo) -> bool:
    """Whether this is the reacting member's first reaction to the message (it is kept as
    such); False when they have reacted to it before, in this batch or an earlier one."""
    assert item.member_id is not None
    event = item.event
    pending = ledger.batch()
    if (group.id, event.message_id) not in pending.reacted_read:  # read for the whole batch
        _read_reacted(ctx, pending, {(group.id, event.message_id): None})
    key = (group.id, event.message_id, item.member_id)
    if key in pending.reacted:
        return False
    pending.reacted.add(key)
    pending.new_reactions.append(
        {
            "group_id": group.id,
            "message_id": event.message_id,
            "member_id": item.member_id,
            "at": event.occurred_at,
        }
    )
    return True


def forget_old_reactions(ctx: BatchContext, now: datetime, days: int) -> None:
    """Drop who reacted to what ``days`` after their first reaction (at a tick)."""
    ctx.conn.execute(_OLD_REACTIONS, {"before": now - timedelta(days=days)})


def pay_message(
    ledger: Ledger, ctx: BatchContext, item: Incoming, group: GroupInfo, s: PointsSettings
) -> None:
    event = item.event
    assert item.member_id is not None
    text = event.text.strip()
    if item.is_admin and not s.include_admins:
        return
    if event.content_kind == ContentKind.TEXT and len("".join(text.split())) < s.message_min_chars:
        return
    if is_command(ctx, group, text):
        return  # "/help", "积分怎么算": a command to the bot, not conversation
    is_reply = bool(event.reply_to_message_id) and _answers_another(ledger, ctx, item)
    points = s.reply_points if is_reply else s.message_points
    if points <= 0:
        return
    row = ledger.balance(ctx, group.id, item.member_id)
    last = row.last_paid_message_at
    cooldown = timedelta(seconds=s.message_cooldown_seconds)
    if last is not None and event.occurred_at - last < cooldown:
        return  # a flood does not pay
    ledger.award(
        ctx,
        group,
        item.member_id,
        points,
        "reply" if is_reply else "message",
        at=event.occurred_at,
        cause_seq=item.seq,
        name=event.user_name or event.user_id,
        s=s,
        row=row,
        last_paid_message_at=event.occurred_at,
    )


def _answers_another(ledger: Ledger, ctx: BatchContext, item: Incoming) -> bool:
    """Whether the reply ``item`` answers another member: not the bot, not the author (by
    another account of theirs either), not someone groupops has never seen. The platform
    names the answered author; where it does not (Matrix, a message older than what the
    adapter remembers) the stored message does."""
    event = item.event
    user = event.reply_to_user_id
    if not user:
        params = {"src": event.source, "chat": event.chat_id, "msg": event.reply_to_message_id}
        user = str(ctx.conn.execute(_MESSAGE_AUTHOR, params).scalar() or "")
    if not user or user == event.user_id:
        return False
    answered = ledger.batch().answered
    key = (event.source, user)
    if key not in answered:  # read for the whole batch (prefetch_targets), but this one
        found = ctx.conn.execute(_MEMBERS_OF, {"src": event.source, "users": [user]}).first()
        answered[key] = None if found is None else int(found.member_id)
    member = answered[key]
    return member is not None and member != item.member_id


def take_back_removed(ledger: Ledger, ctx: BatchContext, feature: Named, item: Incoming) -> None:
    """Moderation removed a message of an earlier batch as an ad (a cross-group copy):
    the points it earned are taken back, in the month they were earned in: its message or
    reply points, and those of the check-in it made (the ``checked_in`` derived from it: the
    check-in's points and its streak gift's; the check-in feature takes the day back).

    A level it made the member reach and that the points left no longer reach is lost: its
    announcement is withdrawn (engine.withdraw: never sent, or deleted), and the member's
    level is what the points left reach (not below the one they had before the message), so
    reaching it again is announced again. A level still reached stays, announced."""
    removed = ctx.removed_message(item)
    group = item.group
    if removed is None or group is None or group.id != removed.group_id:
        return
    ledger.flush(ctx)  # the ledger as the batch left it so far
    seqs = message_seqs(ctx, removed)
    paid = ctx.conn.execute(_PAID_FOR, {"seqs": seqs, "m": removed.member_id}).all()
    points = sum(int(r.points) for r in paid)
    if points <= 0:
        return
    s = ctx.settings(feature, group, PointsSettings)
    row = ledger.balance(ctx, group.id, removed.member_id)
    reached = level_of(s.levels, int(row.points) - points)
    lost = [
        (c, up)
        for c in caused_by(ctx, group, seqs)
        if (up := c.data.get(LEVEL_UP_DATA)) is not None and int(up["to"]) > reached
    ]
    level = int(row.level)
    if lost:
        withdraw(ctx, group, (c for c, _ in lost))
        level = min(level, max(reached, min(int(up["from"]) for _, up in lost)))
    ledger.award(
        ctx,
        group,
        removed.member_id,
        -points,
        "removed",
        at=removed.occurred_at,
        cause_seq=item.seq,
        name="",
        s=s,
        row=row,
        level=level,  # the balance's level after it (a level kept or lost, as above)
    )


def pay_checkin(
    ledger: Ledger, ctx: BatchContext, item: Incoming, group: GroupInfo, s: PointsSettings
) -> None:
    event = item.event
    assert item.member_id is not None
    if item.is_admin and not s.include_admins:
        return
    made_up = bool(event.data.get("made_up"))
    name = event.user_name or event.user_id
    base = s.makeup_points if made_up else s.checkin_points
    reason = "makeup" if made_up else "checkin"
    gift = int(event.data.get("gift_points") or 0)
    ledger.award(  # one announcement of a level reached, with the gift counted in
        ctx,
        group,
        item.member_id,
        base,
        reason,
        at=event.occurred_at,
        cause_seq=item.seq,
        name=name,
        s=s,
        also=[(gift, "gift")] if gift > 0 else [],
    )


def pay_reaction(
    ledger: Ledger, ctx: BatchContext, item: Incoming, group: GroupInfo, s: PointsSettings
) -> None:
    event = item.event
    if s.reaction_points <= 0 or event.data.get("removed") or not event.message_id:
        return  # a reaction taken back keeps what it paid (see the module's docstring)
    author = _author_named(event)
    if not author:
        author = (
            ctx.conn.execute(
                _MESSAGE_AUTHOR,
                {"src": event.source, "chat": event.chat_id, "msg": event.message_id},
            ).scalar()
            or ""
        )
    if not author or author == event.user_id:
        return  # nobody to pay, or a member applauding themselves
    targets = ledger.batch().targets
    key = (group.id, event.source, author)
    if key in targets:  # read for the whole batch (see prefetch_targets)
        target = targets[key]
    else:
        target = ctx.conn.execute(
            _REACTION_TARGET, {"g": group.id, "src": event.source, "user": author}
        ).first()
    if target is None or (target.is_admin and not s.include_admins):
        return
    if int(target.member_id) == item.member_id or not _first_reaction(ledger, ctx, item, group):
        return  # their own message (another account of theirs), or reacted to before
    row = ledger.balance(ctx, group.id, int(target.member_id))
    today = local_day(event.occurred_at, group.timezone)
    so_far = int(row.reaction_points_today) if row.reaction_day == today else 0
    points = min(s.reaction_points, s.reaction_daily_cap - so_far)
    if points <= 0:
        return
    ledger.award(
        ctx,
        group,
        int(target.member_id),
        points,
        "reaction",
        at=event.occurred_at,
        cause_seq=item.seq,
        name=target.display_name or author,
        s=s,
        row=row,
        reaction_day=today,
        reaction_points_today=so_far + points,
    )
