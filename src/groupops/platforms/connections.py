"""The connections of all platforms, as an operator sees them (never with their secrets)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from groupops.domain.errors import GroupopsError
from groupops.storage.tables import connections, workspaces

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from groupops.web.runtime import Companion


def list_connections(db: Engine) -> list[dict[str, Any]]:
    """Every connection, without its secrets."""
    with db.connect() as conn:
        rows = conn.execute(
            select(
                connections.c.id,
                connections.c.platform,
                connections.c.created_at,
                connections.c.state,
                workspaces.c.slug,
            )
            .join(workspaces, workspaces.c.id == connections.c.workspace_id)
            .order_by(connections.c.id)
        ).all()
    return [
        {
            "id": r.id,
            "platform": r.platform,
            "workspace": r.slug,
            "created_at": r.created_at,
            "synced": bool((r.state or {}).get("next_batch") or (r.state or {}).get("offset")),
        }
        for r in rows
    ]


def live_companions(db: Engine) -> list[Companion]:
    """What ``groupops serve`` runs beside the sandbox: one companion per stored connection of
    a platform that has a live adapter (Matrix, Telegram; each platform adds its own)."""
    from groupops.platforms import matrix, telegram

    with db.connect() as conn:
        rows = conn.execute(
            select(connections.c.id, connections.c.platform).order_by(connections.c.id)
        ).all()
    found: list[Companion] = []
    for r in rows:
        if r.platform == matrix.config.PLATFORM and r.id.startswith("matrix:"):
            try:
                matrix.ConnectionStore(db, r.id).load()
            except GroupopsError as exc:  # a half-made connection must not stop the server
                log.error("connection %s is not usable: %s", r.id, exc.message)
                continue
            found.append(matrix.companion(r.id))
        elif r.platform == telegram.PLATFORM and r.id.startswith("telegram:"):
            try:
                telegram.ConnectionStore(db, r.id).load()
            except GroupopsError as exc:
                log.error("connection %s is not usable: %s", r.id, exc.message)
                continue
            found.append(telegram.companion(r.id))
    return found
