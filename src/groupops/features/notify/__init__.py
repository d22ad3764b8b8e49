"""notify: the owner tasks groupops writes (what a platform cannot do, the bot removed from a
group or lacking rights there, a group starting to die ...) told to the people who do them, in
a private message from the bot, at most once every ``every_minutes`` each, many tasks in one
message. ``groupops tasks list`` stays the full list; this makes sure someone looks at it.

The package: ``settings`` (who is told, how often, in which language), ``digest`` (the tick's
look at the tasks not told yet, the message, the marks that remember who was told what),
``pressed`` (the buttons under a message: a task closed from the chat), ``whom`` (who is told
of a task, in which language: what both ask), ``reach`` (whom a Telegram bot cannot write to
yet)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy import Connection

from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, Incoming
from groupops.features.notify import digest, pressed
from groupops.features.notify.settings import NotifySettings


class NotifyFeature:
    name: ClassVar[str] = "notify"
    #: last: a tick's tasks of the features before are written when the batch ends, and told
    #: at the next tick
    order: ClassVar[int] = 95
    settings_model: ClassVar[type[NotifySettings]] = NotifySettings
    #: the tick for the messages; a button under one (``pressed``) closes a task
    handles: ClassVar[frozenset[EventKind]] = frozenset({EventKind.TICK, EventKind.BUTTON})

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for item in batch:
            if item.event.kind == EventKind.TICK:
                digest.tell(ctx, self, item.event.occurred_at)
            elif item.event.kind == EventKind.BUTTON:
                pressed.pressed(ctx, self, item)

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        """Nothing is kept about members: the people told are named in the settings, and the
        messages to them are outbox actions aimed at them (``forget`` removes those)."""


__all__ = ["NotifyFeature", "NotifySettings"]
