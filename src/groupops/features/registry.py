"""Feature registry: built-ins through the same mechanism as extensions.

Built-ins are listed in ``DEFAULT_FEATURES``; extensions declare an entry point in the
``groupops.features`` group. Both go through :func:`load_feature`.
"""

from __future__ import annotations

import importlib
import re
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib.metadata import entry_points
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError, ValidationInfo
from pydantic.fields import FieldInfo

from groupops.domain.errors import PLACED, GroupopsError, InvalidSettings
from groupops.features.base import Feature
from groupops.i18n import N_

DEFAULT_FEATURES: tuple[str, ...] = (
    "groupops.features.moderation:ModerationFeature",
    "groupops.features.gate:GateFeature",
    "groupops.features.welcome:WelcomeFeature",
    "groupops.features.checkin:CheckinFeature",
    "groupops.features.points:PointsFeature",
    "groupops.features.health:HealthFeature",
    "groupops.features.notify:NotifyFeature",
)


class FeatureLoadError(GroupopsError):
    code = "feature_load_error"


class SettingValueError(InvalidSettings, ValueError):
    """A setting's value refused by its feature's own check (a settings model's validator),
    written like every typed error: ``SettingValueError(N_("at most {most} keywords"),
    where="keywords_zh", most=500)``. It is a ``ValueError``, so pydantic reports it
    on the field it checked, and keeps it (``ctx["error"]``) for :class:`SettingsRefused` to
    say in the operator's language."""

    @classmethod
    def of(cls, exc: GroupopsError) -> SettingValueError:
        """``exc`` (a template's :class:`~groupops.domain.errors.TemplateError`, say) as a
        setting's refusal: the same text, values and place."""
        return cls(exc.template, where=exc.where, **exc.params)


class Place(str):
    """Where a settings error happened, in groupops' own words: a catalogue template with its
    values (``N_("group {group}")``, ``N_("workspace {workspace}")``), then the part that is a
    name as it is (``gate.question``). It is the English text as a ``str``; a
    :class:`SettingError` says it in the operator's language."""

    template: str
    params: dict[str, Any]
    rest: str

    def __new__(cls, template: str, rest: str = "", **params: Any) -> Place:
        place = super().__new__(cls, " ".join(p for p in (template.format(**params), rest) if p))
        place.template, place.params, place.rest = template, params, rest
        return place

    def localized(self, gettext: Callable[[str], str]) -> str:
        try:
            said = gettext(self.template).format(**self.params)
        except (KeyError, IndexError, ValueError, AttributeError):
            said = self.template.format(**self.params)
        return " ".join(p for p in (said, self.rest) if p)


class SettingError(InvalidSettings):
    """An ``invalid_settings`` error whose where may be a :class:`Place` (``group 2 gate``),
    said in the operator's language like the rest of the error."""

    def localized_where(self, gettext: Callable[[str], str]) -> str | None:
        if isinstance(self.where, Place):
            return self.where.localized(gettext)
        return super().localized_where(gettext)


class SettingsRefused(SettingError):
    """A feature's settings refused by its model: every problem as ``field: text`` (``default``
    names a problem of the whole model), joined by ``; ``. A :class:`SettingValueError`
    (groupops' own text) is said in the operator's language, without the "Value error, "
    pydantic puts before any ValueError; so are pydantic's commonest checks, by their error
    type (:data:`PYDANTIC_SAYS`: a list, a yes/no, a number, a range, a length); the rare
    others stay in pydantic's English. A number out of its range is said as the whole range
    its field in ``model`` allows (by default the settings model ``exc`` names)."""

    def __init__(
        self,
        exc: ValidationError,
        *,
        default: str,
        where: str | None = None,
        keep: Callable[[str, str], bool] | None = None,
        model: type[BaseModel] | None = None,
    ) -> None:
        self.problems: list[tuple[str, str | GroupopsError]] = []
        for field, problem in problems_of(exc, default, model):
            if keep is None or keep(field, _said(problem, field, lambda s: s)):
                self.problems.append((field, problem))
        self.where = where  # the message below reads it (the base sets the same again)
        super().__init__(self.localized_message(lambda s: s), where=where)

    def localized_message(self, gettext: Callable[[str], str]) -> str:
        """The problems (without where) in the language of ``gettext``; a field the where
        names already (``settings set moderation.keywords_zh``) is not named again."""
        return gettext(PROBLEMS_APART).join(
            _said(text, field, gettext)
            if _names(self.where, field)
            else gettext(PLACED).format(where=field, text=_said(text, field, gettext))
            for field, text in self.problems
        )


#: between the problems of one refusal (Chinese has its own semicolon)
PROBLEMS_APART = N_("; ")


#: pydantic's checks said in groupops' words, by error type: the template and the values of
#: its ``ctx`` it needs (the type ones say the shape wanted, with an example; a choice names
#: its values, ``hour / day / month``).
PYDANTIC_SAYS: dict[str, str] = {
    "list_type": N_('write a JSON list with double quotes, e.g. \'["one", "two"]\''),
    "bool_parsing": N_("write yes or no (true/false, on/off and 1/0 work too)"),
    "bool_type": N_("write yes or no (true/false, on/off and 1/0 work too)"),
    "float_parsing": N_("write a number, e.g. 1.5"),
    "float_type": N_("write a number, e.g. 1.5"),
    "string_type": N_("write it as text"),
    "dict_type": N_('write a JSON object, e.g. {"name": "…"}'),
    "model_type": N_('write a JSON object, e.g. {"name": "…"}'),
    "greater_than_equal": N_("at least {ge}"),
    "greater_than": N_("more than {gt}"),
    "less_than_equal": N_("at most {le}"),
    "less_than": N_("less than {lt}"),
    "string_too_long": N_("at most {max_length} characters"),
    "string_too_short": N_("at least {min_length} characters"),
    "too_long": N_("at most {max_length} items, not {actual_length}"),
    "too_short": N_("at least {min_length} items, not {actual_length}"),
    "missing": N_("required"),
    "extra_forbidden": N_("no such setting"),
    "literal_error": N_("one of {expected}"),
}
#: a number out of a range with both ends (its field's constraints): the whole range, not
#: only the end it crossed; by the ends it has (``ge``: that number allowed, ``gt``: not)
WHOLE_RANGE: dict[tuple[str, str], str] = {
    ("ge", "le"): N_("from {ge} to {le}"),
    ("gt", "le"): N_("more than {gt} and at most {le}"),
    ("ge", "lt"): N_("at least {ge} and less than {lt}"),
    ("gt", "lt"): N_("more than {gt} and less than {lt}"),
}
#: pydantic's errors for a number past an end of its range
BOUND_ERRORS = frozenset({"greater_than_equal", "greater_than", "less_than_equal", "less_than"})

#: a whole number wanted: the example fits the unit the setting's name ends with
WHOLE_NUMBER = {
    "seconds": N_("write a whole number (seconds), e.g. 60"),
    "minutes": N_("write a whole number (minutes), e.g. 10"),
    "hours": N_("write a whole number (hours), e.g. 24"),
    "days": N_("write a whole number (days), e.g. 7"),
    "": N_("write a whole number, e.g. 10"),
}


def bounds_of(constraints: Sequence[object]) -> dict[str, Any]:
    """The ends of a number's range among a field's ``constraints`` (its ``FieldInfo``'s
    ``metadata``, or the items of an ``Annotated``): ``{"ge": 1, "le": 100}``."""
    found: dict[str, Any] = {}
    for constraint in constraints:
        if isinstance(constraint, FieldInfo):
            found.update(bounds_of(constraint.metadata))
            continue
        for end in ("ge", "gt", "le", "lt"):
            value = getattr(constraint, end, None)
            if value is not None:
                found[end] = value
    return found


def _unwrapped(kind: Any) -> tuple[Any, list[object]]:
    """A type without ``Annotated`` and ``| None``, and the constraints ``Annotated`` put on
    it."""
    constraints: list[object] = []
    while True:
        if get_origin(kind) is Annotated:
            kind, *more = get_args(kind)
            constraints += more
        elif get_origin(kind) in (Union, types.UnionType):
            present = [a for a in get_args(kind) if a is not type(None)]
            if len(present) != 1:
                return kind, constraints
            kind = present[0]
        else:
            return kind, constraints


def constraints_at(model: type[BaseModel] | None, loc: Sequence[Any]) -> list[object]:
    """The constraints of the value an error's ``loc`` points at in ``model``: a field
    (``("flood_seconds",)``), or one further down (``("gifts", 0, "points")``: a field of a
    model in a list); [] where the path leads nowhere known."""
    kind: Any = model
    constraints: list[object] = []
    for part in loc:
        kind, _ = _unwrapped(kind)
        if isinstance(part, str) and isinstance(kind, type) and issubclass(kind, BaseModel):
            info = kind.model_fields.get(part)
            if info is None:
                return []
            kind, constraints = info.annotation, list(info.metadata)
        elif isinstance(part, int) and get_origin(kind) in (list, tuple, set, frozenset):
            items = [a for a in get_args(kind) if a is not Ellipsis]
            if len(items) != 1:
                return []
            kind, constraints = items[0], []
        elif get_origin(kind) is dict and len(get_args(kind)) == 2:
            kind, constraints = get_args(kind)[1], []
        else:
            return []
        kind, more = _unwrapped(kind)
        constraints += more
    return constraints


def _subclasses(cls: type[Any]) -> Iterator[type[Any]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def bounds_in(exc: ValidationError, loc: Sequence[Any]) -> dict[str, Any]:
    """The ends of the range at ``loc`` in the feature settings model ``exc`` validated (its
    title names it), built-in or an extension's; {} unless every model of that name says the
    same (a test's model may share a built-in's name)."""
    from groupops.features.base import FeatureSettings

    found = [
        bounds_of(constraints_at(m, loc))
        for m in _subclasses(FeatureSettings)
        if m.__name__ == exc.title
    ]
    return found[0] if found and all(f == found[0] for f in found) else {}


def pydantic_said(error: Any, bounds: Mapping[str, Any] | None = None) -> GroupopsError | None:
    """One of pydantic's errors (an item of ``ValidationError.errors()``) in groupops' words,
    a typed error to say in the operator's language; None for a type not in
    :data:`PYDANTIC_SAYS` (its English stays). A number out of its range is said as the
    whole range when its field has both ends (``bounds``, from :func:`bounds_of`:
    ``from 1 to 100``), else as the end it crossed (``at least 1``)."""
    kind = str(error.get("type", ""))
    ctx = dict(error.get("ctx") or {})
    if kind in ("int_parsing", "int_type", "int_from_float"):
        last = str(error["loc"][-1]) if error.get("loc") else ""
        unit = next((u for u in WHOLE_NUMBER if u and last.endswith(u)), "")
        return SettingValueError(WHOLE_NUMBER[unit])
    if kind in BOUND_ERRORS and bounds:
        lower = next((end for end in ("ge", "gt") if end in bounds), None)
        upper = next((end for end in ("le", "lt") if end in bounds), None)
        if lower and upper:
            ends = {lower: bounds[lower], upper: bounds[upper]}
            return SettingValueError(WHOLE_RANGE[lower, upper], **ends)
    template = PYDANTIC_SAYS.get(kind)
    if template is None:
        return None
    if kind == "literal_error":  # pydantic's "'hour', 'day' or 'month'": the values alone
        values = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        if not values:
            return None
        ctx = {"expected": " / ".join(values)}
    params = {k: v for k, v in ctx.items() if "{" + k in template}  # those it says
    if not params:
        return SettingValueError(template)
    try:
        template.format(**params)
    except (KeyError, IndexError, ValueError):
        return None  # a pydantic whose ctx changed: its own words
    return SettingValueError(template, **params)


def problems_of(
    exc: ValidationError, default: str, model: type[BaseModel] | None = None
) -> list[tuple[str, str | GroupopsError]]:
    """Each problem of ``exc`` as ``(field, text)``: the field pydantic names, or for a check
    of the whole model the setting its error names, else ``default`` (the feature); the text
    the check's own typed error, pydantic's commonest said by :func:`pydantic_said` (a range
    from the field's constraints in ``model``, by default the settings model ``exc`` names),
    else pydantic's."""
    out: list[tuple[str, str | GroupopsError]] = []
    for e in exc.errors():
        error: Any = (e.get("ctx") or {}).get("error")
        field = ".".join(str(p) for p in e["loc"])
        if not field:  # a check of the whole model: the setting it names, else the feature
            own = error.where if isinstance(error, GroupopsError) else None
            field = own or default
        if isinstance(error, GroupopsError):
            out.append((field, error))
            continue
        bounds: dict[str, Any] = {}
        if e.get("type") in BOUND_ERRORS:  # the whole range: from the field's constraints
            loc = e["loc"]
            bounds = bounds_of(constraints_at(model, loc)) if model else bounds_in(exc, loc)
        out.append((field, pydantic_said(e, bounds) or e["msg"]))
    return out


def _names(where: str | None, field: str) -> bool:
    """Whether ``where`` already names ``field``: ``group 1 checkin.gifts`` names ``gifts``
    and ``checkin.gifts``, and ``checkin`` (a problem of the whole feature's settings)."""
    if where is None:
        return False
    last = where.rsplit(" ", 1)[-1]
    return last == field or last.endswith("." + field) or last.startswith(field + ".")


def _said(problem: str | GroupopsError, field: str, gettext: Callable[[str], str]) -> str:
    """One problem of a field; a check's own error without its where when that only names
    the field again (``keywords_zh: empty keyword``, not ``keywords_zh: keywords_zh: ...``)."""
    if isinstance(problem, str):
        return problem
    if problem.where is None or _names(field, problem.where) or _names(problem.where, field):
        return problem.localized_message(gettext)
    return problem.localized(gettext)


#: ``Field(json_schema_extra=COMMAND_WORDS)`` marks a list of command keywords (messages a
#: member sends to ask the bot for something): a keyword may be in one such list of a group's
#: settings only, across all features (``groupops settings set`` refuses a second one)
COMMAND_WORDS: dict[str, Any] = {"command_words": True}


def command_words(does: str) -> dict[str, Any]:
    """:data:`COMMAND_WORDS` saying what the command does, as a message id (``N_``): the help
    command (welcome's ``help_keywords``) lists the command's words with it."""
    return {**COMMAND_WORDS, "does": does}


def command_word_help(model: type[Any]) -> list[tuple[str, str | None]]:
    """Each settings field of ``model`` marked :data:`COMMAND_WORDS`, with what its command does
    (a message id; None when the mark does not say)."""
    out: list[tuple[str, str | None]] = []
    for name in command_word_fields(model):
        extra = model.model_fields[name].json_schema_extra
        does = extra.get("does") if isinstance(extra, dict) else None
        out.append((name, does if isinstance(does, str) else None))
    return out


def command_word_fields(model: type[Any]) -> list[str]:
    """The settings of ``model`` marked :data:`COMMAND_WORDS`."""
    return [
        name
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("command_words")
    ]


def setting_being_set(info: ValidationInfo) -> str | None:
    """The setting an operator is changing when validating their change (the
    ``{"setting": name}`` context of ``groupops settings set``), else None: the engine reading
    what is stored."""
    context = info.context
    return context.get("setting") if isinstance(context, dict) else None


def keyword_list(values: list[str], info: ValidationInfo, where: str) -> list[str]:
    """A list of command keywords, each stripped. When an operator sets it, an empty keyword or
    one listed twice is refused; stored lists (older databases kept whatever was typed) are
    read without the empty and repeated entries, so they never turn a feature off."""
    strict = setting_being_set(info) == info.field_name
    out: list[str] = []
    for raw in values:
        word = raw.strip()
        if not word:
            if strict:
                raise SettingValueError(N_("empty keyword"), where=where)
            continue
        if word in out:
            if strict:
                raise SettingValueError(
                    N_("keyword {keyword!r} is listed twice"), where=where, keyword=word
                )
            continue
        out.append(word)
    return out


class InheritedSettingsRefused(SettingError):
    """A workspace default refused because groups that inherit it would be left with
    settings their feature refuses: each such group (``2 (sandbox:brand)``) with the feature
    and its problem, at most :attr:`SHOWN` of them, then how many more."""

    SHOWN = 5

    def __init__(self, refused: list[tuple[str, str, GroupopsError]], *, where: str) -> None:
        self.refused = refused
        self.where = where  # the message below reads it (the base sets the same again)
        super().__init__(self.localized_message(lambda s: s), where=where)

    def localized_message(self, gettext: Callable[[str], str]) -> str:
        parts = [
            gettext(
                N_(
                    "group {group} inherits it, and its {feature} settings would be invalid:"
                    " {problem}"
                )
            ).format(group=group, feature=feature, problem=problem.localized_message(gettext))
            for group, feature, problem in self.refused[: self.SHOWN]
        ]
        more = len(self.refused) - self.SHOWN
        if more > 0:
            parts.append(gettext(N_("and {count} more groups")).format(count=more))
        return gettext(N_("not saved: {problems}")).format(problems=gettext(N_("; ")).join(parts))


def load_feature(spec: str) -> Feature:
    module_name, _, attr = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise FeatureLoadError(
            N_("cannot load feature {spec!r}: {reason}"), spec=spec, reason=exc
        ) from exc
    feature: Feature = cls()
    for needed in ("name", "order", "settings_model", "handles", "handle", "delete_member_data"):
        if not hasattr(feature, needed):
            raise FeatureLoadError(
                N_("feature {spec!r} lacks {needed!r}"), spec=spec, needed=needed
            )
    return feature


class FeatureRegistry:
    def __init__(self, features: list[Feature]) -> None:
        names = [f.name for f in features]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise FeatureLoadError(N_("features registered twice: {names}"), names=sorted(dupes))
        self.features = sorted(features, key=lambda f: (f.order, f.name))
        self.by_name = {f.name: f for f in self.features}

    @classmethod
    def load(
        cls, specs: tuple[str, ...] = DEFAULT_FEATURES, *, extensions: bool = True
    ) -> FeatureRegistry:
        all_specs = list(specs)
        if extensions:
            all_specs += [ep.value for ep in entry_points(group="groupops.features")]
        return cls([load_feature(s) for s in dict.fromkeys(all_specs)])
