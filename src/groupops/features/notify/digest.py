"""Owner tasks told to the people who do them, in a private message from the bot.

At each tick the open owner tasks not told yet are read (those written by the batches since:
a platform that cannot kick, the bot removed from a group, a group found dying ...), and each
person the settings of a task's group name (``notify.to``) gets one private message listing
the tasks for them: one task said whole, several as a numbered list (the first
:data:`LISTED`, then how many more), each in the reader's language (``language``, else the
group's) as ``groupops tasks list`` says it. A person is written to at most once every
``every_minutes``: the tasks made meanwhile wait for the next message.

What each person was told is kept as a feature mark (``feature_marks``, feature ``notify``,
group 0): ``to:<key>:<task id>``, the newest task they were told of, with the time of that
message (``<key>``: a short hash of the platform connection and the user id, which may be
longer than a mark can hold). It is written in the batch that queues the message, so a
restart or a second tick never tells twice. A person named for the first time is told of
every task still open for them.

No loops, no noise in groups: the message is private only (``private_only``: a person the
platform will not reach privately, never having started the bot say, is a dead letter, never a
post in the group), nothing is sent through a platform that cannot send private messages
(there it would become an owner task itself), and a task this feature wrote is never told."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, insert, select

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import GroupopsError
from groupops.domain.text import one_line
from groupops.domain.time import zone
from groupops.engine.context import BatchContext, GroupInfo, Named
from groupops.features.base import tick_settings
from groupops.features.notify.pressed import buttons
from groupops.features.notify.settings import NotifySettings
from groupops.features.notify.whom import group_of, groups_of, key_of, language_of, people_of
from groupops.i18n import N_
from groupops.storage.tables import feature_marks, groups, identities, memberships, owner_tasks
from groupops.stored_texts import task_text

#: the tasks one message lists (then: "and N more")
LISTED = 10
#: the most tasks one tick reads
READ_LIMIT = 2000
#: ``Action.data`` key of the message: the ids of the tasks it tells
DATA_KEY = "notify_tasks"
TO = "to:"
#: ``rem:<key>:<local day>``: the day a person was last reminded of their open tasks
REMINDED = "rem:"
#: the group id of this feature's marks (they are a person's, of no group)
NO_GROUP = 0
#: the time in the mark of a person never written to
NEVER = datetime(2000, 1, 1, tzinfo=UTC)

ONE = N_("📋 A task for you in {group} (#{id}): {text}")
MANY = N_("📋 {count} tasks for you:")
#: the day's reminder of the tasks told before and still open (``remind_hour``)
STILL_ONE = N_("⏰ Still open: a task for you in {group} (#{id}): {text}")
STILL_MANY = N_("⏰ Still open: {count} tasks for you:")
LINE = N_("{n}. {group} (#{id}): {text}")
MORE = N_("… and {count} more.")
HOW_ONE = N_(
    "When it is done: `groupops tasks done {id}`; not needed: `groupops tasks dismiss {id}`."
)
HOW_MANY = N_("All of them: `groupops tasks list`.")

_t, _m = owner_tasks.c, feature_marks.c


@dataclass(slots=True)
class _Person:
    """One person to tell (a user on one platform connection), and what is for them."""

    source: str
    user: str
    settings: NotifySettings
    group: GroupInfo | None
    tasks: list[Any] = field(default_factory=list)


def tell(ctx: BatchContext, feature: Named, now: datetime) -> int:
    """At a tick: tell every person named the open tasks for them not told yet (as the module
    says). Returns the messages queued."""
    present = ctx.all_groups()
    anyone, named = _named(ctx, feature, present)
    if not anyone:
        return 0
    marks: dict[str, tuple[int, datetime, str]] = {}
    reminded: dict[str, str] = {}  # key -> its rem: mark (the local day of the last reminder)
    for mark, at in ctx.conn.execute(
        select(_m.mark, _m.created_at).where(_m.feature == feature.name, _m.group_id == NO_GROUP)
    ):
        kind, _, rest = str(mark).partition(":")
        key, _, last = rest.partition(":")
        if kind + ":" == TO:
            marks[key] = (int(last or 0), at, str(mark))
        elif kind + ":" == REMINDED:
            reminded[key] = str(mark)
    _remind(ctx, feature, now, present, marks, reminded)
    floor = min((marks[k][0] if k in marks else 0 for k in named), default=0)
    rows, infos = _open_tasks(ctx, feature, after=floor)
    if not rows:
        return 0
    people: dict[str, _Person] = {}
    for row, key, user, s, group in people_of(ctx, feature, rows, infos):
        if key in marks and row.id <= marks[key][0]:
            continue
        person = people.get(key)
        if person is None:
            person = people[key] = _Person(str(row.source), user, s, group)
        person.tasks.append(row)
    sent = 0
    for key, person in people.items():
        told = marks.get(key)
        wait = timedelta(minutes=person.settings.every_minutes)
        if told is not None and now - told[1] < wait:
            continue  # written to lately: these wait for the next message
        if ctx.capabilities(person.source).can(ActionKind.DIRECT_MESSAGE):
            _send(ctx, person, infos)
            sent += 1
        _remark(ctx, feature, key, told, max(int(r.id) for r in person.tasks), now)
    # the people named with nothing for them move past what was read, so that the next
    # ticks do not read it again (the time of their last message stays)
    newest = int(rows[-1].id)
    for key in named - people.keys():
        told = marks.get(key)
        if told is None or told[0] < newest:
            _remark(ctx, feature, key, told, newest, told[1] if told is not None else NEVER)
    return sent


def _remind(
    ctx: BatchContext,
    feature: Named,
    now: datetime,
    present: Iterable[GroupInfo],
    marks: Mapping[str, tuple[int, datetime, str]],
    reminded: Mapping[str, str],
) -> None:
    """The day's reminders: each person named by a group with ``remind_hour``, from that
    hour in the group's zone and once a local day, gets one message listing the tasks they
    were told of (up to their mark) that are still open and older than the day (made before
    its midnight: a task of this morning is not "still" open); a person with none gets
    nothing. The first group (by id) naming a person gives the hour, zone and language."""
    due: dict[str, tuple[_Person, str, datetime]] = {}
    for group in present:
        s = tick_settings(ctx, feature, group, NotifySettings)
        if s is None or s.remind_hour is None:
            continue
        try:
            local = now.astimezone(zone(group.timezone))
        except GroupopsError:
            continue
        for user in s.recipients(group.source):
            key = key_of(group.source, user)
            if key in due or key not in marks:
                continue  # told of nothing yet: nothing to remind of
            day = local.date().isoformat()
            if local.hour >= s.remind_hour and reminded.get(key) != f"{REMINDED}{key}:{day}":
                midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
                due[key] = (_Person(group.source, user, s, group), day, midnight)
    if not due:
        return
    rows, infos = _open_tasks(ctx, feature)
    for row, key, _user, _s, _group in people_of(ctx, feature, rows, infos):
        if key in due and row.id <= marks[key][0] and row.created_at < due[key][2]:
            due[key][0].tasks.append(row)
    for key, (person, day, _) in due.items():
        if person.tasks and ctx.capabilities(person.source).can(ActionKind.DIRECT_MESSAGE):
            _send(ctx, person, infos, still=True)
        _replace_mark(ctx, feature, reminded.get(key), f"{REMINDED}{key}:{day}", now)


def _remark(
    ctx: BatchContext,
    feature: Named,
    key: str,
    old: tuple[int, datetime, str] | None,
    task_id: int,
    at: datetime,
) -> None:
    """Person ``key`` told up to task ``task_id``, last written to at ``at`` (their mark, in
    place of ``old``)."""
    _replace_mark(ctx, feature, old[2] if old is not None else None, f"{TO}{key}:{task_id}", at)


def _replace_mark(
    ctx: BatchContext, feature: Named, old: str | None, new: str, at: datetime
) -> None:
    """One of this feature's marks (``old``, if any) replaced by ``new``, made at ``at``."""
    if old is not None:
        ctx.conn.execute(
            delete(feature_marks).where(
                _m.feature == feature.name, _m.group_id == NO_GROUP, _m.mark == old
            )
        )
    ctx.conn.execute(
        insert(feature_marks).values(
            feature=feature.name, group_id=NO_GROUP, mark=new, created_at=at
        )
    )


def _named(
    ctx: BatchContext, feature: Named, present: Iterable[GroupInfo]
) -> tuple[bool, set[str]]:
    """Whether any group the bot is in names someone to tell, itself or through its
    workspace's defaults (the ticks of a workspace that tells nobody read no task), and the
    keys of the people they name for their own platforms (a person named only by a group the
    bot left is found through that group's tasks: read from the oldest mark)."""
    anyone, named = False, set[str]()
    for group in present:
        s = tick_settings(ctx, feature, group, NotifySettings)  # the workspace's, or its own
        if s is not None:
            anyone = anyone or (s.enabled and bool(s.to))
            named.update(key_of(group.source, user) for user in s.recipients(group.source))
    return anyone, named


def _open_tasks(
    ctx: BatchContext, feature: Named, *, after: int = 0
) -> tuple[Sequence[Any], dict[int, GroupInfo]]:
    """The open tasks newer than task ``after`` (at most :data:`READ_LIMIT`, oldest first;
    never this feature's own), and their groups."""
    rows = ctx.conn.execute(
        select(owner_tasks)
        .where(_t.id > after, _t.status == "open", _t.feature != feature.name)
        .order_by(_t.id)
        .limit(READ_LIMIT)
    ).all()
    return rows, groups_of(ctx, {int(r.group_id) for r in rows if r.group_id is not None})


def _send(
    ctx: BatchContext, person: _Person, infos: Mapping[int, GroupInfo], *, still: bool = False
) -> None:
    """Queue the private message telling ``person`` their tasks (``still``: the day's
    reminder of those told before and still open)."""
    tasks = person.tasks
    first = tasks[0]
    group = person.group
    t = ctx.catalogs.gettext(language_of(person.settings, group))

    def where(row: Any) -> str:
        info = group_of(infos, row)
        return (info.title if info is not None else "") or f"{row.source}:{row.chat_id}"

    def said(row: Any, limit: int) -> str:
        text = task_text({"action": row.action, "text": row.text}, t)
        return one_line(text, limit)

    if len(tasks) == 1:
        lines = [
            t(STILL_ONE if still else ONE).format(
                group=where(first), id=first.id, text=said(first, 1500)
            ),
            t(HOW_ONE).format(id=first.id),
        ]
    else:
        lines = [t(STILL_MANY if still else MANY).format(count=len(tasks))]
        lines += [
            t(LINE).format(n=n, group=where(row), id=row.id, text=said(row, 300))
            for n, row in enumerate(tasks[:LISTED], 1)
        ]
        if len(tasks) > LISTED:
            lines.append(t(MORE).format(count=len(tasks) - LISTED))
        lines.append(t(HOW_MANY))
    chat = _chat_for(ctx, person, [str(r.chat_id) for r in tasks])
    ids = [int(r.id) for r in tasks]
    data: dict[str, Any] = {"private_only": True, DATA_KEY: ids}
    if ctx.capabilities(person.source).buttons:  # close a task from here (pressed.py)
        data["buttons"] = buttons(ids[:LISTED], t)
    action = Action(
        ActionKind.DIRECT_MESSAGE,
        person.source,
        chat,
        user_id=person.user,
        text="\n".join(lines),
        data=data,
    )
    if group is not None:
        ctx.emit_for_group(action, group)
    else:
        ctx.emit(action)


def _chat_for(ctx: BatchContext, person: _Person, chats: Sequence[str]) -> str:
    """The chat a private message to ``person`` goes through: a platform's private chat needs
    none (Telegram, Matrix), but the sandbox's private lines are in a chat the person is in:
    one of the tasks' chats they are in, else any chat of the connection they are in, else
    the first task's."""
    g, i, ms = groups.c, identities.c, memberships.c
    theirs = [
        str(c)
        for c in ctx.conn.execute(
            select(g.chat_id)
            .join(memberships, ms.group_id == g.id)
            .join(identities, and_(i.member_id == ms.member_id, i.source == g.source))
            .where(g.source == person.source, i.user_id == person.user, ms.status == "active")
            .order_by(g.id)
        ).scalars()
    ]
    return next((c for c in chats if c in theirs), theirs[0] if theirs else chats[0])


__all__ = ["DATA_KEY", "tell"]
