"""Features and adapters made for the engine's own tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy import Connection

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError, RecipientUnreachable
from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, Incoming
from groupops.features.base import FeatureSettings
from groupops.platforms.base import Capabilities, DeliveryResult, RateLimits


class EchoSettings(FeatureSettings):
    prefix: str = "echo:"


class EchoFeature:
    """Replies to every message; raises on a message that says 'boom'."""

    name: ClassVar[str] = "echo"
    order: ClassVar[int] = 50
    settings_model: ClassVar[type[EchoSettings]] = EchoSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset({EventKind.MESSAGE})

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for item in batch:
            if item.event.text == "boom":
                raise RuntimeError("boom on purpose")
            assert item.group is not None
            s = ctx.settings(self, item.group, EchoSettings)
            e = item.event
            ctx.emit(
                Action(
                    ActionKind.REPLY,
                    e.source,
                    e.chat_id,
                    text=s.prefix + e.text,
                    message_id=e.message_id,
                ),
                item,
            )

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        return None


class KickerFeature:
    """Kicks whoever says 'kick me' (to see degradation where a platform cannot kick)."""

    name: ClassVar[str] = "kicker"
    order: ClassVar[int] = 60
    settings_model: ClassVar[type[FeatureSettings]] = FeatureSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset({EventKind.MESSAGE})

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for item in batch:
            e = item.event
            if e.text == "kick me":
                ctx.emit(
                    Action(
                        ActionKind.KICK,
                        e.source,
                        e.chat_id,
                        user_id=e.user_id,
                        reason="asked for it",
                    ),
                    item,
                )

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        return None


class FlakyAdapter:
    """An adapter whose answers a test scripts: 'ok', 'retry_after:N', 'error', 'permanent',
    'unreachable' (a private message the platform will not carry)."""

    def __init__(
        self,
        source: str = "flaky",
        limits: RateLimits | None = None,
        actions: frozenset[ActionKind] | None = None,
    ) -> None:
        self.source = source
        self.capabilities = Capabilities(
            "flaky",
            actions if actions is not None else frozenset(ActionKind) - {ActionKind.OWNER_TASK},
            limits or RateLimits(per_second=1000, per_chat_per_minute=60000, burst=1000),
        )
        self.script: list[str] = []
        self.sent: list[tuple[str, Action]] = []
        self.calls = 0

    async def perform(self, action: Action, *, idempotency_key: str) -> DeliveryResult:
        self.calls += 1
        answer = self.script.pop(0) if self.script else "ok"
        if answer.startswith("retry_after:"):
            raise PlatformError("Too Many Requests", retry_after=float(answer.split(":")[1]))
        if answer == "error":
            raise PlatformError("Bad Gateway")
        if answer == "permanent":
            raise PlatformError("Forbidden", permanent=True)
        if answer == "unreachable":
            raise RecipientUnreachable("Forbidden: bot can't initiate conversation with a user")
        self.sent.append((idempotency_key, action))
        return DeliveryResult(platform_message_id=str(len(self.sent)))


class MarkerFeature:
    """Writes a mark per message, then raises on 'boom': what it wrote for the failed event must
    be undone with it."""

    name: ClassVar[str] = "marker"
    order: ClassVar[int] = 55
    settings_model: ClassVar[type[FeatureSettings]] = FeatureSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset({EventKind.MESSAGE})

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for item in batch:
            assert item.group is not None
            ctx.mark_once(item.group.id, f"seen:{item.event.text}")
            if item.event.text == "boom":
                raise RuntimeError("boom on purpose")

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        return None
