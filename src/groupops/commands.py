"""Core CLI commands: database, groups, members, settings, leaderboard, moderation, outbox,
owner tasks. Thin: each calls one function of the engine or a feature."""

from __future__ import annotations

import functools
import importlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine
from typer._click.exceptions import NoSuchOption, UsageError
from typer._click.parser import _OptionParser, _ParsingState
from typer.core import TyperCommand

from groupops.domain.errors import Conflict, GroupopsError, InvalidOption, InvalidSettings
from groupops.domain.text import one_line
from groupops.domain.time import zone
from groupops.engine import admin, settings_admin
from groupops.engine.clock import RealClock
from groupops.engine.deliverer import KIND_WORDS, error_words, list_outbox, retry_dead
from groupops.features.registry import FeatureRegistry, Place, SettingError
from groupops.i18n import N_, Catalogs, chosen_language, english
from groupops.storage.db import LARGEST_ID, open_database
from groupops.storage.migrate import current
from groupops.storage.tables import outbox

F = TypeVar("F", bound=Callable[..., Any])
out = Console()
err = Console(stderr=True)


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
#: a word refused as an unknown option that may have been meant as a value (``"-No ads"``)
DASH_VALUE = N_(
    "No such option: {name}. A value that starts with - and a letter goes after --"
    " (settings set -g 1 welcome.rules -- {value})"
)


class _DashValueParser(_OptionParser):
    """click's parser, but a word starting with "-" that cannot be an option (a negative
    number, "- No ads", "-不要发广告": no letter after the dashes) is a value. Words shaped like
    options (``--grup``, ``-x``) are still refused as unknown options."""

    def _process_opts(self, arg: str, state: _ParsingState) -> None:
        if _OPTION_SHAPE.match(arg) is None:
            state.largs.append(arg)
            return
        try:
            super()._process_opts(arg, state)
        except NoSuchOption as exc:
            if exc.possibilities:  # a misspelt option: click says which it meant
                raise
            said = Catalogs().gettext(chosen_language())(DASH_VALUE)
            value = json.dumps(arg, ensure_ascii=False)
            raise UsageError(said.format(name=exc.option_name, value=value), ctx=exc.ctx) from None


class DashValues(TyperCommand):
    """A command whose arguments may start with "-" (``settings set NAME -5``, ``undo -1``):
    :class:`_DashValueParser` reads them as values. A text starting with "-" and a letter
    still needs ``--`` before the arguments, as with any command line."""

    def make_parser(self, ctx: Any) -> _OptionParser:
        parser = _DashValueParser(ctx)
        for param in self.get_params(ctx):
            param.add_to_parser(parser, ctx)
        return parser


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
        err.print(error_line(exc, lang), highlight=False, soft_wrap=True)
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


SHOWING = N_("showing {shown} of {total}; --limit to see more")


def say_cut(shown: int, total: int, lang: str) -> None:
    """A listing cut at its ``--limit`` says so, and how many there are in all: on stderr, so
    that ``--json`` stays one JSON document."""
    if total > shown:
        said = Catalogs().gettext(lang)(SHOWING).format(shown=shown, total=total)
        err.print(literal(said), highlight=False, soft_wrap=True)


USE_LANGUAGE = N_("{value!r}: use en or zh_CN")


def check_language(value: str | None) -> str:
    """``--lang``'s check, the same on every command: a language the catalogues have (``zh``
    and ``zh-CN`` read as ``zh_CN``); not given (nor GROUPOPS_LANG), the terminal's (LANG), as
    the commands without ``--lang``."""
    if value is None or value == "":
        return chosen_language()
    code = settings_admin.language_code(value)
    if code is None:
        said = Catalogs().gettext(chosen_language())(USE_LANGUAGE)
        raise typer.BadParameter(said.format(value=value), param_hint="--lang")
    return code


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


def typed_errors(func: F) -> F:
    """A typed error becomes one clear line on stderr, in the command's language, and exit
    code 2, not a traceback. A number past 64 bits is refused first (:func:`check_numbers`)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            check_numbers(kwargs)
            check_zones(kwargs)
            return func(*args, **kwargs)
        except GroupopsError as exc:
            err.print(
                error_line(exc, command_language(kwargs)),
                highlight=False,
                soft_wrap=True,  # one line, whatever the terminal's width
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def open_db(url: str | None, *, create: bool = False) -> Engine:
    """The command's database, migrated; a bad URL or a missing file is one typed error. A new
    SQLite file is made only by commands that bring data in (``create``)."""
    return open_database(url, create=create)


def literal(value: object) -> str:
    """``value`` as rich prints it letter for letter: user data (names, titles, chat ids, file
    names) holding ``[bold]`` or ``[v2]`` is shown as written, never read as markup. Every
    command passes what it did not write itself through here before rich prints it."""
    return escape("" if value is None else str(value))


LOG_COLUMNS = ("id", "time (UTC)", "group", "member", "decision", "reason", "evidence", "undone")
EVIDENCE_CHARS = 40


def minute(value: object, timezone: str = "UTC") -> str:
    """A stored time as ``2026-11-01 20:44`` (UTC, or in ``timezone``), whether the driver
    gave a datetime or text."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return ""
    if value.tzinfo is None:  # SQLite gives stored UTC times back without their zone
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M")


#: moderation's words in the log (its steps, the actions they took, the rules broken) in the
#: operator's language; the English is the stored word itself, and ``--json`` keeps it
LOG_WORDS = {
    "warn": N_("warn"),
    "mute": N_("mute"),
    "unmute": N_("unmute"),
    "kick": N_("kick"),
    "ban": N_("ban"),
    "unban": N_("unban"),
    "undo": N_("undo"),
    "delete": N_("delete"),
    "send": N_("send"),
    "reply": N_("reply"),
    "direct_message": N_("direct_message"),
    "link": N_("link"),
    "invite": N_("invite"),
    "phone": N_("phone"),
    "contact": N_("contact"),
    "keyword": N_("keyword"),
    "flood": N_("flood"),
    "cross_group": N_("cross_group"),
    "newcomer_link": N_("newcomer_link"),
    "blacklist": N_("blacklist"),
}
UNDONE_BY = N_("{time} by {who}")
#: a decision's step with the actions it took (full-width parentheses in Chinese)
DECISION_WITH = N_("{step} ({actions})")
#: what ``settings set`` did, and what is in effect now
SET_FOR_GROUP = N_("{name} saved for group {group}.")
SET_FOR_WORKSPACE = N_("{name} saved as the default of workspace {workspace!r}.")
STALE_REMOVED = N_(
    "{name} removed from the settings stored for {place}: {feature} has no such setting now."
)
GROUP_OWN = N_("group {group}'s own {feature} settings (the others follow the defaults):")
WORKSPACE_OWN = N_("{feature} defaults of workspace {workspace!r} (the others are built in):")
#: what ``settings show`` says about stored settings that are wrong (it still shows them)
WARNING = N_("warning")
FEATURE_OFF = N_(
    "stored settings are invalid, so this feature is off in the group until they are fixed:"
    " {problem}"
)
DEFAULTS_OFF = N_(
    "stored defaults are invalid, so this feature is off in the groups that inherit them"
    " until they are fixed: {problem}"
)
#: what ``settings profile`` changed, one part per option given
PROFILE = N_("group {group}: {changes}")
PROFILE_CHANGED = N_("{what} {old} → {new}")
PROFILE_KEPT = N_("{what} stays {value}")
PROFILE_WORDS = {"timezone": N_("time zone"), "language": N_("language"), "title": N_("title")}


def log_line(row: dict[str, Any], t: Callable[[str], str] = english) -> dict[str, Any]:
    """A moderation decision as an operator reads it in a table (``--json`` keeps every
    field): when, where, who, what was done and why, and whether it was taken back; in the
    language of ``t`` (English by default)."""

    def word(value: object) -> str:
        text = "" if value is None else str(value)
        return t(LOG_WORDS[text]) if text in LOG_WORDS else text

    # evidence in groupops' own words comes as a template with its values (a rule or step
    # among them said as a word above); quoted evidence, and rows stored before, as they are
    evidence = str(row.get("evidence") or "")
    template, values = row.get("evidence_template"), row.get("evidence_values")
    if template and isinstance(values, dict):
        shown = {k: word(v) if k in ("rule", "step") else v for k, v in values.items()}
        try:
            said = str(t(template).format(**shown))
        except (KeyError, IndexError, ValueError):
            said = evidence  # a broken translation: the English
        evidence = said
    evidence = one_line(evidence, EVIDENCE_CHARS)
    actions = t(LIST_COMMA).join(word(a) for a in row.get("actions") or [])
    undone = ""
    if row.get("undone_at") is not None:
        who = row.get("undone_by") or "?"
        undone = t(UNDONE_BY).format(time=minute(row["undone_at"]), who=who)
    step = word(row.get("step"))
    return {
        "id": row.get("id"),
        "time (UTC)": minute(row.get("created_at")),
        "group": row.get("group") or row.get("chat_id"),
        "member": row.get("member") or row.get("user_id"),
        "decision": t(DECISION_WITH).format(step=step, actions=actions) if actions else step,
        "reason": word(row.get("rule")),
        "evidence": evidence,
        "undone": undone,
    }


#: what ``forget`` removed, as one part of its sentence each (a count the catalogue does not
#: know is said as its key)
COUNTED = {
    "events_scrubbed": N_("{n} events scrubbed"),
    "memberships_removed": N_("{n} memberships removed"),
}
NOTHING_KEPT = N_("nothing kept")
#: the punctuation of a sentence put together from parts (Chinese has its own)
LIST_COMMA = N_(", ")
CLAUSE_BREAK = N_("; ")
FULL_STOP = N_(". ")


def speaker(params: dict[str, Any] | None = None) -> Callable[[str], str]:
    """The gettext of the command's language (:func:`command_language` of its params)."""
    return Catalogs().gettext(command_language(params or {}))


def counts(result: dict[str, Any], t: Callable[[str], str] = english) -> str:
    """``{"events_scrubbed": 2}`` as ``2 events scrubbed``: a result for people, not a dict."""
    parts = [
        t(COUNTED[k]).format(n=v) if k in COUNTED else f"{v} {k.replace('_', ' ')}"
        for k, v in result.items()
        if not isinstance(v, bool)
    ]
    return t(LIST_COMMA).join(parts) if parts else t(NOTHING_KEPT)


def undo_sentence(
    result: dict[str, Any],
    t: Callable[[str], str] = english,
    ngettext: Callable[[str, str, int], str] | None = None,
) -> str:
    """What ``undo`` did, as one sentence in the language of ``t`` and ``ngettext`` (English
    by default)."""
    if ngettext is None:
        ngettext = Catalogs().ngettext("en")
    undone = ", ".join(str(i) for i in result.get("undone") or [result.get("decision_id")])
    parts = [
        t(N_("decision {undone} undone (logged as decision {undo_id})")).format(
            undone=undone, undo_id=result.get("undo_id")
        )
    ]
    if result.get("outbox_ids"):
        n = len(result["outbox_ids"])
        said = ngettext("{n} action queued to revert it", "{n} actions queued to revert it", n)
        parts.append(said.format(n=n))
    if result.get("owner_task_ids"):
        n = len(result["owner_task_ids"])
        said = ngettext(
            "{n} owner task for what a bot cannot do", "{n} owner tasks for what a bot cannot do", n
        )
        parts.append(said.format(n=n))
    if result.get("blacklist_removed"):
        parts.append(t(N_("blacklist entry lifted")))
    note = str(result.get("note") or "")
    note = t(note) if note else ""  # moderation's note, when the catalogue has it
    stop = t(FULL_STOP)
    said = t(CLAUSE_BREAK).join(parts)
    if note:
        said += f"{stop}{note[:1].upper()}{note[1:]}"
    return said + stop.rstrip()


#: the listing commands' column headings and titles, through the catalogue (``--lang``);
#: ``--json`` keeps the keys themselves
LABELS = {
    "id": N_("id"),
    "workspace": N_("workspace"),
    "source": N_("source"),
    "chat_id": N_("chat id"),
    "title": N_("title"),
    "timezone": N_("time zone"),
    "language": N_("language"),
    "members": N_("members"),
    "display_name": N_("name"),
    "user_id": N_("user id"),
    "group_id": N_("group id"),
    "status": N_("status"),
    "joined_at": N_("joined"),
    "introduced_at": N_("introduced"),
    "rank": N_("rank"),
    "member": N_("member"),
    "member_id": N_("member id"),
    "points": N_("points"),
    "kind": N_("kind"),
    "feature": N_("feature"),
    "attempts": N_("attempts"),
    "last_error": N_("last error"),
    "text": N_("text"),
    "what": N_("what"),
    "created_at": N_("created"),
    "time (UTC)": N_("time (UTC)"),
    "group": N_("group"),
    "decision": N_("decision"),
    "reason": N_("reason"),
    "evidence": N_("evidence"),
    "undone": N_("undone"),
    "groups": N_("groups"),
    "moderation log": N_("moderation log"),
    "owner tasks": N_("owner tasks"),
    "outbox": N_("outbox"),
    "platform": N_("platform"),
    "synced": N_("synced"),
    "day": N_("day"),
    "week": N_("week"),
    "month": N_("month"),
}


def label(name: str, lang: str, catalogs: Catalogs | None = None) -> str:
    """A heading in ``lang`` (a name the catalogue does not know stays as it is)."""
    msgid = LABELS.get(name)
    if msgid is None or lang == "en":
        return msgid or name
    return (catalogs or Catalogs()).gettext(lang)(msgid)


#: the ``status`` values of the listings (memberships, outbox actions, owner tasks) as an
#: operator reads them; ``--json`` keeps the stored value
STATUSES = {
    "active": N_("in the group"),
    "left": N_("left"),
    "kicked": N_("removed"),
    "banned": N_("banned"),
    "pending": N_("waiting"),
    "sending": N_("being sent"),
    "delivered": N_("delivered"),
    "dead": N_("dead letter"),
    "rerouted": N_("posted in the group instead"),
    "open": N_("to do"),
    "done": N_("done"),
    "dismissed": N_("dismissed"),
}
NOTHING_LISTED = N_("{title}: nothing to list")
NOTHING = N_("nothing to list")
YES = N_("yes")
NO = N_("no")
TITLED = N_("{title}: {status}")
TIME_COLUMNS = frozenset({"created_at", "joined_at", "introduced_at", "time (UTC)"})
#: columns of one line each, at most this many terminal cells (a Chinese character takes two;
#: None: as wide as the terminal lets it be), cut with "…" and the first to give way where the
#: terminal is narrow: an action's text, kind and last error (``--json`` has them whole)
ONE_LINE_COLUMNS: dict[str, int | None] = {"what": 24, "kind": 16, "last_error": None}
#: columns never cut nor wrapped, whatever the terminal's width: a row's id is what an
#: operator types, and a time zone ``Asia/Shan…`` names none
WHOLE_COLUMNS = frozenset({"id", "timezone"})
#: a group's reference (``source:chat_id``), what an operator types too: whole in the listings
#: of groups and actions (:func:`table`'s ``whole``); too wide for the terminal beside the
#: rest (a Telegram group in 80 columns), it folds onto a second line rather than lose a
#: character
GROUP_REFERENCE = frozenset({"source", "chat_id"})
#: the least a column that gives way keeps (its cells and padding), when :func:`table` counts
#: whether the whole columns fit
NARROWEST = 4


def shown(column: str, value: object, t: Callable[[str], str]) -> str:
    """A listed value as an operator reads it: a time to the minute (UTC), a status in words
    of their language, the rest as stored (escaped for rich)."""
    if isinstance(value, datetime):
        return minute(value)
    if isinstance(value, bool):
        return t(YES if value else NO)
    if column == "status" and isinstance(value, str) and value in STATUSES:
        return t(STATUSES[value])
    return literal(value)


def board_title(title: str, period: str, when: datetime, timezone: str, lang: str) -> str:
    """A leaderboard's title naming its period: ``Runners: month 2026-11-01 – 2026-11-30``
    (the days in the group's time zone)."""
    from datetime import timedelta

    from groupops.domain.time import local_day
    from groupops.features.points import period_bounds

    start, end = period_bounds(period, when, timezone)
    first, last = local_day(start, timezone), local_day(end - timedelta(seconds=1), timezone)
    days = str(first) if first == last else f"{first} – {last}"
    said = Catalogs().gettext(lang)(BOARD_TITLE)
    return said.format(title=title, period=label(period, lang), days=days)


#: a leaderboard's title: the group, the period's word (日 + 榜 in Chinese), its days
BOARD_TITLE = N_("{title}: {period} {days}")
#: a leaderboard with nobody on it
BOARD_EMPTY = N_("nobody on {title} yet")
#: the columns of times, with the zone they are shown in (``members``)
JOINED_IN = N_("joined ({zone})")
INTRODUCED_IN = N_("introduced ({zone})")
#: the undo refused for a decision already undone: when, as the log shows it
UNDONE_AT = N_("{time} UTC")


def title_of(name: str, lang: str, status: str) -> str:
    """A listing's title with the status it lists: ``outbox: dead letter`` (``发件队列：死信``)."""
    catalogs = Catalogs()
    t = catalogs.gettext(lang)
    title = label(name, lang, catalogs)
    return t(TITLED).format(title=title, status=t(STATUSES.get(status, status)))


def table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    title: str = "",
    lang: str = "en",
    headings: dict[str, str] | None = None,
    whole: frozenset[str] = WHOLE_COLUMNS,
) -> None:
    """``rows`` as a table with these ``columns`` (their headings in ``lang``, or as
    ``headings`` gives them), or one sentence when there are none. The ``whole`` columns are
    never cut (:data:`WHOLE_COLUMNS`, and :data:`GROUP_REFERENCE` where a listing says so)."""
    catalogs = Catalogs()
    gettext = catalogs.gettext(lang)
    if not rows:  # a sentence, not the column heads of an empty table
        said = gettext(NOTHING_LISTED).format(title=title) if title else gettext(NOTHING)
        out.print(literal(said), highlight=False, soft_wrap=True)
        return
    t = Table(title=literal(title) or None)
    cells: list[list[str | Text]] = [
        [
            Text(one_line(str(r.get(c) or ""), 2000), no_wrap=True, overflow="ellipsis")
            if c in ONE_LINE_COLUMNS
            else shown(c, r.get(c), gettext)
            for c in columns
        ]
        for r in rows
    ]
    heads = [literal((headings or {}).get(c) or label(c, lang, catalogs)) for c in columns]
    widest = {
        c: max(cell_len(heads[i]), *(cell_len(str(row[i])) for row in cells))
        for i, c in enumerate(columns)
    }
    room = out.width - 3 * len(columns) - 1  # less the borders and each column's padding
    fold = _folded(columns, widest, room, whole | WHOLE_COLUMNS)
    for c, heading in zip(columns, heads, strict=True):  # a time or an id is read whole
        if c in ONE_LINE_COLUMNS:  # one line each (the cells say so): gives way first
            t.add_column(heading, max_width=ONE_LINE_COLUMNS[c])
        elif c in fold:  # too wide for the terminal: folded onto more lines, never cut
            t.add_column(heading, overflow="fold", width=fold[c])
        elif c in whole or c in WHOLE_COLUMNS:
            t.add_column(heading, no_wrap=True, min_width=widest[c])  # as wide as its longest
        else:
            t.add_column(heading, no_wrap=c in TIME_COLUMNS)
    for row in cells:
        t.add_row(*row)
    out.print(t)


def _folded(
    columns: Sequence[str], widest: dict[str, int], room: int, whole_ones: frozenset[str]
) -> dict[str, int]:
    """When the ``whole_ones`` columns (and times) do not fit in ``room`` terminal cells
    beside the least of the others (:data:`NARROWEST` each), the widths of the group
    references among them (:data:`GROUP_REFERENCE`) folded onto more lines, sharing what is
    left in proportion to their length; empty when everything fits on one line each."""
    whole = [c for c in columns if c in whole_ones or c in TIME_COLUMNS]
    others = NARROWEST * (len(columns) - len(whole))
    if sum(widest[c] for c in whole) + others <= room:
        return {}
    folding = [c for c in whole if c in GROUP_REFERENCE]
    kept = sum(widest[c] for c in whole if c not in folding)
    left = max(len(folding), room - kept - others)
    longest = sum(widest[c] for c in folding) or 1
    return {c: max(1, left * widest[c] // longest) for c in folding}


#: how much of an action's text a listing shows at most (a narrow terminal shows less)
SUMMARY_CHARS = 30


def action_summary(payload: dict[str, Any]) -> str:
    """What an action says or whom it is for, in a few words: the start of its text (on one
    line), else its target (``mute u42``'s ``u42``)."""
    text = one_line(str(payload.get("text") or ""), SUMMARY_CHARS)
    return text or str(payload.get("user_id") or payload.get("message_id") or "")


def emit(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    as_json: bool,
    title: str = "",
    lang: str = "en",
    headings: dict[str, str] | None = None,
    whole: frozenset[str] = WHOLE_COLUMNS,
) -> None:
    if as_json:
        sys.stdout.write(json.dumps(list(rows), default=str, ensure_ascii=False) + "\n")
    else:
        table(rows, columns, title, lang, headings, whole)


def feature_function(module: str, name: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="The database: migrations.")
    settings_app = typer.Typer(help="Feature settings: workspace defaults, group overrides.")
    moderation_app = typer.Typer(
        help="Moderation decisions: the log (take one back with `groupops undo ID`)."
    )
    outbox_app = typer.Typer(help="Actions waiting, delivered or dead-lettered.")
    tasks_app = typer.Typer(help="Owner tasks: what a platform could not do, for a human.")
    app.add_typer(db_app, name="db")
    app.add_typer(settings_app, name="settings")
    app.add_typer(moderation_app, name="moderation")
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(tasks_app, name="tasks")

    @db_app.command("upgrade")
    @typed_errors
    def db_upgrade(url: str | None = DbOption) -> None:
        """Create or migrate the database to the newest schema."""
        db = open_db(url, create=True)
        out.print(speaker()(N_("database at revision {revision}")).format(revision=current(db)))

    @app.command("groups")
    @typed_errors
    def groups_cmd(
        url: str | None = DbOption,
        as_json: bool = typer.Option(False, "--json"),
        lang: str = LangOption(),
    ) -> None:
        """List groups with their active member counts."""
        rows = admin.list_groups(open_db(url))
        emit(
            rows,
            ["id", "workspace", "source", "chat_id", "title", "timezone", "language", "members"],
            as_json,
            label("groups", lang),
            lang,
            whole=WHOLE_COLUMNS | GROUP_REFERENCE,
        )

    @app.command("members")
    @typed_errors
    def members_cmd(
        group: str | None = GroupOption(
            what="only this group's members: its id or source:chat_id (default: every group)"
        ),
        status: str | None = typer.Option(
            None,
            "--status",
            help="only the members with this status (default: every status)",
            metavar="[" + "|".join(MemberStatus.__members__) + "]",
            callback=check_member_status,
        ),
        limit: int = Limit(100),
        url: str | None = DbOption,
        as_json: bool = typer.Option(False, "--json"),
        lang: str = LangOption(),
    ) -> None:
        """List members (of one group with --group ID or source:chat_id)."""
        db = open_db(url)
        wanted = status
        rows = admin.list_members(db, group, limit, wanted)
        if len(rows) == limit:
            say_cut(len(rows), admin.count_members(db, group, wanted), lang)
        columns = ["id", "display_name", "source", "user_id", "group_id"]
        timezone = "UTC"
        if group is not None:  # one group: its id and platform are the same on every row
            columns = ["id", "display_name", "user_id"]
            timezone = admin.find_group(db, group).timezone  # its times in its own zone
        if not as_json:
            rows = [
                {**r, **{k: minute(r.get(k), timezone) for k in ("joined_at", "introduced_at")}}
                for r in rows
            ]
        t = Catalogs().gettext(lang)
        emit(
            rows,
            [*columns, "status", "joined_at", "introduced_at"],
            as_json,
            title_of("members", lang, wanted) if wanted else label("members", lang),
            lang,
            {
                "joined_at": t(JOINED_IN).format(zone=timezone),
                "introduced_at": t(INTRODUCED_IN).format(zone=timezone),
            },
        )

    @app.command("forget", cls=DashValues)
    @typed_errors
    def forget_cmd(
        member: int = typer.Argument(..., help="member id (see `groupops members`)"),
        yes: bool = typer.Option(False, "--yes", help="do not ask"),
        url: str | None = DbOption,
    ) -> None:
        """Delete everything kept about one member (every feature's data, names, message text)."""
        t = speaker()
        db = open_db(url)
        name = admin.member_name(db, member)  # no such member: said before asking
        if not yes:
            question = t(N_("Forget member {member} ({name}) everywhere?"))
            typer.confirm(question.format(member=member, name=name), abort=True)
        result = admin.forget_member(db, FeatureRegistry.load(), member)
        said = t(N_("member {member} forgotten: {counts}"))
        said = said.format(member=member, counts=counts(result, t))
        out.print(literal(said), highlight=False, soft_wrap=True)

    @settings_app.command("show")
    @typed_errors
    def settings_show(
        group: str | None = GroupOption(
            what="the group: its id or source:chat_id (default: the workspace's defaults)"
        ),
        workspace: str | None = typer.Option(
            None,
            "--workspace",
            "-w",
            help="the workspace whose defaults to show (default: 'default'; with --group,"
            " the group's, checked)",
            show_default=False,
        ),
        own: bool = typer.Option(
            False,
            "--own",
            help="only the values set there (the group's own, or the workspace's defaults),"
            " not those inherited or built in",
        ),
        url: str | None = DbOption,
    ) -> None:
        """Show a group's effective settings, or without --group a workspace's defaults."""
        db, registry = open_db(url), FeatureRegistry.load()
        if group is not None:
            view = settings_admin.settings_view(db, registry, group)
            if workspace is not None and workspace != view.workspace:
                raise InvalidSettings(
                    N_("group {group} is not in workspace {workspace!r}"),
                    where=N_("workspace"),
                    group=group,
                    workspace=workspace,
                )
        else:
            view = settings_admin.workspace_view(db, registry, workspace or "default")
        shown = view.own if own else view.settings
        sys.stdout.write(json.dumps(shown, ensure_ascii=False, indent=2, default=str) + "\n")
        t = speaker()
        off = FEATURE_OFF if group is not None else DEFAULTS_OFF
        warnings: list[GroupopsError] = [
            SettingError(off, where=refused.where, problem=refused.localized_message(t))
            for refused in view.invalid.values()
        ]
        for problem in [*view.unreadable, *warnings, *view.clashes]:
            line = escape(f"[{problem.code}] {problem.localized(t)}")
            err.print(f"[yellow]{t(WARNING)}[/yellow] {line}", highlight=False, soft_wrap=True)

    @settings_app.command("set", cls=DashValues)
    @typed_errors
    def settings_set(
        name: str = typer.Argument(
            ...,
            help="feature.setting, e.g. welcome.rules; the features: moderation, gate, welcome,"
            " checkin, points (`settings show` lists every setting with its value)",
        ),
        value: str = typer.Argument(..., help="the value (JSON, or plain text)"),
        group: str | None = GroupOption(
            what="the group it is for: its id or source:chat_id (default: the workspace default)"
        ),
        workspace: str | None = typer.Option(
            None,
            "--workspace",
            "-w",
            help="the workspace (default: 'default'; with --group, the group's, checked)",
        ),
        url: str | None = DbOption,
    ) -> None:
        """Set a setting for one group, or the workspace default when no --group is given."""
        feature, dot, key = name.partition(".")
        if not dot or not key:
            raise typer.BadParameter("write it as feature.setting, e.g. welcome.rules")
        db = open_db(url)
        registry = FeatureRegistry.load()
        stale = value.strip() == "null" and settings_admin.is_stale_setting(registry, feature, key)
        settings_admin.set_setting(
            db,
            registry,
            feature=feature,
            key=key,
            value=settings_admin.setting_value(registry, feature, key, value),
            group_ref=group,
            workspace=workspace,
        )
        t = speaker()
        if stale:
            place = Place(N_("group {group}"), group=group) if group is not None else None
            place = place or Place(N_("workspace {workspace}"), workspace=workspace or "default")
            said = t(STALE_REMOVED).format(name=name, place=place.localized(t), feature=feature)
        elif group is not None:
            said = t(SET_FOR_GROUP).format(name=name, group=group)
        else:
            said = t(SET_FOR_WORKSPACE).format(name=name, workspace=workspace or "default")
        # what is set there now, the one value among them: the rest is inherited or built in
        if group is not None:
            there = settings_admin.settings_view(db, registry, group).own.get(feature, {})
            heading = t(GROUP_OWN).format(group=group, feature=feature)
        else:
            slug = workspace or "default"
            there = settings_admin.workspace_view(db, registry, slug).own.get(feature, {})
            heading = t(WORKSPACE_OWN).format(feature=feature, workspace=slug)
        now_set = json.dumps(there, ensure_ascii=False, indent=2, default=str)
        out.print(literal(f"{said}\n{heading}\n{now_set}"), soft_wrap=True)

    @settings_app.command("profile")
    @typed_errors
    def settings_profile(
        group: str = GroupOption(required=True),
        timezone: str | None = typer.Option(
            None,
            help="the group's time zone (its days and months), a name like Asia/Shanghai",
            show_default=False,
        ),
        language: str | None = typer.Option(
            None,
            help="the language the bot speaks in the group: zh_CN or en (zh, zh-CN: zh_CN)",
            show_default=False,
        ),
        title: str | None = typer.Option(
            None, help="the group's name in the listings and the bot's lines", show_default=False
        ),
        url: str | None = DbOption,
    ) -> None:
        """Set a group's time zone (day boundaries), language (zh_CN or en) or title."""
        if timezone is None and language is None and title is None:
            raise InvalidOption(
                N_("nothing to change: give --timezone, --language or --title"),
                where="settings profile",
            )
        changes = settings_admin.set_group_profile(
            open_db(url), group, timezone=timezone, language=language, title=title
        )
        t = speaker()
        parts = [
            t(PROFILE_CHANGED).format(what=t(PROFILE_WORDS[name]), old=old, new=new)
            if old != new
            else t(PROFILE_KEPT).format(what=t(PROFILE_WORDS[name]), value=new)
            for name, (old, new) in changes.items()
        ]
        said = t(PROFILE).format(group=group, changes=t(CLAUSE_BREAK).join(parts))
        out.print(literal(said), highlight=False, soft_wrap=True)

    @app.command("leaderboard")
    @typed_errors
    def leaderboard_cmd(
        group: str = GroupOption(required=True),
        period: str = typer.Option("month", help="day, week or month"),
        limit: int = Limit(10),
        at: str | None = typer.Option(
            None, "--at", help="a day or time inside the period, e.g. 2026-10-15 (default: now)"
        ),
        url: str | None = DbOption,
        as_json: bool = typer.Option(False, "--json"),
        lang: str = LangOption(),
    ) -> None:
        """Points leaderboard of a group for a day, week or month (its time zone)."""
        if period not in PERIODS:  # the option, named as the command line spells it
            raise InvalidOption(
                N_("unknown period {period!r}: choose day, week or month"),
                where="--period",
                period=period,
            )
        db = open_db(url)
        g = admin.find_group(db, group)
        when = parse_when(at, g.timezone) if at else datetime.now(UTC)
        board = feature_function("groupops.features.points", "leaderboard")
        with db.connect() as conn:
            rows = [
                dict(getattr(r, "_mapping", r))
                for r in board(conn, g.id, period, when, min(limit + 1, LARGEST_ID))
            ]
            if len(rows) > limit:  # cut: how many members the whole board ranks
                say_cut(limit, len(board(conn, g.id, period, when, LARGEST_ID)), lang)
                rows = rows[:limit]
            conn.rollback()
        title = board_title(g.title, period, when, g.timezone, lang)
        if not rows and not as_json:
            said = Catalogs().gettext(lang)(BOARD_EMPTY).format(title=title)
            out.print(literal(said), highlight=False, soft_wrap=True)
            return
        emit(rows, list(rows[0]) if rows else ["rank", "member", "points"], as_json, title, lang)

    @moderation_app.command("log")
    @typed_errors
    def moderation_log(
        group: str | None = GroupOption(
            what="only this group's decisions: its id or source:chat_id (default: every group)"
        ),
        limit: int = Limit(50),
        url: str | None = DbOption,
        as_json: bool = typer.Option(False, "--json"),
        lang: str = LangOption(),
    ) -> None:
        """Every moderation decision with its reason, newest first."""
        most = int(importlib.import_module("groupops.features.moderation.ops").MAX_LOG)
        if limit > most:  # the log never reads more at once: refused, not cut without a word
            raise InvalidOption(TOO_LARGE, where="--limit", value=limit, most=most)
        db = open_db(url)
        gid = admin.find_group(db, group).id if group else None
        log_fn = feature_function("groupops.features.moderation", "moderation_log")
        with db.connect() as conn:
            rows = log_fn(conn, group_id=gid, limit=limit)
            conn.rollback()
        if len(rows) == limit:
            decisions = importlib.import_module("groupops.features.moderation.tables")
            say_cut(
                len(rows), admin.count_rows(db, decisions.moderation_decisions, group_id=gid), lang
            )
        if as_json:
            emit(rows, [], True)
        else:
            t = Catalogs().gettext(lang)
            emit(
                [log_line(r, t) for r in rows],
                LOG_COLUMNS,
                False,
                label("moderation log", lang),
                lang,
            )

    @app.command("undo", cls=DashValues)
    @typed_errors
    def undo_cmd(
        decision: int = typer.Argument(..., help="decision id from moderation log"),
        by: str = typer.Option("operator", help="who undoes it (kept in the log)"),
        url: str | None = DbOption,
    ) -> None:
        """Undo a moderation decision: unmute/unban, warning taken back, blacklist lifted."""
        if not by.strip():
            raise InvalidOption(N_("say who undoes it: a name, kept in the log"), where="--by")
        db = open_db(url)
        undo = feature_function("groupops.features.moderation", "undo_decision")
        try:
            result = undo(db, decision, by, datetime.now(UTC))
        except Conflict as exc:  # already undone: when, to the minute as the log says it
            if "at" not in exc.params:
                raise
            at = speaker()(UNDONE_AT).format(time=minute(exc.params["at"]))
            raise Conflict(exc.template, where=exc.where, **{**exc.params, "at": at}) from None
        lang = command_language({})
        said = undo_sentence(result, speaker(), Catalogs().ngettext(lang))
        out.print(literal(said), highlight=False, soft_wrap=True)

    @outbox_app.command("list")
    @typed_errors
    def outbox_list(
        status: OutboxStatus = typer.Option(OutboxStatus.dead, help="which actions"),
        limit: int = Limit(100),
        url: str | None = DbOption,
        as_json: bool = typer.Option(False, "--json"),
        lang: str = LangOption(),
    ) -> None:
        """List actions by status (default: the dead letters).

        Dead letters, and actions waiting or being sent, oldest first: the order they are
        retried and sent in. Delivered and rerouted ones newest first."""
        db = open_db(url)
        rows = list_outbox(db, status.value, limit)
        if len(rows) == limit:
            say_cut(len(rows), admin.count_rows(db, outbox, status=status.value), lang)
        columns = ["id", "created_at", "chat_id", "kind", "what", "attempts", "last_error"]
        if not as_json:
            t = Catalogs().gettext(lang)
            rows = [
                {
                    **row,
                    "what": action_summary(row.get("payload") or {}),
                    "kind": t(KIND_WORDS[row["kind"]])
                    if row["kind"] in KIND_WORDS
                    else row["kind"],
                    "last_error": error_words(row, t),
                }
                for row in rows
            ]
            if not any(row.get("last_error") for row in rows):  # delivered: room for the rest
                columns.remove("last_error")
        title = title_of("outbox", lang, status.value)
        emit(rows, columns, as_json, title, lang, whole=WHOLE_COLUMNS | GROUP_REFERENCE)

    @outbox_app.command("retry", cls=DashValues)
    @typed_errors
    def outbox_retry(
        ids: list[int] = typer.Argument(None),
        all_dead: bool = typer.Option(False, "--all"),
        url: str | None = DbOption,
    ) -> None:
        """Put dead actions back in the queue (the given ids, or --all)."""
        lang = command_language({})
        if not ids and not all_dead:
            said = Catalogs().gettext(lang)(N_("give the ids of the actions to retry, or --all"))
            raise typer.BadParameter(said)
        n = retry_dead(open_db(url), RealClock(), None if all_dead else ids)
        ngettext = Catalogs().ngettext(lang)
        out.print(ngettext("{n} action queued again", "{n} actions queued again", n).format(n=n))

    @tasks_app.command("list")
    @typed_errors
    def tasks_list(
        status: TaskStatus = typer.Option(TaskStatus.open, help="which tasks"),
        url: str | None = DbOption,
        as_json: bool = typer.Option(False, "--json"),
        lang: str = LangOption(),
    ) -> None:
        """Owner tasks: actions a platform cannot perform, for a human to do."""
        rows = admin.list_owner_tasks(open_db(url), status.value)
        emit(
            rows,
            ["id", "source", "chat_id", "feature", "text", "created_at"],
            as_json,
            title_of("owner tasks", lang, status.value),
            lang,
        )

    @tasks_app.command("done", cls=DashValues)
    @typed_errors
    def tasks_done(task: int, url: str | None = DbOption) -> None:
        """Mark an owner task done."""
        admin.complete_owner_task(open_db(url), task, datetime.now(UTC))
        out.print("done")
