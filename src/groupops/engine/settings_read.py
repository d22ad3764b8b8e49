"""Feature settings as they are read and shown (``settings show``, the web console): a
group's effective settings (its workspace's defaults under its own values, each feature's
validated as the engine reads them), a workspace's defaults, what is stored there itself, and
what is wrong there (settings that do not validate, a column that is not JSON, a command
keyword in two lists). Changing them is :mod:`groupops.engine.settings_admin`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, Text, select, type_coerce

from groupops.domain.errors import InvalidSettings, NotFound
from groupops.engine.admin import GroupRef, group_in
from groupops.features.base import FeatureSettings
from groupops.features.registry import (
    FeatureRegistry,
    Place,
    SettingError,
    SettingsRefused,
    command_word_fields,
)
from groupops.i18n import N_
from groupops.storage.tables import groups, workspaces

#: the workspace of every group and connection not given another (engine.directory's)
DEFAULT_WORKSPACE = "default"


UNREADABLE = N_(
    "stored settings are not valid JSON ({reason}): they are read as none here, and"
    " `settings set` stores new ones in their place"
)


def stored_settings(raw: Any, where: str) -> tuple[dict[str, Any], SettingError | None]:
    """A settings column as read (its text on SQLite, already parsed on PostgreSQL): the
    settings, or none and why when it is not a JSON object of objects (hand-edited, say)."""
    reason: str | None = None
    try:
        value = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError as exc:
        reason, value = str(exc), {}
    if value is None:
        value = {}
    if reason is None and not (
        isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
    ):
        reason, value = "not an object of objects", {}
    problem = None if reason is None else SettingError(UNREADABLE, where=where, reason=reason)
    return dict(value), problem


def settings_rows(conn: Connection, group_id: int) -> Any:
    """A group's own settings and its workspace's, as stored (unparsed: see stored_settings)."""
    return conn.execute(
        select(
            type_coerce(groups.c.settings, Text).label("settings"),
            type_coerce(workspaces.c.settings, Text).label("ws"),
            workspaces.c.slug,
        )
        .join(workspaces, workspaces.c.id == groups.c.workspace_id)
        .where(groups.c.id == group_id)
    ).one()


def group_settings(
    registry: FeatureRegistry,
    workspace_part: dict[str, Any],
    group_part: dict[str, Any],
    group_id: int | None = None,
    place: Place | None = None,
) -> tuple[dict[str, FeatureSettings], dict[str, SettingsRefused]]:
    """A group's effective settings of every feature (the workspace's defaults merged with
    the group's own, validated as the engine reads them), and the features whose stored
    settings do not validate, with why (the engine leaves those off in the group). ``place``
    says where they are stored when not a group (``workspace default``)."""
    valid: dict[str, FeatureSettings] = {}
    invalid: dict[str, SettingsRefused] = {}
    if place is None and group_id is not None:
        place = Place(N_("group {group}"), group=group_id)
    for name, feature in registry.by_name.items():
        merged = {**workspace_part.get(name, {}), **group_part.get(name, {})}
        try:
            valid[name] = feature.settings_model.model_validate(merged)
        except ValidationError as exc:
            where = name if place is None else Place(place.template, name, **place.params)
            invalid[name] = SettingsRefused(exc, default=name, where=where)
    return valid, invalid


def listed_command_words(
    registry: FeatureRegistry, settings: dict[str, FeatureSettings]
) -> list[tuple[str, str]]:
    """Every command keyword of a group's (validated) settings with the setting that lists it
    (``checkin.keywords``), feature by feature."""
    out = []
    for name, feature in registry.by_name.items():
        values = settings.get(name)
        if values is None:
            continue
        for field in command_word_fields(feature.settings_model):
            out += [(word, f"{name}.{field}") for word in getattr(values, field)]
    return out


@dataclass(frozen=True)
class SettingsView:
    """A group's settings as ``settings show`` tells them: every feature's effective
    settings; for a feature whose stored settings do not validate (an older database, say),
    what is stored over the defaults, with why in ``invalid`` (the engine leaves that feature
    off in the group); and command keywords listed by two settings (``clashes``)."""

    group: GroupRef | None  # None: a workspace's defaults (:func:`workspace_view`)
    settings: dict[str, Any]
    invalid: dict[str, SettingsRefused]
    clashes: list[InvalidSettings]
    #: a settings column (the group's, its workspace's) that is not JSON, read as none
    unreadable: list[SettingError] = dataclasses.field(default_factory=list)
    #: the values stored there (the group's own, or the workspace's defaults), by feature:
    #: what ``settings show --own`` prints; the rest is inherited or built in
    own: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    #: the workspace the group belongs to (or whose defaults these are)
    workspace: str = "default"


def settings_view(db: Engine, registry: FeatureRegistry, group_ref: str) -> SettingsView:
    with db.connect() as conn:
        g = group_in(conn, group_ref)
        row = settings_rows(conn, g.id)
        conn.rollback()
    workspace_part, ws_problem = stored_settings(
        row.ws, Place(N_("workspace {workspace}"), workspace=row.slug)
    )
    group_place = Place(N_("group {group}"), group=g.id)
    group_part, group_problem = stored_settings(row.settings, group_place)
    unreadable = [p for p in (ws_problem, group_problem) if p is not None]
    valid, invalid = group_settings(registry, workspace_part, group_part, g.id)
    shown, clashes = _shown(registry, workspace_part, group_part, valid, group_place)
    return SettingsView(
        g, shown, invalid, clashes, unreadable, _by_feature(group_part), str(row.slug)
    )


def workspace_view(db: Engine, registry: FeatureRegistry, workspace: str) -> SettingsView:
    """A workspace's defaults as ``settings show`` without ``--group`` tells them: every
    feature's settings a group of it inherits (the workspace's values over the built-in
    ones), what the workspace stores itself (``own``), and what is wrong there."""
    stored, problem, place = _workspace_stored(db, workspace)
    valid, invalid = group_settings(registry, stored, {}, place=place)
    shown, clashes = _shown(registry, stored, {}, valid, place)
    unreadable = [problem] if problem is not None else []
    return SettingsView(None, shown, invalid, clashes, unreadable, _by_feature(stored), workspace)


def workspace_settings(
    db: Engine, registry: FeatureRegistry, workspace: str
) -> dict[str, FeatureSettings]:
    """Each feature's settings a group of ``workspace`` that sets nothing itself has (the
    workspace's defaults over the built-in values, validated as the engine reads them); a
    feature whose defaults there do not validate is left out, as the engine leaves it off."""
    stored, _, place = _workspace_stored(db, workspace)
    return group_settings(registry, stored, {}, place=place)[0]


def _workspace_stored(
    db: Engine, workspace: str
) -> tuple[dict[str, Any], SettingError | None, Place]:
    """What ``workspace`` stores as its defaults (see stored_settings), and where that is."""
    with db.connect() as conn:
        row = conn.execute(
            select(type_coerce(workspaces.c.settings, Text).label("settings")).where(
                workspaces.c.slug == workspace
            )
        ).first()
        conn.rollback()
    if row is None and workspace != DEFAULT_WORKSPACE:
        raise NotFound(N_("no workspace {slug!r}"), where=N_("workspace"), slug=workspace)
    place = Place(N_("workspace {workspace}"), workspace=workspace)
    # "default" not made yet (a new database): nothing set there, the built-in values
    stored, problem = stored_settings(row.settings if row is not None else None, place)
    return stored, problem, place


def _by_feature(stored: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Stored settings without the features that hold nothing."""
    return {name: dict(values) for name, values in stored.items() if values}


def _shown(
    registry: FeatureRegistry,
    workspace_part: dict[str, Any],
    group_part: dict[str, Any],
    valid: dict[str, FeatureSettings],
    place: Place,
) -> tuple[dict[str, Any], list[InvalidSettings]]:
    """Every feature's settings as shown (a feature whose stored settings do not validate:
    what is stored over the defaults), and command keywords listed by two settings."""
    out: dict[str, Any] = {}
    for name, feature in registry.by_name.items():
        if name in valid:
            out[name] = valid[name].model_dump()
        else:
            stored = {**workspace_part.get(name, {}), **group_part.get(name, {})}
            out[name] = {**feature.settings_model.model_construct().model_dump(), **stored}
    listed: dict[str, list[tuple[str, str]]] = {}
    for word, setting in listed_command_words(registry, valid):
        listed.setdefault(word.casefold(), []).append((word, setting))
    clashes: list[InvalidSettings] = [
        SettingError(
            N_("{keyword!r} is in both {setting} and {other}: a message can ask for one thing"),
            where=place,
            keyword=where_[0][0],
            setting=where_[0][1],
            other=where_[1][1],
        )
        for where_ in listed.values()
        if len(where_) > 1
    ]
    return out, clashes


def effective_settings(db: Engine, registry: FeatureRegistry, group_ref: str) -> dict[str, Any]:
    """A group's effective settings of every feature; a :class:`SettingsRefused` (where: the
    group and feature) when one feature's stored settings do not validate, and the
    :data:`UNREADABLE` error when a settings column is not JSON."""
    view = settings_view(db, registry, group_ref)
    for problem in view.unreadable:
        raise problem
    for refused in view.invalid.values():
        raise refused
    return view.settings
