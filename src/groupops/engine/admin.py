"""What operators do to the engine's state apart from settings: find and list groups and
members (CLI and web are thin), owner tasks, and forgetting a member.

Changing settings (workspace defaults, group overrides, a group's time zone, language and
title) is in :mod:`groupops.engine.settings_admin`, with the checks a change must pass in
:mod:`groupops.engine.settings_checks`; reading and showing them in
:mod:`groupops.engine.settings_read`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Table, func, insert, select, update

from groupops.domain.errors import Conflict, InvalidOption, NotFound
from groupops.features.registry import FeatureRegistry
from groupops.i18n import N_
from groupops.storage.db import LARGEST_ID
from groupops.storage.tables import (
    groups,
    identities,
    members,
    memberships,
    owner_tasks,
    workspaces,
)


@dataclass(frozen=True)
class GroupRef:
    id: int
    workspace_id: int
    source: str
    chat_id: str
    title: str
    timezone: str = "Asia/Shanghai"


def find_group(db: Engine, ref: str) -> GroupRef:
    """A group by numeric id or by ``source:chat_id``."""
    with db.connect() as conn:
        found = group_in(conn, ref)
        conn.rollback()
    return found


def group_in(conn: Connection, ref: str) -> GroupRef:
    q = select(
        groups.c.id,
        groups.c.workspace_id,
        groups.c.source,
        groups.c.chat_id,
        groups.c.title,
        groups.c.timezone,
    )
    if ref.isascii() and ref.isdigit():  # "²" is a digit too, but no number
        if int(ref) > LARGEST_ID:  # no such id, and SQLite's driver could not even send it
            raise NotFound(N_("no group {ref!r}"), where=N_("group"), ref=ref)
        q = q.where(groups.c.id == int(ref))
    else:
        source, sep, chat = ref.rpartition(":")
        if not sep:
            raise NotFound(
                N_("no group {ref!r}: give its id or source:chat_id"), where=N_("group"), ref=ref
            )
        q = q.where(groups.c.source == source, groups.c.chat_id == chat)
    row = conn.execute(q).first()
    if row is None:
        raise NotFound(N_("no group {ref!r}"), where=N_("group"), ref=ref)
    return GroupRef(
        int(row.id), int(row.workspace_id), row.source, row.chat_id, row.title, row.timezone
    )


def list_groups(db: Engine) -> list[dict[str, Any]]:
    """Every group with its active members and the bot there as the platform last said
    (``bot_in_chat``, ``bot_status``, ``bot_missing``: the rights groupops needs that it
    lacks, ``bot_changed_at``; see engine/bot.py)."""
    from groupops.engine.bot import missing_rights

    active = (
        select(memberships.c.group_id, func.count().label("n"))
        .where(memberships.c.status == "active")
        .group_by(memberships.c.group_id)
        .subquery()
    )
    q = (
        select(
            groups.c.id,
            workspaces.c.slug.label("workspace"),
            groups.c.source,
            groups.c.chat_id,
            groups.c.title,
            groups.c.timezone,
            groups.c.language,
            func.coalesce(active.c.n, 0).label("members"),
            groups.c.bot_in_chat,
            groups.c.bot_status,
            groups.c.bot_rights,
            groups.c.bot_changed_at,
        )
        .join(workspaces, workspaces.c.id == groups.c.workspace_id)
        .outerjoin(active, active.c.group_id == groups.c.id)
        .order_by(groups.c.id)
    )
    with db.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
        conn.rollback()
    for row in rows:
        row["bot_in_chat"] = bool(row["bot_in_chat"])
        rights = row.pop("bot_rights")
        row["bot_missing"] = missing_rights(row["bot_status"], rights) if row["bot_in_chat"] else []
    return rows


def list_members(
    db: Engine, group_ref: str | None = None, limit: int = 100, status: str | None = None
) -> list[dict[str, Any]]:
    """Memberships with their member (one row per member and group), by group then member:
    of one group (``group_ref``), with one ``status`` (active, left, kicked, banned), the first
    ``limit`` of them (:func:`count_members` says how many there are in all)."""
    q = (
        select(
            members.c.id,
            members.c.display_name,
            identities.c.source,
            identities.c.user_id,
            memberships.c.group_id,
            memberships.c.status,
            memberships.c.joined_at,
            memberships.c.introduced_at,
            memberships.c.is_admin,
        )
        .join(identities, identities.c.member_id == members.c.id)
        .join(memberships, memberships.c.member_id == members.c.id)
        .order_by(memberships.c.group_id, members.c.id)
        .limit(limit)
    )
    with db.connect() as conn:
        q = q.where(*_membership_filters(conn, group_ref, status))
        rows = [dict(r._mapping) for r in conn.execute(q)]
        conn.rollback()
    return rows


def count_members(db: Engine, group_ref: str | None = None, status: str | None = None) -> int:
    """How many rows :func:`list_members` has for the same group and status, without a limit."""
    q = (
        select(func.count())
        .select_from(members)
        .join(identities, identities.c.member_id == members.c.id)
        .join(memberships, memberships.c.member_id == members.c.id)
    )
    with db.connect() as conn:
        total = conn.execute(q.where(*_membership_filters(conn, group_ref, status))).scalar()
        conn.rollback()
    return int(total or 0)


def count_rows(db: Engine, table: Table, **equal: Any) -> int:
    """How many rows of ``table`` have these column values (a None value filters nothing):
    the total a listing cut at its ``--limit`` shows a part of."""
    q = select(func.count()).select_from(table)
    q = q.where(*(table.c[name] == value for name, value in equal.items() if value is not None))
    with db.connect() as conn:
        total = conn.execute(q).scalar()
        conn.rollback()
    return int(total or 0)


def _membership_filters(
    conn: Connection, group_ref: str | None, status: str | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if group_ref is not None:
        where.append(memberships.c.group_id == group_in(conn, group_ref).id)
    if status is not None:
        where.append(memberships.c.status == status)
    return where


def list_owner_tasks(db: Engine, status: str = "open") -> list[dict[str, Any]]:
    with db.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(owner_tasks).where(owner_tasks.c.status == status).order_by(owner_tasks.c.id)
            )
        ]
        conn.rollback()
    return rows


def complete_owner_task(db: Engine, task_id: int, now: datetime) -> None:
    with db.begin() as conn:
        res = conn.execute(
            update(owner_tasks)
            .where(owner_tasks.c.id == task_id, owner_tasks.c.status == "open")
            .values(status="done", done_at=now)
        )
        if not res.rowcount:
            raise NotFound(N_("no open owner task {id}"), where=N_("owner task"), id=task_id)


#: why an owner task that is no longer open cannot be dismissed, by its status
NOT_OPEN = {
    "done": N_("owner task {id} is already done: only an open task can be dismissed"),
    "dismissed": N_("owner task {id} is already dismissed"),
}


#: the longest reason a dismissed task keeps, in characters
REASON_CHARS = 500


def dismiss_owner_task(db: Engine, task_id: int, now: datetime, reason: str | None = None) -> None:
    """Close open owner task ``task_id`` without doing it (status ``dismissed``, ``done_at``
    the time it was closed), keeping why (``reason``, at most :data:`REASON_CHARS`
    characters; None: none given). Raises ``InvalidOption`` for a blank or too long reason,
    ``NotFound`` for no such task, ``Conflict`` for a task that is done or dismissed
    already; nothing is changed then."""
    if reason is not None:
        reason = reason.strip()
        if not reason:
            raise InvalidOption(
                N_("the reason is empty: say why, or leave --reason out"), where="--reason"
            )
        if len(reason) > REASON_CHARS:
            raise InvalidOption(
                N_("the reason is {length} characters long: at most {most}"),
                where="--reason",
                length=len(reason),
                most=REASON_CHARS,
            )
    with db.begin() as conn:
        res = conn.execute(
            update(owner_tasks)
            .where(owner_tasks.c.id == task_id, owner_tasks.c.status == "open")
            .values(status="dismissed", done_at=now, reason=reason)
        )
        if res.rowcount:
            return
        status = conn.execute(
            select(owner_tasks.c.status).where(owner_tasks.c.id == task_id)
        ).scalar()
    if status is None:
        raise NotFound(N_("no owner task {id}"), where=N_("owner task"), id=task_id)
    said = NOT_OPEN.get(
        str(status), N_("owner task {id} is {status}: only an open task can be dismissed")
    )
    raise Conflict(said, where=N_("owner task"), id=task_id, status=status)


def member_name(db: Engine, member_id: int) -> str:
    """The display name of member ``member_id`` (``forget`` asks naming them); the same
    ``not_found`` as :func:`forget_member` when there is no such member."""
    with db.connect() as conn:
        row = conn.execute(select(members.c.display_name).where(members.c.id == member_id)).first()
        conn.rollback()
    if row is None:
        raise NotFound(N_("no member {id}"), where=N_("member"), id=member_id)
    return str(row.display_name or "")


def forget_member(
    db: Engine, registry: FeatureRegistry, member_id: int, now: datetime | None = None
) -> dict[str, int]:
    """Delete what groupops keeps about one member: every feature's data (its hook), their
    memberships and identities, and the text and names of their events (the events stay, without
    content or person, so group totals do not change). One transaction: all or nothing. A
    running engine (another process) drops what it holds of them at its next batch
    (``forgotten_members``)."""
    from sqlalchemy import delete

    from groupops.storage.tables import events, forgotten_members

    with db.begin() as conn:
        if conn.execute(select(members.c.id).where(members.c.id == member_id)).first() is None:
            raise NotFound(N_("no member {id}"), where=N_("member"), id=member_id)
        for feature in registry.features:
            feature.delete_member_data(conn, member_id)
        _forget_actions_and_sandbox(conn, member_id)
        scrubbed = conn.execute(
            update(events)
            .where(events.c.member_id == member_id)
            .values(text="", payload={}, user_id="", member_id=None)
        ).rowcount
        conn.execute(
            update(memberships)
            .where(memberships.c.inviter_member_id == member_id)
            .values(inviter_member_id=None)
        )
        left = conn.execute(
            delete(memberships).where(memberships.c.member_id == member_id)
        ).rowcount
        conn.execute(delete(identities).where(identities.c.member_id == member_id))
        conn.execute(delete(members).where(members.c.id == member_id))
        conn.execute(
            insert(forgotten_members).values(
                member_id=member_id, forgotten_at=now or datetime.now(UTC)
            )
        )
    return {"events_scrubbed": int(scrubbed or 0), "memberships_removed": int(left or 0)}


def _forget_actions_and_sandbox(conn: Connection, member_id: int) -> None:
    """For forget_member: the bot's actions about the member (outbox rows, delivered or not,
    and owner tasks) and what the sandbox platform keeps of them. Run before their identities
    and events are scrubbed: those say who they were (user ids, names, the events that caused
    actions)."""
    from groupops.engine.outbox import remove_actions_about
    from groupops.platforms.sandbox.forget import forget_person
    from groupops.storage.tables import events

    people = [
        (str(source), str(user_id))
        for source, user_id in conn.execute(
            select(identities.c.source, identities.c.user_id).where(
                identities.c.member_id == member_id
            )
        )
    ]
    theirs = events.c.member_id == member_id
    removed = remove_actions_about(conn, people, select(events.c.seq).where(theirs))
    # the deliverer's idempotency key of each removed action: the sandbox's delivery of it
    forget_person(conn, people, [f"outbox:{oid}" for oid in removed])
