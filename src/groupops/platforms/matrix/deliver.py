"""The Matrix adapter's way out: one groupops action as homeserver calls. Sends and
redactions carry a transaction id derived from the outbox's idempotency key, so a retry after a
time-out is not sent twice. Matrix has no buttons, no invite links and no "restrict until": a
mute lowers the member's power level below what sending a message needs, and a mute with an end
is lifted by the adapter's loop when the time comes (kept in ``connections.state["mutes"]``)."""

from __future__ import annotations

import asyncio
import hashlib
import html
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import aiohttp
from nio import (
    ErrorResponse,
    JoinedRoomsResponse,
    RoomCreateResponse,
    RoomGetEventResponse,
    RoomGetStateEventResponse,
    RoomGetStateResponse,
    RoomPreset,
    RoomSendResponse,
)
from sqlalchemy import select

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError, RecipientUnreachable
from groupops.domain.time import utc
from groupops.engine.deadletters import (
    CANNOT,
    LEFT_PRIVATE_CHAT,
    MUTE_NOT_BELOW,
    PINNED_BEFORE_UPGRADE,
)
from groupops.engine.outbox import queue_dead_letter
from groupops.platforms.base import DeliveryResult
from groupops.platforms.matrix.config import network_error
from groupops.platforms.matrix.homeserver import (
    CREATOR_LEVEL,
    AccessRefused,
    Homeserver,
    creators_of,
    log,
    made_private_for,
    retry_due,
)
from groupops.platforms.supervise import refuse_unless_doable
from groupops.storage.tables import connections, groups

#: ``outbox.feature`` of an unmute written by the adapter: a timed mute it could not lift
MUTE_LIFT = "matrix_mute_end"

MATRIX_ACTIONS = frozenset(
    {
        ActionKind.SEND,
        ActionKind.REPLY,
        ActionKind.DIRECT_MESSAGE,
        ActionKind.DELETE,
        ActionKind.MUTE,
        ActionKind.UNMUTE,
        ActionKind.KICK,
        ActionKind.BAN,
        ActionKind.UNBAN,
        ActionKind.PIN,
        # a knock (join request) is accepted by inviting the member, declined by a kick
        ActionKind.APPROVE_JOIN,
        ActionKind.DECLINE_JOIN,
    }
)


#: the rooms not shown by a sync yet that are read, at most, to find a private room whose
#: making went unanswered (more: no sync has come since the start, and the look waits for
#: the sync, which finds it)
UNSEEN_READ_MAX = 20


class _SyncFirst(Exception):
    """A private room asked for before may have been made, and only a sync can tell (too
    many of the bot's rooms are unknown to the client): wait for ``synced``."""

    def __init__(self, synced: asyncio.Event) -> None:
        super().__init__("the next sync first")
        self.synced = synced


def _txn(prefix: str, idempotency_key: str, part: str = "") -> str:
    digest = hashlib.sha256(f"{idempotency_key}\n{part}".encode()).hexdigest()[:32]
    return f"go{prefix}{digest}"


def _already_done(kind: ActionKind, answer: ErrorResponse) -> dict[str, Any]:
    """What the action wanted is so already (Synapse's answers): a kick of someone no longer
    in the room (they left, or another moderator was quicker), an unban of someone not
    banned. Not dead letters: nothing is left to do."""
    message = str(answer.message or "").lower()
    if kind == ActionKind.KICK and "target user is not in the room" in message:
        return {"already_gone": True}
    if kind == ActionKind.UNBAN and answer.status_code == "M_BAD_STATE" and "not banned" in message:
        return {"not_banned": True}
    return {}


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "<br/>")


class Delivery(Homeserver):
    """Actions out (part of :class:`~groupops.platforms.matrix.adapter.MatrixAdapter`)."""

    async def perform(self, action: Action, *, idempotency_key: str) -> DeliveryResult:
        refuse_unless_doable(self.source, self.capabilities, self.config.enabled, action)
        try:
            return await self._perform(action, idempotency_key)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise network_error(self.source, f"{action.kind} in {action.chat_id}", exc) from None

    async def _perform(self, action: Action, key: str) -> DeliveryResult:
        client = self._client()
        room = self.platform_room(action.chat_id)  # an upgraded room's replacement
        kind = action.kind
        what = f"{kind} in {action.chat_id}"
        if kind in (ActionKind.DELETE, ActionKind.PIN) and room != action.chat_id:
            room = await self._room_of(action.chat_id, action.message_id)
            if kind == ActionKind.PIN and room != self.platform_room(action.chat_id):
                raise PlatformError(
                    PINNED_BEFORE_UPGRADE,
                    where=self.source,
                    permanent=True,
                    what=what,
                    room=self.platform_room(action.chat_id),
                )
        prefix = str(self._state.get("txn_prefix", ""))
        if kind in (ActionKind.SEND, ActionKind.REPLY, ActionKind.DIRECT_MESSAGE):
            content: dict[str, Any] = {
                "msgtype": "m.text",
                "body": action.text,
                "format": "org.matrix.custom.html",
                "formatted_body": _html(action.text),
            }
            if kind == ActionKind.REPLY:
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": action.message_id}}
                if action.user_id:
                    content["m.mentions"] = {"user_ids": [action.user_id]}
            if kind == ActionKind.DIRECT_MESSAGE:
                room = await self._dm_room(action.user_id)
                what = f"{kind} to {action.user_id}"
            sent = await client.room_send(room, "m.room.message", content, tx_id=_txn(prefix, key))
            if not isinstance(sent, RoomSendResponse):
                raise self._error(sent, what)
            return DeliveryResult(sent.event_id, {"room_id": room})
        if kind == ActionKind.DELETE:
            answer: Any = await client.room_redact(
                room, action.message_id, reason=action.reason or None, tx_id=_txn(prefix, key)
            )
        elif kind in (ActionKind.KICK, ActionKind.DECLINE_JOIN):
            answer = await client.room_kick(room, action.user_id, reason=action.reason or None)
        elif kind == ActionKind.BAN:
            answer = await client.room_ban(room, action.user_id, reason=action.reason or None)
        elif kind == ActionKind.UNBAN:
            answer = await client.room_unban(room, action.user_id)
        elif kind == ActionKind.APPROVE_JOIN:
            answer = await client.room_invite(room, action.user_id)
        elif kind == ActionKind.MUTE:
            return await self._mute(room, action.user_id, action.until)
        elif kind == ActionKind.UNMUTE:
            return await self._unmute(room, action.user_id)
        elif kind == ActionKind.PIN:
            answer = await self._pin(room, action.message_id)
        else:  # pragma: no cover - every declared kind is handled above
            raise PlatformError(
                CANNOT, where=self.source, permanent=True, platform="matrix", kind=kind
            )
        if isinstance(answer, ErrorResponse):
            done = _already_done(kind, answer)
            if done:
                return DeliveryResult("", done)
            raise self._error(answer, what)
        return DeliveryResult("", {})

    async def _room_of(self, chat_id: str, event_id: str) -> str:
        """Which of an upgraded group's rooms holds ``event_id`` (a message from before the
        upgrade stayed in the old room); the current room if none says it has it."""
        chain = self.room_chain(chat_id)
        for room in reversed(chain):
            answer = await self._client().room_get_event(room, event_id)
            if isinstance(answer, RoomGetEventResponse):
                return room
        return chain[-1]

    def _with(self, room_id: str, user_id: str) -> bool | None:
        """Whether ``user_id`` is in the private room ``room_id`` (joined, or invited and not
        yet answering), as the sync last said; None if the bot has not read the room yet (it
        has just made it)."""
        room = self._client().rooms.get(room_id)
        if room is None:
            return None
        return user_id in room.users

    async def _dm_room(self, user_id: str) -> str:
        """The private room with ``user_id``: the one the bot made for them while they are
        in it, else one they opened with the bot (an ``is_direct`` invitation) and are in,
        else a new one. Once they left the one the bot made, or declined its invitation, and
        opened none, RecipientUnreachable: the deliverer posts in the group instead (as on
        Telegram for someone who blocked the bot), rather than writing into a room nobody
        reads and counting it delivered; nor is a new room made for each message to someone
        who declined one.

        One look at a time per person: the deliverer sends to several chats at once, and two
        private messages to the same person (from two groups) that both found no room made
        two; the second now waits for the first's room and writes there.

        A room asked for whose answer was not recorded (``dm_making``: lost, or the bot
        stopped before recording it) is looked for before another is made
        (:meth:`_made_unseen`); when that needs a sync first (the bot's rooms are not known
        yet after a start), the look waits for it, at most ``request_timeout`` (then a
        passing failure: the deliverer tries again later)."""
        deadline: float | None = None
        while True:
            try:
                async with self._dm_locks.hold(user_id):
                    return await self._dm_room_locked(user_id)
            except _SyncFirst as wait:
                synced = wait.synced
            loop = asyncio.get_running_loop()
            deadline = deadline or loop.time() + self.config.request_timeout
            async with asyncio.timeout_at(deadline):  # TimeoutError: no answer in time
                await synced.wait()

    async def _dm_room_locked(self, user_id: str) -> str:
        rooms: dict[str, str] = self._state.setdefault("dm_rooms", {})
        known = rooms.get(user_id)
        if known is not None and self._with(known, user_id) is not False:
            return known
        theirs: str | None = next(
            (
                str(r)
                for r in sorted(self._state.get("direct_rooms") or [])
                if self._with(r, user_id) and len(self._client().rooms[r].users) == 2
            ),
            None,
        )
        if theirs is not None:
            async with self._lock:
                rooms[user_id] = theirs
                self.store.save_state(self._state)
            return theirs
        if known is not None:
            raise RecipientUnreachable(
                LEFT_PRIVATE_CHAT, where=self.source, user=user_id, room=known
            )
        if user_id in self._making():
            lost = await self._made_unseen(user_id)
            if lost is not None:
                return lost
        # until the homeserver answers, it may make the room without saying so: noted, and
        # stored, before asking, so that a retry after a restart looks for it too
        async with self._lock:
            self._making()[user_id] = self.clock.now().isoformat()
            self.store.save_state(self._state)
        made = await self._client().room_create(
            is_direct=True, invite=[user_id], preset=RoomPreset.trusted_private_chat
        )
        if not isinstance(made, RoomCreateResponse):
            error = self._error(made, f"direct room with {user_id}")
            if error.permanent:  # refused: nothing was made
                async with self._lock:
                    self._making().pop(user_id, None)
                    self.store.save_state(self._state)
            raise error
        async with self._lock:
            rooms[user_id] = made.room_id
            self._making().pop(user_id, None)
            self.store.save_state(self._state)
        return str(made.room_id)

    async def _made_unseen(self, user_id: str) -> str | None:
        """The private room the bot made for ``user_id`` when the answer to making it was
        not recorded (lost: a time-out, a proxy's 504; or the bot stopped before recording
        it: the homeserver may have made it all the same), if no sync has shown it yet (the
        sync adopts the ones it shows: PrivateChats._adopt_lost): the rooms the bot is in that
        its client does not hold yet are read (usually none), and the newest made for them
        is theirs. None: there is none, make one. More than UNSEEN_READ_MAX such rooms (no
        sync yet since a start: the client holds none): _SyncFirst, the next sync shows
        them all, and adopts the room if it is there."""
        client = self._client()
        joined = await client.joined_rooms()
        if not isinstance(joined, JoinedRoomsResponse):
            raise self._error(joined, "joined rooms")
        unseen = set(joined.rooms) - set(client.rooms) - self.direct_rooms()
        if len(unseen) > UNSEEN_READ_MAX:
            raise _SyncFirst(self._next_sync)
        made: list[tuple[int, str]] = []
        for room_id in sorted(unseen):
            state = await client.room_get_state(room_id)
            if not isinstance(state, RoomGetStateResponse):
                raise self._error(state, f"read the state of {room_id}")
            found = made_private_for(state.events, self.config.user_id)
            if found is not None and found[0] == user_id:
                made.append((found[1], room_id))
        self._adopt_made(user_id, made)  # an extra room: the sync leaves it once it shows it
        room = self._state["dm_rooms"].get(user_id)
        if room is None:
            return None
        async with self._lock:
            self.store.save_state(self._state)
        return str(room)

    async def _state_event(self, room: str, event_type: str) -> dict[str, Any]:
        answer = await self._client().room_get_state_event(room, event_type)
        if isinstance(answer, RoomGetStateEventResponse):
            return dict(answer.content)
        if isinstance(answer, ErrorResponse) and answer.status_code == "M_NOT_FOUND":
            return {}
        raise self._error(answer, f"read {event_type} of {room}")

    async def _room_creators(self, room: str) -> frozenset[str]:
        if room not in self._creators:
            answer = await self._client().room_get_state(room)
            if not isinstance(answer, RoomGetStateResponse):
                raise self._error(answer, f"read the state of {room}")
            create: dict[str, Any] = next(
                (e for e in answer.events if e.get("type") == "m.room.create"), {}
            )
            self._creators[room] = creators_of(create)
        return self._creators[room]

    async def _put_state(self, room: str, event_type: str, content: dict[str, Any]) -> None:
        answer = await self._client().room_put_state(room, event_type, content)
        if isinstance(answer, ErrorResponse):
            raise self._error(answer, f"set {event_type} of {room}")

    @staticmethod
    def _send_level(levels: Mapping[str, Any]) -> int:
        events = levels.get("events") or {}
        return int(events.get("m.room.message", levels.get("events_default", 0)))

    def _power_lock(self, room: str) -> AbstractAsyncContextManager[None]:
        """Held across each read-modify-write of a room's power levels (a mute, an unmute, an
        expired mute lifted by the sync loop while the deliverer mutes someone else): two
        changes at once would each write back what they read, and one would be lost."""
        return self._power_locks.hold(room)

    async def _mute(self, room: str, user: str, until: datetime | None) -> DeliveryResult:
        async with self._power_lock(room):
            return await self._mute_locked(room, user, until)

    async def _mute_locked(self, room: str, user: str, until: datetime | None) -> DeliveryResult:
        levels = await self._state_event(room, "m.room.power_levels")
        users: dict[str, int] = dict(levels.get("users") or {})
        default = int(levels.get("users_default", 0))
        creators = await self._room_creators(room)
        mine = int(users.get(self.config.user_id, default))
        if self.config.user_id in creators:
            mine = CREATOR_LEVEL
        current = CREATOR_LEVEL if user in creators else int(users.get(user, default))
        if current >= mine:
            raise PlatformError(
                MUTE_NOT_BELOW,
                where=self.source,
                permanent=True,
                user=user,
                room=room,
                level=current,
                bot=mine,
            )
        muted_level = self._send_level(levels) - 1
        key = f"{room} {user}"
        mutes: dict[str, Any] = self._state.setdefault("mutes", {})
        record = mutes.get(key) or {"prev": users.get(user)}
        if current > muted_level:
            users[user] = muted_level
            levels["users"] = users
            await self._put_state(room, "m.room.power_levels", levels)
        record["until"] = utc(until).isoformat() if until else None
        for failed in ("tries", "error", "retry_at"):  # muted anew: a failed lift is over
            record.pop(failed, None)
        async with self._lock:
            mutes[key] = record
            self.store.save_state(self._state)
        return DeliveryResult("", {"power_level": users.get(user, default)})

    async def _unmute(self, room: str, user: str) -> DeliveryResult:
        async with self._power_lock(room):
            return await self._unmute_locked(room, user)

    async def _unmute_locked(self, room: str, user: str) -> DeliveryResult:
        levels = await self._state_event(room, "m.room.power_levels")
        users: dict[str, int] = dict(levels.get("users") or {})
        key = f"{room} {user}"
        mutes: dict[str, Any] = self._state.setdefault("mutes", {})
        record = mutes.get(key)
        prev = record.get("prev") if record else None
        if int(users.get(user, levels.get("users_default", 0))) < self._send_level(levels):
            if prev is None:
                users.pop(user, None)
            else:
                users[user] = int(prev)
            levels["users"] = users
            await self._put_state(room, "m.room.power_levels", levels)
        async with self._lock:
            mutes.pop(key, None)
            self.store.save_state(self._state)
        return DeliveryResult("", {})

    async def lift_due_mutes(self) -> int:
        """Lift the mutes whose time is up (Matrix has no mute with an end of its own).

        A lift that fails in passing (a server error, no answer, a rate limit) is tried again
        after UNMUTE_RETRY seconds, then twice as long each time (the homeserver's
        ``retry_after`` after a rate limit, which counts no try), kept in the mute's record
        (``tries``, ``error``, ``retry_at``: a restart keeps them). After RETRY_TRIES tries
        (about two hours), or at once when the homeserver refuses it for good, the unmute is
        a dead letter for the operator (:meth:`_dead_unmute`). A refused login is the
        connection's failure, not the unmute's: raised, no try counted."""
        if self.client is None:
            return 0
        now = self.clock.now()
        due = [
            key
            for key, record in dict(self._state.get("mutes") or {}).items()
            if record.get("until")
            and datetime.fromisoformat(record["until"]) <= now
            and (not record.get("retry_at") or retry_due(record, now))
        ]
        lifted = 0
        for key in due:
            room, _, user = key.partition(" ")
            async with self._power_lock(room):
                # looked at again under the lock: muted anew since (the deliverer) is not
                # lifted
                record = (self._state.get("mutes") or {}).get(key) or {}
                until = record.get("until")
                if not until or datetime.fromisoformat(until) > now:
                    continue
                try:
                    await self._unmute_locked(room, user)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = network_error(self.source, f"unmute in {room}", exc)
                except AccessRefused:
                    raise
                except PlatformError as exc:
                    error = exc
                else:
                    lifted += 1
                    continue
                await self._lift_failed(key, record, error)
        return lifted

    async def _lift_failed(self, key: str, record: dict[str, Any], error: PlatformError) -> None:
        """Keep a failed lift of the mute ``key`` for its next try, or, refused for good or
        given up, make it a dead letter and forget the mute."""
        room, _, user = key.partition(" ")
        if error.permanent:
            tries = int(record.get("tries", 0)) + 1
            kept: dict[str, Any] = {}
        else:
            kept = self._next_try(record, error, "unmute", f"{user} in {room}")
            tries = int(kept["tries"])
        mutes: dict[str, Any] = self._state.setdefault("mutes", {})
        async with self._lock:
            if kept.get("retry_at"):
                mutes[key] = {**record, **kept}
            else:
                mutes.pop(key, None)
            self.store.save_state(self._state)
        if kept.get("retry_at"):
            return
        self._dead_unmute(room, user, error, tries)
        log.warning(
            "%s: the timed mute of %s in %s cannot be lifted (%s): an unmute waits in the"
            " dead letters (groupops outbox; groupops outbox retry sends it)",
            self.source,
            user,
            room,
            error,
        )

    def _dead_unmute(self, room: str, user: str, error: PlatformError, attempts: int) -> None:
        """A timed mute that cannot be lifted (the bot lost its rights, the room is gone): an
        unmute in the outbox's dead letters saying why, as the deliverer leaves an action the
        platform refused, so that the operator sees it (``groupops outbox``) and can put it
        back (``groupops outbox retry``) once the bot may again; else the member stays muted
        for ever with nothing but a log line."""
        chat = self.group_room(room)
        g, c = groups.c, connections.c
        now = self.clock.now()
        with self.store.db.begin() as conn:
            found = conn.execute(
                select(g.id, g.workspace_id).where(g.source == self.source, g.chat_id == chat)
            ).first()
            workspace = (
                found.workspace_id
                if found is not None
                else conn.execute(select(c.workspace_id).where(c.id == self.source)).scalar_one()
            )
            queue_dead_letter(
                conn,
                Action(ActionKind.UNMUTE, self.source, chat, user_id=user),
                found.id if found is not None else None,
                workspace_id=int(workspace),
                now=now,
                feature=MUTE_LIFT,
                error=error,
                attempts=attempts,
            )

    async def _pin(self, room: str, event_id: str) -> Any:
        pinned = await self._state_event(room, "m.room.pinned_events")
        ids = [str(i) for i in pinned.get("pinned") or []]
        if event_id in ids:
            return None
        return await self._client().room_put_state(
            room, "m.room.pinned_events", {"pinned": [*ids, event_id]}
        )
