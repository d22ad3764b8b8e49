"""What a feature is: a name, an order, a settings model, the events it handles, a handler
and a delete-member-data hook. Built-ins and extensions are registered the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection

from groupops.domain.events import EventKind

if TYPE_CHECKING:
    from groupops.engine.context import BatchContext, GroupInfo, Incoming, Named

S = TypeVar("S", bound="FeatureSettings")


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

    def offers(self, setting: str) -> bool:
        """Whether the command of ``setting`` (a field marked ``COMMAND_WORDS``) is offered to
        members where these settings apply: listed by the help command and in a platform's
        command menu. A command with nothing to give there says False (welcome's rules
        command where there are no rules); every other command keeps this True."""
        return True


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


def tick_settings(ctx: BatchContext, feature: Named, group: GroupInfo, model: type[S]) -> S | None:
    """``feature``'s settings in ``group`` for the work a tick does there (it has no group of
    its own, so the engine neither skips a group where the feature is off nor reports its
    invalid settings): None when they do not validate, so that one group's broken settings
    stop no other group's timed work (the engine reports them when the group's next event
    comes). Whether the feature is ``enabled`` there is the caller's: what "off" means differs
    (the gate lets newcomers in, welcome greets no one, points pays no monthly top)."""
    try:
        return ctx.settings(feature, group, model)
    except ValidationError:
        return None
