"""`groupops serve`: the live App with the sandbox web chat (and, with --demo, simulated
members chatting)."""

from __future__ import annotations

import typer

from groupops.cli_options import DbOption, LangOption, typed_errors
from groupops.storage.db import database_url, open_database


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @typed_errors
    def serve_cmd(
        host: str = typer.Option("127.0.0.1", help="address to listen on"),
        port: int = typer.Option(8000, min=0, max=65535, help="port (0: any free one)"),
        url: str | None = DbOption,
        demo: bool = typer.Option(
            False, "--demo", help="also run simulated members chatting in the sandbox groups"
        ),
        seed: int = typer.Option(1, help="the simulator's random seed (with --demo)"),
        movable_clock: bool = typer.Option(
            False,
            "--movable-clock",
            help="a clock the web page can move forward (an hour, a day, to the next month),"
            " to try days and months in minutes; not with Telegram or Matrix connections",
        ),
        web_chat: bool | None = typer.Option(
            None,
            "--web-chat/--no-web-chat",
            show_default=False,
            help="serve the web chat (it has no logins), or only the platforms' webhooks;"
            " default: the web chat only on a loopback --host with no Telegram webhook",
        ),
        secure_cookies: bool = typer.Option(
            False,
            "--secure-cookies",
            help="mark the web chat's cookies Secure, so that browsers send them over HTTPS"
            " only: give it when the page is reached through a TLS proxy",
        ),
        max_connections: int = typer.Option(
            100,  # ServeOptions' MAX_CONNECTIONS (a test keeps them one), not imported: slow
            min=1,
            help="the most connections open at once, browsers' and platforms' together; while"
            " that many are open, requests are answered 503",
        ),
        allowed_host: list[str] | None = typer.Option(
            None,
            "--allowed-host",
            show_default=False,
            help="a name the web chat also answers under besides this machine's (localhost,"
            " 127.0.0.1): the public name a reverse proxy serves it under, e.g."
            " chat.example.org; repeat it for several",
        ),
        lang: str = LangOption(),
    ) -> None:
        """Run groupops live with the sandbox web chat; prints its address."""
        from groupops.web.config import WebConfig
        from groupops.web.server import ServeOptions, serve

        # a bad URL or an unreachable server is one line here, not a traceback at start-up
        open_database(url, create=True).dispose()
        serve(
            WebConfig(
                database_url=database_url(url),
                movable_clock=movable_clock,
                secure_cookies=secure_cookies,
            ),
            ServeOptions(
                host=host,
                port=port,
                demo=demo,
                seed=seed,
                web_chat=web_chat,
                max_connections=max_connections,
                allowed_hosts=tuple(allowed_host or ()),
            ),
            echo=typer.echo,
            language=lang,
        )
