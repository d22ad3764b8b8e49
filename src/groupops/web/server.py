"""`groupops serve`: the App live (real clock) with the sandbox web chat, and its companions.

To run another connection in this process (Telegram, Matrix: issue 4), add its ``Companion``
in ``companions_for``; nothing else changes.
"""

from __future__ import annotations

import asyncio
import errno
import importlib
import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import uvicorn
from fastapi import FastAPI

from groupops.domain.errors import InvalidOption
from groupops.engine.app import App
from groupops.features.registry import FeatureRegistry
from groupops.i18n import N_, Catalogs, chosen_language
from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from groupops.web.app import create_web_app
from groupops.web.config import WebConfig
from groupops.web.errors import AddressInUse, StartFailed
from groupops.web.runtime import Companion
from groupops.web.security import ConnectionLimit, host_name

SERVING = N_("groupops: the sandbox web chat is at {url} (Ctrl+C stops it)")
HOOKS_ONLY = N_(
    "groupops: the web chat is off ({reason}); only the platforms' webhooks answer at {url}"
    " (Ctrl+C stops it)"
)
OPEN_ADDRESS = N_(
    "serve listens on {host}, which other machines can reach, and the web chat has no"
    " logins: --web-chat turns it on all the same"
)
WEBHOOK_RECEIVES = N_(
    "{names} receives updates by webhook, so this server is reachable from the internet, and"
    " the web chat has no logins: --web-chat turns it on all the same"
)
WEBHOOKS_RECEIVE = N_(
    "{names} receive updates by webhook, so this server is reachable from the internet, and"
    " the web chat has no logins: --web-chat turns it on all the same"
)
TURNED_OFF = N_("--no-web-chat")
DEMO_ON = N_("demo: simulated members are chatting in the sandbox groups (seed {seed})")
DEMO_MISSING = N_(
    "demo: the simulator is not available in this installation; serving without simulated members"
)
CONNECTION_ON = N_("{name}: starting beside the sandbox (the log says when it is connected)")
STOPPED = N_("groupops: stopped")
SIMULATOR = "groupops.simulator"


#: serve's --max-connections by default: Telegram posts over 40 connections at most by default
#: (setWebhook's max_connections), a browser on the web chat keeps a few
MAX_CONNECTIONS = 100


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool = False
    seed: int = 1
    #: serve the web chat: True / False as given (--web-chat / --no-web-chat); None: only
    #: when nothing else can reach the server (see :func:`web_chat_refusal`)
    web_chat: bool | None = None
    #: the most connections open at once, browsers' and platforms' together (as uvicorn's
    #: limit_concurrency counts them): while that many are open, requests are answered 503
    #: (Telegram posts the update again later), so many slow or idle connections cannot pile up
    max_connections: int = MAX_CONNECTIONS
    #: names besides this machine's the web chat answers under (--allowed-host): the public
    #: name a reverse proxy serves it under, which it passes on as Host or X-Forwarded-Host
    allowed_hosts: tuple[str, ...] = ()


def server_for(web: FastAPI, options: ServeOptions) -> uvicorn.Server:
    """How uvicorn serves ``web`` for serve (and the tests' live servers): at most
    ``options.max_connections`` open at once, the 503 beyond in the visitor's language
    (:class:`ConnectionLimit`, not uvicorn's own English)."""
    limited = ConnectionLimit(web, options.max_connections)
    server = uvicorn.Server(
        uvicorn.Config(limited, log_level="warning", lifespan="on", access_log=False)
    )
    limited.watching(server.server_state)
    return server


def demo_companion(seed: int) -> Companion | None:
    """The simulator's live mode, or None when ``groupops.simulator`` is not installed."""
    try:
        module = importlib.import_module(SIMULATOR)
    except ModuleNotFoundError as exc:
        if exc.name and SIMULATOR.startswith(exc.name):
            return None
        raise
    run_live: Callable[..., object] | None = getattr(module, "run_live", None)
    if run_live is None:
        return None

    async def run(app: App, stop: asyncio.Event) -> None:
        await run_live(app, seed=seed, stop=stop)  # type: ignore[misc]

    return Companion("demo", run)


def connection_companions(database_url: str | None, say: Callable[[str], None]) -> list[Companion]:
    """One companion per stored platform connection (Telegram, Matrix: `groupops connect`)."""
    try:
        from groupops.platforms.connections import live_companions
    except ModuleNotFoundError as exc:  # a platform package missing from this installation
        say(f"{exc.name}: {exc}")
        return []
    db = make_engine(database_url)
    try:
        upgrade(db)
        return live_companions(db)
    finally:
        db.dispose()


def webhook_connections(database_url: str | None) -> list[str]:
    """The stored connections, not turned off, that receive by webhook: the internet posts to
    this server for them."""
    from groupops.platforms.connections import list_connections

    db = make_engine(database_url)
    try:
        upgrade(db)
        rows = list_connections(db)
    finally:
        db.dispose()
    return [r["id"] for r in rows if r["receives"] == "webhook" and r["health"] != "disabled"]


def is_loopback(host: str) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


#: the names a browser on this machine reaches a loopback address under
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def local_names(host: str, allowed: Sequence[str] = ()) -> tuple[str, ...] | None:
    """The Host names serve answers under when it listens on ``host``: the machine's own on a
    loopback address (a rebinding page's name is refused), and the ``allowed`` ones
    (--allowed-host: the name a reverse proxy serves it under); None (any) on an open address
    without ``allowed``, which others reach under names serve cannot know."""
    if not allowed and not is_loopback(host):
        return None
    unspecified = host in ("0.0.0.0", "::")  # no name: the machine's addresses, any of them
    own = () if unspecified else (host,)
    return tuple(dict.fromkeys((*LOCAL_NAMES, *own, *(host_name(a) for a in allowed))))


def allowed_hosts(names: Sequence[str]) -> tuple[str, ...]:
    """--allowed-host's names as the Host check compares them (lower case, no port); an empty
    one, or one with a scheme or path, is refused naming the option."""
    found: list[str] = []
    for given in names:
        name = host_name(given)
        if not name or any(c in given.strip() for c in "/@ ") or name.startswith("["):
            raise InvalidOption(
                N_("{name!r} is not a host name: write it as the browser's address bar has it,"
                   " without http:// or a path (chat.example.org)"),
                where="--allowed-host",
                name=given,
            )  # fmt: skip
        found.append(name)
    return tuple(dict.fromkeys(found))


def web_chat_refusal(
    wanted: bool | None, host: str, webhooks: Sequence[str]
) -> tuple[str, dict[str, object]] | None:
    """Why the web chat stays off (a message and its values), or None to serve it. The web
    chat has no logins: left to itself (``wanted`` None) it runs only on a loopback ``host``
    (the address bound) and when no connection receives by webhook (a webhook needs a server
    the internet reaches, usually through a proxy on this very machine)."""
    if wanted is True:
        return None
    if wanted is False:
        return TURNED_OFF, {}
    if not is_loopback(host):
        return OPEN_ADDRESS, {"host": host}
    if webhooks:
        message = WEBHOOK_RECEIVES if len(webhooks) == 1 else WEBHOOKS_RECEIVE
        return message, {"names": ", ".join(webhooks)}
    return None


def companions_for(
    options: ServeOptions, say: Callable[[str], None], database_url: str | None = None
) -> list[Companion]:
    """Everything that runs beside the web chat in this process: every stored connection, and
    the demo simulator with --demo."""
    found = connection_companions(database_url, say)
    if options.demo:
        demo = demo_companion(options.seed)
        if demo is None:
            say(DEMO_MISSING)
        else:
            found.append(demo)
    return found


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the server starts (so ``--port 0`` works and the
    address printed is the real one)."""
    try:
        infos = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise InvalidOption(
            N_("cannot listen on {host!r}: {reason}"),
            where="--host",
            host=host,
            reason=exc.strerror,
        ) from None
    family, kind, proto, _, address = infos[0]
    # proto must say TCP: asyncio then turns Nagle's algorithm off on each connection (without
    # it every keep-alive answer waited ~40 ms for the client's delayed ACK)
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise AddressInUse(
                N_("{host}:{port} is in use (is groupops already running?); choose another --port"),
                where="--port",
                host=host,
                port=port,
            ) from None
        raise InvalidOption(
            N_("cannot listen on {host}:{port}: {reason}"),
            where="--host",
            host=host,
            port=port,
            reason=exc.strerror,
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


LOG_LEVEL_VAR = "GROUPOPS_LOG_LEVEL"


def configure_logging(level: str | None = None) -> None:
    """serve's log on stderr: groupops' own lines from INFO (a connection connected, failing,
    working again), the libraries' from WARNING; ``GROUPOPS_LOG_LEVEL`` (DEBUG, INFO, WARNING,
    ERROR) sets both (DEBUG: every request of the platform libraries, secrets masked)."""
    import os

    wanted = (level or os.environ.get(LOG_LEVEL_VAR) or "").strip().upper()
    chosen = logging.getLevelName(wanted) if wanted else None
    if not isinstance(chosen, int):
        chosen = None
    logging.basicConfig(
        level=logging.WARNING if chosen is None else chosen,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("groupops").setLevel(logging.INFO if chosen is None else chosen)
    if wanted and chosen is None:
        logging.getLogger("groupops").warning(
            "%s=%r is not a log level (DEBUG, INFO, WARNING, ERROR); using the default",
            LOG_LEVEL_VAR,
            wanted,
        )


def serve(
    config: WebConfig,
    options: ServeOptions,
    echo: Callable[[str], None] = print,
    language: str | None = None,
) -> None:
    """Run until interrupted: the App, its companions and the web chat on one event loop; what
    it prints in ``language`` (serve's --lang), else GROUPOPS_LANG, else LANG."""
    t = Catalogs(config.locale_dir) if config.locale_dir else Catalogs()
    gettext = t.gettext(chosen_language(language))

    def say(message: str, **values: object) -> None:
        text = gettext(message)
        echo(text.format(**values) if values else text)

    # what can be wrong is found before the server starts, as one clear typed error: the
    # features load, the database answers and is migrated (connection_companions), the port
    FeatureRegistry.load(tuple(config.features), extensions=config.extensions)
    names = allowed_hosts(options.allowed_hosts)
    companions = companions_for(options, lambda m: say(m), config.database_url)
    webhooks = [] if options.web_chat is not None else webhook_connections(config.database_url)
    sock = bind(options.host, options.port)
    refusal = web_chat_refusal(options.web_chat, str(sock.getsockname()[0]), webhooks)
    allowed = local_names(str(sock.getsockname()[0]), names)
    config = replace(config, web_chat=refusal is None, allowed_hosts=allowed)
    web = create_web_app(config, companions=companions)
    server = server_for(web, options)
    configure_logging()
    for companion in companions:
        if companion.name == "demo":
            say(DEMO_ON, seed=options.seed)
        else:
            say(CONNECTION_ON, name=companion.name)
    # last: the address is what a person (or a test) waits for
    if refusal is None:
        say(SERVING, url=url_of(sock))
    else:
        reason, values = refusal
        say(HOOKS_ONLY, url=url_of(sock), reason=gettext(reason).format(**values))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shut down cleanly, then re-raised the Ctrl+C it had held back
    finally:
        sock.close()
    if not server.started:
        raise StartFailed("the web chat did not start: see the error above", where="serve")
    say(STOPPED)
