"""`groupops demo`: a simulated month of three sandbox groups, with a live summary in the
terminal, or one JSON object of totals with --json."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from groupops.cli_options import LangOption, typed_errors
from groupops.cli_output import literal
from groupops.domain.errors import InvalidOption, InvalidSettings
from groupops.i18n import N_, Catalogs
from groupops.simulator.demo import DemoResult, refuse_used, run_demo
from groupops.simulator.totals import group_totals
from groupops.simulator.world import ZONE, DemoOptions, Progress
from groupops.web.chat import DEMO_GROUPS

HEADER = N_(
    "groupops demo: about {people} simulated people in {groups} sandbox groups, {days} days"
    " from {start} (seed {seed})"
)
SIMULATED = N_("Simulated time {when} (Asia/Shanghai) · day {day} of {days}")
COLUMNS = (
    ("group", N_("group")),
    ("members", N_("members")),
    ("messages", N_("messages")),
    ("checkins", N_("check-ins")),
    ("warnings", N_("warnings")),
    ("mutes", N_("mutes")),
    ("kicks", N_("kicks")),
)
TOTALS = N_("Totals")
TOTAL_ROWS = (
    ("events", N_("events stored")),
    ("joins", N_("joins")),
    ("leaves", N_("left on their own")),
    ("messages", N_("messages")),
    ("replies", N_("replies")),
    ("reactions", N_("reactions")),
    ("checkins", N_("check-ins")),
    ("gate_passed", N_("passed the join gate")),
    ("gate_removed", N_("removed by the join gate")),
    ("warnings", N_("warnings")),
    ("mutes", N_("mutes")),
    ("kicks", N_("kicks")),
    ("removed_messages", N_("messages removed")),
    ("actions_delivered", N_("bot actions delivered")),
    ("members_now", N_("members at the end")),
)
WALL = N_("{days} simulated days took {seconds:.1f} s of wall time.")
KEPT = N_("The demo database is kept at {url}: `groupops serve --database-url {url}` shows it.")
REMOVED = N_("The temporary demo database was removed (keep one with --database-url).")
REFRESH_SECONDS = 0.3


class LiveView:
    """The live table: one row per group, counted from the database while the month runs."""

    def __init__(
        self, t: Callable[[str], str], options: DemoOptions, titles: dict[str, str]
    ) -> None:
        self.t = t
        self.options = options
        self.titles = titles
        self.live: Live | None = None
        self._last = 0.0

    def render(
        self,
        rows: dict[str, dict[str, int]],
        now: datetime | None = None,
        start: datetime | None = None,
    ) -> Group:
        t = self.t
        table = Table(expand=False)
        for key, label in COLUMNS:
            table.add_column(t(label), justify="left" if key == "group" else "right")
        for chat, title in self.titles.items():
            numbers = rows.get(chat, {})
            table.add_row(title, *(str(numbers.get(k, 0)) for k, _ in COLUMNS[1:]))
        caption = ""
        if now is not None and start is not None:
            local = now.astimezone(ZONE)
            day = min(
                int((now - start).total_seconds() // 86400) + 1,
                max(1, round(self.options.days)),
            )
            caption = t(SIMULATED).format(
                when=f"{local:%Y-%m-%d %H:%M}", day=day, days=_days(self.options.days)
            )
        return Group(Text(caption, style="bold"), table)

    def progress(self, progress: Progress) -> None:
        now = time.monotonic()
        if self.live is None or now - self._last < REFRESH_SECONDS:
            return
        self._last = now
        app = progress.app
        rows = group_totals(app.db, app.sandbox.source, list(self.titles))
        self.live.update(self.render(rows, progress.now, progress.start))


def _days(days: float) -> str:
    return str(int(days)) if float(days).is_integer() else f"{days:g}"


def _totals_table(t: Callable[[str], str], result: dict[str, Any]) -> Table:
    table = Table(title=t(TOTALS), show_header=False)  # a row's name says it: no headings
    table.add_column("")
    table.add_column("", justify="right")
    for key, label in TOTAL_ROWS:
        table.add_row(t(label), str(result.get(key, 0)))
    return table


def register(app: typer.Typer) -> None:
    @app.command("demo")
    @typed_errors
    def demo_cmd(
        days: float = typer.Option(30.0, help="how many days to simulate (up to 366)"),
        seed: int = typer.Option(1, help="random seed: the same seed gives the same month"),
        members: int = typer.Option(300, help="how many simulated people (10 to 5000)"),
        start: str = typer.Option(
            "2026-11-01", help="the first simulated day (YYYY-MM-DD), 06:00 Asia/Shanghai"
        ),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object of totals"),
        url: str | None = typer.Option(
            None,
            "--database-url",
            help="keep the demo in this (empty) database; default: a temporary SQLite file",
        ),
        lang: str = LangOption(),
    ) -> None:
        """Simulate a month of three sandbox groups in under a minute, through the real engine."""
        try:
            first = date.fromisoformat(start)
        except ValueError:
            raise InvalidOption(
                N_("--start {start!r} is not a date like 2026-11-01"), where="demo", start=start
            ) from None
        options = DemoOptions(days=days, seed=seed, members=members, start=first)
        try:
            options.check()
        except InvalidSettings as exc:  # --days, --members: the command's options, no setting
            raise InvalidOption(exc.template, where=exc.where, **exc.params) from None
        if url is not None:  # refused before anything is printed, not after the banner
            refuse_used(url)
        if as_json:
            result = asyncio.run(run_demo(options, database_url=url))
            sys.stdout.write(json.dumps(result.totals, sort_keys=True, ensure_ascii=False) + "\n")
            return
        t = Catalogs().gettext(lang)
        console = Console(highlight=False)
        titles = dict(DEMO_GROUPS)
        console.print(
            t(HEADER).format(
                people=members,
                groups=len(titles),
                days=_days(days),
                start=first.isoformat(),
                seed=seed,
            )
        )
        view = LiveView(t, options, titles)
        outcome = _run_with_view(options, url, view, console)
        console.print()
        console.print(_totals_table(t, outcome.totals))
        console.print(t(WALL).format(days=_days(days), seconds=outcome.wall_seconds))
        if outcome.database_url:
            console.print(literal(t(KEPT).format(url=outcome.database_url)))
        else:
            console.print(t(REMOVED))


def _run_with_view(
    options: DemoOptions, url: str | None, view: LiveView, console: Console
) -> DemoResult:
    with Live(view.render({}), console=console, refresh_per_second=4) as live:
        view.live = live
        result = asyncio.run(run_demo(options, database_url=url, on_progress=view.progress))
        totals = result.totals
        end = datetime.fromisoformat(str(totals["to"]))
        start = datetime.fromisoformat(str(totals["from"]))
        live.update(view.render(totals["groups"], end - timedelta(seconds=1), start))
    return result
