"""Matrix: a bot user on a homeserver, through matrix-nio (see docs/platforms/matrix.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from groupops.platforms.matrix.adapter import MATRIX_ACTIONS, MatrixAdapter
from groupops.platforms.matrix.config import ConnectionStore, MatrixConfig, source_for

if TYPE_CHECKING:
    from groupops.web.runtime import Companion

__all__ = [
    "MATRIX_ACTIONS",
    "ConnectionStore",
    "MatrixAdapter",
    "MatrixConfig",
    "companion",
    "source_for",
]


def companion(source: str) -> Companion:
    """What ``groupops serve`` runs for one Matrix connection: the adapter is added to the
    App's platforms before the deliverer starts, then syncs until the server stops."""
    import asyncio

    from groupops.engine.app import App
    from groupops.web.runtime import Companion

    adapters: dict[str, MatrixAdapter] = {}

    def prepare(app: App) -> None:
        store = ConnectionStore(app.db, source)
        config, _ = store.load()
        adapter = MatrixAdapter(
            config, store=store, handle=app.handle, clock=app.clock, reject=app.engine.reject_event
        )
        app.platforms.add(adapter)
        adapters[source] = adapter

    async def run(app: App, stop: asyncio.Event) -> None:
        adapter = adapters[source]
        try:
            await adapter.run(stop)
        finally:
            await adapter.close()

    return Companion(name=source, run=run, prepare=prepare)
