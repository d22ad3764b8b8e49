"""Connections on the command line: ``groupops connect <platform> …`` and
``groupops connections``. Secrets given here are stored in the connection's settings and never
printed (nor logged)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import typer

from groupops.cli_options import DbOption, LangOption, opened, typed_errors
from groupops.cli_output import emit, err, literal, out, table
from groupops.domain.errors import InvalidOption
from groupops.domain.events import is_imported
from groupops.i18n import N_, Catalogs
from groupops.platforms.connections import (
    LIVE_PLATFORMS,
    NOT_ON_LIST,
    TOO_MANY_GROUPS,
    TOO_MANY_PRIVATE_CHATS,
    is_direct,
    why_of,
    workspace_of,
)
from groupops.stored_texts import error_said as error_said  # importable from here as before

T_CONNECTED = N_("connected {source} (workspace {workspace}); `groupops serve` runs it")
T_TITLE = N_("connections")
T_NONE = N_("no connections yet: add one with `groupops connect`")

T_TOKEN = N_("Bot token")
T_PASSWORD = N_("Password")
NO_TERMINAL = N_("no {option} given and no terminal to ask for it on: give {option}, or set {env}")
WORKSPACE_HELP = (
    "workspace slug for a new connection (default: default); an existing one stays in its own"
)


def ask_secret(prompt: str, option: str, env: str) -> str:
    """Ask for a secret on the terminal (hidden); without one (cron, systemd, a pipe) a typed
    error naming the option and the environment variable, not a prompt read from nowhere."""
    import sys

    if not sys.stdin.isatty():
        raise InvalidOption(NO_TERMINAL, where=option, option=option, env=env)
    value = str(typer.prompt(prompt, hide_input=True)).strip()
    if not value:
        raise InvalidOption(NO_TERMINAL, where=option, option=option, env=env)
    return value


GROUP_LANGUAGE_HELP = (
    "the language a group this bot brings starts in: zh_CN or en (default zh_CN; kept when not"
    " given again)"
)
GROUP_TIMEZONE_HELP = (
    "the time zone a group this bot brings starts in, e.g. Europe/Berlin (default"
    " Asia/Shanghai; kept when not given again)"
)


def group_profile(language: str | None, timezone: str | None) -> tuple[str, str]:
    """``--group-language`` / ``--group-timezone`` checked, as the connection stores them
    ("" when not given: what was stored stays)."""
    from groupops.engine.settings_admin import checked_language, checked_zone

    return (
        checked_language(language, "--group-language") if language else "",
        checked_zone(timezone, "--group-timezone") if timezone else "",
    )


def given(**options: Any) -> dict[str, Any]:
    """The tuning options the operator gave (not None): the others keep what was stored."""
    return {name: value for name, value in options.items() if value is not None}


def kept_option(flags: str, help: str) -> Any:
    """An option of ``connect`` that is None when not given (no default shown): what the
    connection stored stays (:func:`given`, :func:`connected`)."""
    return typer.Option(None, flags, show_default=False, help=help)


class _Stored(Protocol):
    @property
    def source(self) -> str: ...


StoredT = TypeVar("StoredT", bound=_Stored)


def connected(
    url: str | None,
    connect: Callable[..., StoredT],
    config: StoredT,
    tuning: dict[str, Any],
    every_tuning: Sequence[str],
    workspace: str | None,
    t: Callable[[str], str],
) -> StoredT:
    """``config`` stored by its platform's ``connect`` (the ``every_tuning`` settings not in
    ``tuning`` kept as stored), and said: the settings as stored."""
    keep = [key for key in every_tuning if key not in tuning]
    with opened(url, create=True) as db:
        done = connect(db, config, datetime.now(UTC), workspace=workspace, keep=keep)
        where = workspace_of(db, done.source)
    out.print(literal(t(T_CONNECTED).format(source=done.source, workspace=where)), highlight=False)
    return done


T_OVER_GROUP_LIMIT = N_(
    "warning: --per-group-per-minute {rate} + --burst {burst} lets {total} messages a minute"
    " into one group, more than Telegram's {limit}: Telegram will refuse some (429) and they"
    " wait; {limit} or fewer in all keeps every minute within it"
)


def warn_group_rate(rate: float, burst: int, t: Any) -> None:
    """Said (not refused) when a group's minute may hold more than Telegram takes."""
    from groupops.platforms.telegram.config import GROUP_MINUTE_LIMIT

    total = rate + burst
    if total > GROUP_MINUTE_LIMIT:
        said = t(T_OVER_GROUP_LIMIT).format(
            rate=f"{rate:g}", burst=burst, total=f"{total:g}", limit=GROUP_MINUTE_LIMIT
        )
        err.print(literal(said), highlight=False, soft_wrap=True)


T_PLAIN_HTTP = N_(
    "warning: {option} {url} is plain http to another machine: {secret} would go over the network"
    " unencrypted; use https (plain http is safe only within this machine)"
)
T_SECRETS = {
    "--homeserver": N_("the password and the access token"),
    "--api-url": N_("the bot token"),
}


def warn_plain_http(url: str, option: str, t: Any) -> None:
    """Said (not refused: a private network's http://synapse:8008 is the operator's call)
    when a connection's secrets would go unencrypted to another machine."""
    from ipaddress import ip_address
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or not parts.hostname:
        return
    host = parts.hostname.lower()
    try:
        local = ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    if not local:
        said = t(T_PLAIN_HTTP).format(option=option, url=url, secret=t(T_SECRETS[option]))
        err.print(literal(said), highlight=False, soft_wrap=True)


connect_app = typer.Typer(no_args_is_help=True, help="Connect a bot account on a platform.")


@connect_app.command("matrix")
@typed_errors
def connect_matrix(
    homeserver: str = typer.Option(..., "--homeserver", help="e.g. https://matrix.example.org"),
    user: str = typer.Option(..., "--user", help="the bot's full id, e.g. @bot:example.org"),
    password: str | None = typer.Option(
        None,
        "--password",
        envvar="GROUPOPS_MATRIX_PASSWORD",
        show_default=False,
        help="the bot's password (or set GROUPOPS_MATRIX_PASSWORD; asked for if missing)",
    ),
    workspace: str | None = kept_option("--workspace", WORKSPACE_HELP),
    auto_join: bool | None = kept_option(
        "--auto-join/--no-auto-join",
        "join the rooms the bot is invited to (default: join; kept when not given again)",
    ),
    per_second: float | None = kept_option(
        "--per-second",
        "messages a second the homeserver allows the bot (default 0.2, Synapse's own;"
        " kept when not given again)",
    ),
    per_chat_per_minute: float | None = kept_option(
        "--per-room-per-minute",
        "messages a minute in one room (default 12; kept when not given again)",
    ),
    burst: int | None = kept_option(
        "--burst", "messages one room may get at once (default 10; kept when not given again)"
    ),
    sync_timeout: float | None = kept_option(
        "--sync-timeout",
        "seconds one sync waits for news on the homeserver, 0 to 300 (default 30;"
        " kept when not given again)",
    ),
    request_timeout: float | None = kept_option(
        "--request-timeout",
        "seconds a request may take before it counts as failed, up to 600 (default 60;"
        " kept when not given again)",
    ),
    group_language: str | None = kept_option("--group-language", GROUP_LANGUAGE_HELP),
    group_timezone: str | None = kept_option("--group-timezone", GROUP_TIMEZONE_HELP),
    invited_by: str | None = kept_option(
        "--invited-by",
        "who may invite the bot into a room, separated by commas: whole ids"
        " (@alice:example.org) or @*:example.org for everyone of a server; other invitations"
        " are refused ('' lets anyone again; default anyone; kept when not given again)",
    ),
    max_private_chats: int | None = kept_option(
        "--max-private-chats",
        "how many private chats people opened with the bot it keeps at a time, 0 to 100000;"
        " one more is declined, and so is a second one from the same person (default 1000;"
        " kept when not given again)",
    ),
    max_groups: int | None = kept_option(
        "--max-groups",
        "how many groups the bot is in at a time, 0 to 100000; an invitation to one more is"
        " declined, whoever sends it (default 1000; kept when not given again)",
    ),
    url: str | None = DbOption,
    lang: str = LangOption(),
) -> None:
    """Connect a Matrix bot account: logs in once (checking homeserver, user and password) and
    keeps the access token, not the password."""
    from groupops.platforms.matrix.config import (
        TUNING,
        MatrixConfig,
        checked_inviters,
        connect,
    )

    _ = Catalogs().gettext(lang)
    new_language, new_timezone = group_profile(group_language, group_timezone)
    tuning = given(
        auto_join=auto_join,
        per_second=per_second,
        per_chat_per_minute=per_chat_per_minute,
        burst=burst,
        sync_timeout_ms=None if sync_timeout is None else round(sync_timeout * 1000),
        request_timeout=request_timeout,
        invited_by=None if invited_by is None else checked_inviters(invited_by),
        max_private_chats=max_private_chats,
        max_groups=max_groups,
    )
    warn_plain_http(homeserver, "--homeserver", _)  # before the password is sent
    password = password or ask_secret(_(T_PASSWORD), "--password", "GROUPOPS_MATRIX_PASSWORD")
    config = MatrixConfig(
        homeserver,
        user,
        password=password,
        group_language=new_language,
        group_timezone=new_timezone,
        **tuning,
    )
    connected(url, connect, config, tuning, TUNING, workspace, _)


@connect_app.command("telegram")
@typed_errors
def connect_telegram(
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="GROUPOPS_TELEGRAM_TOKEN",
        show_default=False,
        help="the bot token from @BotFather (or set GROUPOPS_TELEGRAM_TOKEN; asked for if missing)",
    ),
    workspace: str | None = kept_option("--workspace", WORKSPACE_HELP),
    webhook_url: str = typer.Option(
        "",
        "--webhook-url",
        help="receive updates on this https URL (…/hooks/telegram/<bot username>) instead of "
        "polling",
    ),
    base_url: str = typer.Option(
        "https://api.telegram.org/bot",
        "--api-url",
        help="the Bot API's address up to /bot (a local Bot API server)",
    ),
    per_chat_per_minute: float | None = kept_option(
        "--per-group-per-minute",
        "messages a minute in one group after the first --burst (default 18; Telegram"
        " allows 20 with the burst; kept when not given again)",
    ),
    burst: int | None = kept_option(
        "--burst", "messages one group may get at once (default 2; kept when not given again)"
    ),
    per_second: float | None = kept_option(
        "--per-second",
        "messages a second over all groups (default 30, Telegram's limit; kept when not"
        " given again)",
    ),
    poll_timeout: int | None = kept_option(
        "--poll-timeout",
        "seconds one getUpdates waits for news on Telegram, 0 to 600 (default 30; kept"
        " when not given again)",
    ),
    request_timeout: float | None = kept_option(
        "--request-timeout",
        "seconds a request may take before it counts as failed, up to 600 (default 30;"
        " kept when not given again)",
    ),
    admin_cache_seconds: float | None = kept_option(
        "--admin-cache-seconds",
        "seconds a group's list of administrators is trusted before it is asked again"
        " (default 600; kept when not given again)",
    ),
    group_language: str | None = kept_option("--group-language", GROUP_LANGUAGE_HELP),
    group_timezone: str | None = kept_option("--group-timezone", GROUP_TIMEZONE_HELP),
    added_by: str | None = kept_option(
        "--added-by",
        "the Telegram user ids (numbers, separated by commas) who may add the bot to a"
        " group; a group anyone else adds it to is left at once ('' lets anyone again;"
        " default anyone; kept when not given again)",
    ),
    url: str | None = DbOption,
    lang: str = LangOption(),
) -> None:
    """Connect a Telegram bot: checks the token with Telegram (getMe) and keeps it."""
    from groupops.platforms.telegram.config import (
        TUNING,
        TelegramConfig,
        checked_user_ids,
        connect,
        new_webhook_secret,
    )

    _ = Catalogs().gettext(lang)
    new_language, new_timezone = group_profile(group_language, group_timezone)
    tuning = given(
        per_chat_per_minute=per_chat_per_minute,
        burst=burst,
        per_second=per_second,
        poll_timeout=poll_timeout,
        request_timeout=request_timeout,
        admin_cache_seconds=admin_cache_seconds,
        added_by=None if added_by is None else checked_user_ids(added_by),
    )
    warn_plain_http(base_url, "--api-url", _)  # before the token is sent
    token = token or ask_secret(_(T_TOKEN), "--token", "GROUPOPS_TELEGRAM_TOKEN")
    config = TelegramConfig(
        token.strip(),
        base_url=base_url,
        mode="webhook" if webhook_url else "polling",
        webhook_url=webhook_url,
        webhook_secret=new_webhook_secret() if webhook_url else "",
        group_language=new_language,
        group_timezone=new_timezone,
        **tuning,
    )
    done = connected(url, connect, config, tuning, TUNING, workspace, _)
    warn_group_rate(done.per_chat_per_minute, done.burst, _)


T_HEALTH = {
    "ok": N_("ok"),
    "failing": N_("failing"),
    "disabled": N_("disabled"),
}
#: a failing connection's health with its last error (the language's colon between them)
T_FAILING_WITH = N_("{health}: {error}")
#: how a connection receives, in the listing's language (``--json`` keeps the stored word)
T_RECEIVES = {
    "polling": N_("polling"),
    "webhook": N_("webhook"),
    "sync": N_("sync"),
}
#: the listing's columns (their headings are the listings' own, cli_output.LABELS): the id
#: names the platform (telegram:…, import:…), which ``--json`` gives apart
COLUMNS = ("id", "workspace", "receives", "health", "synced")
#: said under the table for each Telegram or Matrix connection (``--added-by``,
#: ``--invited-by``)
T_MAY_ADD = N_("{source} may be added to groups by: {who}")
#: who may add the bot when the connection has no list
T_ANYONE = N_("anyone")
#: said under the table for a connection that refused groups (the latest few follow)
T_REFUSED = N_(
    "{source} left the groups someone not on its list brought it into ({count}, latest first):"
)
#: said under the table for a Matrix connection that declined invitations past its
#: ``max_groups`` (the latest few follow, as the refused ones)
T_DECLINED_FULL = N_(
    "{source} declined the groups it was invited into past its --max-groups, being in as"
    " many as it may ({count}, latest first):"
)
#: said under the table for a Matrix connection that declined private chats people opened
#: with it past its ``max_private_chats`` (the latest few follow, as the refused ones)
T_DECLINED_PRIVATE = N_(
    "{source} declined the private chats people opened with it past its --max-private-chats,"
    " having as many open as it may ({count}, latest first):"
)
#: said under the table for a Matrix connection that refused private chats opened with it
#: by someone neither on its ``invited_by`` nor in a group it is in (the latest few follow):
#: not a group, and the rule is not the groups' (a member of a group may open one)
T_REFUSED_PRIVATE = N_(
    "{source} declined the private chats opened with it by people neither on its list nor"
    " in a group it is in ({count}, latest first):"
)
#: the refused list's headings, by the refusal's why (connections.why_of) and whether it
#: was a private chat (connections.is_direct), in this order: groups, then private chats
T_REFUSED_BY_WHY = (
    (NOT_ON_LIST, False, T_REFUSED),
    (TOO_MANY_GROUPS, False, T_DECLINED_FULL),
    (NOT_ON_LIST, True, T_REFUSED_PRIVATE),
    (TOO_MANY_PRIVATE_CHATS, True, T_DECLINED_PRIVATE),
)
T_REFUSED_ONE = N_("{chat} {title}, by {by} at {at}")
T_REFUSED_STAYS = N_("{chat} {title}, by {by} at {at}: not left yet ({error})")
#: refusals listed under the table per connection (``--json`` gives them all)
REFUSED_SHOWN = 5
T_ENABLED = N_("{source} is on: a running `groupops serve` starts it within seconds")
T_DISABLED = N_(
    "{source} is off: a running `groupops serve` stops it within seconds (its data stays;"
    " `groupops connections enable {source}` turns it on again)"
)
T_ALREADY_ON = N_("{source} is already on")
T_ALREADY_OFF = N_("{source} is already off")

connections_app = typer.Typer(
    help="The connections: list them (never their secrets), turn one off or on again.",
    invoke_without_command=True,
)


#: what a connection that is not a live bot is, in the receives column (health and synced
#: have nothing to report for it)
T_BUILT_IN = N_("built in (the web chat)")
T_AN_IMPORT = N_("an import (files)")
T_NOTHING = N_("nothing to report")


def _kind_cell(row: dict[str, Any], t: Any) -> str | None:
    """The sandbox and imported chats are not bots: what they are, or None for a bot."""
    if row["platform"] in LIVE_PLATFORMS:
        return None
    if row["platform"] == "sandbox":
        return str(t(T_BUILT_IN))
    if is_imported(str(row["id"])):
        return str(t(T_AN_IMPORT))
    return None


def _health_cell(row: dict[str, Any], t: Any) -> str:
    status = str(row.get("health") or "")
    if not status:
        return "—"
    said = t(T_HEALTH.get(status, status))
    if status == "failing" and row.get("last_error"):
        error = error_said(str(row["last_error"]), str(row["id"]), t)
        return str(t(T_FAILING_WITH).format(health=said, error=error))
    return str(said)


def show_connections(rows: list[dict[str, Any]], lang: str) -> None:
    """The table, laid out as every listing is (:func:`groupops.cli_output.table`): the id
    is never cut (it is what an operator types, and it names the platform, which ``--json``
    gives apart); in a narrow terminal a workspace the same on every row is said under the
    table, and the rest wraps between words."""
    t = Catalogs().gettext(lang)
    shown_rows: list[dict[str, Any]] = []
    for r in rows:
        kind = _kind_cell(r, t)
        synced: str | bool
        if kind is not None:  # the sandbox, an import: no stream, nothing to be healthy at
            nothing = t(T_NOTHING)
            receives, health, synced = kind, nothing, nothing
        else:
            receiving = str(r["receives"] or "")
            receives = t(T_RECEIVES[receiving]) if receiving in T_RECEIVES else receiving or "—"
            health = _health_cell(r, t)
            synced = bool(r["synced"])  # yes / no in the listing's language
        shown_rows.append(
            {
                "id": r["id"],
                "workspace": r["workspace"],
                "receives": receives,
                "health": health,
                "synced": synced,
            }
        )
    table(shown_rows, COLUMNS, t(T_TITLE), lang)
    for r in rows:
        if r["platform"] not in LIVE_PLATFORMS:
            continue
        who = ", ".join(r.get("may_add") or ()) or t(T_ANYONE)
        said = t(T_MAY_ADD).format(source=r["id"], who=who)
        out.print(literal(said), highlight=False, soft_wrap=True)
        refused = r.get("refused") or []
        for why, direct, heading in T_REFUSED_BY_WHY:
            ones = [one for one in refused if (why_of(one), is_direct(one)) == (why, direct)]
            if ones:
                _show_refused(str(r["id"]), heading, ones, t)


def _show_refused(source: str, heading: str, refused: list[dict[str, Any]], t: Any) -> None:
    """The chats ``source`` turned away for one reason (``heading``), the latest few. A chat
    without a name (a private chat's, usually) is its id alone, with no space before what
    follows ("!room:…, by …")."""
    said = t(heading).format(source=source, count=len(refused))
    out.print(literal(said), highlight=False, soft_wrap=True)
    for one in refused[:REFUSED_SHOWN]:
        who = " ".join(x for x in (one["by"], one["by_name"]) if x) or "?"
        words = str(t(T_REFUSED_ONE if one["left"] else T_REFUSED_STAYS))
        if not one["title"]:
            words = words.replace("{chat} {title}", "{chat}{title}")
        line = words.format(
            chat=one["chat_id"],
            title=f"“{one['title']}”" if one["title"] else "",
            by=who,
            at=one["at"][:16].replace("T", " ") + " UTC" if one["at"] else "?",
            error=error_said(str(one["error"]), source, t),
        )
        out.print(literal("  " + " ".join(line.split())), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(connect_app, name="connect")
    app.add_typer(connections_app, name="connections")

    @connections_app.callback()
    @typed_errors
    def connections_cmd(
        ctx: typer.Context,
        url: str | None = DbOption,
        as_json: bool = typer.Option(False, "--json", help="print JSON"),
        lang: str = LangOption(),
    ) -> None:
        """List the connections of every workspace (never their secrets): how each receives
        (polling, webhook, sync), its health as the running serve last stored it (ok, failing
        with the last error, disabled), and whether it is synced (it has a position in the
        platform's stream: a restart continues from there)."""
        if ctx.invoked_subcommand is not None:
            return
        from groupops.platforms.connections import list_connections

        _ = Catalogs().gettext(lang)
        with opened(url) as db:
            rows = list_connections(db)
        if as_json:
            emit(rows, [], True)
            return
        if not rows:
            out.print(_(T_NONE), highlight=False)
            return
        show_connections(rows, lang)

    def _switch(source: str, url: str | None, lang: str, enabled: bool) -> None:
        from groupops.platforms.connections import set_enabled

        _ = Catalogs().gettext(lang)
        with opened(url) as db:
            changed = set_enabled(db, source, enabled)
        if changed:
            said = T_ENABLED if enabled else T_DISABLED
        else:
            said = T_ALREADY_ON if enabled else T_ALREADY_OFF
        out.print(literal(_(said).format(source=source)), highlight=False)

    @connections_app.command("disable")
    @typed_errors
    def disable_cmd(
        source: str = typer.Argument(..., help="the connection's id, e.g. telegram:mybot"),
        url: str | None = DbOption,
        lang: str = LangOption(),
    ) -> None:
        """Turn a connection off: serve stops receiving and sending for it (sends wait as dead
        letters); its groups, members and position stay."""
        _switch(source, url, lang, False)

    @connections_app.command("enable")
    @typed_errors
    def enable_cmd(
        source: str = typer.Argument(..., help="the connection's id, e.g. telegram:mybot"),
        url: str | None = DbOption,
        lang: str = LangOption(),
    ) -> None:
        """Turn a connection on again."""
        _switch(source, url, lang, True)
