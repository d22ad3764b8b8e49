"""The bot in its groups: what the platform says about it, kept, and told to the operator.

Telegram (``my_chat_member``) and Matrix (the bot's own membership, the room's power levels)
say when the bot is removed from a group or its rights there change: a ``bot_rights_changed``
event. The engine (:func:`apply`, in the batch's transaction, before the features) keeps it on
the group (``groups.bot_in_chat``, ``bot_status``, ``bot_rights``, ``bot_changed_at``) and:

- the bot removed (kicked, banned, or it left): one owner task "add it back", in the group's
  language; the actions still waiting for the group become dead letters saying why (the
  outbox's ``NOT_IN_GROUP``), and from then on the engine gives the features no scheduled
  work in the group and writes whatever is aimed at it straight to the dead letters (see
  ``engine/core.py`` and ``engine/outbox.py``);
- the bot losing a right groupops needs there (:data:`NEEDED`): one owner task naming the
  rights and what stops working;
- the bot back in the group, or its rights given back: no task; the open tasks of this kind
  for the group that are answered now are closed as done, with the reason.

Nothing here asks the platform: a group the platform never said anything about is taken as
the bot being there with the rights it needs, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, Emitted, GroupInfo, Incoming
from groupops.engine.deadletters import NOT_IN_GROUP
from groupops.engine.directory import Directory
from groupops.engine.outbox import write_actions
from groupops.i18n import N_, Catalogs
from groupops.platforms.base import Capabilities, RateLimits
from groupops.storage.tables import groups, outbox, owner_tasks

#: ``owner_tasks.feature`` of the tasks made here (``tasks list`` shows it)
BOT_TASKS = "bot"
#: ``Action.data["bot"]`` of those tasks: what they ask for
REMOVED, RIGHTS = "removed", "rights"

#: the rights groupops needs in a group, by Telegram's names (Matrix's events use them too):
#: what the bot cannot do without it, and what stops working
NEEDED: dict[str, tuple[str, str]] = {
    "can_delete_messages": (
        N_("delete messages"),
        N_("moderation cannot remove ads and spam"),
    ),
    "can_restrict_members": (
        N_("restrict members"),
        N_("moderation and the join gate cannot mute, remove or ban anyone"),
    ),
    "can_invite_users": (
        N_("invite users"),
        N_("join requests cannot be approved and no invite link can be made"),
    ),
}
#: a right a plain member has unless it is taken from them (Telegram: a restricted bot)
SEND = "can_send_messages"
SEND_WORDS = (
    N_("send messages"),
    N_("nothing groupops posts reaches the group (welcomes, replies, rankings)"),
)
#: the status of a group's owner: every right, and the platform names none
OWNER = "creator"

REMOVED_BY = N_(
    "The bot was removed from group {group} by {who}: nothing is sent or done there any more."
    " Add the bot back to the group (as an administrator), or dismiss this task if the group"
    " is no longer run."
)
REMOVED_NO_ONE = N_(
    "The bot was removed from group {group}: nothing is sent or done there any more. Add the"
    " bot back to the group (as an administrator), or dismiss this task if the group is no"
    " longer run."
)
BANNED_BY = N_(
    "The bot was banned from group {group} by {who}: nothing is sent or done there any more."
    " Unban the bot and add it back (as an administrator), or dismiss this task if the group"
    " is no longer run."
)
LEFT = N_(
    "The bot left group {group}: nothing is sent or done there any more. Add the bot back to"
    " the group (as an administrator), or dismiss this task if the group is no longer run."
)
LACKS_BY = N_(
    "In group {group} the bot may no longer {rights} (changed by {who}): {effects}. Give the"
    " bot these rights again (Telegram: make it an administrator with them; Matrix: raise its"
    " power level)."
)
LACKS = N_(
    "In group {group} the bot may not {rights}: {effects}. Give the bot these rights"
    " (Telegram: make it an administrator with them; Matrix: raise its power level)."
)
#: the bot in a group as ``groupops groups`` says it (:func:`state_words`)
STATE_REMOVED = N_("bot removed")
STATE_BANNED = N_("bot banned")
STATE_CANNOT = N_("cannot {rights}")
STATE_OK = N_("ok")
#: how the rights and the effects are listed, one more at a time
RIGHTS_LIST = N_("{first}, {next}")
EFFECTS_LIST = N_("{first}; {next}")
#: why a task made here was closed by groupops (``owner_tasks.reason``)
BACK = N_("closed by groupops: the bot is back in the group")
RIGHTS_BACK = N_("closed by groupops: the bot has these rights again")

_TASKS_ONLY = Capabilities("bot", frozenset(), RateLimits())


def missing_rights(status: str, rights: Mapping[str, Any] | None) -> list[str]:
    """The rights groupops needs that a bot with ``status`` and ``rights`` (as the platform
    said them) lacks, in :data:`NEEDED`'s order (a send right taken away first). None said
    (``rights`` None): none missing."""
    if rights is None or status == OWNER:
        return []
    lacking = [name for name in NEEDED if not rights.get(name)]
    if rights.get(SEND) is False:
        lacking.insert(0, SEND)
    return lacking


def rights_words(lacking: Sequence[str], t: Callable[[str], str]) -> tuple[str, str]:
    """What the bot may not do and what stops working, in the language of ``t``."""
    pairs = [SEND_WORDS if name == SEND else NEEDED[name] for name in lacking]
    rights, effects = t(pairs[0][0]), t(pairs[0][1])
    for right, effect in pairs[1:]:
        rights = t(RIGHTS_LIST).format(first=rights, next=t(right))
        effects = t(EFFECTS_LIST).format(first=effects, next=t(effect))
    return rights, effects


def state_words(in_chat: bool, status: str, lacking: Sequence[str], t: Callable[[str], str]) -> str:
    """The bot in a group in a few words (``groupops groups``): removed, banned, the rights it
    lacks there (``lacking``, :func:`missing_rights`), ok; "" when the platform has never said
    (taken as there, as before)."""
    if not in_chat:
        return t(STATE_BANNED if status == "banned" else STATE_REMOVED)
    if lacking:
        return t(STATE_CANNOT).format(rights=rights_words(lacking, t)[0])
    return t(STATE_OK) if status else ""


def _rights_of(data: Mapping[str, Any]) -> dict[str, bool]:
    given = data.get("rights")
    if not isinstance(given, Mapping):
        return {}
    return {str(k): v for k, v in given.items() if isinstance(v, bool)}


def apply(
    conn: Connection,
    incoming: Sequence[Incoming],
    *,
    now: datetime,
    catalogs: Catalogs,
    directory: Directory,
) -> int:
    """Keep what the batch's ``bot_rights_changed`` events say (in their order) on their
    groups, write the owner tasks they call for and close those they answer; the actions
    waiting for a group the bot has left become dead letters. A platform's event of a group
    the bot was removed from (a message, a join ...) says it is back: Matrix says nothing when
    the bot joins a room again, and neither platform tells a bot what happens in a chat it is
    not in. Returns the tasks written."""
    written = 0
    present: dict[int, bool] = {}  # as this batch has changed it (its items hold the old)
    for item in incoming:
        group = item.group
        if group is None:
            continue
        kind = item.event.kind
        if kind == EventKind.BOT_RIGHTS_CHANGED:
            written += _one(conn, item, group, now, catalogs, directory)
            present[group.id] = bool(item.event.data.get("in_chat", True))
        elif kind in SAYS_PRESENT and not present.get(group.id, group.bot_in_chat):
            present[group.id] = _seen_back(conn, item, group, now, catalogs, directory)
    return written


#: the platforms' events that only reach a bot in the chat (groupops' own, derived events and
#: ticks are not among them). Not a button press: Telegram hands a callback query to the bot
#: whose message holds the button, wherever that message is (an old welcome or gate question
#: in a group that removed the bot), and it carries no time of its own (stamped on arrival)
SAYS_PRESENT = frozenset(
    {
        EventKind.MESSAGE,
        EventKind.MESSAGE_EDITED,
        EventKind.MESSAGE_DELETED,
        EventKind.MEMBER_JOINED,
        EventKind.MEMBER_LEFT,
        EventKind.JOIN_REQUEST,
        EventKind.REACTION,
    }
)


#: the events that can say the bot is back in a group (:func:`apply`): a feature that holds
#: something while the bot is away handles these and asks :func:`back_in`
SAYS_BACK = SAYS_PRESENT | {EventKind.BOT_RIGHTS_CHANGED}


def back_in(ctx: BatchContext, batch: Sequence[Incoming]) -> dict[int, tuple[GroupInfo, Incoming]]:
    """The groups ``batch`` (a feature's share of the batch, :data:`SAYS_BACK` among its
    kinds) has brought the bot back to, by id: the group as it is now, and the first of the
    batch's events in it (the cause of what a feature does about it). :func:`apply` has
    already kept the return on the group, before the features; an event's group is as the
    engine knew it when the batch came (the bot away), the group of ``ctx.all_groups()`` as
    it is now (the bot there). The join gate gives the newcomers it held their time again."""
    found: dict[int, tuple[GroupInfo, Incoming]] = {}
    present: dict[int, GroupInfo] | None = None
    for item in batch:
        group = item.group
        if group is None or group.bot_in_chat or group.id in found:
            continue
        if item.event.kind not in SAYS_BACK:
            continue
        if present is None:
            present = {g.id: g for g in ctx.all_groups()}
        now = present.get(group.id)
        if now is not None:
            found[group.id] = (now, item)
    return found


def _seen_back(
    conn: Connection,
    item: Incoming,
    group: GroupInfo,
    now: datetime,
    catalogs: Catalogs,
    directory: Directory,
) -> bool:
    """An event of ``group``, which the bot was removed from: the bot is back if the event is
    later than the removal (then with its status unknown, "", and its rights as they were
    before). Whether it is in the chat now. One of the removal's very time says nothing:
    Telegram's times are whole seconds, and a member's message of the second the bot was
    removed in can arrive after the removal (a webhook's parallel posts, a backlog)."""
    g = groups.c
    was = conn.execute(
        select(g.bot_in_chat, g.bot_changed_at, g.language).where(g.id == group.id)
    ).one()
    if bool(was.bot_in_chat):
        return True
    if was.bot_changed_at is not None and item.event.occurred_at <= was.bot_changed_at:
        return False  # from before the removal (or its very second): says nothing about now
    directory.bot_changed(
        conn,
        group,
        {"bot_in_chat": True, "bot_status": "", "bot_changed_at": item.event.occurred_at},
    )
    t = catalogs.gettext(str(was.language or ""))
    _close(conn, group, now, t(BACK), lambda task: task.get("bot") == REMOVED)
    return True


def _one(
    conn: Connection,
    item: Incoming,
    group: GroupInfo,
    now: datetime,
    catalogs: Catalogs,
    directory: Directory,
) -> int:
    event, g = item.event, groups.c
    was = conn.execute(
        select(g.bot_in_chat, g.bot_status, g.bot_rights, g.title, g.language).where(
            g.id == group.id
        )
    ).one()
    data = event.data
    in_chat = bool(data.get("in_chat", True))
    status = str(data.get("status") or "")[:32]
    rights = _rights_of(data)
    values: dict[str, Any] = {
        "bot_in_chat": in_chat,
        "bot_status": status,
        "bot_changed_at": event.occurred_at,
    }
    if in_chat:  # a removed bot's rights are those it had in the chat (compared on its return)
        values["bot_rights"] = rights
    directory.bot_changed(conn, group, values)
    t = catalogs.gettext(str(was.language or ""))
    title = str(was.title or group.chat_id)
    who = str(event.user_name or event.user_id or "")
    tasks: list[Action] = []
    if not in_chat:
        if bool(was.bot_in_chat):
            # Matrix says "left" only for the bot leaving on its own (removed_by otherwise);
            # on Telegram an admin removing the bot from a basic group leaves it "left" too
            on_its_own = status == "left" and group.source.split(":", 1)[0] == "matrix"
            tasks.append(_removed_task(group, status, "" if on_its_own else who, title, t))
            _dead_letter_waiting(conn, group, now)
    else:
        if not bool(was.bot_in_chat):
            _close(conn, group, now, t(BACK), lambda task: task.get("bot") == REMOVED)
        before = set(missing_rights(str(was.bot_status or ""), was.bot_rights))
        lacking = missing_rights(status, rights)
        new = [name for name in lacking if name not in before]
        if new:
            tasks.append(_rights_task(group, new, who, title, bool(was.bot_in_chat), t))
        still = set(lacking)
        _close(
            conn,
            group,
            now,
            t(RIGHTS_BACK),
            lambda task: task.get("bot") == RIGHTS and not still & set(task.get("rights") or ()),
        )
    if not tasks:
        return 0
    write_actions(
        conn,
        [Emitted(a, BOT_TASKS, item.seq, group.id) for a in tasks],
        now=now,
        capabilities_of=lambda _source: _TASKS_ONLY,
        workspace_of=lambda _item: group.workspace_id,
    )
    return len(tasks)


def _removed_task(
    group: GroupInfo, status: str, who: str, title: str, t: Callable[[str], str]
) -> Action:
    if status == "left" and not who:
        text = t(LEFT).format(group=title)
    elif not who:
        text = t(REMOVED_NO_ONE).format(group=title)
    else:
        template = BANNED_BY if status == "banned" else REMOVED_BY
        text = t(template).format(group=title, who=who)
    return Action(
        ActionKind.OWNER_TASK,
        group.source,
        group.chat_id,
        text=text,
        data={"bot": REMOVED, "status": status},
    )


def _rights_task(
    group: GroupInfo,
    lacking: list[str],
    who: str,
    title: str,
    changed: bool,
    t: Callable[[str], str],
) -> Action:
    rights, effects = rights_words(lacking, t)
    if changed and who:
        text = t(LACKS_BY).format(group=title, rights=rights, effects=effects, who=who)
    else:
        text = t(LACKS).format(group=title, rights=rights, effects=effects)
    return Action(
        ActionKind.OWNER_TASK,
        group.source,
        group.chat_id,
        text=text,
        data={"bot": RIGHTS, "rights": lacking},
    )


def _close(
    conn: Connection,
    group: GroupInfo,
    now: datetime,
    reason: str,
    answered: Callable[[Mapping[str, Any]], bool],
) -> None:
    """Close as done the open tasks of this module in ``group`` that ``answered`` says the
    change answers (it is given the task's action data)."""
    t = owner_tasks.c
    found = conn.execute(
        select(t.id, t.action).where(
            t.group_id == group.id, t.feature == BOT_TASKS, t.status == "open"
        )
    ).all()
    ids = []
    for task_id, action in found:
        data = action.get("data") if isinstance(action, Mapping) else None
        if isinstance(data, Mapping) and answered(data):
            ids.append(int(task_id))
    if ids:
        conn.execute(
            update(owner_tasks)
            .where(t.id.in_(ids), t.status == "open")
            .values(status="done", done_at=now, reason=reason)
        )


def _dead_letter_waiting(conn: Connection, group: GroupInfo, now: datetime) -> None:
    """The actions still waiting for ``group`` (or claimed by a deliverer that has let its
    claim lapse) become dead letters saying the bot is not in the group: the platform would
    refuse each, again and again. ``outbox retry`` sends them once the bot is back. Private
    messages stay queued: a private chat does not need the group (as engine.outbox lets them
    through)."""
    o = outbox.c
    conn.execute(
        update(outbox)
        .where(
            o.source == group.source,
            o.chat_id == group.chat_id,
            o.kind != ActionKind.DIRECT_MESSAGE.value,
            or_(o.status == "pending", and_(o.status == "sending", o.claimed_until < now)),
        )
        .values(status="dead", claimed_until=None, last_error=NOT_IN_GROUP)
    )
