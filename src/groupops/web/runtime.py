"""The live process: the App with its loops, and the companions that run beside it.

``start_live`` is the one place that builds the App and starts everything; ``groupops serve``
and the tests go through it. A *companion* is anything that runs for as long as the server
does: the demo simulator today, Telegram or Matrix connections later (they add their adapter
to ``app.platforms`` in ``prepare``, before the deliverer starts, then receive updates in
``run`` and hand them to ``app.submit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from starlette.routing import BaseRoute

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.i18n import N_, Catalogs
from groupops.web.chat import ensure_groups
from groupops.web.clock import MovableClock
from groupops.web.config import WebConfig
from groupops.web.errors import ClockNotMovable
from groupops.web.security import PersonCookie

log = logging.getLogger(__name__)

NOT_MOVABLE = N_("the clock moves only when groupops serve runs with --movable-clock")
REAL_CONNECTIONS = N_(
    "the clock cannot move while real platform connections run in this process"
    " ({connections}): their messages carry real times"
)

#: how long companions get to finish after the stop signal before they are cancelled
STOP_GRACE = 5.0


@dataclass(frozen=True)
class Companion:
    name: str
    #: runs until ``stop`` is set (then returns); an exception is logged, the server goes on
    run: Callable[[App, asyncio.Event], Awaitable[None]]
    #: called once before the App's loops start (add a platform adapter here)
    prepare: Callable[[App], None] | None = None
    #: HTTP routes the web app mounts for it (a platform's webhook, under /hooks/: those
    #: paths carry their own authentication and are exempt from the browser CSRF check)
    routes: Sequence[BaseRoute] = ()


def ensure_engine_groups(app: App, wanted: tuple[tuple[str, str], ...]) -> None:
    """Make the sandbox chats ``wanted`` groups of the engine too, as the first event from
    each would (the directory creates them, with the chat's title, in the workspace of the
    sandbox connection): the admin commands know them before anyone joins (``groupops
    settings set … --group sandbox:course`` works on a fresh database). A group that exists
    is left as it is."""
    directory = app.engine.directory
    source, now = app.sandbox.source, app.clock.now()
    titles = {str(c["chat_id"]): str(c["title"]) for c in app.sandbox.chats()}
    try:
        with app.db.begin() as conn:
            for chat_id, title in wanted:
                seen = Event(
                    source,
                    f"serve:{chat_id}",  # never stored: it only names the chat
                    EventKind.BOT_RIGHTS_CHANGED,  # the bot is there: no person acts
                    now,
                    chat_id=chat_id,
                    data={"chat_title": titles.get(chat_id, title)},
                )
                directory.group(conn, seen)
    except BaseException:
        directory.rolled_back()
        raise
    directory.committed()


def build_app(config: WebConfig) -> App:
    """The App for the web chat (the real clock, or a movable one with ``movable_clock``)."""
    app = App.create(
        config.database_url,
        features=config.features,
        extensions=config.extensions,
        clock=MovableClock() if config.movable_clock else None,
    )
    if config.locale_dir is not None:
        app.catalogs = app.engine.catalogs = Catalogs(config.locale_dir)
    return app


@dataclass
class Runtime:
    config: WebConfig
    app: App
    person: PersonCookie
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def catalogs(self) -> Catalogs:
        return self.app.catalogs

    def movable_clock(self) -> MovableClock:
        """The clock to move; ClockNotMovable says why when it may not be moved."""
        clock = self.app.clock
        if not isinstance(clock, MovableClock):
            raise ClockNotMovable(NOT_MOVABLE, where="clock")
        real = sorted(s for s in self.app.platforms.sources() if s != self.app.sandbox.source)
        if real:
            raise ClockNotMovable(REAL_CONNECTIONS, where="clock", connections=", ".join(real))
        return clock

    def clock_refusal(self) -> ClockNotMovable | None:
        try:
            self.movable_clock()
        except ClockNotMovable as exc:
            return exc
        return None

    async def stop(self) -> None:
        self.stop_event.set()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.app.stop()
        self.app.close()


async def _guarded(companion: Companion, app: App, stop: asyncio.Event) -> None:
    try:
        await companion.run(app, stop)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("companion %s failed; the server goes on without it", companion.name)


async def start_live(
    config: WebConfig,
    companions: Sequence[Companion] = (),
    *,
    app_factory: Callable[[WebConfig], App] = build_app,
) -> Runtime:
    """Build the App, make sure the sandbox groups exist, start the App's live loops (ingest,
    deliverer, ticker) and then every companion."""
    app = app_factory(config)
    try:
        ensure_groups(app.sandbox, config.groups)
        ensure_engine_groups(app, config.groups)
        for companion in companions:
            if companion.prepare is not None:
                companion.prepare(app)
        await app.start(tick_every=config.tick_every)
    except BaseException:
        with contextlib.suppress(Exception):
            await app.stop()
        app.close()
        raise
    runtime = Runtime(config, app, PersonCookie(config.secret))
    runtime.tasks = [
        asyncio.create_task(_guarded(c, app, runtime.stop_event), name=f"companion:{c.name}")
        for c in companions
    ]
    return runtime
