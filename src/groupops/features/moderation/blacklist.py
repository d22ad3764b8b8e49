"""The workspace blacklist: a member removed for a blacklisting rule is listed (and, when the
settings say so, removed from the workspace's other groups at once); a listed member who joins
any of its groups is removed again before welcome sees them."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, insert, select

from groupops.domain.actions import Action, ActionKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.moderation import reasons
from groupops.features.moderation.decisions import Batch, kicked, log
from groupops.features.moderation.ops import evidence_of
from groupops.features.moderation.settings import ModerationSettings
from groupops.features.moderation.tables import moderation_blacklist
from groupops.storage.bulk import One
from groupops.storage.tables import groups, identities, memberships

#: built once (a statement built per call costs several times its run on SQLite)
#: asked at every join: run as storage.bulk.One
_LISTED = One(
    select(moderation_blacklist.c.rule, moderation_blacklist.c.decision_id).where(
        moderation_blacklist.c.workspace_id == bindparam("ws"),
        moderation_blacklist.c.member_id == bindparam("m"),
    )
)


def blacklist(
    ctx: BatchContext,
    item: Incoming,
    group: GroupInfo,
    s: ModerationSettings,
    rule: str,
    decision_id: int,
    step: str,
    state: Batch,
) -> None:
    """List the member just removed by decision ``decision_id``, and remove them from the
    workspace's other groups when ``blacklist_kick_everywhere``."""
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
    # the text they were listed for goes into the library of known ads (known_ads.py)
    state.known.remember(ctx, group, s, state.texts.get(item.seq), rule, decision_id)
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
            reason=reasons.BLACKLISTED_IN.format(rule=rule, group=group.title),
        )
        ctx.emit_for_group(action, other)
        child = log(
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
        kicked(ctx, other, row.user_id, child, "blacklist")


def joined(
    ctx: BatchContext, item: Incoming, group: GroupInfo, s: ModerationSettings, state: Batch
) -> None:
    """A listed member joined: removed again, and welcome (and everyone after) does not see
    the join."""
    if not s.blacklist:
        return
    listed = _LISTED.first(ctx.conn, {"ws": group.workspace_id, "m": item.member_id})
    if listed is None:
        return
    rule, listed_by = listed
    event = item.event
    step = s.blacklist_action
    kind = ActionKind.KICK if step == "kick" else ActionKind.BAN
    action = Action(
        kind, event.source, event.chat_id, user_id=event.user_id, reason=reasons.BLACKLISTED
    )
    ctx.emit(action, item)
    ctx.suppress(item)  # welcome (and everyone after) must not greet them
    decision_id = log(
        ctx,
        state,
        group,
        item,
        rule="blacklist",
        evidence=(
            evidence_of("on_blacklist_by", rule=rule, decision=int(listed_by))
            if listed_by
            else evidence_of("on_blacklist", rule=rule)
        ),
        step=step,
        actions=[action],
    )
    kicked(ctx, group, event.user_id, decision_id, "blacklist")
