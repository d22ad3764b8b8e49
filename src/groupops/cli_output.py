"""What the command line prints, shared by every area's commands: the consoles (``out``,
``err``: redirect them here), user data escaped for rich (:func:`literal`), stored times to
the minute, tables whose headings, titles and statuses are in the operator's language
(:func:`table`, :func:`emit`), a listing cut at its ``--limit`` (:func:`say_cut`), and the
sentences put together from parts: a moderation decision as a log line, what ``forget``
removed, what ``undo`` did, a leaderboard's title. The options and their checks are in
:mod:`groupops.cli_options`; stored texts (reasons, evidence, owner tasks, errors) said in the
operator's language in :mod:`groupops.stored_texts`."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from groupops.cli_layout import lines_broken_between_characters
from groupops.domain.text import one_line
from groupops.domain.time import minute as minute
from groupops.i18n import N_, Catalogs, english

# the stored texts said again, defined in groupops.stored_texts; importable from here as before
from groupops.stored_texts import UNNAMED_OPERATOR as UNNAMED_OPERATOR
from groupops.stored_texts import action_reasons as action_reasons
from groupops.stored_texts import evidence_said as evidence_said
from groupops.stored_texts import evidence_text, log_word
from groupops.stored_texts import reason_said as reason_said
from groupops.stored_texts import task_text as task_text
from groupops.stored_texts import who_undid as who_undid

out = Console()
err = Console(stderr=True)


SHOWING = N_("showing {shown} of {total}; --limit to see more")


def say_cut(shown: int, total: int, lang: str) -> None:
    """A listing cut at its ``--limit`` says so, and how many there are in all: on stderr, so
    that ``--json`` stays one JSON document."""
    if total > shown:
        said = Catalogs().gettext(lang)(SHOWING).format(shown=shown, total=total)
        err.print(literal(said), highlight=False, soft_wrap=True)


#: control characters shown as signs instead of sent to the terminal: C0 but tab and line
#: feed as their control pictures (ESC as ␛), DEL as ␡, C1 (0x80-0x9f, CSI among them) as �
_CONTROLS = {
    **{c: chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)},
    0x7F: "\u2421",
    **dict.fromkeys(range(0x80, 0xA0), "\ufffd"),
}


def literal(value: object) -> str:
    """``value`` as rich prints it letter for letter: user data (names, titles, chat ids, file
    names) holding ``[bold]`` or ``[v2]`` is shown as written, never read as markup, and its
    control characters as visible signs: a member named with an escape sequence cannot clear
    the operator's screen, recolour it or retitle the terminal. Every command passes what it
    did not write itself through here before rich prints it."""
    return escape("" if value is None else str(value).translate(_CONTROLS))


LOG_COLUMNS = ("id", "time (UTC)", "group", "member", "decision", "reason", "evidence", "undone")
EVIDENCE_CHARS = 40


UNDONE_BY = N_("{time} by {who}")
#: a decision's step with the actions it took (full-width parentheses in Chinese)
DECISION_WITH = N_("{step} ({actions})")


def log_line(row: dict[str, Any], t: Callable[[str], str] = english) -> dict[str, Any]:
    """A moderation decision as an operator reads it in a table (``--json`` keeps every
    field): when, where, who, what was done and why, and whether it was taken back; in the
    language of ``t`` (English by default)."""

    def word(value: object) -> str:
        return log_word(value, t)

    evidence = one_line(evidence_text(row, t), EVIDENCE_CHARS)
    actions = t(LIST_COMMA).join(word(a) for a in row.get("actions") or [])
    undone = ""
    if row.get("undone_at") is not None:
        who = who_undid(row.get("undone_by"), t)
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
    "known ads": N_("known ads"),
    "added (UTC)": N_("added (UTC)"),
    "expires (UTC)": N_("expires (UTC)"),
    "owner tasks": N_("owner tasks"),
    "outbox": N_("outbox"),
    "platform": N_("platform"),
    "receives": N_("receives"),
    "health": N_("health"),
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
    "withdrawn": N_("withdrawn"),
    "open": N_("to do"),
    "done": N_("done"),
    "dismissed": N_("dismissed"),
}
NOTHING_LISTED = N_("{title}: nothing to list")
NOTHING = N_("nothing to list")
YES = N_("yes")
NO = N_("no")
#: a listing's title with the status it lists: ``owner tasks (to do)``, so that an empty
#: one reads ``owner tasks (to do): nothing to list``, not ``…: to do: nothing to list``
TITLED = N_("{title} ({status})")
TIME_COLUMNS = frozenset(
    {"created_at", "joined_at", "introduced_at", "done_at", "time (UTC)"}
    | {"added (UTC)", "expires (UTC)"}  # a known ad's
)
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


def title_of(name: str, lang: str, status: str) -> str:
    """A listing's title with its status: ``outbox (dead letter)`` (``发件队列（死信）``)."""
    catalogs = Catalogs()
    t = catalogs.gettext(lang)
    title = label(name, lang, catalogs)
    return t(TITLED).format(title=title, status=t(STATUSES.get(status, status)))


#: the columns an operator reads most (names, titles, statuses, what was decided): the last to
#: give way in a narrow terminal, and then wrapped onto more lines, never cut
READ_MOST = frozenset(
    {"display_name", "title", "status", "member", "group", "decision", "reason", "text", "file"}
    | {"receives", "health", "synced"}  # a connection's: what it is, and how it is doing
    | {"feature"}  # an owner task's, as settings name it: 'modera…' named none
)
#: columns often the same on every row (a listing of one platform, one zone; dead letters
#: that all ran out of attempts on the same error): where the terminal is too narrow for the
#: table, a column holding one value on every row is left out and said once under the table
#: instead (whole: a dead letter's error was cut to 'telegram: 4…')
CONSTANT_COLUMNS = (
    *("timezone", "source", "workspace", "language", "group_id", "undone"),
    *("attempts", "last_error"),
)
#: a time's least width: its day, the clock on a second line
TIME_CELLS = 10
#: a time column's heading no wider than this is not broken up (创建（UTC）, 11 cells)
TIME_HEADING_CELLS = 12
#: the least width of a column that wraps (its longest word folds onto more lines past it)
WRAP_CELLS = 10
SAME_ON_EVERY_ROW = N_("on every row: {values}")
HEADING_VALUE = N_("{heading} {value}")


#: a word as a terminal may break a line: a run of letters without a space, or one Chinese
#: character or full-width sign (a line may break between any two of them)
_WORD = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+"
)


def _longest_word(texts: Sequence[str]) -> int:
    """The widest word among ``texts`` (:data:`_WORD`), in terminal cells."""
    return max((cell_len(w) for text in texts for w in _WORD.findall(text)), default=0)


def table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    title: str = "",
    lang: str = "en",
    headings: dict[str, str] | None = None,
    whole: frozenset[str] = WHOLE_COLUMNS,
    constant: Sequence[str] = CONSTANT_COLUMNS,
) -> None:
    """``rows`` as a table with these ``columns`` (their headings in ``lang``, or as
    ``headings`` gives them), or one sentence when there are none. The ``whole`` columns are
    never cut (:data:`WHOLE_COLUMNS`, and :data:`GROUP_REFERENCE` where a listing says so).
    Where the terminal is narrow, :func:`_widths` decides what gives way: a column holding one
    value on every row first (said under the table), then user ids and the like (cut with
    "…"), then times (onto two lines); the names, titles and statuses last, and wrapped."""
    catalogs = Catalogs()
    gettext = catalogs.gettext(lang)
    if not rows:  # a sentence, not the column heads of an empty table
        said = gettext(NOTHING_LISTED).format(title=title) if title else gettext(NOTHING)
        out.print(literal(said), highlight=False, soft_wrap=True)
        return
    cells: dict[str, list[str | Text]] = {
        c: [
            Text(one_line(str(r.get(c) or ""), 2000), no_wrap=True, overflow="ellipsis")
            if c in ONE_LINE_COLUMNS and c not in READ_MOST
            else shown(c, r.get(c), gettext)
            for r in rows
        ]
        for c in columns
    }
    heads = {c: literal((headings or {}).get(c) or label(c, lang, catalogs)) for c in columns}
    whole = whole | WHOLE_COLUMNS
    widths, left_out = _widths(columns, heads, cells, out.width, whole, constant)
    # as wide as its title at least, so that the title reads on one line above it
    t = Table(title=literal(title) or None, min_width=min(cell_len(title) + 2, out.width))
    kept = [c for c in columns if c not in left_out]
    for c in kept:
        heading = Text.from_markup(heads[c], overflow="fold")  # a heading is never cut
        heading.no_wrap = False
        width = widths.get(c)
        if c in ONE_LINE_COLUMNS and c not in READ_MOST:  # one line each (the cells say so)
            t.add_column(heading, max_width=width or ONE_LINE_COLUMNS[c])
        elif width is None:  # everything fits on one line each
            t.add_column(heading, no_wrap=True)
        elif c in READ_MOST or c in TIME_COLUMNS or c in whole:  # wrapped, never cut
            t.add_column(heading, overflow="fold", width=width)
        else:  # a user id and the like: cut with "…" (--json has it whole)
            t.add_column(heading, no_wrap=True, overflow="ellipsis", width=width)
    for i in range(len(rows)):
        t.add_row(*(cells[c][i] for c in kept))
    with lines_broken_between_characters():  # as _widths counts: Chinese breaks anywhere
        out.print(t)
    if left_out:
        said = gettext(LIST_COMMA).join(
            gettext(HEADING_VALUE).format(heading=heads[c], value=_plain(cells[c][0]))
            for c in left_out
            if _plain(cells[c][0])
        )
        if said:
            out.print(gettext(SAME_ON_EVERY_ROW).format(values=said), highlight=False)


def _plain(cell: str | Text) -> str:
    return cell.plain if isinstance(cell, Text) else Text.from_markup(cell).plain


def _widths(
    columns: Sequence[str],
    heads: dict[str, str],
    cells: dict[str, list[str | Text]],
    width: int,
    whole: frozenset[str],
    constant: Sequence[str] = CONSTANT_COLUMNS,
) -> tuple[dict[str, int], list[str]]:
    """Each column's width in a terminal ``width`` cells wide (empty when every column fits
    as wide as its longest cell), and the columns left out: those of :data:`CONSTANT_COLUMNS`
    holding one value on every row, when the table does not fit with them."""
    texts = {c: [_plain(h) for h in (heads[c],)] + [_plain(v) for v in cells[c]] for c in columns}
    natural = {c: max(cell_len(x) for x in texts[c]) for c in columns}
    for c in columns:  # a one-line column is no wider than it shows
        if c in ONE_LINE_COLUMNS and c not in READ_MOST and ONE_LINE_COLUMNS[c] is not None:
            natural[c] = min(natural[c], max(ONE_LINE_COLUMNS[c] or 0, cell_len(texts[c][0])))

    def room(kept: Sequence[str]) -> int:
        return width - 3 * len(kept) - 1  # less the borders and each column's padding

    if sum(natural.values()) <= room(columns):
        return {}, []
    left_out = [
        c
        for c in constant
        if c in columns
        and c not in (whole - WHOLE_COLUMNS)  # a listing's group reference stays
        and len({_plain(v) for v in cells[c]}) == 1
    ]
    kept = [c for c in columns if c not in left_out]
    if sum(natural[c] for c in kept) <= room(kept):
        return {c: natural[c] for c in kept}, left_out
    heading_word = {  # a short heading (二 to 四 characters; a time's 创建（UTC）) kept whole
        c: cell_len(h)
        if cell_len(h) <= (TIME_HEADING_CELLS if c in TIME_COLUMNS else 2 * NARROWEST)
        else _longest_word([h])
        for c, h in ((c, _plain(heads[c])) for c in kept)
    }
    least: dict[str, int] = {}
    for c in kept:
        if c in READ_MOST:
            least[c] = min(natural[c], max(WRAP_CELLS, heading_word[c]))
        elif c in TIME_COLUMNS:
            least[c] = min(natural[c], max(TIME_CELLS, heading_word[c]))
        elif c in whole:  # never cut; its heading may wrap at a space
            least[c] = max([heading_word[c], *(cell_len(x) for x in texts[c][1:])])
        else:  # cut with "…", its heading whole where it can be
            least[c] = min(natural[c], max(NARROWEST, min(heading_word[c], 2 * NARROWEST)))
    space = room(kept)
    folding = [c for c in kept if c in whole and c in GROUP_REFERENCE]
    if sum(least.values()) > space and folding:  # a group reference folds onto more lines
        others = sum(least[c] for c in kept if c not in folding)
        left = max(len(folding), space - others)
        longest = sum(natural[c] for c in folding) or 1
        least.update({c: max(1, left * natural[c] // longest) for c in folding})
    widths = dict(least)
    extra = space - sum(widths.values())
    # what is left goes first to what an operator reads most, then times, then the rest
    for group in (
        [c for c in kept if c in READ_MOST],
        [c for c in kept if c in TIME_COLUMNS],
        [c for c in kept if c not in READ_MOST and c not in TIME_COLUMNS],
    ):
        while extra > 0:
            wanting = [c for c in group if widths[c] < natural[c]]
            if not wanting:
                break
            share = max(1, extra // len(wanting))
            for c in wanting:
                more = min(share, natural[c] - widths[c], extra)
                widths[c] += more
                extra -= more
    return widths, left_out


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
