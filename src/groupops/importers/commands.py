"""``groupops import FILE...``: read chat exports into the database (and/or as JSON lines)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from groupops import cli_output
from groupops.cli_options import LangOption, typed_errors
from groupops.cli_output import literal
from groupops.domain.errors import GroupopsError, InvalidOption
from groupops.i18n import N_, Catalogs

out = Console()
err = Console(stderr=True)

T_TITLE = N_("imported")
T_FAILED = N_("{file}: not imported ({code}): {error}")
#: the import's last line, its counts said by ngettext (``1 file: 12 new events stored``)
T_SUMMARY = N_("{files}: {stored}, {duplicates} already there.")
T_WRITTEN = N_("events written to {path}")
T_READ_ONLY = N_("{files} read, {events}; nothing stored (--no-store).")
T_NONE = N_("nothing imported")
COLUMNS = (
    (N_("file"), "file"),
    (N_("format"), "format"),
    (N_("chats"), "chats"),
    (N_("messages"), "messages"),
    (N_("joined"), "joined"),
    (N_("left"), "left"),
    (N_("stored"), "stored"),
    (N_("already there"), "already there"),
)


def register(app: typer.Typer) -> None:
    @app.command("import")
    @typed_errors
    def import_cmd(
        # readable=False: a file that cannot be read is refused on its own line below, with
        # the other files still imported (click would stop the whole command with a usage box)
        files: list[Path] = typer.Argument(
            ..., help="export files (or an unpacked Slack folder)", readable=False
        ),
        events_out: Path | None = typer.Option(
            None, "--events-out", help="also write the normalised events, one JSON object a line"
        ),
        url: str | None = typer.Option(
            None,
            "--database-url",
            envvar="GROUPOPS_DATABASE_URL",
            help="Database URL (default: sqlite:///var/groupops.db).",
        ),
        no_store: bool = typer.Option(
            False, "--no-store", help="do not touch the database (only --events-out)"
        ),
        tz: str | None = typer.Option(
            None, "--tz", help="time zone of the export's local times (default UTC)"
        ),
        fmt: str | None = typer.Option(
            None, "--format", help="whatsapp, telegram, discord, slack, irc or wechat"
        ),
        lang: str = LangOption(),
    ) -> None:
        """Import chat exports (WhatsApp, Telegram, Discord, Slack, IRC, WeChat CSV).

        Each file is one transaction: a malformed file is reported with its line and leaves
        nothing behind. Re-importing a file adds nothing. No feature runs on imported history.
        """
        from groupops.engine.app import App
        from groupops.importers import FORMATS
        from groupops.importers.base import refusal_text
        from groupops.importers.store import AtomicText, ImportResult, import_file
        from groupops.storage.db import open_database

        _ = Catalogs().gettext(lang)
        if fmt is not None and fmt not in FORMATS:  # the option, said once, before any file
            raise InvalidOption(
                N_("unknown format {fmt!r}; one of {formats}"),
                where="--format",
                fmt=fmt,
                formats=", ".join(FORMATS),
            )
        # every output is checked before anything is read or stored
        writer = AtomicText(events_out) if events_out is not None else None
        try:
            app_ = (
                None
                if no_store
                else App.create(
                    db=open_database(url, create=True),
                    features=(),
                    extensions=False,
                    migrate=False,
                )
            )
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        results: list[ImportResult] = []
        failed = 0
        try:
            for path in files:
                part = writer.part() if writer is not None else None
                try:
                    result = import_file(
                        app_.engine if app_ is not None else None,
                        path,
                        tz=tz,
                        fmt=fmt,
                        events_out=part[0] if part is not None else None,
                    )
                except GroupopsError as exc:
                    failed += 1
                    if writer is not None and part is not None:
                        writer.drop(*part)
                    err.print(
                        "[red]✗[/red] "
                        + literal(
                            _(T_FAILED).format(
                                file=path, code=exc.code, error=refusal_text(exc, path, _)
                            )
                        ),
                        highlight=False,
                        soft_wrap=True,
                    )
                    continue
                if writer is not None and part is not None:
                    writer.keep(*part)
                results.append(result)
            if writer is not None:
                writer.commit()
                writer = None
        finally:
            if writer is not None:
                writer.abort()
            if app_ is not None:
                app_.close()
        if results:
            rows = [r.as_row() for r in results]
            # the file's name, what an operator reads, is never cut and the last to wrap
            # ("4A_11M.t…" beside "4A_11M.z…" cannot be told apart); the counts stay whole;
            # a format the same for every file is said under the table where room is short
            keys = [key for _label, key in COLUMNS]
            cli_output.table(
                rows,
                keys,
                _(T_TITLE),
                lang,
                headings={key: _(label) for label, key in COLUMNS},
                whole=frozenset(keys) - {"file", "format"},
                constant=("format",),
            )
            ngettext = Catalogs().ngettext(lang)
            n_files = len(results)
            files_said = ngettext("{n} file", "{n} files", n_files).format(n=n_files)
            if no_store:
                n_events = sum(r.events for r in results)
                events_said = ngettext("{n} event", "{n} events", n_events).format(n=n_events)
                summary = _(T_READ_ONLY).format(files=files_said, events=events_said)
            else:
                n_stored = sum(r.stored for r in results)
                stored_said = ngettext(
                    "{n} new event stored", "{n} new events stored", n_stored
                ).format(n=n_stored)
                summary = _(T_SUMMARY).format(
                    files=files_said,
                    stored=stored_said,
                    duplicates=sum(r.duplicates for r in results),
                )
            out.print(summary)
            for result in results:
                for note in result.notes:
                    out.print(literal("ℹ " + note.localized(_)), highlight=False, soft_wrap=True)
            if events_out is not None:
                out.print(literal(_(T_WRITTEN).format(path=events_out)))
        else:
            err.print(_(T_NONE))
        if failed:
            raise typer.Exit(2)
