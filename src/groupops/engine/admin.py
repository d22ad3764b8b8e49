"""What operators do to the engine's state: one named function per change (CLI and web are thin).

Settings: a workspace holds defaults per feature, a group overrides them key by key; every
change is validated against the feature's settings model before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, func, insert, select, update

from groupops.domain.errors import InvalidSettings, NotFound
from groupops.domain.time import zone
from groupops.features.registry import FeatureRegistry, SettingsRefused
from groupops.i18n import LANGUAGES, N_
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
    if ref.isdigit():
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
        )
        .join(workspaces, workspaces.c.id == groups.c.workspace_id)
        .outerjoin(active, active.c.group_id == groups.c.id)
        .order_by(groups.c.id)
    )
    with db.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
        conn.rollback()
    return rows


def list_members(
    db: Engine, group_ref: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
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
        if group_ref is not None:
            q = q.where(memberships.c.group_id == group_in(conn, group_ref).id)
        rows = [dict(r._mapping) for r in conn.execute(q)]
        conn.rollback()
    return rows


def parse_value(raw: str) -> Any:
    """A setting's value from the command line: JSON when it parses, else the plain text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _validated(registry: FeatureRegistry, feature: str, values: dict[str, Any], where: str) -> None:
    model = registry.by_name.get(feature)
    if model is None:
        known = ", ".join(registry.by_name)
        raise InvalidSettings(
            N_("no feature {feature!r} (known: {known})"), where=where, feature=feature, known=known
        )
    try:
        model.settings_model.model_validate(values)
    except ValidationError as exc:
        raise SettingsRefused(exc, default=feature, where=where) from None


def _known_setting(registry: FeatureRegistry, feature: str, key: str, where: str) -> None:
    """Refuse a setting the feature does not have, naming the ones it has (before validation,
    which would only say "Extra inputs are not permitted")."""
    model = registry.by_name.get(feature)
    if model is None:
        return  # _validated names the features
    fields = model.settings_model.model_fields
    if key not in fields:
        raise InvalidSettings(
            N_("no setting {name!r} in {feature} (known: {known})"),
            where=where,
            name=key,
            feature=feature,
            known=", ".join(fields),
        )


def set_setting(
    db: Engine,
    registry: FeatureRegistry,
    *,
    feature: str,
    key: str,
    value: Any,
    group_ref: str | None = None,
    workspace: str | None = None,
) -> dict[str, Any]:
    """Set one feature setting for a group (or the default of ``workspace``, "default" when
    None). Returns the group's (or workspace's) effective settings of that feature. Nothing is
    written when invalid. A ``workspace`` named with a group must exist and hold it."""
    with db.begin() as conn:

        def workspace_row(slug: str) -> Any:
            found = conn.execute(select(workspaces).where(workspaces.c.slug == slug)).first()
            if found is None:
                raise NotFound(N_("no workspace {slug!r}"), where=N_("workspace"), slug=slug)
            return found

        if group_ref is not None:
            g = group_in(conn, group_ref)
            if workspace is not None and workspace_row(workspace).id != g.workspace_id:
                raise InvalidSettings(
                    N_("group {group} is not in workspace {workspace!r}"),
                    where=N_("workspace"),
                    group=group_ref,
                    workspace=workspace,
                )
            row = conn.execute(
                select(groups.c.settings, workspaces.c.settings.label("ws"))
                .join(workspaces, workspaces.c.id == groups.c.workspace_id)
                .where(groups.c.id == g.id)
            ).one()
            own = dict(row.settings or {})
            base = dict((row.ws or {}).get(feature, {}))
            where = f"group {g.id} {feature}.{key}"
        else:
            workspace = workspace or "default"
            ws = workspace_row(workspace)
            own = dict(ws.settings or {})
            base = {}
            where = f"workspace {workspace} {feature}.{key}"
        _known_setting(registry, feature, key, where)
        section = dict(own.get(feature, {}))
        section[key] = value
        effective = {**base, **section}
        _validated(registry, feature, effective, where)
        own[feature] = section
        if group_ref is not None:
            conn.execute(update(groups).where(groups.c.id == g.id).values(settings=own))
        else:
            conn.execute(update(workspaces).where(workspaces.c.id == ws.id).values(settings=own))
    return effective


def set_group_profile(
    db: Engine,
    group_ref: str,
    *,
    timezone: str | None = None,
    language: str | None = None,
    title: str | None = None,
) -> None:
    values: dict[str, Any] = {}
    if timezone is not None:
        zone(timezone)  # raises InvalidSettings naming the zone
        values["timezone"] = timezone
    if language is not None:
        if language not in LANGUAGES:
            raise InvalidSettings(
                N_("language must be one of {languages}"),
                where=N_("language"),
                languages=", ".join(LANGUAGES),
            )
        values["language"] = language
    if title is not None:
        if not title.strip():
            raise InvalidSettings(
                N_("a group's title cannot be empty: give its name"), where=N_("title")
            )
        values["title"] = title[:255]
    with db.begin() as conn:
        g = group_in(conn, group_ref)
        if values:
            conn.execute(update(groups).where(groups.c.id == g.id).values(**values))


def effective_settings(db: Engine, registry: FeatureRegistry, group_ref: str) -> dict[str, Any]:
    with db.connect() as conn:
        g = group_in(conn, group_ref)
        row = conn.execute(
            select(groups.c.settings, workspaces.c.settings.label("ws"))
            .join(workspaces, workspaces.c.id == groups.c.workspace_id)
            .where(groups.c.id == g.id)
        ).one()
        conn.rollback()
    out: dict[str, Any] = {}
    for name, feature in registry.by_name.items():
        merged = {**(row.ws or {}).get(name, {}), **(row.settings or {}).get(name, {})}
        out[name] = feature.settings_model.model_validate(merged).model_dump()
    return out


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
