"""``groupops analyze FILE... [--out DIR] [--lang zh_CN|en]``: the report for operators."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from groupops.cli_options import (
    DbOption,
    GroupOption,
    JsonOption,
    LangOption,
    opened,
    refuse_zone,
    typed_errors,
)
from groupops.cli_output import LIST_COMMA, literal
from groupops.domain.errors import GroupopsError
from groupops.i18n import LOCALE_DIR, N_, Catalogs

out = Console()
err = Console(stderr=True)

LARGE_INPUT = 4 * 1024 * 1024  # bytes: above this a progress bar shows
T_FAILED = N_("{file}: not analysed ({code}): {error}")
T_NOT_WRITTEN = N_("{path}: cannot write the report there ({code}): {reason}")
T_WRITTEN = N_("Report: {report}  Figures: {metrics}")
T_SUMMARY = N_("Group health")
T_IMPORTING = N_("importing")
T_ANALYSING = N_("analysing")
L_FILES = N_("files")
L_TOP3 = N_("top 3 of {month}")
L_FIRST_RESPONSE = N_("first response")
L_FRT = N_("median {median}, 90% within {p90}, {within} within 1 minute")
# the 90th percentile is itself within a minute: said by the share within a minute, once
L_FRT_FAST = N_("median {median}, {within} within 1 minute")
L_SPAM = N_("spam share")


def _summary(metrics: Mapping[str, Any], _: Callable[[str], str]) -> list[tuple[str, str]]:
    """The short summary printed after a run: (label, value) pairs, already translated."""
    from groupops.report.areas_activity import warning_text
    from groupops.report.figures import _name, fmt, num, pct, pick, records, seconds
    from groupops.report.labels import L_LEADERS, L_MEMBERS, L_MESSAGES, L_STAGE, L_WARNING, STAGES

    ov = pick(metrics, "overview", "summary", "totals") or {}
    lc = pick(metrics, "lifecycle") or {}
    rows: list[tuple[str, str]] = []
    stage = pick(lc, "stage")
    if stage is not None:
        rows.append((_(L_STAGE), _(STAGES[stage]) if stage in STAGES else str(stage)))
    warning = pick(lc, "warning", "early_warning")
    if isinstance(warning, Mapping):
        text = pick(warning, "message", "text", "reason", "reasons")
        active = pick(warning, "active", "warn", "raised", "level")
        if text or active not in (None, False, "none", "ok"):
            rows.append((_(L_WARNING), warning_text(warning, _)))
    elif warning:
        rows.append((_(L_WARNING), warning_text(warning, _)))
    for key, names in ((L_MEMBERS, ("members", "authors")), (L_MESSAGES, ("messages",))):
        value = pick(ov, *names)
        if value is not None:
            rows.append((_(key), fmt(value)))
    top = pick(metrics, "top3", "top_3", "monthly_top3")
    latest = _latest_top3(top)
    if latest is not None:
        month, names_ = latest
        rows.append((_(L_TOP3).format(month=month), _(LIST_COMMA).join(names_)))
    graph = pick(metrics, "graph", "replies") or {}
    leaders = records(pick(graph, "opinion_leaders", "leaders"))
    if leaders:
        rows.append((_(L_LEADERS), _(LIST_COMMA).join(_name(r) for r in leaders[:5])))
    qa = pick(metrics, "qa") or {}
    frt = pick(qa, "first_response", "frt", "first_response_time") or qa
    median = pick(frt, "median", "median_s", "median_seconds")
    step = pick(frt, "resolution_s") or 1
    if median is not None:
        p90 = pick(frt, "p90", "p90_s", "p90_seconds")
        fast = num(p90) is not None and (num(p90) or 0) <= 60
        rows.append(
            (
                _(L_FIRST_RESPONSE),  # named once: the value says median, 90% and 1 minute
                _(L_FRT_FAST if fast else L_FRT).format(
                    median=seconds(median, _, step),
                    p90=seconds(p90, _, step),
                    within=pct(pick(frt, "within_1min", "share_within_1min", "within_60s")),
                ),
            )
        )
    spam = pick(metrics, "spam") or {}
    share = pick(spam, "share", "spam_share")
    if share is not None:
        rows.append((_(L_SPAM), pct(share)))
    return rows


def _latest_top3(top: Any) -> tuple[str, list[str]] | None:
    from groupops.report.figures import _name, pick, records

    if isinstance(top, Mapping) and top:
        month = max(top, key=str)
        people = top[month]
    else:
        recs = records(top)
        if not recs:
            return None
        last = max(recs, key=lambda r: str(pick(r, "month", "period")))
        month = str(pick(last, "month", "period"))
        people = pick(last, "top", "members", "top3")
    if not isinstance(people, list):
        return None
    return str(month), [_name(p) if isinstance(p, Mapping) else str(p) for p in people[:3]]


def print_summary(metrics: Mapping[str, Any], _: Callable[[str], str]) -> None:
    table = Table(title=_(T_SUMMARY), show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for label, value in _summary(metrics, _):
        table.add_row(escape(label), escape(value))
    out.print(table)


def run_analyze(
    files: Sequence[Path],
    out_dir: Path,
    *,
    lang: str,
    tz: str | None,
    catalogs: Catalogs,
    show_progress: bool | None = None,
    group: str | None = None,
    database_url: str | None = None,
    chat: str | None = None,
) -> int:
    """The command's body; returns the exit code (0, or 2 for a bad file, an unknown group or
    database, or an ``out_dir`` that cannot hold the report). With ``group`` the live group is
    analysed from the database instead of ``files``; ``chat`` picks one chat of an export
    that holds several."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from groupops.report import OutputNotWritable, check_out_dir
    from groupops.report.pipeline import analyze_files

    _ = catalogs.gettext(lang)
    try:
        check_out_dir(out_dir)
    except OutputNotWritable as exc:
        return _not_writable(exc, _)
    if group is not None:
        from groupops.report.pipeline import analyze_group

        try:
            with opened(database_url) as db:
                result = analyze_group(db, group)
        except GroupopsError as exc:
            return _refuse(_(T_FAILED).format(file=group, code=exc.code, error=exc.localized(_)))
        return _written(result, out_dir, lang, catalogs)
    unreadable = _unreadable(files, _)
    if unreadable:
        for line in unreadable:
            _refuse(line)
        return 2
    size = sum(p.stat().st_size for p in files if p.is_file())
    if show_progress is None:
        show_progress = size >= LARGE_INPUT
    try:
        if show_progress:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as bar:
                result = analyze_files(files, tz=tz, progress=progress_display(bar, _), chat=chat)
        else:
            result = analyze_files(files, tz=tz, chat=chat)
    except GroupopsError as exc:
        from groupops.importers.base import refusal_text

        named = getattr(exc, "file", None)
        path = exc.export  # the file being read (several may share a name)
        if path is None and named:
            path = next((f for f in files if named in (str(f), f.name)), named)
        if path is None:
            file, error = ", ".join(str(f) for f in files), exc.localized(_)
        else:
            file, error = str(path), refusal_text(exc, path, _)
        return _refuse(_(T_FAILED).format(file=file, code=exc.code, error=error))
    return _written(result, out_dir, lang, catalogs)


def progress_display(bar: Any, _: Callable[[str], str]) -> Callable[[str, int, int | None], None]:
    """The pipeline's progress on the rich ``bar``: the events read, then one line for the
    analysis that names the stage running (reply links, the reply graph, spam ...) in the
    operator's language and counts the stages done."""
    from groupops.report.labels import ANALYSIS_STAGES

    tasks: dict[str, Any] = {}

    def progress(what: str, done: int, total: int | None) -> None:
        key = "import" if what == "import" else "analyse"
        if what == "import":
            desc = _(T_IMPORTING)
        elif what in ANALYSIS_STAGES:
            desc = f"{_(T_ANALYSING)}: {_(ANALYSIS_STAGES[what])}"
        else:  # done
            desc = _(T_ANALYSING)
        if key not in tasks:
            tasks[key] = bar.add_task(desc, total=total)
        bar.update(tasks[key], completed=done, total=total, description=desc)

    return progress


def _unreadable(files: Sequence[Path], _: Callable[[str], str]) -> list[str]:
    """A refusal line for every file that is missing or cannot be read: said before anything
    is read, all of them at once."""
    from groupops.importers.base import check_readable, refusal_text

    lines = []
    for path in files:
        try:
            check_readable(path)
        except GroupopsError as exc:
            lines.append(
                _(T_FAILED).format(file=path, code=exc.code, error=refusal_text(exc, path, _))
            )
    return lines


def _refuse(line: str) -> int:
    """Say why nothing was written, in one line; the exit code."""
    err.print("[red]✗[/red] " + escape(line), highlight=False, soft_wrap=True)
    return 2


def _not_writable(exc: Any, _: Callable[[str], str]) -> int:
    return _refuse(_(T_NOT_WRITTEN).format(path=exc.path, code=exc.code, reason=_(exc.reason)))


def _written(result: Any, out_dir: Path, lang: str, catalogs: Catalogs) -> int:
    """Write the report of ``result`` and print the summary; the exit code."""
    from groupops.report import OutputNotWritable, write_report

    _ = catalogs.gettext(lang)
    try:
        report, metrics = write_report(
            result.metrics, out_dir, lang=lang, catalogs=catalogs, files=result.files
        )
    except OutputNotWritable as exc:
        return _not_writable(exc, _)
    print_summary(result.metrics, _)
    # what the importers told about the reading (a file read as GB18030), as import says it
    for note in result.notes:
        out.print(literal("ℹ " + note.localized(_)), highlight=False, soft_wrap=True)
    out.print(escape(_(T_WRITTEN).format(report=report, metrics=metrics)), soft_wrap=True)
    return 0


#: ``groupops health``: its title, and the headings of its figures
T_HEALTH = N_("groups' health as of {time} UTC")
H_MESSAGES = N_("messages: 28 days before → last 28")
H_ACTIVE = N_("active members: 28 days before → last 28")
H_QUIET = N_("days since the last message")
#: a group with no message at all
NO_MESSAGE = N_("none yet")
#: the column of groups with no early warning
NO_WARNING = N_("none")
#: the title of a group of imported history (``groupops import``): listed, never a concern
IMPORTED_TITLE = N_("{title} (imported history)")
#: the title of a group the bot left or was removed from: listed, never a concern
LEFT_TITLE = N_("{title} (the bot left)")
#: --concerns: none of the groups needs the operator
ALL_WELL = N_("No group has an early warning, is declining or dead.")


def health_rows(
    found: Sequence[Mapping[str, Any]], _: Callable[[str], str]
) -> list[dict[str, Any]]:
    """``group_health``'s rows as the table shows them, in the reader's language."""
    from groupops.report.areas_activity import warning_text
    from groupops.report.labels import STAGES

    rows = []
    for r in found:
        quiet = r.get("days_since_last_message")
        warning = r["warning"]
        rows.append(
            {
                "id": r["id"],
                "title": _(IMPORTED_TITLE).format(title=r["title"])
                if r.get("imported")
                else _(LEFT_TITLE).format(title=r["title"])
                if r.get("bot_left")
                else r["title"],
                "stage": _(STAGES[r["stage"]]) if r["stage"] in STAGES else r["stage"],
                "warning": warning_text(warning, _) if warning.get("active") else _(NO_WARNING),
                "messages": f"{r['messages_prev_28d']} → {r['messages_last_28d']}",
                "active": f"{r['active_prev_28d']} → {r['active_last_28d']}",
                "quiet": _(NO_MESSAGE) if quiet is None else f"{quiet:g}",
            }
        )
    return rows


#: neither export files nor --group given
FILES_OR_GROUP = N_("give export files, or --group for a group the bot runs")
#: both given
NOT_BOTH = N_("give export files or --group, not both: files are analysed on their own")


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze_cmd(
        # readable=False: a file that cannot be read gets the refusal line every bad file
        # gets (click would print a usage box)
        files: list[Path] = typer.Argument(
            None,
            help="export files (or an unpacked Slack folder)",
            show_default=False,
            readable=False,
        ),
        group: str | None = typer.Option(
            None,
            "--group",
            "-g",
            help="instead of files: a group the bot runs (id or source:chat_id), from the database",
        ),
        database_url: str | None = DbOption,  # with --group
        out_dir: Path = typer.Option(Path("report"), "--out", help="where to write the report"),
        lang: str = LangOption(),
        tz: str | None = typer.Option(
            None, "--tz", help="time zone of the export's local times (default UTC)"
        ),
        chat: str | None = typer.Option(
            None,
            "--chat",
            help="in an export of several chats (Telegram account, Slack workspace): "
            "the one to analyse, by id or title",
        ),
        progress: bool | None = typer.Option(
            None, "--progress/--no-progress", help="progress bar (default: on large inputs)"
        ),
        locale_dir: Path = typer.Option(LOCALE_DIR, "--locale-dir", hidden=True),
    ) -> None:
        """Analyse chat exports: writes DIR/report.html (self-contained, interactive charts)
        and DIR/metrics.json (every figure), and prints a short summary.

        The files are read as one group's history. A malformed file, or a DIR that cannot be
        written, is reported in one line (exit code 2) and nothing is written.
        """
        if bool(files) == (group is not None):
            raise typer.BadParameter(
                Catalogs(locale_dir).gettext(lang)(NOT_BOTH if files else FILES_OR_GROUP),
                param_hint="FILES / --group",
            )
        refuse_zone(tz, "--tz", lang)
        code = run_analyze(
            files or [],
            out_dir,
            lang=lang,
            tz=tz,
            catalogs=Catalogs(locale_dir),
            show_progress=progress,
            group=group,
            database_url=database_url,
            chat=chat,
        )
        if code:
            raise typer.Exit(code)

    @app.command("health")
    @typed_errors
    def health_cmd(
        group: str | None = GroupOption(what="only this group (default: every group)"),
        concerns: bool = typer.Option(
            False,
            "--concerns",
            help="only the groups with an early warning, declining or dead",
        ),
        url: str | None = DbOption,
        as_json: bool = JsonOption(),
        lang: str = LangOption(),
    ) -> None:
        """Every group's life-cycle stage and early warning, those needing you first.

        The same judgement as the report of `analyze --group`, for all the groups the bot
        runs at once: the groups with an early warning first, then the declining, then the
        dead, then the others.
        """
        from datetime import UTC, datetime

        from groupops.cli_output import emit
        from groupops.engine.admin import group_in
        from groupops.report.health import as_of, group_health, needs_you

        with opened(url) as db:
            now = as_of(db, datetime.now(UTC))
            only = None
            if group is not None:
                with db.connect() as conn:
                    only = [group_in(conn, group).id]
            found = group_health(db, now=now, only=only)
        if concerns:
            found = [r for r in found if needs_you(r)]
        _ = Catalogs().gettext(lang)
        if concerns and not found and not as_json:
            out.print(literal(_(ALL_WELL)), highlight=False, soft_wrap=True)
            return
        from groupops.cli_output import label
        from groupops.report.labels import L_STAGE, L_WARNING

        emit(
            found if as_json else health_rows(found, _),
            ["id", "title", "stage", "warning", "messages", "active", "quiet"],
            as_json,
            _(T_HEALTH).format(time=now.strftime("%Y-%m-%d %H:%M")),
            lang,
            {
                "id": label("id", lang),
                "title": label("title", lang),
                "stage": _(L_STAGE),
                "warning": _(L_WARNING),
                "messages": _(H_MESSAGES),
                "active": _(H_ACTIVE),
                "quiet": _(H_QUIET),
            },
        )
