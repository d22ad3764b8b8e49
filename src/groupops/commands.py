"""Core CLI commands: database, groups, members, settings, leaderboard, outbox, owner tasks
(moderation registers its own: :mod:`groupops.features.moderation.commands`). Thin: each calls
one function of the engine or a feature. Their options and checks are in
:mod:`groupops.cli_options`, what they print in :mod:`groupops.cli_output`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import typer
from rich.markup import escape
from typer._click.exceptions import UsageError

from groupops import cli_output
from groupops.cli_options import (
    PERIODS,
    DashValues,
    DbOption,
    FreeTextValue,
    GroupOption,
    JsonOption,
    LangOption,
    Limit,
    MemberStatus,
    OutboxStatus,
    TaskStatus,
    check_member_status,
    error_line,
    opened,
    parse_when,
    speaker,
    typed_errors,
)
from groupops.cli_output import (
    CLAUSE_BREAK,
    GROUP_REFERENCE,
    WHOLE_COLUMNS,
    action_summary,
    board_title,
    counts,
    emit,
    label,
    literal,
    say_cut,
    title_of,
)
from groupops.domain.errors import GroupopsError, InvalidOption, InvalidSettings
from groupops.domain.time import minute
from groupops.engine import admin, settings_admin, settings_read
from groupops.engine.bot import state_words
from groupops.engine.clock import RealClock
from groupops.engine.deadletters import KIND_WORDS, error_words, list_outbox, retry
from groupops.features.notify import reach
from groupops.features.points import leaderboard
from groupops.features.registry import FeatureRegistry, Place, SettingError
from groupops.i18n import N_, Catalogs
from groupops.storage.db import LARGEST_ID
from groupops.storage.migrate import current
from groupops.storage.tables import outbox
from groupops.stored_texts import task_text

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


#: an owner task's closing time, headed by how it was closed (``tasks list --status``)
CLOSED_AT = {"done": N_("done ({zone})"), "dismissed": N_("dismissed ({zone})")}
CREATED_IN = N_("created ({zone})")
#: a task dismissed without ``--reason`` (or before the reason was kept)
NO_REASON = N_("(none given)")

#: the columns of ``groups`` before the one that says how the bot is in each group
GROUP_COLUMNS = ("id", "workspace", "source", "chat_id", "title", "timezone", "language", "members")
BOT_HEADING = N_("bot")

#: a leaderboard with nobody on it
BOARD_EMPTY = N_("nobody on {title} yet")
#: the columns of times, with the zone they are shown in (``members``)
JOINED_IN = N_("joined ({zone})")
INTRODUCED_IN = N_("introduced ({zone})")


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="The database: migrations.")
    settings_app = typer.Typer(help="Feature settings: workspace defaults, group overrides.")
    outbox_app = typer.Typer(help="Actions waiting, delivered or dead-lettered.")
    tasks_app = typer.Typer(help="Owner tasks: what a platform could not do, for a human.")
    app.add_typer(db_app, name="db")
    app.add_typer(settings_app, name="settings")
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(tasks_app, name="tasks")

    @db_app.command("upgrade")
    @typed_errors
    def db_upgrade(url: str | None = DbOption, lang: str = LangOption()) -> None:
        """Create or migrate the database to the newest schema."""
        with opened(url, create=True) as db:
            revision = current(db)
        said = speaker({"lang": lang})(N_("database at revision {revision}"))
        said = said.format(revision=revision)
        cli_output.out.print(said)

    @app.command("groups")
    @typed_errors
    def groups_cmd(
        url: str | None = DbOption,
        as_json: bool = JsonOption(),
        lang: str = LangOption(),
    ) -> None:
        """List groups with their active member counts."""
        with opened(url) as db:
            rows = admin.list_groups(db)
        t = Catalogs().gettext(lang)
        if not as_json:  # the bot in words; --json: as stored (bot_in_chat, bot_status ...)
            rows = [
                {
                    **r,
                    "bot": state_words(r["bot_in_chat"], r["bot_status"], r["bot_missing"], t),
                }
                for r in rows
            ]
        emit(
            rows,
            [*GROUP_COLUMNS, "bot"],
            as_json,
            label("groups", lang),
            lang,
            {"bot": t(BOT_HEADING)},
            whole=WHOLE_COLUMNS | GROUP_REFERENCE | {"bot"},  # folded, never cut
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
        as_json: bool = JsonOption(),
        lang: str = LangOption(),
    ) -> None:
        """List members (of one group with --group ID or source:chat_id)."""
        wanted = status
        columns = ["id", "display_name", "source", "user_id", "group_id"]
        timezone = "UTC"
        with opened(url) as db:
            rows = admin.list_members(db, group, limit, wanted)
            if len(rows) == limit:
                say_cut(len(rows), admin.count_members(db, group, wanted), lang)
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
        lang: str = LangOption(),
    ) -> None:
        """Delete everything kept about one member (every feature's data, names, message text)."""
        t = speaker({"lang": lang})
        with opened(url) as db:
            name = admin.member_name(db, member)  # no such member: said before asking
            if not yes:
                question = t(N_("Forget member {member} ({name}) everywhere?"))
                typer.confirm(question.format(member=member, name=name), abort=True)
            result = admin.forget_member(db, FeatureRegistry.load(), member)
        said = t(N_("member {member} forgotten: {counts}"))
        said = said.format(member=member, counts=counts(result, t))
        cli_output.out.print(literal(said), highlight=False, soft_wrap=True)

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
        lang: str = LangOption(),
    ) -> None:
        """Show a group's effective settings, or without --group a workspace's defaults."""
        registry = FeatureRegistry.load()
        with opened(url) as db:
            if group is not None:
                view = settings_read.settings_view(db, registry, group)
            else:
                view = settings_read.workspace_view(db, registry, workspace or "default")
        if group is not None and workspace is not None and workspace != view.workspace:
            raise InvalidSettings(
                N_("group {group} is not in workspace {workspace!r}"),
                where=N_("workspace"),
                group=group,
                workspace=workspace,
            )
        shown = view.own if own else view.settings
        sys.stdout.write(json.dumps(shown, ensure_ascii=False, indent=2, default=str) + "\n")
        t = speaker({"lang": lang})
        off = FEATURE_OFF if group is not None else DEFAULTS_OFF
        warnings: list[GroupopsError] = [
            SettingError(off, where=refused.where, problem=refused.localized_message(t))
            for refused in view.invalid.values()
        ]
        for problem in [*view.unreadable, *warnings, *view.clashes]:
            line = escape(f"[{problem.code}] {problem.localized(t)}")
            cli_output.err.print(
                f"[yellow]{t(WARNING)}[/yellow] {line}", highlight=False, soft_wrap=True
            )

    @settings_app.command("set", cls=FreeTextValue)
    @typed_errors
    def settings_set(
        name: str = typer.Argument(
            ...,
            help="feature.setting, e.g. welcome.rules; the features: moderation, gate, welcome,"
            " checkin, points, health, notify (`settings show` lists every setting with its value)",
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
        lang: str = LangOption(),
    ) -> None:
        """Set a setting for one group, or the workspace default when no --group is given."""
        feature, dot, key = name.partition(".")
        if not dot or not key:
            said = speaker({"lang": lang})(N_("write it as feature.setting, e.g. welcome.rules"))
            raise typer.BadParameter(said, param_hint="'name'")  # the value named, not bare
        registry = FeatureRegistry.load()
        stale = value.strip() == "null" and settings_admin.is_stale_setting(registry, feature, key)
        with opened(url) as db:
            settings_admin.set_setting(
                db,
                registry,
                feature=feature,
                key=key,
                value=settings_admin.setting_value(registry, feature, key, value),
                group_ref=group,
                workspace=workspace,
            )
            # what is set there now, the one value among them: the rest is inherited or built in
            if group is not None:
                there = settings_read.settings_view(db, registry, group).own.get(feature, {})
            else:
                slug = workspace or "default"
                there = settings_read.workspace_view(db, registry, slug).own.get(feature, {})
            unreached: list[tuple[str, str]] = []
            if feature == "notify" and key == "to":  # Telegram writes to those who started it
                gid = admin.find_group(db, group).id if group is not None else None
                to = [str(u) for u in there.get("to") or []]
                unreached = reach.not_started(db, to, group=gid, workspace=workspace or "default")
        t = speaker({"lang": lang})
        if stale:
            place = Place(N_("group {group}"), group=group) if group is not None else None
            place = place or Place(N_("workspace {workspace}"), workspace=workspace or "default")
            said = t(STALE_REMOVED).format(name=name, place=place.localized(t), feature=feature)
        elif group is not None:
            said = t(SET_FOR_GROUP).format(name=name, group=group)
        else:
            said = t(SET_FOR_WORKSPACE).format(name=name, workspace=workspace or "default")
        if group is not None:
            heading = t(GROUP_OWN).format(group=group, feature=feature)
        else:
            heading = t(WORKSPACE_OWN).format(feature=feature, workspace=workspace or "default")
        now_set = json.dumps(there, ensure_ascii=False, indent=2, default=str)
        cli_output.out.print(literal(f"{said}\n{heading}\n{now_set}"), soft_wrap=True)
        for source, user in unreached:  # notify.to only
            said = t(reach.NOT_STARTED).format(bot=reach.bot_name(source), user=user)
            cli_output.out.print(literal(said), soft_wrap=True)

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
        lang: str = LangOption(),
    ) -> None:
        """Set a group's time zone (day boundaries), language (zh_CN or en) or title."""
        if timezone is None and language is None and title is None:
            raise InvalidOption(
                N_("nothing to change: give --timezone, --language or --title"),
                where="settings profile",
            )
        with opened(url) as db:
            changes = settings_admin.set_group_profile(
                db, group, timezone=timezone, language=language, title=title
            )
        t = speaker({"lang": lang})
        parts = [
            t(PROFILE_CHANGED).format(what=t(PROFILE_WORDS[name]), old=old, new=new)
            if old != new
            else t(PROFILE_KEPT).format(what=t(PROFILE_WORDS[name]), value=new)
            for name, (old, new) in changes.items()
        ]
        said = t(PROFILE).format(group=group, changes=t(CLAUSE_BREAK).join(parts))
        cli_output.out.print(literal(said), highlight=False, soft_wrap=True)

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
        as_json: bool = JsonOption(),
        lang: str = LangOption(),
    ) -> None:
        """Points leaderboard of a group for a day, week or month (its time zone)."""
        if period not in PERIODS:  # the option, named as the command line spells it
            raise InvalidOption(
                N_("unknown period {period!r}: choose day, week or month"),
                where="--period",
                period=period,
            )
        with opened(url) as db:
            g = admin.find_group(db, group)
            when = parse_when(at, g.timezone) if at else datetime.now(UTC)
            with db.connect() as conn:
                rows = leaderboard(conn, g.id, period, when, min(limit + 1, LARGEST_ID))
                if len(rows) > limit:  # cut: how many members the whole board ranks
                    say_cut(limit, len(leaderboard(conn, g.id, period, when, LARGEST_ID)), lang)
                    rows = rows[:limit]
                conn.rollback()
        title = board_title(g.title, period, when, g.timezone, lang)
        if not rows and not as_json:
            said = Catalogs().gettext(lang)(BOARD_EMPTY).format(title=title)
            cli_output.out.print(literal(said), highlight=False, soft_wrap=True)
            return
        emit(rows, list(rows[0]) if rows else ["rank", "member", "points"], as_json, title, lang)

    @outbox_app.command("list")
    @typed_errors
    def outbox_list(
        status: OutboxStatus = typer.Option(OutboxStatus.dead, help="which actions"),
        limit: int = Limit(100),
        url: str | None = DbOption,
        as_json: bool = JsonOption(),
        lang: str = LangOption(),
    ) -> None:
        """List actions by status (default: the dead letters).

        Dead letters, and actions waiting or being sent, oldest first: the order they are
        retried and sent in. Delivered and rerouted ones newest first."""
        with opened(url) as db:
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
        created = {"created_at": Catalogs().gettext(lang)(CREATED_IN).format(zone="UTC")}
        emit(rows, columns, as_json, title, lang, created, WHOLE_COLUMNS | GROUP_REFERENCE)

    @outbox_app.command("retry", cls=DashValues)
    @typed_errors
    def outbox_retry(
        ids: list[int] = typer.Argument(
            None, help="the ids of the dead actions to send again (see `outbox list`)"
        ),
        all_dead: bool = typer.Option(False, "--all", help="every dead action"),
        url: str | None = DbOption,
        lang: str = LangOption(),
    ) -> None:
        """Put dead actions back in the queue (the given ids, or --all).

        Those of a group the bot is not in stay dead until it is back (private messages
        excepted): one line per group says so, and the exit code is 1 when given ids were
        among them."""
        if not ids and not all_dead:
            said = Catalogs().gettext(lang)(N_("give the ids of the actions to retry, or --all"))
            raise UsageError(said)  # nothing given: not "Invalid value"
        with opened(url) as db:
            done = retry(db, RealClock(), None if all_dead else ids)
        n = done.queued
        ngettext = Catalogs().ngettext(lang)
        cli_output.out.print(
            ngettext("{n} action queued again", "{n} actions queued again", n).format(n=n)
        )
        for held in done.held:
            cli_output.err.print(error_line(held, lang), highlight=False, soft_wrap=True)
        if done.held and not all_dead:  # the ids asked for were not all queued
            raise typer.Exit(1)

    @tasks_app.command("list")
    @typed_errors
    def tasks_list(
        status: TaskStatus = typer.Option(TaskStatus.open, help="which tasks"),
        url: str | None = DbOption,
        as_json: bool = JsonOption(),
        lang: str = LangOption(),
    ) -> None:
        """Owner tasks: actions a platform cannot perform, for a human to do."""
        with opened(url) as db:
            rows = admin.list_owner_tasks(db, status.value)
            # the group a task is in, by its title: the one thing a person needs to find it
            titles = {
                gid: admin.find_group(db, str(gid)).title
                for gid in {r["group_id"] for r in rows if r.get("group_id") is not None}
            }
        columns = ["id", "group", "feature", "text", "created_at"]
        if not as_json:
            rows = [
                {**r, "group": titles.get(r.get("group_id")) or f"{r['source']}:{r['chat_id']}"}
                for r in rows
            ]
        else:
            columns = ["id", "source", "chat_id", "feature", "text", "created_at"]
        t = Catalogs().gettext(lang)
        headings = {"created_at": t(CREATED_IN).format(zone="UTC")}
        if status is not TaskStatus.open:  # when it was closed (not opened); a dismissed one, why
            if not as_json:
                columns.remove("created_at")  # room at 80 columns for the reason (--json has it)
            columns.append("done_at")
            headings["done_at"] = t(CLOSED_AT[status.value]).format(zone="UTC")
        if status is TaskStatus.dismissed:
            columns.append("reason")
            if not as_json:
                rows = [{**r, "reason": r.get("reason") or t(NO_REASON)} for r in rows]
        if not as_json:  # what to do in the operator's words (--json: the stored text)
            rows = [{**r, "text": task_text(r, t)} for r in rows]
        emit(rows, columns, as_json, title_of("owner tasks", lang, status.value), lang, headings)

    @tasks_app.command("done", cls=DashValues)
    @typed_errors
    def tasks_done(
        task: int = typer.Argument(..., help="the task's id (see `tasks list`)"),
        url: str | None = DbOption,
        lang: str = LangOption(),
    ) -> None:
        """Mark an owner task done."""
        with opened(url) as db:
            admin.complete_owner_task(db, task, datetime.now(UTC))
        said = Catalogs().gettext(lang)(N_("owner task {task} done")).format(task=task)
        cli_output.out.print(said, highlight=False)

    @tasks_app.command("dismiss", cls=DashValues)
    @typed_errors
    def tasks_dismiss(
        task: int = typer.Argument(..., help="the task's id (see `tasks list`)"),
        reason: str | None = typer.Option(
            None,
            "--reason",
            help="why it is not to be done, kept with the task (`tasks list --status"
            " dismissed` shows it)",
            show_default=False,
        ),
        url: str | None = DbOption,
        lang: str = LangOption(),
    ) -> None:
        """Dismiss an open owner task: it is not to be done (listed with --status dismissed)."""
        with opened(url) as db:
            admin.dismiss_owner_task(db, task, datetime.now(UTC), reason)
        said = Catalogs().gettext(lang)(N_("owner task {task} dismissed")).format(task=task)
        cli_output.out.print(said, highlight=False)
