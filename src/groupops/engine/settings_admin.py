"""What operators change in the settings (CLI and web are thin): a workspace holds defaults per
feature, a group overrides them key by key; a value as the operator typed it is read as the
setting's type, and every change is checked (:mod:`groupops.engine.settings_checks`) before
anything is written. Also a group's profile: its time zone, language and title, and the checks
of a zone or language an operator types.

What ``settings show`` tells is in :mod:`groupops.engine.settings_read`; groups, members, owner
tasks and forgetting a member in :mod:`groupops.engine.admin`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from sqlalchemy import Connection, Engine, Text, insert, select, type_coerce, update

from groupops.domain.errors import InvalidOption, InvalidSettings, NotFound
from groupops.domain.time import zone
from groupops.engine.admin import group_in
from groupops.engine.settings_checks import (
    check_inheritors,
    checked_change,
    field_value,
    keyword_clash,
    known_setting,
)
from groupops.engine.settings_read import (
    DEFAULT_WORKSPACE,
    group_settings,
    settings_rows,
    stored_settings,
)
from groupops.features.base import FeatureSettings
from groupops.features.registry import FeatureRegistry, Place
from groupops.i18n import N_, language_code
from groupops.storage.tables import groups, workspaces


def _create_workspace(conn: Connection, slug: str, find: Callable[[], Any]) -> Any:
    """Make workspace ``slug`` with no settings, as the engine makes it on a group's first
    event (:meth:`Directory.workspace_id`); ``find`` reads it back, also when another process
    made it at the same moment."""
    from groupops.engine.directory import race_safe

    def create() -> Any:
        conn.execute(
            insert(workspaces).values(
                slug=slug, name=slug, settings={}, created_at=datetime.now(UTC)
            )
        )
        return find()

    return race_safe(conn, create, find)


def parse_value(raw: str) -> Any:
    """A value from the command line: JSON when it parses, else the plain text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


#: a yes/no setting also takes the Chinese words for it (pydantic takes yes/no, true/false,
#: on/off, 1/0 itself)
YES_NO = {
    "是": True,
    "对": True,
    "开": True,
    "开启": True,
    "打开": True,
    "启用": True,
    "否": False,
    "不": False,
    "关": False,
    "关闭": False,
    "停用": False,
    "禁用": False,
}
#: what separates the words of a list typed as text: ``签到,打卡``, ``签到，打卡``, ``签到、打卡``
LIST_SEPARATORS = re.compile(r"[,，、]")


def _text_list(raw: str) -> Any:
    """A list of words as typed: a JSON list as it is, else the text split at its commas
    (``签到,打卡``, ``签到，打卡`` or ``签到、打卡``; one word is a list of one), each word
    stripped. Text that starts with ``[`` but is no JSON list (``['签到','打卡']``) is left
    as it is, for the check to say how a JSON list is written."""
    value = parse_value(raw)
    text = value.strip() if isinstance(value, str) else raw.strip()  # '"签到"': its text
    if isinstance(value, list) or text.startswith(("[", "{")) or text == "null":
        return value
    return [word.strip() for word in LIST_SEPARATORS.split(text)]


def setting_value(registry: FeatureRegistry, feature: str, key: str, raw: str) -> Any:
    """What the operator typed for ``feature.key``, as :func:`set_setting` takes it. A text
    setting (typed ``str``, or a choice of words such as gate's ``mode``) takes the text as
    typed, so ``123``, ``true`` or ``yes`` stay words; only a JSON string (``'"quoted"'``) is
    read as JSON, and ``null`` unsets a text that may be unset (``welcome.template``). A
    yes/no setting takes :data:`YES_NO` too (``是``, ``关``); a list of words a JSON list or
    the words separated by commas (:func:`_text_list`). Any other setting: JSON where it
    parses (``true``, ``3``, ``["a", "b"]``), else the text."""
    model = registry.by_name.get(feature)
    info = model.settings_model.model_fields.get(key) if model is not None else None
    if info is None:
        return parse_value(raw)  # set_setting names the unknown feature or setting
    kind, optional = info.annotation, False
    if get_origin(kind) in (Union, UnionType):  # str | None
        kinds = [a for a in get_args(kind) if a is not type(None)]
        kind, optional = (kinds[0] if len(kinds) == 1 else None), len(kinds) < len(get_args(kind))
    words = get_origin(kind) is Literal and all(isinstance(a, str) for a in get_args(kind))
    if kind is bool and raw.strip().casefold() in YES_NO:
        return YES_NO[raw.strip().casefold()]
    if get_origin(kind) is list and get_args(kind) == (str,):
        return _text_list(raw)
    if kind is not str and not words:
        return parse_value(raw)
    if raw.strip() == "null":  # no text: the built-in one where there is one, else none
        return None if optional else ""
    value = parse_value(raw) if raw.strip().startswith('"') else raw
    return value if isinstance(value, str) else raw


def is_stale_setting(registry: FeatureRegistry, feature: str, key: str) -> bool:
    """Whether ``feature.key`` names a feature groupops has but a setting it does not (one
    an older version had): ``settings set FEATURE.KEY null`` removes it where it is stored."""
    model = registry.by_name.get(feature)
    return model is not None and key not in model.settings_model.model_fields


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
    None). Returns the settings of that feature chosen there (group: with the workspace's
    defaults), as validated and stored (``"yes"`` for a yes/no setting is stored as true).
    Nothing is written when invalid: when the feature's model refuses the result, when a
    command keyword is in another command list of the group too, or (a workspace default)
    when a group that inherits it would be left with invalid settings. A ``workspace`` named
    with a group must exist and hold it.

    Settings stored invalid before (an older version, a hand edit) are repaired one setting
    at a time: a change is taken when it adds no problem and leaves ``key`` itself valid
    (:func:`checked_change`), ``enabled`` false always; ``value`` None for a setting the
    feature does not have (:func:`is_stale_setting`) removes it where it is stored. A settings
    column that is not JSON is replaced by the one setting."""
    with db.begin() as conn:

        def workspace_row(slug: str) -> Any:
            def find() -> Any:
                return conn.execute(
                    select(
                        workspaces.c.id, type_coerce(workspaces.c.settings, Text).label("settings")
                    ).where(workspaces.c.slug == slug)
                ).first()

            found = find()
            if found is None and slug == DEFAULT_WORKSPACE:
                # the one every group joins unless told otherwise: its defaults can be set
                # before the first connect or serve made it
                found = _create_workspace(conn, slug, find)
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
            row = settings_rows(conn, g.id)
            where: str = Place(N_("group {group}"), f"{feature}.{key}", group=g.id)
            own, _ = stored_settings(row.settings, where)
            # the workspace's, under the group's own
            ws_place = Place(N_("workspace {workspace}"), workspace=row.slug)
            defaults, _ = stored_settings(row.ws, ws_place)
        else:
            workspace = workspace or "default"
            ws = workspace_row(workspace)
            where = Place(N_("workspace {workspace}"), f"{feature}.{key}", workspace=workspace)
            own, _ = stored_settings(ws.settings, where)
            defaults = {}
        section = dict(own.get(feature, {}))
        stale = value is None and is_stale_setting(registry, feature, key) and key in section
        if stale:
            del section[key]
            merged = {**defaults.get(feature, {}), **section}
            stored = dict(merged)
            checked: FeatureSettings | None = None
        else:
            known_setting(registry, feature, key, where)
            before = {**defaults.get(feature, {}), **section}
            section[key] = value
            merged = {**defaults.get(feature, {}), **section}
            checked = checked_change(registry, feature, before, merged, key, value, where)
            if checked is not None:
                stored = checked.model_dump(mode="json")
                section[key] = stored[key]
            else:
                section[key] = field_value(registry, feature, key, value)
                stored = {**merged, key: section[key]}
        changed = {**own, feature: section}
        others, _ = group_settings(registry, defaults, changed)
        if checked is not None:
            clash = keyword_clash(registry, {**others, feature: checked}, f"{feature}.{key}", where)
            if clash is not None:
                raise clash
        if group_ref is not None:
            conn.execute(update(groups).where(groups.c.id == g.id).values(settings=changed))
        else:
            if not stale:
                check_inheritors(conn, registry, ws.id, own, changed, feature, key, where)
            conn.execute(
                update(workspaces).where(workspaces.c.id == ws.id).values(settings=changed)
            )
    return {k: stored[k] for k in merged}


#: an unknown time zone given to a command (``--timezone 北京``, ``--tz UTC+8``): the form wanted
UNKNOWN_ZONE = N_(
    "unknown time zone {name!r}: write its name, e.g. Asia/Shanghai (Beijing time),"
    " Europe/Berlin or UTC"
)
UNKNOWN_LANGUAGE = N_("{value!r} is not a language groupops speaks: use zh_CN or en")


def checked_zone(value: str, option: str) -> str:
    """A time zone an operator gave with ``option``, or the command's refusal naming it."""
    try:
        zone(value)
    except InvalidSettings:  # the command's option, not a feature's setting
        raise InvalidOption(UNKNOWN_ZONE, where=option, name=value) from None
    return value


def checked_language(value: str, option: str) -> str:
    """The catalogue's code of a language an operator gave with ``option`` (see
    :func:`language_code`), or the command's refusal naming it."""
    code = language_code(value)
    if code is None:
        raise InvalidOption(UNKNOWN_LANGUAGE, where=option, value=value)
    return code


def set_group_profile(
    db: Engine,
    group_ref: str,
    *,
    timezone: str | None = None,
    language: str | None = None,
    title: str | None = None,
) -> dict[str, tuple[str, str]]:
    """Set a group's time zone, language or title; returns what each given one was and is
    now (``{"timezone": ("Asia/Shanghai", "Europe/Berlin")}``), unchanged ones too."""
    values: dict[str, Any] = {}
    if timezone is not None:
        values["timezone"] = checked_zone(timezone, "--timezone")
    if language is not None:
        values["language"] = checked_language(language, "--language")
    if title is not None:
        if not title.strip():
            raise InvalidOption(
                N_("a group's title cannot be empty: give its name"), where="--title"
            )
        values["title"] = title[:255]
    with db.begin() as conn:
        g = group_in(conn, group_ref)
        before = conn.execute(
            select(groups.c.timezone, groups.c.language, groups.c.title).where(groups.c.id == g.id)
        ).one()
        if values:
            conn.execute(update(groups).where(groups.c.id == g.id).values(**values))
    return {name: (str(getattr(before, name)), str(new)) for name, new in values.items()}
