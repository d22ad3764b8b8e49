"""The App object owns lifecycle and dependencies: no module-level state anywhere.

``App.create()`` wires database, clock, features, platforms, engine and deliverer;
``start()/stop()`` run the live loops (ingest queue, clock ticks, deliverer).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine as SAEngine

from groupops.domain.events import Event
from groupops.engine.clock import Clock, RealClock
from groupops.engine.core import BatchResult, Engine
from groupops.engine.deliverer import Deliverer, RetryPolicy
from groupops.features.registry import DEFAULT_FEATURES, FeatureRegistry
from groupops.i18n import Catalogs
from groupops.platforms.base import CommandMenu
from groupops.platforms.registry import Platforms
from groupops.platforms.sandbox import SandboxAdapter, SandboxPlatform
from groupops.storage.db import WalCheckpointer, make_engine
from groupops.storage.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass
class App:
    db: SAEngine
    clock: Clock
    registry: FeatureRegistry
    platforms: Platforms
    engine: Engine
    deliverer: Deliverer
    sandbox: SandboxPlatform
    catalogs: Catalogs
    max_batch: int = 500
    _queue: asyncio.Queue[tuple[Event, asyncio.Future[None] | None]] | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event | None = None
    _checkpointer: WalCheckpointer | None = None

    @classmethod
    def create(
        cls,
        database_url: str | None = None,
        *,
        clock: Clock | None = None,
        features: Sequence[str] = DEFAULT_FEATURES,
        extensions: bool = True,
        migrate: bool = True,
        retry: RetryPolicy | None = None,
        db: SAEngine | None = None,
    ) -> App:
        db = db or make_engine(database_url)
        if migrate:
            upgrade(db)
        clock = clock or RealClock()
        catalogs = Catalogs()
        registry = FeatureRegistry.load(tuple(features), extensions=extensions)
        platforms = Platforms()
        platforms.add(SandboxAdapter(db, clock))
        engine = Engine(db, registry, platforms.capabilities, clock, catalogs)
        deliverer = Deliverer(db, platforms, clock, retry)
        engine.on_commit(
            lambda result: (
                deliverer.notify(result.handed, scan=result.actions > len(result.handed))
                if result.actions
                else None
            )
        )
        sandbox = SandboxPlatform(db, clock)
        return cls(db, clock, registry, platforms, engine, deliverer, sandbox, catalogs)

    # -- synchronous use (CLI, tests, the simulator) ------------------------------------------
    def handle(self, events: Sequence[Event]) -> BatchResult:
        return self.engine.handle(events)

    async def deliver(self) -> int:
        return await self.deliverer.deliver_due()

    def command_menu(self, source: str) -> CommandMenu:
        """The commands offered in the groups of connection ``source``'s workspace, for its
        platform's command menu (see :mod:`groupops.engine.menu`); read anew at each call."""
        from groupops.engine.menu import command_menu
        from groupops.platforms.connections import workspace_of

        return command_menu(self.db, self.registry, self.catalogs, workspace_of(self.db, source))

    # -- live ------------------------------------------------------------------------------
    def submit(self, event: Event) -> None:
        """Hand an event from an adapter to the live loop (call from the event loop)."""
        if self._queue is None:
            raise RuntimeError("App.start() has not run")
        self._queue.put_nowait((event, None))

    async def commit(self, event: Event) -> None:
        """Hand an event to the live loop and wait until it is stored (handled, or rejected
        and recorded): for a source that cannot re-deliver, such as the sandbox web chat,
        whose person must not be told "sent" for a message a crash could still lose."""
        if self._queue is None:
            raise RuntimeError("App.start() has not run")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((event, done))
        await done

    async def start(self, *, tick_every: float = 60.0) -> None:
        self._queue = asyncio.Queue()
        self._stop = asyncio.Event()
        self.engine.warm_up()  # what features keep between batches, read before events come
        # What the process holds by now (libraries, the features' kept state) is left out of
        # the cyclic collector's passes: a full pass over it stopped every waiting event for
        # ~100 ms. Garbage from here on is collected as before.
        gc.collect()
        gc.freeze()
        # SQLite's log copied back by a thread, not inside some batch's commit
        self._checkpointer = WalCheckpointer(self.db)
        self._checkpointer.start()
        # actions left 'sending' by a crash are due again; from here on batches hand their
        # actions to this process's deliverer, claimed in their own transaction
        self.deliverer.recover()
        self.engine.hand_off_lease = self.deliverer.policy.lease
        self._tasks = [
            asyncio.create_task(self._ingest(), name="ingest"),
            asyncio.create_task(self.deliverer.run(self._stop, recover=False), name="deliverer"),
            asyncio.create_task(self._ticker(tick_every), name="ticker"),
        ]

    async def stop(self) -> None:
        self.engine.hand_off_lease = None  # batches from here on queue their actions
        if self._stop is not None:
            self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.deliverer.hand_back()  # what was handed over and not sent: queued again
        gc.unfreeze()  # back to the collector (a process that starts again freezes anew)
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None

    async def _ingest(self) -> None:
        assert self._queue is not None
        while True:
            items = [await self._queue.get()]
            while len(items) < self.max_batch and not self._queue.empty():
                items.append(self._queue.get_nowait())
            batch = [event for event, _ in items]
            try:
                self.engine.handle(batch)
            except Exception:
                log.exception("batch of %d events failed; retrying one by one", len(batch))
                for event in batch:
                    try:
                        self.engine.handle([event])
                    except Exception as exc:
                        self.engine.reject_event(event, exc)
            for _, done in items:
                if done is not None and not done.done():
                    done.set_result(None)

    async def _ticker(self, every: float) -> None:
        while True:
            try:
                self.engine.tick()
            except Exception:
                log.exception("tick failed")
            await asyncio.sleep(every)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.db.dispose()
