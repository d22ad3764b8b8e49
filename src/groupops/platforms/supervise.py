"""What the receive loops of live connections (Telegram, Matrix) share: handing a batch of
events to the engine without letting one bad event stall the stream, one log line per failure,
the connection's health kept in its state for ``groupops connections``, and a wait that
notices a change of the stored connection (``groupops connect`` again, ``groupops connections
disable``) so that a running ``serve`` takes it up without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from groupops.domain.actions import Action
from groupops.domain.errors import GroupopsError, NotFound, PlatformError
from groupops.domain.events import Event
from groupops.engine.deadletters import CANNOT
from groupops.engine.deadletters import DISABLED as DISABLED
from groupops.platforms.base import Capabilities, PlatformAdapter

if TYPE_CHECKING:
    from groupops.engine.app import App
    from groupops.web.runtime import Companion

log = logging.getLogger("groupops.platforms")

#: the database cannot be reached or is too busy now (connection lost, locked, the pool full):
#: a look at the stored settings is put off. Any other error (a bug, a schema that does not
#: match) goes up to the receive loop, which says it and backs off.
DATABASE_DOWN: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)

#: takes a batch of events into the engine (one transaction: ``App.handle``)
Handler = Callable[[Sequence[Event]], object]
#: keeps an event the engine could not take, with the reason (``Engine.reject_event``)
Rejecter = Callable[[Event, BaseException], None]

#: how often a waiting connection looks at its stored settings (seconds)
WATCH_EVERY = 5.0
#: the longest pause between two tries after a transient failure
MAX_PAUSE = 60.0
#: seconds between two tries with credentials the platform refused (the operator fixes them
#: with ``groupops connect``, which the loop notices within WATCH_EVERY seconds)
REFUSED_RETRY = 300.0


class Store(Protocol):
    def load(self) -> tuple[Any, dict[str, Any]]: ...

    def save_state(self, state: dict[str, Any]) -> None: ...


def refuse_unless_doable(
    source: str, capabilities: Capabilities, enabled: bool, action: Action
) -> None:
    """What a live adapter's ``perform`` says first: an action its platform does not have,
    or any action of a disabled connection, is refused for good (the outbox's dead letters)."""
    if not capabilities.can(action.kind):
        raise PlatformError(
            CANNOT, where=source, permanent=True, platform=capabilities.platform, kind=action.kind
        )
    if not enabled:
        raise PlatformError(DISABLED, where=source, permanent=True)


class LiveAdapter(PlatformAdapter, Protocol):
    """What ``groupops serve`` runs of a live connection (TelegramAdapter, MatrixAdapter)."""

    async def run(self, stop: asyncio.Event) -> None: ...

    async def close(self) -> None: ...


def live_companion(
    source: str, build: Callable[[App], LiveAdapter], routes: Sequence[Any] = ()
) -> Companion:
    """What ``groupops serve`` runs for one live connection: the adapter ``build`` makes (from
    the App: its handle, clock, the engine's reject_event) is added to the App's platforms
    before the deliverer starts, then receives until the server stops, and is closed."""
    from groupops.web.runtime import Companion

    adapters: dict[str, LiveAdapter] = {}

    def prepare(app: App) -> None:
        adapter = build(app)
        app.platforms.add(adapter)
        adapters[source] = adapter

    async def run(app: App, stop: asyncio.Event) -> None:
        adapter = adapters[source]
        try:
            await adapter.run(stop)
        finally:
            await adapter.close()

    return Companion(name=source, run=run, prepare=prepare, routes=routes)


def hand_over(
    source: str, handle: Handler, reject: Rejecter | None, events: Sequence[Event]
) -> None:
    """Hand ``events`` to the engine in one transaction. If that fails, each event alone:
    one the engine cannot take is kept aside for an operator (``reject``) instead of stalling
    the stream, so the caller may store its position past the batch. Raises (and the caller
    keeps its position, so the same events come again) if ``reject`` is None or fails too
    (the database is down)."""
    try:
        handle(events)
        return
    except Exception:
        if reject is None:
            raise
        log.exception("%s: batch of %d events failed; one by one", source, len(events))
    for event in events:
        try:
            handle([event])
        except Exception as exc:
            log.warning("%s: event %s set aside: %s", source, event.event_id, exc)
            reject(event, exc)


def short(source: str, exc: BaseException) -> str:
    """The error without the connection's name (the log line starts with it)."""
    text = str(exc)
    for prefix in (f"{source}: ", f"{source} "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


class Health:
    """How a connection is doing, kept in ``state["health"]``: ``status`` ok or failing,
    ``error`` (the last failure), ``since`` (when it became so)."""

    def __init__(
        self,
        source: str,
        store: Store,
        state: Callable[[], dict[str, Any]],
        now: Callable[[], datetime],
    ) -> None:
        self.source = source
        self.store = store
        self.state = state
        self.now = now
        self.failing = False

    def _keep(self, status: str, error: str) -> None:
        state = self.state()
        state["health"] = {
            "status": status,
            "error": error[:300],
            "since": self.now().isoformat(timespec="seconds"),
        }
        try:
            self.store.save_state(state)
        except Exception as exc:  # the database is down: the log says it all the same
            log.warning("%s: health not stored: %s", self.source, type(exc).__name__)

    def ok(self) -> None:
        """The connection works: said once in the log after failures."""
        if self.failing:
            log.warning("%s: working again", self.source)
        if self.failing or (self.state().get("health") or {}).get("status") != "ok":
            self._keep("ok", "")
        self.failing = False

    def failed(self, error: str, pause: float) -> None:
        log.warning("%s: %s; next try in %.0fs", self.source, error, pause)
        if not self.failing:
            self._keep("failing", error)
        self.failing = True


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def watch(stop: asyncio.Event, seconds: float | None, changed: Callable[[], bool]) -> None:
    """Wait ``seconds`` (None: until ``changed``) or until ``stop``, asking ``changed`` every
    WATCH_EVERY seconds."""
    loop = asyncio.get_running_loop()
    end = None if seconds is None else loop.time() + seconds
    while not stop.is_set():
        left = WATCH_EVERY if end is None else min(WATCH_EVERY, end - loop.time())
        if left <= 0:
            return
        await sleep_or_stop(stop, left)
        if stop.is_set() or changed():
            return


async def unless_stopped(step: Coroutine[Any, Any, object], stop: asyncio.Event) -> bool:
    """Run one receive step (a sync, a getUpdates) unless ``stop`` comes first: True when the
    step finished (its error raised here), False when ``stop`` came and the step was cancelled
    (a cancelled step stored nothing: the next run asks again)."""
    task = asyncio.ensure_future(step)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    task.result()
    return True


class Backoff:
    """The pause after a failed try of a receive loop: the platform's own ``retry_after`` when
    it gives one, else ``first`` seconds doubling up to ``most`` (back to ``first`` after a
    success); REFUSED_RETRY for credentials the platform refused. The failure is logged and
    kept in the connection's health; the pause ends early on ``stop`` or when ``changed``
    says the stored settings changed."""

    def __init__(
        self,
        health: Health,
        changed: Callable[[], bool],
        *,
        first: float = 1.0,
        most: float = MAX_PAUSE,
    ) -> None:
        self.health = health
        self.changed = changed
        self.first = first
        self.most = most
        self.wait = first

    def ok(self) -> None:
        """A try worked: the health says so, and the next failure waits ``first`` again."""
        self.health.ok()
        self.wait = self.first

    def pause(self, error: PlatformError, *, refused: bool = False) -> float:
        """How long to wait after ``error`` (and the next failure waits longer)."""
        if refused:
            return REFUSED_RETRY
        pause = error.retry_after or self.wait
        self.wait = min(self.most, self.wait * 2)
        return pause

    async def failed(
        self, stop: asyncio.Event, error: PlatformError, *, refused: bool = False
    ) -> None:
        """Log ``error``, keep it in the health, and wait the pause (or until ``stop`` or a
        change of the stored settings). A change (``groupops connect`` again, a connection
        disabled and enabled) starts the pauses over: the next failure, with the new
        settings, waits ``first`` again, not the old settings' longest pause."""
        pause = self.pause(error, refused=refused)
        self.health.failed(short(self.health.source, error), pause)
        asking = True
        seen = False

        def changed() -> bool:
            nonlocal asking, seen
            if not asking:
                return False
            try:
                seen = self.changed()
            except Exception as exc:  # the next try of the loop meets it again and says so
                asking = False
                log.debug("%s: stored settings not read: %r", self.health.source, exc)
                return False
            return seen

        await watch(stop, pause, changed)
        if seen:
            self.wait = self.first


def stored_differs(store: Store, current: object) -> bool:
    """True if the stored settings are not ``current`` (or the connection is gone); False
    when they cannot be read now (DATABASE_DOWN). Any other error goes up."""
    try:
        config, _ = store.load()
    except NotFound:
        return True
    except DATABASE_DOWN:  # nothing to take up now
        return False
    return bool(config != current)


def changed_settings(store: Store, current: Any, source: str) -> Any | None:
    """The connection's stored settings if they are not ``current`` (a new token or login
    from ``groupops connect``, disabled or enabled), logged; None when they are the same or
    cannot be read now (DATABASE_DOWN: keep going as we are). Raises NotFound if the
    connection is gone, and any other error as it came."""
    try:
        config, _ = store.load()
    except NotFound:
        raise
    except GroupopsError as exc:
        log.warning("%s: stored settings not usable: %s", source, exc)
        return None
    except DATABASE_DOWN as exc:  # keep going as we are
        log.debug("%s: settings not read: %s", source, type(exc).__name__)
        return None
    if config == current:
        return None
    if config.enabled != current.enabled:
        log.warning("%s: %s", source, "enabled" if config.enabled else "disabled")
    else:
        log.warning("%s: the stored settings changed; reconnecting", source)
    return config
