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
    from groupops.engine.app import App
    from groupops.platforms.supervise import live_companion

    def build(app: App) -> MatrixAdapter:
        store = ConnectionStore(app.db, source)
        config, _ = store.load()
        return MatrixAdapter(
            config, store=store, handle=app.handle, clock=app.clock, reject=app.engine.reject_event
        )

    return live_companion(source, build)
