"""The sandbox adapter: performs actions on the sandbox platform, once per idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError, RecipientUnreachable
from groupops.engine.clock import Clock
from groupops.engine.deadletters import (
    BAD_MESSAGE_ID,
    CANNOT,
    MALFORMED_BUTTONS,
    NOT_IN_CHAT,
    NOT_OF_GROUP,
    NOT_STARTED_BOT,
    PIN_NOT_FOUND,
)
from groupops.platforms.base import Capabilities, DeliveryResult, RateLimits
from groupops.platforms.sandbox.tables import (
    sandbox_deliveries,
    sandbox_members,
    sandbox_messages,
)

SANDBOX_CAPABILITIES = Capabilities(
    platform="sandbox",
    actions=frozenset(ActionKind) - {ActionKind.OWNER_TASK},
    limits=RateLimits(per_second=2000.0, per_chat_per_minute=60_000.0, burst=200),
    join_attribution=True,
    buttons=True,
)

BOT_ID = "bot"
BOT_NAME = "groupops"


def _buttons(action: Action) -> list[list[dict[str, str]]] | None:
    rows = action.data.get("buttons")
    if not rows:
        return None
    try:
        return [[{"text": str(b["text"]), "data": str(b["data"])} for b in row] for row in rows]
    except (KeyError, TypeError) as exc:
        raise PlatformError(MALFORMED_BUTTONS, permanent=True, reason=str(exc)) from None


def _line(action: Action) -> int:
    """The sandbox line an action names (a delete, a pin); a refusal for good when its
    message id is none."""
    if not action.message_id.isdigit():
        raise PlatformError(BAD_MESSAGE_ID, permanent=True, value=repr(action.message_id))
    return int(action.message_id)


#: built once: each delivered action runs them
_DONE = select(sandbox_deliveries.c.result).where(sandbox_deliveries.c.key == bindparam("key"))
_NEW_DELIVERY = insert(sandbox_deliveries)
_NEW_MESSAGE = insert(sandbox_messages).returning(sandbox_messages.c.id)


class SandboxAdapter:
    def __init__(
        self,
        db: Engine,
        clock: Clock,
        source: str = "sandbox",
        capabilities: Capabilities = SANDBOX_CAPABILITIES,
    ) -> None:
        self.db = db
        self.clock = clock
        self.source = source
        self.capabilities = capabilities

    async def perform(self, action: Action, *, idempotency_key: str) -> DeliveryResult:
        if not self.capabilities.can(action.kind):
            raise PlatformError(CANNOT, permanent=True, platform=self.source, kind=action.kind)
        with self.db.begin() as conn:
            done = conn.execute(_DONE, {"key": idempotency_key}).scalar()
            if done is not None:
                return DeliveryResult(str(done.get("platform_message_id", "")), dict(done))
            result = self._apply(conn, action)
            conn.execute(
                _NEW_DELIVERY,
                {
                    "key": idempotency_key,
                    "source": self.source,
                    "action": action.to_json(),
                    "result": result,
                    "created_at": self.clock.now(),
                },
            )
        return DeliveryResult(str(result.get("platform_message_id", "")), result)

    def _post(
        self, conn: Connection, action: Action, kind: str, reply_to: str = "", to_user: str = ""
    ) -> dict[str, Any]:
        mid = conn.execute(
            _NEW_MESSAGE,
            {
                "source": self.source,
                "chat_id": action.chat_id,
                "user_id": BOT_ID,
                "user_name": BOT_NAME,
                "kind": kind,
                "text": action.text,
                "reply_to": reply_to,
                "to_user_id": to_user,
                "created_at": self.clock.now(),
                "deleted": False,
                "pinned": False,
                "buttons": _buttons(action),
            },
        ).scalar_one()
        return {"platform_message_id": str(mid)}

    def _set_member(self, conn: Connection, action: Action, **values: Any) -> dict[str, Any]:
        res = conn.execute(
            update(sandbox_members)
            .where(
                sandbox_members.c.source == self.source,
                sandbox_members.c.chat_id == action.chat_id,
                sandbox_members.c.user_id == action.user_id,
            )
            .values(**values)
        )
        if not res.rowcount:
            raise PlatformError(
                NOT_IN_CHAT, permanent=True, user=action.user_id, chat=action.chat_id
            )
        return {}

    def _group_line(self, conn: Connection, action: Action) -> Any:
        """The line the action names (its ``deleted``), or None when it is nowhere (forget
        removes a person's lines). A line of another chat (another group, a member's private
        chat with the bot, another sandbox source: they number their lines in one table) is
        refused for good, as Telegram refuses a message of another chat."""
        line = _line(action)
        m = sandbox_messages.c
        found = conn.execute(
            select(m.source, m.chat_id, m.kind, m.deleted).where(m.id == line)
        ).first()
        if found is not None and (
            found.source != self.source or found.chat_id != action.chat_id or found.kind == "dm"
        ):
            raise PlatformError(
                NOT_OF_GROUP, permanent=True, id=repr(action.message_id), group=action.chat_id
            )
        return found

    def _set_line(self, conn: Connection, action: Action, **values: Any) -> None:
        conn.execute(
            update(sandbox_messages).where(sandbox_messages.c.id == _line(action)).values(**values)
        )

    def _delete(self, conn: Connection, action: Action) -> dict[str, Any]:
        """Remove a line of the group. One removed already, or nowhere, is done: Telegram
        answers "message to delete not found", which the Telegram adapter takes as done
        (``already_gone``), as this does."""
        found = self._group_line(conn, action)
        if found is None or found.deleted:
            return {"already_gone": True}
        self._set_line(conn, action, deleted=True)
        return {}

    def _pin(self, conn: Connection, action: Action) -> dict[str, Any]:
        """Pin a line of the group. One removed, or nowhere, is refused for good, as Telegram
        refuses it ("message to pin not found"): the deliverer makes it a dead letter."""
        found = self._group_line(conn, action)
        if found is None or found.deleted:
            raise PlatformError(
                PIN_NOT_FOUND, permanent=True, id=repr(action.message_id), group=action.chat_id
            )
        self._set_line(conn, action, pinned=True)
        return {}

    def _system(self, conn: Connection, action: Action, text: str) -> None:
        conn.execute(
            insert(sandbox_messages).values(
                source=self.source,
                chat_id=action.chat_id,
                user_id=BOT_ID,
                user_name=BOT_NAME,
                kind="system",
                text=text,
                reply_to="",
                to_user_id="",
                created_at=self.clock.now(),
                deleted=False,
                pinned=False,
            )
        )

    def _apply(self, conn: Connection, action: Action) -> dict[str, Any]:
        kind = action.kind
        if kind == ActionKind.SEND:
            return self._post(conn, action, "message")
        if kind == ActionKind.REPLY:
            return self._post(conn, action, "message", reply_to=action.message_id)
        if kind == ActionKind.DIRECT_MESSAGE:
            started = conn.execute(
                select(sandbox_members.c.started_bot).where(
                    sandbox_members.c.source == self.source,
                    sandbox_members.c.chat_id == action.chat_id,
                    sandbox_members.c.user_id == action.user_id,
                )
            ).scalar()
            if not started:
                # as on Telegram (NOT_STARTED): the deliverer posts it in the group instead
                raise RecipientUnreachable(NOT_STARTED_BOT)
            return self._post(conn, action, "dm", to_user=action.user_id)
        if kind == ActionKind.DELETE:
            return self._delete(conn, action)
        if kind == ActionKind.PIN:
            return self._pin(conn, action)
        if kind == ActionKind.MUTE:
            until: datetime | None = action.until
            self._set_member(conn, action, muted_until=until)
            self._system(conn, action, f"{action.user_id} muted")
            return {}
        if kind == ActionKind.UNMUTE:
            return self._set_member(conn, action, muted_until=None)
        if kind in (ActionKind.KICK, ActionKind.BAN):
            status = "kicked" if kind == ActionKind.KICK else "banned"
            self._set_member(conn, action, status=status)
            self._system(conn, action, f"{action.user_id} {status}")
            return {}
        if kind == ActionKind.UNBAN:
            return self._set_member(conn, action, status="left")
        if kind == ActionKind.CREATE_INVITE_LINK:
            name = str(action.data.get("invite_name", "link"))
            return {"invite_link": f"sandbox://{action.chat_id}/join/{name}"}
        if kind in (ActionKind.APPROVE_JOIN, ActionKind.DECLINE_JOIN):
            return {}
        raise PlatformError(CANNOT, permanent=True, platform=self.capabilities.platform, kind=kind)
