"""What both directions of the Matrix adapter share: the logged-in matrix-nio client, the
homeserver's error answers as PlatformErrors (secrets scrubbed), secrets kept out of the logs,
who a room's creators are, and which rooms are private chats with the bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from aiohttp import ClientResponse
from nio import AsyncClient, ErrorResponse, Response

from groupops.domain.errors import PlatformError
from groupops.engine.clock import Clock
from groupops.engine.deadletters import (
    ACCESS_REFUSED,
    HOMESERVER_ERROR,
    NOT_CONNECTED,
    RATE_LIMITED,
    REFUSED_STATUS,
    UNEXPECTED_ANSWER,
)
from groupops.platforms.base import Capabilities
from groupops.platforms.matrix.config import ConnectionStore, MatrixConfig
from groupops.platforms.matrix.translate import Translator, prev_content
from groupops.platforms.secrets import SecretFilter

#: the adapter's logger, whichever of its modules speaks (operators' log settings know it)
log = logging.getLogger("groupops.platforms.matrix.adapter")

RETRYABLE_ERRCODES = {"M_LIMIT_EXCEEDED", "M_UNKNOWN", "M_RESOURCE_LIMIT_EXCEEDED"}

#: the first wait before a failed join of an invite is tried again (seconds); it doubles
JOIN_RETRY = 300.0
#: the first wait before a failed leave of a room that is not the bot's (an invitation refused,
#: a room named by a tombstone that is no upgrade) is tried again (seconds); it doubles
LEAVE_RETRY = 60.0
#: the first wait before lifting a timed mute that failed in passing (a server error, no
#: answer) is tried again (seconds); it doubles: RETRY_TRIES tries take about two hours
UNMUTE_RETRY = 60.0
RETRY_FIRST = {"join": JOIN_RETRY, "leave": LEAVE_RETRY, "unmute": UNMUTE_RETRY}
#: the longest wait between two tries of a failed join, leave or unmute (seconds)
RETRY_MAX = 6 * 3600.0
#: tries of a failed join, leave or unmute before it is given up (a join's or leave's record
#: stays for an operator; an unmute becomes a dead letter)
RETRY_TRIES = 8


def retry_due(record: Mapping[str, Any], now: datetime) -> bool:
    """A failed join, leave or unmute whose next try has come (one given up has none)."""
    retry_at = record.get("retry_at")
    return bool(retry_at) and datetime.fromisoformat(str(retry_at)) <= now


class AccessRefused(PlatformError):
    """The homeserver no longer takes the stored access token (401 M_UNKNOWN_TOKEN: the
    device was logged out, the password reset) or refused the password."""

    def __init__(self, where: str, answer: str) -> None:
        super().__init__(ACCESS_REFUSED, where=where, permanent=True, answer=answer)


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


def made_private_for(events: Iterable[Mapping[str, Any]], bot: str) -> tuple[str, int] | None:
    """Whom a room the bot made to write to someone privately is for (a ``createRoom`` with
    ``is_direct``: the bot is the room's creator and invited one person, marked
    ``is_direct``), with when it was made (the creation's ``origin_server_ts``), read from
    the room's events (a sync's state and timeline, or the room's state); None for any
    other room, and when ``events`` do not hold the room's creation. The person may have
    answered since: their member event then replaced the invitation
    (``unsigned.prev_content``, ``prev_sender``)."""
    made: int | None = None
    people: set[str] = set()
    for raw in events:
        kind, key = raw.get("type"), raw.get("state_key")
        if kind == "m.room.create" and key == "":
            if raw.get("sender") != bot:
                return None
            made = int(raw.get("origin_server_ts") or 0)
        elif kind == "m.room.member" and isinstance(key, str) and key != bot:
            content = raw.get("content")
            content = content if isinstance(content, Mapping) else {}
            by: Any = raw.get("sender")
            if content.get("membership") != "invite":
                unsigned = raw.get("unsigned")
                content = prev_content(raw)
                by = unsigned.get("prev_sender", bot) if isinstance(unsigned, Mapping) else bot
            invited = content.get("membership") == "invite" and content.get("is_direct") is True
            if invited and by == bot:
                people.add(key)
    if made is None or len(people) != 1:
        return None
    return people.pop(), made


#: where the access token shows: matrix-nio logs whole responses at DEBUG (the login answer holds
#: it) and puts it in the query string of every request; aiohttp under it
LOG_FAMILIES = ("nio", "aiohttp")
#: named ahead, in case one does not exist yet when the filter is installed
LOGGERS = ("nio.responses", "nio.client.async_client", "nio.rooms")


class CheckedClient(AsyncClient):  # type: ignore[misc]  # matrix-nio is not typed for mypy
    """matrix-nio's client, with every answer whose HTTP status is no success an
    ErrorResponse. matrix-nio takes a body that fits a success's shape for one whatever the
    status: a reverse proxy's 502 page while the homeserver restarts (no JSON: read as {})
    made a kick, ban, unban, invite or leave look done, and any error answer to a state
    request but a 404 was the state's content (a pin read an empty pinned list and wrote back
    only its own message; a rate limit on an upgrade's check looked like no upgrade)."""

    async def create_matrix_response(
        self,
        response_class: type,
        transport_response: ClientResponse,
        data: tuple[Any, ...] | None = None,
        save_to: Any = None,
    ) -> Response:
        answer = await super().create_matrix_response(
            response_class, transport_response, data, save_to
        )
        if isinstance(answer, ErrorResponse) or 200 <= transport_response.status < 300:
            return answer
        body = await self.parse_body(transport_response)
        error = ErrorResponse.from_dict(body if isinstance(body, dict) else {})
        error.transport_response = transport_response
        return error


class KeyedLocks:
    """One asyncio lock per key (a room, a person), kept only while someone holds or waits
    for it: as many keys as the bot ever writes to cost nothing once they are done."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._held.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._held[key]

    def __len__(self) -> int:
        return len(self._held)


def secret_filter(values: Sequence[str] = ()) -> SecretFilter:
    """The filter that keeps a Matrix connection's password and access token out of the log."""
    return SecretFilter(values, families=LOG_FAMILIES, loggers=LOGGERS)


class Homeserver:
    """The part of :class:`~groupops.platforms.matrix.adapter.MatrixAdapter` that holds the
    connection (set up in its ``__init__`` and ``connect``)."""

    config: MatrixConfig
    source: str
    store: ConnectionStore
    clock: Clock
    capabilities: Capabilities
    translator: Translator
    client: AsyncClient | None
    _state: dict[str, Any]
    _creators: dict[str, frozenset[str]]
    _filter: SecretFilter
    _lock: asyncio.Lock
    _power_locks: KeyedLocks
    _dm_locks: KeyedLocks
    #: set when the next sync is done (and then replaced): a look for a private room made
    #: before a restart waits for it (every room the bot is in is known then)
    _next_sync: asyncio.Event

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
            return PlatformError(UNEXPECTED_ANSWER, where=where, answer=type(answer).__name__)
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
            return PlatformError(RATE_LIMITED, where=where, retry_after=retry, reason=message)
        if status >= 500 or (status == 0 and code in RETRYABLE_ERRCODES):
            return PlatformError(HOMESERVER_ERROR, where=where, status=status, reason=message)
        return PlatformError(
            REFUSED_STATUS, where=where, permanent=True, status=status, reason=message
        )

    def _next_try(
        self, before: Mapping[str, Any] | None, error: PlatformError, what: str, subject: str
    ) -> dict[str, Any]:
        """A failed join or leave of a room, or unmute of someone in a room (``subject``), as
        kept for the next try: the error, the tries so far (a rate limit is no failed try of
        its own) and, unless given up after RETRY_TRIES, when to try again (the homeserver's
        ``retry_after``, else RETRY_FIRST[what] doubling up to RETRY_MAX). Logged."""
        tries = int((before or {}).get("tries", 0))
        counted = error.retry_after is None
        tries += counted
        record: dict[str, Any] = {"error": str(error)[:300], "tries": tries}
        if tries >= RETRY_TRIES:
            log.warning(
                "%s: cannot %s %s; given up after %d tries: %s",
                self.source,
                what,
                subject,
                tries,
                error,
            )
            return record
        wait = error.retry_after or min(RETRY_MAX, RETRY_FIRST[what] * 2 ** (tries - 1))
        record["retry_at"] = (self.clock.now() + timedelta(seconds=wait)).isoformat()
        log.warning(
            "%s: cannot %s %s%s: %s; next try in %.0fs",
            self.source,
            what,
            subject,
            f" (try {tries})" if counted else "",
            error,
            wait,
        )
        return record

    # -- rooms upgraded to a new room ----------------------------------------------------
    # A room upgrade (``m.room.tombstone``) moves the room to a new room id. groupops keeps the
    # first room's id as the group's identity (its settings, members, points stay with it):
    # events of the new room are translated to it, and its actions go to the new room.
    # ``state["upgraded_rooms"]``: old room -> {"replacement": new room, "at": when}.

    def _upgrades(self) -> dict[str, dict[str, Any]]:
        upgrades: dict[str, dict[str, Any]] = self._state.setdefault("upgraded_rooms", {})
        return upgrades

    def group_room(self, room_id: str) -> str:
        """groupops' chat id for the Matrix room ``room_id`` (its first room, before any
        upgrade)."""
        before = {str(r["replacement"]): old for old, r in self._upgrades().items()}
        seen = {room_id}
        while room_id in before and before[room_id] not in seen:
            room_id = before[room_id]
            seen.add(room_id)
        return room_id

    def room_chain(self, chat_id: str) -> list[str]:
        """The rooms of the group ``chat_id``, first to current (one room unless upgraded)."""
        upgrades = self._upgrades()
        chain = [chat_id]
        while chat_id in upgrades and str(upgrades[chat_id]["replacement"]) not in chain:
            chat_id = str(upgrades[chat_id]["replacement"])
            chain.append(chat_id)
        return chain

    def platform_room(self, chat_id: str) -> str:
        """The room the group ``chat_id`` lives in now."""
        return self.room_chain(chat_id)[-1]

    def retired(self, room_id: str) -> bool:
        """The room was upgraded: the group has moved on to its replacement."""
        return room_id in self._upgrades()

    def note_upgrade(self, old: str, new: str) -> bool:
        """The room ``old`` was upgraded to ``new``; True if that is news (the caller saves
        the state). Mutes kept for the old room move to the new one (the upgrade copies the
        power levels, so the member is muted there)."""
        upgrades = self._upgrades()
        if old == new or old in upgrades or new in self.room_chain(self.group_room(old)):
            return False
        upgrades[old] = {"replacement": new, "at": self.clock.now().isoformat()}
        mutes: dict[str, Any] = self._state.get("mutes") or {}
        for key in [k for k in mutes if k.partition(" ")[0] == old]:
            mutes[f"{new} {key.partition(' ')[2]}"] = mutes.pop(key)
        log.warning(
            "%s: room %s was upgraded to %s; groupops follows it and keeps it as group %s",
            self.source,
            old,
            new,
            self.group_room(old),
        )
        return True

    def _client(self) -> AsyncClient:
        if self.client is None:
            raise PlatformError(NOT_CONNECTED, where=self.source)
        return self.client

    def direct_rooms(self) -> set[str]:
        """The private rooms between the bot and one person: the ones it made to write to
        someone privately, and the ones people opened with it (``is_direct`` invitations)."""
        return set(self._state.get("dm_rooms", {}).values()) | set(
            self._state.get("direct_rooms", [])
        )

    def _making(self) -> dict[str, str]:
        """``state["dm_making"]``: the people a private room was asked for (createRoom) whose
        answer is not recorded yet (person -> when asked). Noted and stored before asking:
        the homeserver may make the room without the answer coming back (a time-out, a
        proxy's 504, the bot stopped meanwhile), and a retry, after a restart too, looks for
        that room before making another."""
        making: dict[str, str] = self._state.setdefault("dm_making", {})
        return making

    def _adopt_made(self, user_id: str, made: Iterable[tuple[int, str]]) -> list[str]:
        """Rooms the bot made to write to ``user_id`` privately ((made at, room), see
        :func:`made_private_for`) that it did not know: the answer to making one was lost
        (a time-out, a proxy's 504, a restart) after the homeserver had made it. When
        ``user_id`` has no private room yet, the newest becomes theirs (``dm_rooms``); the
        one they have stays (what was sent to them went there). Either way the making asked
        for them is over (``dm_making``). The others, the extra rooms, are returned for the
        bot to leave. Called holding ``user_id``'s private-room lock."""
        rooms: dict[str, str] = self._state.setdefault("dm_rooms", {})
        newest_first = [room for _, room in sorted(made, reverse=True)]
        if newest_first:
            self._making().pop(user_id, None)
        if newest_first and user_id not in rooms:
            rooms[user_id] = newest_first.pop(0)
            log.warning(
                "%s: %s is a private room the bot made for %s, the answer to which was lost:"
                " it is their private room",
                self.source,
                rooms[user_id],
                user_id,
            )
        return newest_first

    def _note_direct(self, room_id: str, raws: Any) -> None:
        """A room the bot was invited to as a private chat: ``is_direct`` on the bot's own
        invitation (the spec's place for it). Anyone's member event can carry the key (a member
        changing their name in a group sends one of their own): only the bot's counts, else
        any member could make the bot stop reading a group."""
        for e in raws:
            raw = getattr(e, "source", e)
            if not isinstance(raw, dict) or raw.get("state_key") != self.config.user_id:
                continue
            # matrix-nio takes ``content`` out of an invited room's stripped events (their
            # ``source``) and keeps it as the event's attribute
            content = getattr(e, "content", None) or raw.get("content") or {}
            if not isinstance(content, dict):
                continue
            if raw.get("type") == "m.room.member" and content.get("is_direct") is True:
                self._mark_direct(room_id)
                return

    def _mark_direct(self, room_id: str) -> None:
        """``room_id`` is a private chat someone opened with the bot, known by its own
        invitation's ``is_direct`` (seen now, or kept in the record of a declined one):
        noted as checked, so that :meth:`_recheck_direct` does not ask again."""
        for key in ("direct_rooms", "direct_checked"):
            known: list[str] = self._state.setdefault(key, [])
            if room_id not in known:
                known.append(room_id)
