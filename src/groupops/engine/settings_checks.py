"""What a change of a feature setting must pass before :func:`settings_admin.set_setting`
writes it: the feature and setting exist, the feature's model takes the result (or, for
settings stored invalid before, the change adds no problem), no command keyword is in two
lists or forbidden by another feature, and no group inheriting a workspace default is left
with settings the engine refuses.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, Text, select, type_coerce

from groupops.domain.errors import GroupopsError, InvalidSettings
from groupops.engine.settings_read import group_settings, listed_command_words, stored_settings
from groupops.features.base import FeatureSettings
from groupops.features.registry import (
    FeatureRegistry,
    InheritedSettingsRefused,
    Place,
    SettingError,
    SettingsRefused,
    problems_of,
)
from groupops.i18n import N_
from groupops.storage.tables import groups


def validated(
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


def known_setting(registry: FeatureRegistry, feature: str, key: str, where: str) -> None:
    """Refuse a setting the feature does not have, naming the ones it has (before validation,
    which would only say "Extra inputs are not permitted")."""
    model = registry.by_name.get(feature)
    if model is None:
        return  # validated names the features
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


def field_value(registry: FeatureRegistry, feature: str, key: str, value: Any) -> Any:
    """``value`` of one setting as its own type stores it (``"yes"`` -> true), checked alone;
    as given when that cannot be said without the other settings."""
    info = registry.by_name[feature].settings_model.model_fields[key]
    try:
        kind: Any = Annotated[info.annotation, *info.metadata]
        adapter: TypeAdapter[Any] = TypeAdapter(kind)
        return adapter.dump_python(adapter.validate_python(value), mode="json")
    except (ValidationError, TypeError, ValueError):
        return value


def checked_change(
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
        return validated(registry, feature, after, where, setting=key)
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


def keyword_clash(
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
    words = listed_command_words(registry, settings)
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


def check_inheritors(
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
        own, _ = stored_settings(row.settings, Place(N_("group {group}"), group=row.id))
        if key in own.get(feature, {}):
            continue
        try:
            model.model_validate({**before.get(feature, {}), **own.get(feature, {})})
        except ValidationError:
            continue
        valid, invalid = group_settings(registry, after, own)
        label = f"{row.id} ({row.source}:{row.chat_id})"
        if feature in invalid:
            refused.append((label, feature, invalid[feature]))
            continue
        clash = keyword_clash(registry, valid, f"{feature}.{key}")
        if clash is not None:
            refused.append((label, feature, clash))
    if refused:
        raise InheritedSettingsRefused(refused, where=where)
