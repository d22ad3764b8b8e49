"""The command line's option handling, shared by every area's commands: the options
themselves (``--group``, ``--limit``, ``--lang``, ``--database-url``, the statuses a listing
takes), their checks (a time zone, a whole number that fits 64 bits, a member status, a
language, a day or time), arguments that start with "-" (:class:`DashValues`), the language a
command answers in, and a typed error as one line on stderr with exit code 2
(:func:`typed_errors`). What the commands print is in :mod:`groupops.cli_output`."""

from __future__ import annotations

import functools
import json
import re
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar

import typer
from rich.markup import escape
from sqlalchemy import Engine
from typer._click.exceptions import NoSuchOption, UsageError
from typer._click.parser import _OptionParser, _ParsingState
from typer.core import TyperCommand

from groupops import cli_output
from groupops.domain.errors import GroupopsError, InvalidOption, InvalidSettings
from groupops.domain.time import zone
from groupops.engine import settings_admin
from groupops.i18n import N_, Catalogs, chosen_language, language_code
from groupops.storage.db import LARGEST_ID, open_database

P = ParamSpec("P")
R = TypeVar("R")


TOO_LARGE = N_("{value} is too large: at most {most}")
TOO_SMALL = N_("{value} is too small: at least {least}")


def _option_name(name: str) -> str:
    """How the command line spells the parameter ``name``: ``--limit``, or an argument's name."""
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    for param in ctx.command.params if ctx is not None else ():
        if param.name == name:
            options = [o for o in param.opts if o.startswith("--")]
            return options[0] if options and param.param_type_name == "option" else name
    return f"--{name.replace('_', '-')}"


_OPTION_SHAPE = re.compile(r"--?[A-Za-z]")
#: a word refused as an unknown option where the command takes a free text that may start
#: with "-" (``settings set welcome.rules "-No ads"``): how to give it, the command's own way
DASH_VALUE = N_(
    "No such option: {name}. A value that starts with - and a letter goes after -- ({example})"
)


def _quoted(word: str) -> str:
    """A word as a shell takes it back: as it is, or in double quotes (JSON's escaping)."""
    return word if shlex.quote(word) == word else json.dumps(word, ensure_ascii=False)


class _DashValueParser(_OptionParser):
    """click's parser, but a word starting with "-" that cannot be an option (a negative
    number, "- No ads", "-不要发广告": no letter after the dashes) is a value. Words shaped like
    options (``--grup``, ``-x``) are still refused as unknown options, with click's own words;
    only where the command's free text (:attr:`DashValues.free_text`) is still to come is the
    refusal told how to give a text that starts with "-"."""

    #: the words of the command line, as given (the example is built from them)
    given: list[str]

    def parse_args(self, args: list[str]) -> Any:
        self.given = list(args)
        return super().parse_args(args)

    def _process_opts(self, arg: str, state: _ParsingState) -> None:
        if _OPTION_SHAPE.match(arg) is None:
            state.largs.append(arg)
            return
        try:
            super()._process_opts(arg, state)
        except NoSuchOption as exc:
            example = self._example(arg, state)
            if exc.possibilities or example is None:  # a misspelt or unknown option
                raise
            said = Catalogs().gettext(chosen_language())(DASH_VALUE)
            said = said.format(name=exc.option_name, example=example)
            raise UsageError(said, ctx=exc.ctx) from None

    def _example(self, arg: str, state: _ParsingState) -> str | None:
        """The command line given, with ``arg`` moved after ``--`` as the free text; None
        when the command takes no free text, or it was given already."""
        command = self.ctx.command if self.ctx is not None else None
        free = getattr(command, "free_text", None)
        if command is None or free is None:
            return None
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        place = next((i for i, p in enumerate(arguments) if p.name == free), None)
        if place is None or len(state.largs) > place:
            return None
        before = [str(a.name or "").upper() for a in arguments[len(state.largs) : place]]
        positional = [*state.largs, *before]
        options = list(self.given)
        for word in [*state.largs, arg]:
            if word in options:
                options.remove(word)
        path = (self.ctx.command_path if self.ctx is not None else "").split(" ", 1)[-1]
        words = [path, *map(_quoted, options), *map(_quoted, positional), "--", _quoted(arg)]
        return " ".join(w for w in words if w)


class DashValues(TyperCommand):
    """A command whose arguments may start with "-" (``settings set NAME -5``, ``undo -1``):
    :class:`_DashValueParser` reads them as values. A text starting with "-" and a letter
    still needs ``--`` before the arguments, as with any command line; the command's
    ``free_text`` argument (``settings set``'s value), when it has one, is the one that an
    unknown option may have been meant as."""

    free_text: str | None = None

    def make_parser(self, ctx: Any) -> _OptionParser:
        parser = _DashValueParser(ctx)
        for param in self.get_params(ctx):
            param.add_to_parser(parser, ctx)
        return parser


class FreeTextValue(DashValues):
    """:class:`DashValues` whose ``value`` argument is free text (``settings set``)."""

    free_text = "value"


def check_zones(params: dict[str, Any]) -> None:
    """A time zone a command was given (``--tz``, ``--timezone``) is one it knows: an unknown
    one is one ``invalid_option`` line naming the option (not a feature's setting)."""
    for name in ("tz", "timezone"):
        value = params.get(name)
        if isinstance(value, str):
            try:
                zone(value)
            except InvalidSettings:
                raise InvalidOption(
                    settings_admin.UNKNOWN_ZONE, where=_option_name(name), name=value
                ) from None


def refuse_zone(value: str | None, option: str, lang: str) -> None:
    """:func:`check_zones` for a command without :func:`typed_errors` (``analyze``): an unknown
    zone is the one ``invalid_option`` line, exit code 2."""
    try:
        check_zones({"tz": value})
    except InvalidOption as exc:
        exc.where = option
        cli_output.err.print(error_line(exc, lang), highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def check_numbers(params: dict[str, Any]) -> None:
    """Every whole number a command was given (an id, a ``--limit``, a seed, each of a list)
    fits the 64-bit integers SQLite and PostgreSQL hold: a larger one is one typed line naming
    the option, before anything is read (SQLite's driver cannot even send it)."""
    for name, given in params.items():
        for value in given if isinstance(given, list | tuple) else (given,):
            if isinstance(value, int) and not isinstance(value, bool):
                if value > LARGEST_ID:
                    raise InvalidOption(
                        TOO_LARGE, where=_option_name(name), value=value, most=LARGEST_ID
                    )
                if value < -LARGEST_ID - 1:
                    raise InvalidOption(
                        TOO_SMALL, where=_option_name(name), value=value, least=-LARGEST_ID - 1
                    )


DbOption = typer.Option(
    None,
    "--database-url",
    envvar="GROUPOPS_DATABASE_URL",
    help="Database URL (default: sqlite:///var/groupops.db).",
)


class OutboxStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    delivered = "delivered"
    dead = "dead"
    rerouted = "rerouted"
    #: never sent: moderation removed the message it answered (engine.withdraw)
    withdrawn = "withdrawn"


class MemberStatus(StrEnum):
    """A membership's status (``memberships.status``)."""

    active = "active"
    left = "left"
    kicked = "kicked"
    banned = "banned"


NOT_ONE_OF = N_("{value!r} is not one of {choices}")
#: the periods of ``leaderboard --period``
PERIODS = ("day", "week", "month")


def check_member_status(value: str | None) -> str | None:
    """``members --status``: one of :class:`MemberStatus`, refused in the operator's language."""
    if value is None or value in MemberStatus.__members__:
        return value
    t = Catalogs().gettext(chosen_language())
    choices = ", ".join(MemberStatus.__members__)
    raise typer.BadParameter(t(NOT_ONE_OF).format(value=value, choices=choices))


class TaskStatus(StrEnum):
    open = "open"
    done = "done"
    dismissed = "dismissed"


def GroupOption(required: bool = False, what: str = "") -> Any:
    """``--group``/``-g``: a group by its id or ``source:chat_id``, as ``groupops groups``
    lists them; ``what`` says what the command does without it (an optional one)."""
    if required:
        return typer.Option(..., "--group", "-g", help=GROUP_HELP, show_default=False)
    return typer.Option(None, "--group", "-g", help=what or GROUP_HELP, show_default=False)


GROUP_HELP = "the group: its id or source:chat_id (see `groupops groups`)"


def Limit(default: int) -> Any:
    """``--limit``: how many rows at most; below 1 is refused by the option itself."""
    return typer.Option(default, "--limit", min=1, help="how many rows at most (1 or more)")


USE_LANGUAGE = N_("{value!r}: use en or zh_CN")


def check_language(value: str | None) -> str:
    """``--lang``'s check, the same on every command: a language the catalogues have (``zh``
    and ``zh-CN`` read as ``zh_CN``); not given (nor GROUPOPS_LANG), the terminal's (LANG), as
    the commands without ``--lang``."""
    if value is None or value == "":
        return chosen_language()
    code = language_code(value)
    if code is None:
        said = Catalogs().gettext(chosen_language())(USE_LANGUAGE)
        raise typer.BadParameter(said.format(value=value), param_hint="--lang")
    return code


JSON_HELP = "print JSON instead of a table: every field, as stored"


def JsonOption() -> Any:
    """``--json``: a flag (it takes no value)."""
    return typer.Option(False, "--json", help=JSON_HELP)


def LangOption() -> Any:
    return typer.Option(
        None,
        "--lang",
        envvar="GROUPOPS_LANG",
        help="en or zh_CN (default: GROUPOPS_LANG, else the terminal's language)",
        callback=check_language,
        show_default=False,
    )


def parse_when(value: str, timezone: str) -> datetime:
    """A day (``2026-10-15``, noon there) or a time; without a zone, the group's zone."""
    from zoneinfo import ZoneInfo

    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidOption(
            N_("{value!r} is not a date or time (write 2026-10-15 or 2026-10-15T08:00)"),
            where="--at",
            value=value,
        ) from None
    if len(value.strip()) == 10:
        when = when.replace(hour=12)
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(timezone))
    return when.astimezone(UTC)


ERROR = N_("error")


def command_language(params: dict[str, Any]) -> str:
    """The language a command answers in: its ``--lang``, else ``GROUPOPS_LANG`` (which every
    command reads, with or without a ``--lang`` of its own), else the terminal's (LANG), as
    the commands without ``--lang`` (demo, serve) print the rest of their output."""
    lang = params.get("lang")
    return chosen_language(lang if isinstance(lang, str) else None)


def error_line(exc: GroupopsError, language: str) -> str:
    """A typed error as one line in ``language`` (rich markup, the error's text escaped)."""
    t = Catalogs().gettext(language)
    return f"[red]{t(ERROR)}[/red] {escape(f'[{exc.code}] {exc.localized(t)}')}"


def typed_errors(func: Callable[P, R]) -> Callable[P, R]:
    """A typed error becomes one clear line on stderr, in the command's language, and exit
    code 2, not a traceback. A number past 64 bits is refused first (:func:`check_numbers`)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            check_numbers(kwargs)
            check_zones(kwargs)
            return func(*args, **kwargs)
        except GroupopsError as exc:
            cli_output.err.print(
                error_line(exc, command_language(kwargs)),
                highlight=False,
                soft_wrap=True,  # one line, whatever the terminal's width
            )
            raise typer.Exit(2) from None

    return wrapper


@contextmanager
def opened(url: str | None, *, create: bool = False) -> Iterator[Engine]:
    """The command's database, migrated, for the ``with`` block; a bad URL or a missing file is
    one typed error. A new SQLite file is made only by commands that bring data in
    (``create``). At the end its connections are closed (SQLite checkpoints its write-ahead
    log), whether the block succeeded or not."""
    db = open_database(url, create=create)
    try:
        yield db
    finally:
        db.dispose()


def speaker(params: dict[str, Any] | None = None) -> Callable[[str], str]:
    """The gettext of the command's language (:func:`command_language` of its params)."""
    return Catalogs().gettext(command_language(params or {}))
