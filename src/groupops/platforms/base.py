"""What every platform adapter declares and does.

Adapters declare their :class:`Capabilities`; features ask them and degrade, and the engine turns
an action no platform can perform into an owner task for a human. There is no adapter method that
raises NotImplementedError at run time: what an adapter cannot do it does not declare.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from groupops.domain.actions import Action, ActionKind


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Send limits the deliverer keeps to (token buckets; see engine/deliverer.py).

    ``per_second`` counts every action of the connection. ``per_chat_per_minute`` and
    ``burst`` count only the messages posted in one group (send, reply, pin): deleting a
    message, muting, kicking, banning and answering a join request take no token there."""

    #: actions a second for the whole connection, every kind
    per_second: float = 30.0
    #: messages posted a minute in one group (send, reply, pin), after the burst
    per_chat_per_minute: float = 20.0
    #: messages one group may get at once before the per-minute rate applies
    burst: int = 5


@dataclass(frozen=True, slots=True)
class Capabilities:
    platform: str
    actions: frozenset[ActionKind]
    limits: RateLimits = field(default_factory=RateLimits)
    #: oldest message (seconds) the platform lets a bot delete; None = no limit
    delete_max_age: float | None = None
    #: the platform knows which invite link a member joined through
    join_attribution: bool = False
    #: messages can carry buttons (``Action.data["buttons"]``: rows of {"text", "data"});
    #: a press comes back as a ``button`` event with ``data["button_data"]``
    buttons: bool = False

    def can(self, kind: ActionKind) -> bool:
        return kind in self.actions


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What the platform answered: its id for a sent message, and anything else worth keeping."""

    platform_message_id: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


#: the commands members are offered in the groups of a connection's workspace, by groupops
#: language (``en``, ``zh_CN``): each word a member may send (``/checkin``, ``签到``) with what
#: its command does, in that language, in the engine's order of features. The engine makes it
#: (``App.command_menu``); an adapter whose platform has a command menu shows what it can
#: of it (Telegram: the ``/`` words)
CommandMenu = Mapping[str, Sequence[tuple[str, str]]]
#: reads a connection's :data:`CommandMenu` as its settings say now
MenuReader = Callable[[], CommandMenu]


class PlatformAdapter(Protocol):
    """One connection (one bot account) on one platform."""

    source: str
    capabilities: Capabilities

    async def perform(self, action: Action, *, idempotency_key: str) -> DeliveryResult:
        """Do one action. Raise :class:`groupops.domain.errors.PlatformError` with
        ``retry_after`` / ``permanent`` set as the platform said."""
        ...
