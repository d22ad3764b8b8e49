"""The Matrix adapter: a sync loop in, actions out, through matrix-nio (no end-to-end
encryption: the bot works in unencrypted rooms).

In: each ``/sync`` is translated (:mod:`.translate`) and handed to the engine in one batch; only
after that batch is committed is the sync position (``next_batch``) stored in
``connections.state``, so a restart replays nothing (and the engine's idempotent store makes a
replay harmless anyway: event_id = Matrix event id) and loses nothing (a timeline the homeserver
cut short is filled from ``/messages`` back to the stored position).

Out: :meth:`MatrixAdapter.perform` does one action. Sends and redactions carry a transaction id
derived from the outbox's idempotency key, so a retry after a time-out is not sent twice.
Matrix has no buttons, no invite links and no "restrict until": a mute lowers the member's power
level below what sending a message needs, and a mute with an end is lifted by this adapter's
loop when the time comes (kept in ``connections.state["mutes"]``, so a restart keeps it).
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    LoginResponse,
    MessageDirection,
    RoomCreateResponse,
    RoomGetEventResponse,
    RoomGetStateEventResponse,
    RoomGetStateResponse,
    RoomMessagesResponse,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)
from nio.rooms import MatrixRoom

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import NotFound, PlatformError
from groupops.domain.events import Event
from groupops.domain.time import utc
from groupops.engine.clock import Clock, RealClock
from groupops.platforms.base import Capabilities, DeliveryResult
from groupops.platforms.matrix.config import (
    ConnectionStore,
    MatrixConfig,
    network_reason,
    quiet_nio_validation,
)
from groupops.platforms.matrix.translate import Translator
from groupops.platforms.supervise import (
    Backoff,
    Health,
    changed_settings,
    stored_differs,
    watch,
)

log = logging.getLogger(__name__)

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

#: what one sync asks for: a long timeline (fewer gaps to fill), no presence
SYNC_FILTER: dict[str, Any] = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {
        "timeline": {"limit": 100},
        "account_data": {"types": []},
        "ephemeral": {"types": []},
    },
}
MAX_GAP_PAGES = 50  # x100 events: how far back a cut timeline is filled
RETRYABLE_ERRCODES = {"M_LIMIT_EXCEEDED", "M_UNKNOWN", "M_RESOURCE_LIMIT_EXCEEDED"}

Handler = Callable[[Sequence[Event]], object]

ACCESS_REFUSED = (
    "the homeserver refused the bot's login ({answer}): logged out, or its password changed?"
    " Run `groupops connect matrix --homeserver … --user … ` again; the running serve picks"
    " it up"
)
DISABLED = "the connection is disabled (groupops connections enable turns it on again)"


class AccessRefused(PlatformError):
    """The homeserver no longer takes the stored access token (401 M_UNKNOWN_TOKEN: the
    device was logged out, the password reset) or refused the password."""

    def __init__(self, where: str, answer: str) -> None:
        super().__init__(ACCESS_REFUSED.format(answer=answer), where=where, permanent=True)


#: room versions in which the creators are not in the power levels but above them all
_LEGACY_ROOM_VERSIONS = frozenset(str(v) for v in range(1, 12))
CREATOR_LEVEL = 2**53


def creators_of(create: Mapping[str, Any]) -> frozenset[str]:
    """The users a room's ``m.room.create`` event makes all-powerful (room version 12 on)."""
    content = create.get("content") or {}
    version = str(content.get("room_version", "1"))
    if version in _LEGACY_ROOM_VERSIONS:
        return frozenset()
    extra = content.get("additional_creators") or []
    return frozenset([str(create.get("sender", "")), *(str(u) for u in extra)])


class _Room:
    """What translation needs of a room, read from matrix-nio's room state."""

    def __init__(self, room: MatrixRoom | None, creators: frozenset[str] = frozenset()) -> None:
        self.room = room
        self.creators = creators

    def title(self) -> str:
        if self.room is None:
            return ""
        return str(self.room.name or self.room.canonical_alias or "")

    def display_name(self, user_id: str) -> str:
        if self.room is None:
            return ""
        user = self.room.users.get(user_id)
        return str(user.display_name) if user is not None and user.display_name else ""

    def power_level(self, user_id: str) -> int:
        if user_id in self.creators:
            return CREATOR_LEVEL
        if self.room is None:
            return 0
        return int(self.room.power_levels.get_user_level(user_id))


#: a secret not known yet (the access token in the login answer nio logs) is masked by its name
_SECRET_FIELD = re.compile(
    r"""(['"](?:access_token|password|refresh_token)['"]\s*:\s*['"])[^'"]+"""
)


class SecretFilter(logging.Filter):
    """Masks a connection's secrets in log records. matrix-nio logs whole responses at DEBUG
    (the login answer holds the access token): this filter sits on every ``nio`` logger."""

    def __init__(self, secrets_: Sequence[str]) -> None:
        super().__init__("groupops.matrix.secrets")
        self.secrets = [s for s in secrets_ if s]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        masked = _SECRET_FIELD.sub(r"\1***", text)
        for secret in self.secrets:
            masked = masked.replace(secret, "***")
        if masked != text:
            record.msg, record.args = masked, ()
        return True

    def install(self) -> None:
        for name in _nio_loggers():
            logging.getLogger(name).addFilter(self)

    def remove(self) -> None:
        for name in _nio_loggers():
            logging.getLogger(name).removeFilter(self)


def _nio_loggers() -> list[str]:
    names = [n for n in logging.root.manager.loggerDict if n == "nio" or n.startswith("nio.")]
    return sorted({*names, "nio", "nio.responses", "nio.client.async_client", "nio.rooms"})


def _txn(prefix: str, idempotency_key: str, part: str = "") -> str:
    digest = hashlib.sha256(f"{idempotency_key}\n{part}".encode()).hexdigest()[:32]
    return f"go{prefix}{digest}"


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "<br/>")


class MatrixAdapter:
    """One Matrix account (a bot user) on one homeserver."""

    def __init__(
        self,
        config: MatrixConfig,
        *,
        store: ConnectionStore,
        handle: Handler | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.source = config.source
        self.store = store
        self.handle = handle
        self.clock = clock or RealClock()
        self.capabilities = Capabilities(
            platform="matrix",
            actions=MATRIX_ACTIONS,
            limits=config.limits,
            delete_max_age=None,
            join_attribution=True,  # the inviter of an invited member
            buttons=False,
        )
        self.translator = Translator(self.source, config.user_id)
        self.client: AsyncClient | None = None
        self._state: dict[str, Any] = {}
        self._full_state_done = False
        self._creators: dict[str, frozenset[str]] = {}
        self._filter = SecretFilter(())
        self._lock = asyncio.Lock()  # one state write at a time (sync loop vs perform)
        self.health = Health(self.source, store, lambda: self._state, self.clock.now)

    # -- lifecycle -------------------------------------------------------------------------
    async def connect(self) -> None:
        """Log in (or restore the stored login) and load the sync position."""
        if self.client is not None:
            return
        stored_config, self._state = self.store.load()
        if stored_config.access_token and not self.config.access_token:
            self.config = stored_config
        self._filter.secrets = list(self.config.secrets())
        self._filter.install()
        quiet_nio_validation()
        if not self._state.get("txn_prefix"):
            self._state["txn_prefix"] = secrets.token_hex(4)
        client = AsyncClient(
            self.config.homeserver,
            self.config.user_id,
            config=AsyncClientConfig(
                max_limit_exceeded=0,  # a 429 comes back to us: the deliverer waits
                max_timeouts=0,
                request_timeout=self.config.request_timeout,
                store_sync_tokens=False,
            ),
        )
        if self.config.access_token:
            client.restore_login(
                self.config.user_id, self.config.device_id or "", self.config.access_token
            )
        else:
            try:
                answer = await client.login(self.config.password, device_name="groupops")
            except (aiohttp.ClientError, TimeoutError) as exc:
                await client.close()
                self._filter.remove()
                raise PlatformError(
                    f"login failed: {network_reason(exc)}", where=self.source
                ) from None
            if not isinstance(answer, LoginResponse):
                await client.close()
                self._filter.remove()
                raise self._error(answer, "login")
            self.config = self.config.with_login(answer.access_token, answer.device_id)
            self._filter.secrets = list(self.config.secrets())
            self.store.save_config(self.config)
        self.client = client
        self.store.save_state(self._state)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None
        self._filter.remove()

    def _scrub(self, text: str) -> str:
        for secret in self.config.secrets():
            text = text.replace(secret, "***")
        return text

    def _error(
        self, answer: Any, what: str, *, permanent_codes: frozenset[str] = frozenset()
    ) -> PlatformError:
        """A PlatformError from a matrix-nio error response, as the homeserver said."""
        where = f"{self.source} {what}"
        if not isinstance(answer, ErrorResponse):
            return PlatformError(f"unexpected answer {type(answer).__name__}", where=where)
        status = getattr(getattr(answer, "transport_response", None), "status", 0) or 0
        code = answer.status_code or ""
        message = self._scrub(f"{code} {answer.message}".strip())
        if (
            status == 401
            or code == "M_UNKNOWN_TOKEN"
            or (what == "login" and code == "M_FORBIDDEN")
        ):
            return AccessRefused(where, message)
        if code == "M_LIMIT_EXCEEDED" or status == 429:
            retry = (answer.retry_after_ms or 1000) / 1000.0
            return PlatformError(f"rate limited: {message}", where=where, retry_after=retry)
        if status >= 500 or (status == 0 and code in RETRYABLE_ERRCODES):
            return PlatformError(f"homeserver error {status}: {message}", where=where)
        return PlatformError(f"refused ({status}): {message}", where=where, permanent=True)

    def _client(self) -> AsyncClient:
        if self.client is None:
            raise PlatformError("not connected", where=self.source)
        return self.client

    # -- in: the sync loop -----------------------------------------------------------------
    @property
    def position(self) -> str | None:
        value = self._state.get("next_batch")
        return str(value) if value else None

    async def sync_once(self, timeout_ms: int = 0) -> list[Event]:
        """One ``/sync``: translate, hand the events to the engine, then store the position.

        The very first sync of a connection only takes the position (the rooms' history is not
        news); every later one delivers everything since the stored position.
        """
        client = self._client()
        since = self.position
        full_state = since is not None and not self._full_state_done
        try:
            answer = await client.sync(
                timeout=timeout_ms,
                sync_filter=SYNC_FILTER,
                since=since,
                full_state=full_state or None,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PlatformError(f"sync failed: {network_reason(exc)}", where=self.source) from None
        if not isinstance(answer, SyncResponse):
            raise self._error(answer, "sync")
        for room_id, joined_room in answer.rooms.join.items():
            for e in [*joined_room.state, *joined_room.timeline.events]:
                if e.source.get("type") == "m.room.create":
                    self._creators[room_id] = creators_of(e.source)
        for room_id, joined_room in answer.rooms.join.items():
            self._note_direct(room_id, [*joined_room.state, *joined_room.timeline.events])
        events: list[Event] = []
        if since is not None:
            direct = self.direct_rooms()
            for room_id, info in answer.rooms.join.items():
                if room_id not in direct:  # a private chat with the bot is not a group
                    events += await self._room_events(room_id, info.timeline, since)
            for room_id, left in answer.rooms.leave.items():
                if room_id not in direct:
                    events += await self._room_events(room_id, left.timeline, since)
        if events and self.handle is not None:
            self.handle(events)  # commits: only then does the position move
        if self.config.auto_join:
            for room_id, invited in answer.rooms.invite.items():
                self._note_direct(room_id, getattr(invited, "invite_state", []))
                joined = await client.join(room_id)
                if isinstance(joined, ErrorResponse):
                    raise self._error(joined, f"join {room_id}")
        self._full_state_done = True
        async with self._lock:
            self._state["next_batch"] = answer.next_batch
            self.store.save_state(self._state)
        return events

    async def _room_events(self, room_id: str, timeline: Any, since: str) -> list[Event]:
        raws: list[dict[str, Any]] = [e.source for e in timeline.events]
        own_join = next(
            (
                i
                for i, r in enumerate(raws)
                if r.get("type") == "m.room.member"
                and r.get("state_key") == self.config.user_id
                and (r.get("content") or {}).get("membership") == "join"
                and ((r.get("unsigned") or {}).get("prev_content") or {}).get("membership")
                != "join"
            ),
            None,
        )
        if own_join is not None:
            raws = raws[own_join + 1 :]  # the room's history before the bot came is not news
        elif timeline.limited and timeline.prev_batch:
            raws = await self._fill_gap(room_id, timeline.prev_batch, since) + raws
        view = _Room(self._client().rooms.get(room_id), self._creators.get(room_id, frozenset()))
        out: list[Event] = []
        for raw in raws:
            await self._find_inviter(room_id, raw)
            event = self.translator.translate(room_id, raw, view)
            if event is not None:
                out.append(event)
        return out

    async def _fill_gap(self, room_id: str, start: str, since: str) -> list[dict[str, Any]]:
        """The events between the stored position and a timeline the homeserver cut short."""
        client = self._client()
        older: list[dict[str, Any]] = []
        token: str | None = start
        for _ in range(MAX_GAP_PAGES):
            page = await client.room_messages(
                room_id, start=token, end=since, direction=MessageDirection.back, limit=100
            )
            if not isinstance(page, RoomMessagesResponse):
                raise self._error(page, f"messages of {room_id}")
            older += [e.source for e in page.chunk]
            if not page.chunk or not page.end or page.end == token:
                break
            token = page.end
        else:
            log.warning("%s: gap in %s longer than %d pages", self.source, room_id, MAX_GAP_PAGES)
        older.reverse()
        return older

    async def _find_inviter(self, room_id: str, raw: Mapping[str, Any]) -> None:
        """A join after an invite: who invited them (the replaced invite event's sender)."""
        if raw.get("type") != "m.room.member":
            return
        content = raw.get("content") or {}
        unsigned = raw.get("unsigned") or {}
        prev = unsigned.get("prev_content") or {}
        target = raw.get("state_key")
        if content.get("membership") != "join" or prev.get("membership") != "invite":
            return
        if not isinstance(target, str) or (room_id, target) in self.translator.inviters:
            return
        replaced = unsigned.get("replaces_state")
        if not isinstance(replaced, str):
            return
        answer = await self._client().room_get_event(room_id, replaced)
        if isinstance(answer, RoomGetEventResponse):
            self.translator.inviters[(room_id, target)] = answer.event.sender

    async def run(self, stop: asyncio.Event, *, timeout_ms: int | None = None) -> None:
        """Sync until ``stop`` is set. Every failure is logged as one line and tried again
        after a growing pause (1 s to a minute; five minutes for a refused login). A change of
        the stored connection (``groupops connect matrix`` again, ``groupops connections
        disable``) is taken up while running."""
        backoff = Backoff(self.health, self._settings_changed)
        while not stop.is_set():
            try:
                await self.reload()
            except NotFound:
                log.warning("%s: the connection was removed; stopped", self.source)
                return
            if not self.config.enabled:
                await watch(stop, None, self._settings_changed)
                continue
            try:
                if self.client is None:
                    await self.connect()
                await self.lift_due_mutes()
                sync = asyncio.ensure_future(
                    self.sync_once(
                        self.config.sync_timeout_ms if timeout_ms is None else timeout_ms
                    )
                )
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({sync, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if not sync.done():
                    sync.cancel()  # a cancelled sync stored nothing: the next run redoes it
                    await asyncio.gather(sync, return_exceptions=True)
                    stopper.cancel()
                    break
                stopper.cancel()
                sync.result()
                backoff.ok()
                continue
            except PlatformError as exc:
                error: PlatformError = exc
            except Exception as exc:  # the engine or the database: retry the same sync
                error = PlatformError(
                    f"sync not handled: {self._scrub(str(exc))}", where=self.source
                )
            refused = isinstance(error, AccessRefused)
            if refused:
                await self.close()  # the next try restores the (maybe new) stored login
            await backoff.failed(stop, error, refused=refused)

    def _settings_changed(self) -> bool:
        return stored_differs(self.store, self.config)

    async def reload(self) -> bool:
        """Take up the stored settings if they changed (a new login from ``groupops connect
        matrix``, disabled or enabled): True if they did. Raises NotFound if the connection is
        gone."""
        config = changed_settings(self.store, self.config, self.source)
        if config is None:
            return False
        await self.close()
        self.config = config
        self.capabilities = replace(self.capabilities, limits=config.limits)
        return True

    # -- out: actions ----------------------------------------------------------------------
    async def perform(self, action: Action, *, idempotency_key: str) -> DeliveryResult:
        if not self.capabilities.can(action.kind):
            raise PlatformError(f"matrix cannot {action.kind}", where=self.source, permanent=True)
        if not self.config.enabled:
            raise PlatformError(DISABLED, where=self.source, permanent=True)
        try:
            return await self._perform(action, idempotency_key)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PlatformError(
                f"{action.kind} in {action.chat_id}: {network_reason(exc)}",
                where=self.source,
            ) from None

    async def _perform(self, action: Action, key: str) -> DeliveryResult:
        client = self._client()
        room = action.chat_id
        kind = action.kind
        what = f"{kind} in {room}"
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
            raise PlatformError(f"matrix cannot {kind}", where=self.source, permanent=True)
        if isinstance(answer, ErrorResponse):
            raise self._error(answer, what)
        return DeliveryResult("", {})

    def direct_rooms(self) -> set[str]:
        """The private rooms between the bot and one person: the ones it made to write to
        someone privately, and the ones people opened with it (``is_direct`` invitations)."""
        return set(self._state.get("dm_rooms", {}).values()) | set(
            self._state.get("direct_rooms", [])
        )

    def _note_direct(self, room_id: str, raws: Any) -> None:
        for e in raws:
            raw = getattr(e, "source", e)
            content = raw.get("content") or {}
            if raw.get("type") == "m.room.member" and content.get("is_direct") is True:
                known: list[str] = self._state.setdefault("direct_rooms", [])
                if room_id not in known:
                    known.append(room_id)
                return

    async def _dm_room(self, user_id: str) -> str:
        rooms: dict[str, str] = self._state.setdefault("dm_rooms", {})
        if user_id in rooms:
            return rooms[user_id]
        made = await self._client().room_create(
            is_direct=True, invite=[user_id], preset=RoomPreset.trusted_private_chat
        )
        if not isinstance(made, RoomCreateResponse):
            raise self._error(made, f"direct room with {user_id}")
        async with self._lock:
            rooms[user_id] = made.room_id
            self.store.save_state(self._state)
        return str(made.room_id)

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

    async def _mute(self, room: str, user: str, until: datetime | None) -> DeliveryResult:
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
                f"cannot mute {user} in {room}: their power level {current} is not below"
                f" the bot's {mine}",
                where=self.source,
                permanent=True,
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
        async with self._lock:
            mutes[key] = record
            self.store.save_state(self._state)
        return DeliveryResult("", {"power_level": users.get(user, default)})

    async def _unmute(self, room: str, user: str) -> DeliveryResult:
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
        """Lift the mutes whose time is up (Matrix has no mute with an end of its own)."""
        if self.client is None:
            return 0
        now = self.clock.now()
        due = [
            key
            for key, record in dict(self._state.get("mutes") or {}).items()
            if record.get("until") and datetime.fromisoformat(record["until"]) <= now
        ]
        lifted = 0
        for key in due:
            room, _, user = key.partition(" ")
            try:
                await self._unmute(room, user)
                lifted += 1
            except PlatformError as exc:
                if exc.permanent:  # the room or the member is gone: nothing left to lift
                    async with self._lock:
                        self._state.get("mutes", {}).pop(key, None)
                        self.store.save_state(self._state)
                log.warning("%s: lifting the mute of %s failed: %s", self.source, user, exc)
        return lifted

    async def _pin(self, room: str, event_id: str) -> Any:
        pinned = await self._state_event(room, "m.room.pinned_events")
        ids = [str(i) for i in pinned.get("pinned") or []]
        if event_id in ids:
            return None
        return await self._client().room_put_state(
            room, "m.room.pinned_events", {"pinned": [*ids, event_id]}
        )
