"""What a feature is: a name, an order, a settings model, the events it handles, a handler
and a delete-member-data hook. Built-ins and extensions are registered the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from groupops.domain.events import EventKind

if TYPE_CHECKING:
    from groupops.engine.context import BatchContext, Incoming


class FeatureSettings(BaseModel):
    """Base of every feature's settings. Unknown keys are refused, so typos are caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True

    def forbidden_in(self, text: str) -> tuple[str, str] | None:
        """What these settings forbid in a member's message ``text``, as (the setting that
        says so, what of ``text`` it finds), or None. A command keyword of another feature
        must not be forbidden (``groupops settings set`` refuses the pair): every member who
        used the command would be punished for it. Moderation's keyword lists say it; a
        feature that forbids nothing keeps this None."""
        return None


class Feature(Protocol):
    name: ClassVar[str]
    #: lower runs first: moderation (10) sees a message before check-in (30) and points (40)
    order: ClassVar[int]
    settings_model: ClassVar[type[FeatureSettings]]
    handles: ClassVar[frozenset[EventKind]]

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        """React to the batch's events of the kinds in ``handles``; state changes through
        ``ctx.conn``, actions through ``ctx.emit``. Raise to have the batch retried event by
        event with this feature isolated."""

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        """Forget everything this feature stores about one member."""

    # Optional: a feature that keeps what it wrote in memory for the next batches has the
    # engine tell it when the batch is committed (``committed()``: keep it) or rolled back
    # (``rolled_back()``: forget what this batch staged). Plain methods, no arguments. It may
    # also read that state for every group before live events arrive:
    # ``warm_up(ctx)``, a context with no events whose ``all_groups()`` are the groups
    # (what it reads is staged, then kept like a batch's).
