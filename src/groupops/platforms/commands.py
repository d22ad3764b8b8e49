"""Connections on the command line: ``groupops connect <platform> …`` and
``groupops connections``. Secrets given here are stored in the connection's settings and never
printed (nor logged)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from groupops.commands import (
    DbOption,
    LangOption,
    emit,
    literal,
    open_db,
    out,
    typed_errors,
)
from groupops.i18n import N_, Catalogs

T_CONNECTED = N_("connected {source} (workspace {workspace}); `groupops serve` runs it")
T_TITLE = N_("connections")
T_NONE = N_("no connections yet: add one with `groupops connect`")

connect_app = typer.Typer(no_args_is_help=True, help="Connect a bot account on a platform.")


@connect_app.command("matrix")
@typed_errors
def connect_matrix(
    homeserver: str = typer.Option(..., "--homeserver", help="e.g. https://matrix.example.org"),
    user: str = typer.Option(..., "--user", help="the bot's full id, e.g. @bot:example.org"),
    password: str = typer.Option(
        ...,
        "--password",
        envvar="GROUPOPS_MATRIX_PASSWORD",
        prompt=True,
        hide_input=True,
        help="the bot's password (or set GROUPOPS_MATRIX_PASSWORD; asked for if missing)",
    ),
    workspace: str = typer.Option("default", "--workspace", help="workspace slug"),
    auto_join: bool = typer.Option(
        True, "--auto-join/--no-auto-join", help="join the rooms the bot is invited to"
    ),
    per_second: float = typer.Option(
        0.2,
        "--per-second",
        help="messages a second the homeserver allows the bot (Synapse's default is 0.2)",
    ),
    per_chat_per_minute: float = typer.Option(
        12.0, "--per-room-per-minute", help="messages a minute in one room"
    ),
    url: str | None = DbOption,
    lang: str = LangOption(),
) -> None:
    """Connect a Matrix bot account: logs in once (checking homeserver, user and password) and
    keeps the access token, not the password."""
    from groupops.platforms.matrix.config import MatrixConfig, connect

    _ = Catalogs().gettext(lang)
    config = MatrixConfig(
        homeserver,
        user,
        password=password,
        auto_join=auto_join,
        per_second=per_second,
        per_chat_per_minute=per_chat_per_minute,
    )
    db = open_db(url, create=True)
    try:
        done = connect(db, config, datetime.now(UTC), workspace=workspace)
    finally:
        db.dispose()
    out.print(
        literal(_(T_CONNECTED).format(source=done.source, workspace=workspace)), highlight=False
    )


@connect_app.command("telegram")
@typed_errors
def connect_telegram(
    token: str = typer.Option(
        ...,
        "--token",
        envvar="GROUPOPS_TELEGRAM_TOKEN",
        prompt=True,
        hide_input=True,
        help="the bot token from @BotFather (or set GROUPOPS_TELEGRAM_TOKEN; asked for if missing)",
    ),
    workspace: str = typer.Option("default", "--workspace", help="workspace slug"),
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
    per_chat_per_minute: float = typer.Option(
        18.0,
        "--per-group-per-minute",
        help="messages a minute in one group after the first --burst (Telegram allows 20)",
    ),
    burst: int = typer.Option(2, "--burst", help="messages one group may get at once"),
    url: str | None = DbOption,
    lang: str = LangOption(),
) -> None:
    """Connect a Telegram bot: checks the token with Telegram (getMe) and keeps it."""
    from groupops.platforms.telegram.config import TelegramConfig, connect, new_webhook_secret

    _ = Catalogs().gettext(lang)
    config = TelegramConfig(
        token.strip(),
        base_url=base_url,
        mode="webhook" if webhook_url else "polling",
        webhook_url=webhook_url,
        webhook_secret=new_webhook_secret() if webhook_url else "",
        per_chat_per_minute=per_chat_per_minute,
        burst=burst,
    )
    db = open_db(url, create=True)
    try:
        done = connect(db, config, datetime.now(UTC), workspace=workspace)
    finally:
        db.dispose()
    out.print(
        literal(_(T_CONNECTED).format(source=done.source, workspace=workspace)), highlight=False
    )


def register(app: typer.Typer) -> None:
    app.add_typer(connect_app, name="connect")

    @app.command("connections")
    @typed_errors
    def connections_cmd(
        url: str | None = DbOption,
        as_json: bool = typer.Option(False, "--json", help="print JSON"),
        lang: str = LangOption(),
    ) -> None:
        """List the workspace's connections (never their secrets)."""
        from groupops.platforms.connections import list_connections

        _ = Catalogs().gettext(lang)
        db = open_db(url)
        try:
            rows = list_connections(db)
        finally:
            db.dispose()
        if not rows and not as_json:
            out.print(_(T_NONE), highlight=False)
            return
        columns = ["id", "platform", "workspace", "created_at", "synced"]
        emit(rows, columns, as_json, _(T_TITLE), lang)
