"""Moderation's commands: ``groupops moderation log`` (every decision with its reason) and
``groupops undo ID`` (take one back). The feature registers them itself (``cli.REGISTRARS``):
the core command line knows nothing of moderation's tables or functions."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from groupops import cli_output
from groupops.cli_options import (
    TOO_LARGE,
    DashValues,
    DbOption,
    GroupOption,
    JsonOption,
    LangOption,
    Limit,
    opened,
    speaker,
    typed_errors,
)
from groupops.cli_output import (
    LOG_COLUMNS,
    emit,
    label,
    literal,
    log_line,
    say_cut,
    undo_sentence,
)
from groupops.domain.errors import Conflict, InvalidOption
from groupops.domain.time import minute
from groupops.engine import admin
from groupops.features.moderation.ops import MAX_LOG, moderation_log, undo_decision
from groupops.features.moderation.tables import moderation_decisions
from groupops.i18n import N_, Catalogs
from groupops.stored_texts import UNNAMED_OPERATOR, who_undid

#: the undo refused for a decision already undone: when, as the log shows it
UNDONE_AT = N_("{time} UTC")


def register(app: typer.Typer) -> None:
    moderation_app = typer.Typer(
        help="Moderation decisions: the log (take one back with `groupops undo ID`)."
    )
    app.add_typer(moderation_app, name="moderation")

    @moderation_app.command("log")
    @typed_errors
    def log_cmd(
        group: str | None = GroupOption(
            what="only this group's decisions: its id or source:chat_id (default: every group)"
        ),
        limit: int = Limit(50),
        url: str | None = DbOption,
        as_json: bool = JsonOption(),
        lang: str = LangOption(),
    ) -> None:
        """Every moderation decision with its reason, newest first."""
        if limit > MAX_LOG:  # the log never reads more at once: refused, not cut without a word
            raise InvalidOption(TOO_LARGE, where="--limit", value=limit, most=MAX_LOG)
        with opened(url) as db:
            gid = admin.find_group(db, group).id if group else None
            rows = moderation_log(db, group_id=gid, limit=limit)
            if len(rows) == limit:
                total = admin.count_rows(db, moderation_decisions, group_id=gid)
                say_cut(len(rows), total, lang)
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
        by: str | None = typer.Option(
            None,
            "--by",
            show_default=False,
            help="who undoes it, kept in the log (default: an operator, unnamed)",
        ),
        url: str | None = DbOption,
        lang: str = LangOption(),
    ) -> None:
        """Undo a moderation decision: unmute/unban, warning taken back, blacklist lifted."""
        if by is None:
            by = UNNAMED_OPERATOR
        elif not by.strip():
            raise InvalidOption(N_("say who undoes it: a name, kept in the log"), where="--by")
        try:
            with opened(url) as db:
                result = undo_decision(db, decision, by, datetime.now(UTC))
        except Conflict as exc:  # already undone: when, to the minute as the log says it
            if "at" not in exc.params:
                raise
            t = speaker({"lang": lang})
            at = t(UNDONE_AT).format(time=minute(exc.params["at"]))
            who = who_undid(exc.params.get("by"), t)
            raise Conflict(
                exc.template, where=exc.where, **{**exc.params, "at": at, "by": who}
            ) from None
        said = undo_sentence(result, speaker({"lang": lang}), Catalogs().ngettext(lang))
        cli_output.out.print(literal(said), highlight=False, soft_wrap=True)
