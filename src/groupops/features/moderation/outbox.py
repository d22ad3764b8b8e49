"""Actions written outside a batch (an operator's undo), through the engine's one writer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection

from groupops.domain.actions import Action, ActionKind
from groupops.engine.context import Emitted
from groupops.engine.outbox import write_actions
from groupops.platforms.base import Capabilities, RateLimits

#: without a running App we cannot ask the platform: queue everything, and the deliverer
#: dead-letters what the platform refuses
_ANY = Capabilities("any", frozenset(ActionKind) - {ActionKind.OWNER_TASK}, RateLimits())


def queue_actions(
    conn: Connection,
    actions: Sequence[tuple[Action, int | None]],
    *,
    workspace_id: int,
    now: datetime,
    feature: str = "moderation",
    capabilities_of: Callable[[str], Capabilities] | None = None,
) -> tuple[list[int], list[int]]:
    """Write ``(action, group_id)`` pairs to the outbox in ``conn``'s transaction; with
    ``capabilities_of``, what the platform cannot do becomes an owner task.
    Returns the new outbox ids and owner task ids."""
    return write_actions(
        conn,
        [Emitted(action, feature, None, group_id) for action, group_id in actions],
        now=now,
        capabilities_of=capabilities_of or (lambda _source: _ANY),
        workspace_of=lambda _item: workspace_id,
        want_ids=True,
    )
