"""Moderation's commands: ``groupops moderation log`` (every decision with its reason),
``groupops undo ID`` (take one back), ``groupops moderation known-ads`` (the library of known
ads) and ``groupops moderation forget-ad ID`` (take a text out of it, recorded in the log).
The feature registers them itself (``cli.REGISTRARS``): the core command line knows nothing of
moderation's tables or functions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

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
    EVIDENCE_CHARS,
    LOG_COLUMNS,
    emit,
    label,
    literal,
    log_line,
    say_cut,
    undo_sentence,
)
from groupops.domain.errors import Conflict, InvalidOption
from groupops.domain.text import one_line
from groupops.domain.time import minute
from groupops.engine import admin
from groupops.features.moderation.ops import (
    MAX_LOG,
    forget_known_ad,
    known_ads_entries,
    moderation_log,
    undo_decision,
)
from groupops.features.moderation.tables import moderation_decisions
from groupops.i18n import N_, Catalogs
from groupops.stored_texts import UNNAMED_OPERATOR, evidence_text, log_word, who_undid

#: the undo refused for a decision already undone: when, as the log shows it
UNDONE_AT = N_("{time} UTC")

KNOWN_AD_COLUMNS = (
    *("id", "workspace", "added (UTC)", "expires (UTC)"),
    *("decision", "member", "text"),
)
#: the decision that added a known ad: its number, its step and its rule
ADDED_BY = N_("#{decision} {step} ({rule})")
#: what ``forget-ad`` did, and what it left as it was
AD_FORGOTTEN = N_("known ad {id} forgotten: the same text is no longer removed on sight.")
AD_DECISION_STAYS = N_(
    "Decision #{decision} and the blacklist stay as they are (`groupops undo {decision}`"
    " lifts them)."
)
AD_LOGGED = N_("Recorded in the moderation log as #{id}.")
WORKSPACE_HELP = (
    "only this workspace's (its name, as `groupops groups` lists it; default: every one)"
)


def known_ad_line(row: dict[str, Any], t: Callable[[str], str]) -> dict[str, Any]:
    """A known ad as an operator reads it in a table (``--json`` keeps every field): its id,
    when it was added and until when it is kept, the decision that added it with whom it was
    about, and the start of its text (its sample; for a text kept before samples were, the
    decision's evidence, as the log cuts it), in the language of ``t``."""
    decision = row.get("decision_id")
    added_by = "" if decision is None else f"#{decision}"
    if decision is not None and row.get("rule"):
        step, rule = log_word(row.get("step"), t), log_word(row.get("rule"), t)
        added_by = t(ADDED_BY).format(decision=decision, step=step, rule=rule)
    return {
        "id": row.get("id"),
        "workspace": row.get("workspace"),
        "added (UTC)": minute(row.get("created_at")),
        "expires (UTC)": minute(row.get("expires_at")),
        "decision": added_by,
        "member": row.get("member") or "",
        "text": row.get("sample") or one_line(evidence_text(row, t), EVIDENCE_CHARS),
    }


def register(app: typer.Typer) -> None:
    moderation_app = typer.Typer(
        help="Moderation decisions: the log (take one back with `groupops undo ID`), and the"
        " library of known ads."
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

    @moderation_app.command("known-ads")
    @typed_errors
    def known_ads_cmd(
        workspace: str | None = typer.Option(
            None, "--workspace", "-w", help=WORKSPACE_HELP, show_default=False
        ),
        limit: int = Limit(50),
        url: str | None = DbOption,
        as_json: bool = JsonOption(),
        lang: str = LangOption(),
    ) -> None:
        """The library of known ads: texts whose author was blacklisted for them, removed on
        sight from anyone; newest first, each with the decision that added it."""
        if limit > MAX_LOG:
            raise InvalidOption(TOO_LARGE, where="--limit", value=limit, most=MAX_LOG)
        with opened(url) as db:
            rows, total = known_ads_entries(db, datetime.now(UTC), workspace, limit)
        say_cut(len(rows), total, lang)
        if as_json:
            emit(rows, [], True)
        else:
            t = Catalogs().gettext(lang)
            lines = [known_ad_line(r, t) for r in rows]
            emit(lines, KNOWN_AD_COLUMNS, False, label("known ads", lang), lang)

    @moderation_app.command("forget-ad", cls=DashValues)
    @typed_errors
    def forget_ad_cmd(
        ad: str = typer.Argument(..., metavar="ID", help="the known ad's id from known-ads"),
        workspace: str | None = typer.Option(
            None,
            "--workspace",
            "-w",
            help="the workspace (needed only when the same text is known in several)",
            show_default=False,
        ),
        by: str | None = typer.Option(
            None,
            "--by",
            show_default=False,
            help="who takes it out, kept in the log (default: an operator, unnamed)",
        ),
        url: str | None = DbOption,
        lang: str = LangOption(),
    ) -> None:
        """Take a text out of the library of known ads (it was no ad): the same text is no
        longer removed on sight. The decision that added it and the blacklist stay; the
        moderation log records who took it out."""
        if by is None:
            by = UNNAMED_OPERATOR
        elif not by.strip():
            raise InvalidOption(N_("say who takes it out: a name, kept in the log"), where="--by")
        with opened(url) as db:
            entry = forget_known_ad(db, ad, datetime.now(UTC), workspace, by=by)
        t = speaker({"lang": lang})
        said = t(AD_FORGOTTEN).format(id=entry["id"])
        if entry.get("decision_id") is not None:
            said += " " + t(AD_DECISION_STAYS).format(decision=entry["decision_id"])
        said += " " + t(AD_LOGGED).format(id=entry["logged_as"])
        cli_output.out.print(literal(said), highlight=False, soft_wrap=True)

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
