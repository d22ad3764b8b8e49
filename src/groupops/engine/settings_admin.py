"""What operators change in the settings (CLI and web are thin): a workspace holds defaults per
feature, a group overrides them key by key; every change is validated against the feature's
settings model before anything is written. Also what ``settings show`` tells (a group's or a
workspace's settings, with what is wrong there), and a group's profile: its time zone, language
and title, and the checks of a zone or language an operator types.

Groups, members, owner tasks and forgetting a member are in :mod:`groupops.engine.admin`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, Engine, Text, insert, select, type_coerce, update

from groupops.domain.errors import GroupopsError, InvalidOption, InvalidSettings, NotFound
from groupops.domain.time import zone
from groupops.engine.admin import GroupRef, group_in
from groupops.features.base import FeatureSettings
from groupops.features.registry import (
    FeatureRegistry,
    InheritedSettingsRefused,
    Place,
    SettingError,
    SettingsRefused,
    command_word_fields,
    problems_of,
)
from groupops.i18n import LANGUAGES, N_
from groupops.storage.tables import groups, workspaces

#: the workspace of every group and connection not given another (engine.directory's)
DEFAULT_WORKSPACE = "default"


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


def _validated(
    registry: FeatureRegistry,
    feature: str,
    values: dict[str, Any],
    where: str,
    setting: str | None = None,
) -> FeatureSettings:
    """``values`` validated by the feature's settings model. ``setting`` is the one an
    operator is changing: its own checks are the strict ones (an empty or repeated keyword is
    refused there, not only left out as when reading stored settings)."""
    model = registry.by_name.get(feature)
    if model is None:
        known = ", ".join(registry.by_name)
        raise SettingError(
            N_("no feature {feature!r} (known: {known})"), where=where, feature=feature, known=known
        )
    try:
        context = {"setting": setting} if setting is not None else None
        return model.settings_model.model_validate(values, context=context)
    except ValidationError as exc:
        raise SettingsRefused(exc, default=feature, where=where) from None


def _command_words(
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


def _clash(
    registry: FeatureRegistry,
    settings: dict[str, FeatureSettings],
    setting: str,
    where: str | None = None,
) -> InvalidSettings | None:
    """A keyword of ``setting`` (``checkin.ranking_keywords``) that another command list of
    the same settings holds too, as a refusal naming both settings; None when there is none.
    Case does not matter: check-in keywords match in any case. Also a command keyword of a
    running feature that another feature's settings forbid (moderation's keyword lists:
    :meth:`FeatureSettings.forbidden_in`), when ``setting`` belongs to either feature."""
    words = _command_words(registry, settings)
    mine = {w.casefold(): w for w, s in words if s == setting}
    for word, other in words:
        if other != setting and word.casefold() in mine:
            return SettingError(
                N_("{keyword!r} is in both {setting} and {other}: a message can ask for one thing"),
                where=where,
                keyword=mine[word.casefold()],
                setting=setting,
                other=other,
            )
    feature = setting.split(".", 1)[0]
    for word, commands in words:
        owner = commands.split(".", 1)[0]
        if not settings[owner].enabled:
            continue  # a feature that is off answers no command
        for name, values in settings.items():
            if name == owner or feature not in (owner, name):
                continue  # neither the command's feature nor the forbidding one is changing
            forbidden = values.forbidden_in(word)
            if forbidden is not None:
                return SettingError(
                    N_(
                        "{keyword!r} of {commands} would be punished as {found!r} of {forbidding}:"
                        " every member who sends the command would be punished for it; take one out"
                    ),
                    where=where,
                    keyword=word,
                    commands=commands,
                    found=forbidden[1],
                    forbidding=forbidden[0],
                )
    return None


def _group_settings(
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


def _known_setting(registry: FeatureRegistry, feature: str, key: str, where: str) -> None:
    """Refuse a setting the feature does not have, naming the ones it has (before validation,
    which would only say "Extra inputs are not permitted")."""
    model = registry.by_name.get(feature)
    if model is None:
        return  # _validated names the features
    fields = model.settings_model.model_fields
    if key not in fields:
        close = difflib.get_close_matches(key, list(fields), n=1)
        if close:
            raise SettingError(
                N_(
                    "no setting {name!r} in {feature}: did you mean {suggestion!r}?"
                    " (known: {known})"
                ),
                where=where,
                name=key,
                feature=feature,
                suggestion=f"{feature}.{close[0]}",
                known=", ".join(fields),
            )
        raise SettingError(
            N_("no setting {name!r} in {feature} (known: {known})"),
            where=where,
            name=key,
            feature=feature,
            known=", ".join(fields),
        )


UNREADABLE = N_(
    "stored settings are not valid JSON ({reason}): they are read as none here, and"
    " `settings set` stores new ones in their place"
)


def _stored_settings(raw: Any, where: str) -> tuple[dict[str, Any], SettingError | None]:
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


def _settings_rows(conn: Connection, group_id: int) -> Any:
    """A group's own settings and its workspace's, as stored (unparsed: see _stored_settings)."""
    return conn.execute(
        select(
            type_coerce(groups.c.settings, Text).label("settings"),
            type_coerce(workspaces.c.settings, Text).label("ws"),
            workspaces.c.slug,
        )
        .join(workspaces, workspaces.c.id == groups.c.workspace_id)
        .where(groups.c.id == group_id)
    ).one()


def is_stale_setting(registry: FeatureRegistry, feature: str, key: str) -> bool:
    """Whether ``feature.key`` names a feature groupops has but a setting it does not (one
    an older version had): ``settings set FEATURE.KEY null`` removes it where it is stored."""
    model = registry.by_name.get(feature)
    return model is not None and key not in model.settings_model.model_fields


def _field_value(registry: FeatureRegistry, feature: str, key: str, value: Any) -> Any:
    """``value`` of one setting as its own type stores it (``"yes"`` -> true), checked alone;
    as given when that cannot be said without the other settings."""
    info = registry.by_name[feature].settings_model.model_fields[key]
    try:
        kind: Any = Annotated[info.annotation, *info.metadata]
        adapter: TypeAdapter[Any] = TypeAdapter(kind)
        return adapter.dump_python(adapter.validate_python(value), mode="json")
    except (ValidationError, TypeError, ValueError):
        return value


def _checked_change(
    registry: FeatureRegistry,
    feature: str,
    before: dict[str, Any],
    after: dict[str, Any],
    key: str,
    value: Any,
    where: str,
) -> FeatureSettings | None:
    """The feature's settings ``after`` a change of ``key``, validated; None when they are
    still invalid but the change adds no problem to those ``before`` (it repairs stored
    settings one setting at a time, or turns the feature off). Refused when ``key`` itself is
    left invalid, or when a problem is new: a check of the whole settings stops at its first
    problem, so fixing one may show the next, which is not new."""
    if registry.by_name.get(feature) is None:
        return _validated(registry, feature, after, where, setting=key)
    model = registry.by_name[feature].settings_model
    context = {"setting": key}
    try:
        return model.model_validate(after, context=context)
    except ValidationError as exc:
        refused = exc

    def check(values: dict[str, Any]) -> ValidationError | None:
        try:
            model.model_validate(values, context=context)
        except ValidationError as exc:
            return exc
        return None

    def fields_of(exc: ValidationError | None) -> set[str]:
        return {str(e["loc"][0]) for e in (exc.errors() if exc else []) if e["loc"]}

    if key == "enabled" and value is False:
        return None
    # pydantic runs the checks of the whole settings only when every field is valid: run them
    # again without the fields already wrong (their defaults instead), before and after
    wrong = (fields_of(check(before)) | fields_of(refused)) - {key}

    def masked(values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in values.items() if k in model.model_fields and k not in wrong}

    old = [
        problem
        for exc in (check(before), check(masked(before)))
        if exc is not None
        for problem in problems_of(exc, feature)
    ]
    said = {(field, str(p if isinstance(p, str) else p.message)) for field, p in old}
    whole = any(field == feature for field, _ in old)

    def new(field: str, text: str) -> bool:
        if field == key or field.startswith(key + "."):
            return True
        if field == feature:
            return not whole
        return (field, text) not in said

    for found in (refused, check(masked(after))):
        if found is not None and any(
            new(field, str(p if isinstance(p, str) else p.message))
            for field, p in problems_of(found, feature)
        ):
            raise SettingsRefused(found, default=feature, where=where, keep=new if old else None)
    return None


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
    (:func:`_checked_change`), ``enabled`` false always; ``value`` None for a setting the
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
            row = _settings_rows(conn, g.id)
            where: str = Place(N_("group {group}"), f"{feature}.{key}", group=g.id)
            own, _ = _stored_settings(row.settings, where)
            # the workspace's, under the group's own
            ws_place = Place(N_("workspace {workspace}"), workspace=row.slug)
            defaults, _ = _stored_settings(row.ws, ws_place)
        else:
            workspace = workspace or "default"
            ws = workspace_row(workspace)
            where = Place(N_("workspace {workspace}"), f"{feature}.{key}", workspace=workspace)
            own, _ = _stored_settings(ws.settings, where)
            defaults = {}
        section = dict(own.get(feature, {}))
        stale = value is None and is_stale_setting(registry, feature, key) and key in section
        if stale:
            del section[key]
            merged = {**defaults.get(feature, {}), **section}
            stored = dict(merged)
            checked: FeatureSettings | None = None
        else:
            _known_setting(registry, feature, key, where)
            before = {**defaults.get(feature, {}), **section}
            section[key] = value
            merged = {**defaults.get(feature, {}), **section}
            checked = _checked_change(registry, feature, before, merged, key, value, where)
            if checked is not None:
                stored = checked.model_dump(mode="json")
                section[key] = stored[key]
            else:
                section[key] = _field_value(registry, feature, key, value)
                stored = {**merged, key: section[key]}
        changed = {**own, feature: section}
        others, _ = _group_settings(registry, defaults, changed)
        if checked is not None:
            clash = _clash(registry, {**others, feature: checked}, f"{feature}.{key}", where)
            if clash is not None:
                raise clash
        if group_ref is not None:
            conn.execute(update(groups).where(groups.c.id == g.id).values(settings=changed))
        else:
            if not stale:
                _check_inheritors(conn, registry, ws.id, own, changed, feature, key, where)
            conn.execute(
                update(workspaces).where(workspaces.c.id == ws.id).values(settings=changed)
            )
    return {k: stored[k] for k in merged}


def _check_inheritors(
    conn: Connection,
    registry: FeatureRegistry,
    workspace_id: int,
    before: dict[str, Any],
    after: dict[str, Any],
    feature: str,
    key: str,
    where: str,
) -> None:
    """Refuse a workspace default (``before`` -> ``after``, the workspace's settings) that
    would leave a group inheriting it with effective settings the engine refuses, or with a
    command keyword in two lists. A group with its own value of ``feature.key`` does not
    inherit it; a group whose settings of ``feature`` were invalid already is not this
    change's doing (``settings show`` says what is wrong there)."""
    refused: list[tuple[str, str, GroupopsError]] = []
    rows = conn.execute(
        select(
            groups.c.id,
            groups.c.source,
            groups.c.chat_id,
            type_coerce(groups.c.settings, Text).label("settings"),
        )
        .where(groups.c.workspace_id == workspace_id)
        .order_by(groups.c.id)
    )
    model = registry.by_name[feature].settings_model
    for row in rows:
        own, _ = _stored_settings(row.settings, Place(N_("group {group}"), group=row.id))
        if key in own.get(feature, {}):
            continue
        try:
            model.model_validate({**before.get(feature, {}), **own.get(feature, {})})
        except ValidationError:
            continue
        valid, invalid = _group_settings(registry, after, own)
        label = f"{row.id} ({row.source}:{row.chat_id})"
        if feature in invalid:
            refused.append((label, feature, invalid[feature]))
            continue
        clash = _clash(registry, valid, f"{feature}.{key}")
        if clash is not None:
            refused.append((label, feature, clash))
    if refused:
        raise InheritedSettingsRefused(refused, where=where)


#: an unknown time zone given to a command (``--timezone 北京``, ``--tz UTC+8``): the form wanted
UNKNOWN_ZONE = N_(
    "unknown time zone {name!r}: write its name, e.g. Asia/Shanghai (Beijing time),"
    " Europe/Berlin or UTC"
)
UNKNOWN_LANGUAGE = N_("{value!r} is not a language groupops speaks: use zh_CN or en")
#: how operators also write the languages (any case, - or _): read as the catalogue's code
LANGUAGE_SPELLINGS = {
    "zh_cn": "zh_CN",
    "zh": "zh_CN",
    "zh_hans": "zh_CN",
    "zh_hans_cn": "zh_CN",
    "cn": "zh_CN",
    "en": "en",
    "en_us": "en",
    "en_gb": "en",
}


def language_code(value: str) -> str | None:
    """The catalogue's code of a language as an operator writes it (``zh``, ``zh-CN``,
    ``zh_cn`` are ``zh_CN``; ``en-US`` is ``en``), None when groupops does not speak it."""
    if value in LANGUAGES:
        return value
    return LANGUAGE_SPELLINGS.get(value.strip().casefold().replace("-", "_"))


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
        row = _settings_rows(conn, g.id)
        conn.rollback()
    workspace_part, ws_problem = _stored_settings(
        row.ws, Place(N_("workspace {workspace}"), workspace=row.slug)
    )
    group_place = Place(N_("group {group}"), group=g.id)
    group_part, group_problem = _stored_settings(row.settings, group_place)
    unreadable = [p for p in (ws_problem, group_problem) if p is not None]
    valid, invalid = _group_settings(registry, workspace_part, group_part, g.id)
    shown, clashes = _shown(registry, workspace_part, group_part, valid, group_place)
    return SettingsView(
        g, shown, invalid, clashes, unreadable, _by_feature(group_part), str(row.slug)
    )


def workspace_view(db: Engine, registry: FeatureRegistry, workspace: str) -> SettingsView:
    """A workspace's defaults as ``settings show`` without ``--group`` tells them: every
    feature's settings a group of it inherits (the workspace's values over the built-in
    ones), what the workspace stores itself (``own``), and what is wrong there."""
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
    stored, problem = _stored_settings(row.settings if row is not None else None, place)
    valid, invalid = _group_settings(registry, stored, {}, place=place)
    shown, clashes = _shown(registry, stored, {}, valid, place)
    unreadable = [problem] if problem is not None else []
    return SettingsView(None, shown, invalid, clashes, unreadable, _by_feature(stored), workspace)


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
    for word, setting in _command_words(registry, valid):
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
