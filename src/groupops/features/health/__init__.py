"""health alerts: once a day (at ``hour``, each group's own time zone) every group is judged as
``groupops health`` judges it, and when a group starts needing the operator (its early warning
appears, or it becomes declining or dead, as the settings choose) an owner task tells them,
once: not again while it stays so, and again only after it stayed recovered for
``recovery_days`` days and falls again. Only the groups a bot runs and is in are watched; when
the bot leaves a group, what was kept of it goes and its open health task is dismissed.

The package: ``settings`` (on/off, the hour, what is told), ``alerts`` (the day's look, the
marks that remember what was told, the task's text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy import Connection

from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, Incoming
from groupops.features.health import alerts
from groupops.features.health.settings import HealthSettings


class HealthFeature:
    name: ClassVar[str] = "health"
    order: ClassVar[int] = 90
    settings_model: ClassVar[type[HealthSettings]] = HealthSettings
    #: the tick for the day's look; the bot removed from a group (or leaving it) for
    #: :func:`alerts.bot_gone`
    handles: ClassVar[frozenset[EventKind]] = frozenset(
        {EventKind.TICK, EventKind.BOT_RIGHTS_CHANGED}
    )

    def __init__(self) -> None:
        #: what one tick may spend on looks, in seconds (alerts.TICK_SECONDS)
        self.tick_seconds = alerts.TICK_SECONDS

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        alerts.bot_gone(ctx, self, batch)
        for item in batch:
            if item.event.kind == EventKind.TICK:
                alerts.daily_look(ctx, self, item.event.occurred_at, self.tick_seconds)

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        """Nothing is kept about members: the tasks name groups and counts only."""


__all__ = ["HealthFeature", "HealthSettings"]
