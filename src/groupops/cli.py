"""The command line: thin commands over the same functions the web and the engine use.

Each area registers its own commands: add its ``register`` function to ``REGISTRARS``.
Help pages speak the operator's language: :func:`help_in` swaps the texts of the command tree
(the commands' docstrings, the options' ``help=``, Typer's panel titles) and click's and
Typer's own words (``Usage:``, "No such option", "Missing argument") for their translations
while the command line runs, and puts the English back afterwards.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from groupops.cli_layout import help_layout
from groupops.i18n import LANGUAGES, N_, Catalogs, chosen_language, english

#: Typer's own words on a help page (attributes of ``typer.rich_utils``), translated too.
TYPER_TEXTS = (
    "ARGUMENTS_PANEL_TITLE",
    "OPTIONS_PANEL_TITLE",
    "COMMANDS_PANEL_TITLE",
    "DEFAULT_STRING",
    "ENVVAR_STRING",
    "REQUIRED_LONG_STRING",
    "DEPRECATED_STRING",
    "ERRORS_PANEL_TITLE",
    "ABORTED_TEXT",
    "RICH_HELP",
)


#: the value kinds a help page writes after an option (``<int>``), and the usage line's
#: placeholders, as Typer writes them: the msgids are Typer's English, so English is unchanged
VALUE_KINDS = {
    "<str>": N_("<str>"),
    "<int>": N_("<int>"),
    "<float>": N_("<float>"),
    "<int range>": N_("<int range>"),
    "<float range>": N_("<float range>"),
    "<path>": N_("<path>"),
    "<file>": N_("<file>"),
    "<directory>": N_("<directory>"),
    "<datetime>": N_("<datetime>"),
}
USAGE_WORDS = {
    "[OPTIONS]": N_("[OPTIONS]"),
    "COMMAND [ARGS]...": N_("COMMAND [ARGS]..."),
}
#: a number option's range after its kind, in words (Typer writes ``[x>=1]``)
RANGE_MIN = N_("at least {min}")
RANGE_MAX = N_("at most {max}")
RANGE_BOTH = N_("{min} to {max}")
#: a number option's kind as Typer writes it when it has a range (``<int range>``): its kind,
#: the range following it in words
RANGED_KINDS = {"<int range>": "<int>", "<float range>": "<float>"}


def range_said(low: float | None, high: float | None, t: Callable[[str], str]) -> str | None:
    """A number option's range in the language of ``t`` (``at least 1``, Typer's ``x>=1``)."""
    if low is None and high is None:
        return None
    if low is None:
        return t(RANGE_MAX).format(max=high)
    if high is None:
        return t(RANGE_MIN).format(min=low)
    return t(RANGE_BOTH).format(min=low, max=high)


def _commands(command: Any) -> Iterator[Any]:
    yield command
    for sub in (getattr(command, "commands", None) or {}).values():
        yield from _commands(sub)


#: Typer's own module that looks its words up through gettext (its global ``_``): "No such
#: command", "Missing command.", "default:". :func:`help_in` points that ``_`` at groupops'
#: catalogue; ``scripts/extract_help.py`` extracts its texts into it.
LIBRARY_MODULES = ("typer.core",)


def help_language(args: Sequence[str] = ()) -> str:
    """The language of the help pages and usage errors: the command line's ``--lang`` (every
    command has it), else ``GROUPOPS_LANG``, else the terminal's (LANG). A ``--lang`` the
    catalogues do not have is left to the option's own check."""
    from groupops.i18n import language_code

    given: str | None = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            given = args[i + 1]
        elif arg.startswith("--lang="):
            given = arg.partition("=")[2]
    return chosen_language(language_code(given) if given else None)


def help_slots(command: Any) -> Iterator[tuple[Any, str]]:
    """Where ``command`` and its subcommands keep the texts their help pages show, as
    (object, attribute): each command's ``help`` and ``short_help``, each parameter's
    ``help`` (``--help`` included)."""
    yield command, "help"
    yield command, "short_help"
    params = list(command.params)
    help_option = command.get_help_option(typer.Context(command))
    if help_option is not None:
        params.append(help_option)
    for param in params:
        yield param, "help"
    for sub in (getattr(command, "commands", None) or {}).values():
        yield from help_slots(sub)


def help_texts(command: Any) -> list[str]:
    """Every text the help pages of ``command`` show in English (the msgids), in order."""
    from typer import rich_utils

    found = [getattr(obj, attr, None) for obj, attr in help_slots(command)]
    found += [getattr(rich_utils, name) for name in TYPER_TEXTS]
    return list(dict.fromkeys(text for text in found if isinstance(text, str) and text))


def library_texts() -> list[str]:
    """Every text Typer looks up through gettext in :data:`LIBRARY_MODULES`, from its
    installed source (so a new Typer brings its new texts)."""
    from babel.messages.extract import extract_from_file

    found: list[str] = []
    for name in LIBRARY_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(name)
        for _line, message, _comments, _context in extract_from_file(
            "python", spec.origin, keywords={"_": None}
        ):
            if isinstance(message, str) and message:
                found.append(message)
    return list(dict.fromkeys(found))


_DID_YOU_MEAN = re.compile(r"(?s)(.*?)\.? Did you mean (.+)\?")
_EXTRA_ARGUMENTS = re.compile(r"(?s)Got unexpected extra argument\(s\) \((.*)\)")
_NEEDS_VALUE = re.compile(r"(?s)Option .* requires (?:an argument|\d+ arguments)\.")
_PARAM_KINDS = {"argument": N_("argument"), "option": N_("option")}


def _param_hint(error: Any) -> str:
    """How a usage error names its parameter (``'--limit'``, ``'decision'``), or ''."""
    hint = getattr(error, "param_hint", None)
    if hint is None and getattr(error, "param", None) is not None:
        hint = error.param.get_error_hint()
    if hint is None:
        return ""
    return hint if isinstance(hint, str) else " / ".join(repr(h) for h in hint)


#: a number option's bound as Typer's pydantic says it, and the same in groupops' words
_BOUNDS = (
    (re.compile(r"Input should be greater than or equal to (\S+)"), N_("at least {ge}"), "ge"),
    (re.compile(r"Input should be greater than (\S+)"), N_("more than {gt}"), "gt"),
    (re.compile(r"Input should be less than or equal to (\S+)"), N_("at most {le}"), "le"),
    (re.compile(r"Input should be less than (\S+)"), N_("less than {lt}"), "lt"),
)
#: a number option's allowed range, said whole when a value is out of it (the option's own
#: ``min`` and ``max``, both said even when only one was crossed)
MUST_BE_BETWEEN = N_("must be {min} to {max}")
MUST_BE_AT_LEAST = N_("must be at least {min}")
MUST_BE_AT_MOST = N_("must be at most {max}")
#: a value that is not a number at all, as pydantic says it, and in groupops' words
_NOT_NUMBERS = (
    (re.compile(r"Input should be a valid integer\b.*", re.S), N_("must be a whole number")),
    (re.compile(r"Input should be a valid number\b.*", re.S), N_("must be a number")),
)


def _number(value: object) -> str:
    """A bound as a person writes it: ``1``, ``0.5`` (not ``1.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def bound_said(reason: str, t: Callable[[str], str], param: Any = None) -> str:
    """A bad value's reason in the language of ``t``: a number out of the option's range as
    the whole range it allows (``must be 0 to 65535``, from ``param``'s ``min`` and ``max``),
    else the bound it crossed (``at least 1``); a value that is no number as such; any other
    reason as it came."""
    reason = reason.strip()
    for pattern, words in _NOT_NUMBERS:
        if pattern.fullmatch(reason):
            return t(words)
    for pattern, template, name in _BOUNDS:
        if m := pattern.fullmatch(reason):
            low, high = getattr(param, "min", None), getattr(param, "max", None)
            if low is not None and high is not None:
                return t(MUST_BE_BETWEEN).format(min=_number(low), max=_number(high))
            if low is not None and name in ("ge", "gt"):
                return t(MUST_BE_AT_LEAST).format(min=_number(low))
            if high is not None and name in ("le", "lt"):
                return t(MUST_BE_AT_MOST).format(max=_number(high))
            return t(template).format(**{name: m[1]})
    return reason


def usage_error_text(error: Any, t: Callable[[str], str]) -> str:
    """The sentence of a malformed command line's error in the language of ``t``. Typer's
    bundled click writes it as English f-strings, so it is rebuilt here from the error's
    parts; the reason inside a bad value (pydantic's words) stays as it came."""
    from typer._click.exceptions import (
        BadOptionUsage,
        BadParameter,
        MissingParameter,
        NoSuchOption,
    )

    if isinstance(error, MissingParameter):
        kind = str(
            getattr(error, "param_type", None) or getattr(error.param, "param_type_name", "")
        )
        text = t("Missing {kind} {name}.").format(
            kind=t(_PARAM_KINDS.get(kind, N_("parameter"))), name=_param_hint(error)
        )
        return f"{text} {error.message}" if error.message else text
    if isinstance(error, BadParameter):
        hint = _param_hint(error)
        reason = bound_said(str(error.message), t, getattr(error, "param", None))
        if not hint:
            return t("Invalid value: {reason}").format(reason=reason)
        return t("Invalid value for {name}: {reason}").format(name=hint, reason=reason)
    if isinstance(error, NoSuchOption):
        text = t("No such option: {name}").format(name=error.option_name)
        if error.possibilities:
            options = ", ".join(sorted(error.possibilities))
            text += " " + t("(did you mean: {options})").format(options=options)
        return text
    if isinstance(error, BadOptionUsage) and _NEEDS_VALUE.fullmatch(str(error.message)):
        return t("Option {name!r} needs a value.").format(name=error.option_name)
    message, suggestions = str(error.message), ""
    if m := _DID_YOU_MEAN.fullmatch(message):
        message, suggestions = m[1].rstrip("。"), m[2]
    if m := _EXTRA_ARGUMENTS.fullmatch(message):
        message = t("Unexpected extra arguments: {arguments}").format(arguments=m[1])
    if suggestions:
        template = t("{message}. Did you mean {suggestions}?")
        return template.format(message=message, suggestions=suggestions)
    return message


@contextmanager
def help_in(command: Any, language: str) -> Iterator[None]:
    """Within the block the help pages of ``command`` (a click command tree) and its usage
    errors speak ``language``; a text without a translation stays English, as does all of
    English."""
    from typer import rich_utils

    if language == "en" or language not in LANGUAGES:
        with values_said_plainly():
            yield
        return
    from typer._click.formatting import HelpFormatter

    t = Catalogs().translations(language).gettext
    slots = [*help_slots(command), *((rich_utils, name) for name in TYPER_TEXTS)]
    saved: list[tuple[Any, str, Any]] = []

    def swap(obj: Any, attr: str, value: Any) -> None:
        saved.append((obj, attr, getattr(obj, attr)))
        setattr(obj, attr, value)

    for obj, attr in slots:
        text = getattr(obj, attr, None)
        if isinstance(text, str) and text:
            swap(obj, attr, t(text))
    for name in LIBRARY_MODULES:
        swap(importlib.import_module(name), "_", t)

    write_usage = HelpFormatter.write_usage
    show_error = rich_utils.rich_format_error

    def localized_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, t("Usage: ") if prefix is None else prefix)

    def localized_error(error: Any) -> None:
        text = usage_error_text(error, t)
        error.format_message = lambda: text
        show_error(error)

    swap(HelpFormatter, "write_usage", localized_usage)
    swap(rich_utils, "rich_format_error", localized_error)
    for each in _commands(command):
        for attr in ("options_metavar", "subcommand_metavar"):
            text = getattr(each, attr, None)
            if isinstance(text, str) and text in USAGE_WORDS:
                swap(each, attr, t(text))
    for kind in (TyperOption, TyperArgument):
        swap(kind, "display_type_rich", _kind_in(kind.display_type_rich, t))
        swap(kind, "_get_number_range_help_str", _range_in(t))
    try:
        yield
    finally:
        for obj, attr, value in reversed(saved):
            setattr(obj, attr, value)


@contextmanager
def values_said_plainly() -> Iterator[None]:
    """Within the block a bad value's reason is in groupops' English (:func:`bound_said`:
    ``Invalid value for '--port': must be 0 to 65535``), not pydantic's ("Input should be
    less than or equal to 65535"); click's other usage errors stay as click says them."""
    from typer import rich_utils
    from typer._click.exceptions import BadParameter

    show_error = rich_utils.rich_format_error

    def plain_error(error: Any) -> None:
        if isinstance(error, BadParameter):
            text = usage_error_text(error, english)
            setattr(error, "format_message", lambda: text)  # noqa: B010 (a method, replaced)
        show_error(error)

    setattr(rich_utils, "rich_format_error", plain_error)  # noqa: B010 (mypy: a function)
    try:
        yield
    finally:
        setattr(rich_utils, "rich_format_error", show_error)  # noqa: B010


def _kind_in(shown: Callable[[Any, Any], str | None], t: Callable[[str], str]) -> Any:
    """``display_type_rich`` saying Typer's value kinds (``<str>``) in the language of ``t``."""

    def display(self: Any, ctx: Any) -> str | None:
        said = shown(self, ctx)
        return t(VALUE_KINDS[said]) if said in VALUE_KINDS else said

    return display


def _range_in(t: Callable[[str], str]) -> Any:
    """``_get_number_range_help_str`` in the language of ``t``."""

    def described(self: Any) -> str | None:
        if getattr(self, "count", False) and self.min == 0 and self.max is None:
            return None
        return range_said(getattr(self, "min", None), getattr(self, "max", None), t)

    return described


#: a value kind Typer writes as Python's type of a list (``<list[Path]>``): the kind of one
#: value, the ``...`` after the argument's name saying there may be several
_LIST_KIND = re.compile(r"<list\[(\w+)\]>")


def _plain_kind(said: str | None) -> str | None:
    if said is not None and (m := _LIST_KIND.fullmatch(said)):
        return f"<{m[1].lower()}>"
    return RANGED_KINDS.get(said, said) if said is not None else None


@contextmanager
def flags_shown_as_flags() -> Iterator[None]:
    """Within the block a help page shows an option that takes no value (``--json``,
    ``--yes``, ``--help``) as a flag, without the ``<bool>`` Typer writes after it (which
    reads as if it took ``true``); and a list of values by the kind of one (``<path>``, not
    Python's ``<list[Path]>``); a number's range in words (``<int> [at least 1]``, not
    ``<int range> [x>=1]``; :func:`help_in` says them in the operator's language)."""
    shown = TyperOption.display_type_rich
    shown_argument = TyperArgument.display_type_rich
    ranges = [(kind, kind._get_number_range_help_str) for kind in (TyperOption, TyperArgument)]

    def display(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else _plain_kind(shown(self, ctx))

    def display_argument(self: TyperArgument, ctx: Any) -> str | None:
        return _plain_kind(shown_argument(self, ctx))

    TyperOption.display_type_rich = display  # type: ignore[method-assign]
    TyperArgument.display_type_rich = display_argument  # type: ignore[method-assign,assignment]
    for kind, _said in ranges:
        setattr(kind, "_get_number_range_help_str", _range_in(english))  # noqa: B010
    try:
        yield
    finally:
        TyperOption.display_type_rich = shown  # type: ignore[method-assign]
        TyperArgument.display_type_rich = shown_argument  # type: ignore[method-assign]
        for kind, said in ranges:
            setattr(kind, "_get_number_range_help_str", said)  # noqa: B010


def usage_name(argument: TyperArgument) -> str:
    """How the usage line names an argument: its name in capitals (``NAME``), in brackets when
    it may be left out (``[FILES]``), ``...`` after it when it takes several, as click writes
    it; a metavar the command gives is written as given. Typer writes a required one in
    braces (``{name}``), which reads as a placeholder left unfilled."""
    name = argument.metavar or (argument.name or "").upper()
    if not argument.required:
        name = f"[{name}]"
    return name + ("..." if argument.nargs != 1 else "")


@contextmanager
def arguments_named_in_usage() -> Iterator[None]:
    """Within the block the usage line (help pages, usage errors) names the arguments as
    :func:`usage_name` does, in every language (a name is not translated, as an option's is
    not)."""
    named = TyperArgument._usage_display_name
    TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        TyperArgument._usage_display_name = named  # type: ignore[method-assign]


class _LocalizedGroup(TyperGroup):
    """The root command: translates its help (and its commands') before click parses."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        words = list(sys.argv[1:] if args is None else args)
        # flags and kinds first: help_in translates the kinds they show (<path>: <路径>)
        with (
            flags_shown_as_flags(),
            arguments_named_in_usage(),
            help_in(self, help_language(words)),
            help_layout(),
        ):
            return super().main(args, *rest, **kwargs)


app = typer.Typer(no_args_is_help=True, help="groupops: run chat communities.", cls=_LocalizedGroup)

# "module:function" that take the Typer app and add commands to it.
REGISTRARS: tuple[str, ...] = (
    "groupops.commands:register",
    "groupops.features.moderation.commands:register",
    "groupops.importers.commands:register",
    "groupops.analytics.commands:register",
    "groupops.report.commands:register",
    "groupops.web.commands:register",
    "groupops.platforms.commands:register",
    "groupops.simulator.commands:register",
)


def _register_all() -> None:
    for spec in REGISTRARS:
        module_name, _, func = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):  # that area is not built yet
                continue
            raise
        getattr(module, func)(app)


def main() -> None:
    _register_all()
    app()  # builds the click command tree; _LocalizedGroup.main translates it, then parses
