"""The Matrix adapter's way in: each ``/sync`` is translated and handed to the engine in one
batch, and only then is the sync position stored; a timeline the homeserver cut short is filled
from ``/messages`` back to the stored position, and a join after an invite learns its inviter.

An event the engine refuses is set aside in ``rejected_events`` (``supervise.hand_over``) and an
invite the bot cannot join is kept in ``connections.state["join_failed"]`` and tried again
later: neither stops the sync position from moving on."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

import aiohttp
from nio import (
    ErrorResponse,
    MessageDirection,
    RoomGetEventResponse,
    RoomGetStateEventResponse,
    RoomGetStateResponse,
    RoomMessagesResponse,
    SyncResponse,
)
from nio.rooms import MatrixRoom

from groupops.domain.errors import PlatformError
from groupops.domain.events import Event, EventKind
from groupops.engine.deadletters import SYNC_FAILED
from groupops.platforms.matrix.config import may_invite, network_error, network_reason
from groupops.platforms.matrix.homeserver import (
    CREATOR_LEVEL,
    RETRY_TRIES,
    AccessRefused,
    creators_of,
    log,
    retry_due,
)
from groupops.platforms.matrix.leaving import (
    LEAVE_WORDS,
    MAX_REFUSED,
    NO_UPGRADE,
    ONE_PRIVATE_CHAT_EACH,
    REFUSED,
    TOO_MANY_GROUPS,
    TOO_MANY_PRIVATE_CHATS,
)
from groupops.platforms.matrix.private_chats import PrivateChats
from groupops.platforms.matrix.translate import prev_content
from groupops.platforms.supervise import Handler, Rejecter, hand_over

#: the rules and words of the invitations the bot refuses or declines are :mod:`.leaving`'s
#: and :mod:`.private_chats`'; named here too, where they were first
__all__ = [
    "GAP_TRIES",
    "LEAVE_WORDS",
    "MAX_GAP_PAGES",
    "MAX_REFUSED",
    "ONE_PRIVATE_CHAT_EACH",
    "REFUSED",
    "REPLY_FETCHES",
    "SYNC_FILTER",
    "TOO_MANY_GROUPS",
    "TOO_MANY_PRIVATE_CHATS",
    "Sync",
]

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
#: syncs in a row that may fail on filling one room's cut timeline before that gap is given
#: up (its events are not read; the room, and every other room, go on)
GAP_TRIES = 8

#: replied-to events the homeserver could not give (not visible to the bot, gone): not asked
#: again, at most this many remembered
UNFETCHABLE_MAX = 1000
#: replied-to events whose author is fetched from the homeserver, at most, per room and batch
REPLY_FETCHES = 20


def _definite(answer: Any) -> bool:
    """An answer saying the event is not to be had (not found, not visible to the bot), as
    opposed to a passing failure (a rate limit, a server error) worth asking again later."""
    status = str(getattr(answer, "status_code", "") or "")
    return status in ("M_NOT_FOUND", "M_FORBIDDEN")


def _invitation(invite_state: Any, bot: str) -> tuple[str, str]:
    """Who invited ``bot`` into a room, and the room's title, from the invitation's stripped
    state (matrix-nio's events, or raw ones)."""
    inviter, title = "", ""
    for e in invite_state or ():
        raw = getattr(e, "source", e)
        etype = raw.get("type") if isinstance(raw, Mapping) else None
        if etype == "m.room.name":
            title = str(getattr(e, "name", "") or "")
        elif etype == "m.room.canonical_alias" and not title:
            title = str(getattr(e, "canonical_alias", "") or "")
        elif etype == "m.room.member" and raw.get("state_key") == bot:
            content = getattr(e, "content", None) or raw.get("content") or {}
            if content.get("membership") == "invite":
                inviter = str(getattr(e, "sender", "") or raw.get("sender") or "")
    return inviter, title


#: what happens in a room after it was upgraded that is not news for its group: the members
#: and the bot are the replacement room's now (a member leaving the old room to go on in the
#: new one has not left the group; the bot's rights there no longer matter; the group is
#: named by the new room)
RETIRED_ROOM_DROPS = frozenset(
    {
        EventKind.MEMBER_JOINED,
        EventKind.MEMBER_LEFT,
        EventKind.JOIN_REQUEST,
        EventKind.BOT_RIGHTS_CHANGED,
        EventKind.GROUP_UPDATED,
    }
)


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

    def is_creator(self, user_id: str) -> bool:
        return user_id in self.creators

    def power_level(self, user_id: str) -> int:
        if user_id in self.creators:
            return CREATOR_LEVEL
        if self.room is None:
            return 0
        return int(self.room.power_levels.get_user_level(user_id))


class Sync(PrivateChats):
    """Events in (part of :class:`~groupops.platforms.matrix.adapter.MatrixAdapter`)."""

    handle: Handler | None
    reject: Rejecter | None
    _full_state_done: bool
    _unfetchable: OrderedDict[str, None]
    #: syncs in a row that failed on filling a room's cut timeline
    _gap_failures: dict[str, int]
    #: who was in an upgraded group's earlier room the bot is no longer in (this run)
    _earlier_members: dict[str, frozenset[str]]
    #: the rooms matrix-nio holds that a sync said the bot is out of (it keeps them)
    _gone: set[str]

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
            raise PlatformError(
                SYNC_FAILED, where=self.source, reason=network_reason(exc)
            ) from None
        if not isinstance(answer, SyncResponse):
            raise self._error(answer, "sync")
        for room_id, joined_room in answer.rooms.join.items():
            for e in [*joined_room.state, *joined_room.timeline.events]:
                if e.source.get("type") == "m.room.create":
                    self._creators[room_id] = creators_of(e.source)
        self._gone = (self._gone - set(answer.rooms.join)) | set(answer.rooms.leave)
        self._in_rooms(answer.rooms.join)  # a room the bot is in is no refused one
        for room_id, joined_room in answer.rooms.join.items():
            self._note_direct(room_id, [*joined_room.state, *joined_room.timeline.events])
        await self._recheck_direct(answer.rooms.join)
        await self._adopt_lost(answer.rooms.join)
        if since is None or full_state:  # every room the bot is in, invited to or joining
            self._prune_private_chats({*answer.rooms.join, *answer.rooms.invite})
        events: list[Event] = []
        if since is not None:
            # a private chat with the bot is not a group, nor is a room it refused or leaves
            # (its own leave there is no news), nor the room a tombstone names before the
            # check that it is an upgrade
            skip = self._not_groups()
            # an upgraded room before its replacement: a member who left the old room to go
            # on in the new one is known as such when their join there is read
            joined = sorted(answer.rooms.join.items(), key=lambda item: not self.retired(item[0]))
            for room_id, info in joined:
                if room_id not in skip:
                    events += await self._room_events(room_id, info.timeline, since)
            for room_id, left in answer.rooms.leave.items():
                if room_id not in skip:
                    events += await self._room_events(room_id, left.timeline, since)
        if events and self.handle is not None:
            # commits (an event the engine refuses is set aside): only then does the position
            # move
            hand_over(self.source, self.handle, self.reject, events)
        for room_id in answer.rooms.leave:  # an invite withdrawn (or the room left): no retry
            self._state.get("join_failed", {}).pop(room_id, None)
            self._left(room_id)  # out of a room it was leaving, whoever did it
            self._forget_direct(room_id)  # a private chat the bot is out of holds no place
        await self._leave_abandoned(answer.rooms.join)
        await self._retry_leaves()
        invited: list[str] = []
        if self.config.auto_join:
            for room_id, invite in answer.rooms.invite.items():
                # one at a time: the private chats admitted before count for the next one
                self._note_direct(room_id, getattr(invite, "invite_state", []))
                if await self._admit(room_id, getattr(invite, "invite_state", []), invited):
                    invited.append(room_id)
        # an upgraded room's replacement is joined once, whatever auto-join says: the group
        # goes on there (a failed join is tried again like an invitation's; a bot removed from
        # the new room later does not come back by itself). A tombstone only claims an upgrade:
        # the replacement is followed once its creation names the old room (_check_upgrades)
        claims = self._claims()
        follow = [r for r in self._upgrades().values() if not r.get("followed")]
        joining = [str(c["replacement"]) for c in claims.values() if not c.get("joining")]
        await self._join([*invited, *(str(r["replacement"]) for r in follow), *joining])
        for record in follow:
            record["followed"] = True  # joined, or in join_failed's hands
        for claim in claims.values():
            claim["joining"] = True
        await self._check_upgrades()
        self._full_state_done = True
        async with self._lock:
            self._state["next_batch"] = answer.next_batch
            self.store.save_state(self._state)
        done, self._next_sync = self._next_sync, asyncio.Event()
        done.set()  # a look for a private room waiting for a sync goes on
        return events

    async def _admit(self, room_id: str, invite_state: Any, joining: Collection[str]) -> bool:
        """Whether to join a room the bot is invited to (``joining``: the ones accepted
        before in this sync): anyone may invite it when ``invited_by`` is empty; else the
        inviter must be on the list. A private chat (an ``is_direct`` invitation: never a
        group) has rules of its own (:meth:`_admit_private_chat`). A refused invitation is
        rejected (leave the invited room, which the homeserver takes as "no") and kept in
        ``state["refused"]`` for the operator; an invitation from someone on the list takes
        the room off it. Past ``max_groups``, whoever invites, the invitation is declined
        with a word to the inviter (a room to sync and hold each, however many anyone makes),
        logged, and kept in ``state["refused"]`` too (``why``: too many groups), so that the
        operator sees which groups were turned away; accepted later, or joined another way
        (:meth:`_in_rooms`), it is off the list."""
        self._refused()
        inviter, title = _invitation(invite_state, self.config.user_id)
        if room_id in self.direct_rooms():  # noted from the invitation just before
            return await self._admit_private_chat(room_id, inviter, title)
        if not may_invite(self.config.invited_by, inviter):
            await self._refuse(room_id, inviter, title)
            return False
        held = self._groups(joining) - {self.group_room(room_id)}
        if len(held) >= self.config.max_groups:
            log.warning(
                "%s: invited to %s (%s) by %s: declined, the bot is in %d groups, its most"
                " (max_groups %d)",
                self.source,
                room_id,
                title,
                inviter or "someone unknown",
                len(held),
                self.config.max_groups,
            )
            self._note_refused(room_id, inviter, title, why=TOO_MANY_GROUPS)
            await self._decline(room_id, TOO_MANY_GROUPS)
            return False
        self._accepted(room_id)
        return True

    def _not_groups(self) -> set[str]:
        """The rooms that are no group's: a private room, a room refused or being left, a
        room a tombstone named before the check that it is an upgrade."""
        skip = self.direct_rooms() | set(self._state.get("refused") or {}) | set(self._leaving())
        skip |= {str(c["replacement"]) for c in self._claims().values() if not c.get("was_in")}
        return skip

    def _groups(self, joining: Collection[str]) -> set[str]:
        """The groups the bot is in or joining, each by its first room (an upgraded group's
        rooms are one): what ``max_groups`` bounds. The rooms matrix-nio holds (a
        connection's first sync, a full one, holds every room the bot is in) but the ones a
        sync said it is out of since, the invitations accepted before in this sync
        (``joining``) and the joins to be tried again (``join_failed``), but no room of
        :meth:`_not_groups`."""
        skip = self._not_groups()
        failed = self._state.get("join_failed") or {}
        rooms = [r for r in self._client().rooms if r not in self._gone]
        rooms += [r for r, record in failed.items() if record.get("retry_at")]
        return {self.group_room(r) for r in [*rooms, *joining] if r not in skip}

    async def _join(self, invited: list[str]) -> None:
        """Join the rooms just invited to, and those whose failed join is due again. A failed
        join is logged and kept in ``state["join_failed"]`` (error, tries, next try) so that
        the sync position moves on; after RETRY_TRIES tries it is given up (the record stays,
        without a next try, in the connection's state)."""
        failed: dict[str, dict[str, Any]] = self._state.setdefault("join_failed", {})
        now = self.clock.now()
        due = [room_id for room_id, record in failed.items() if retry_due(record, now)]
        fresh = [r for r in invited if not (failed.get(r) or {}).get("retry_at")]
        for room_id in fresh:  # invited again after it was given up: start over
            failed.pop(room_id, None)
        for room_id in dict.fromkeys([*fresh, *due]):
            try:
                joined = await self._client().join(room_id)
            except (aiohttp.ClientError, TimeoutError) as exc:
                joined = None
                error = network_error(self.source, f"join {room_id}", exc)
            if joined is not None:
                if not isinstance(joined, ErrorResponse):
                    if failed.pop(room_id, None) is not None:
                        log.warning("%s: joined %s after all", self.source, room_id)
                    continue
                error = self._error(joined, f"join {room_id}")
            if isinstance(error, AccessRefused):
                raise error  # the login is gone: the sync fails too, and says so
            failed[room_id] = self._next_try(failed.get(room_id), error, "join", room_id)

    async def _room_events(self, room_id: str, timeline: Any, since: str) -> list[Event]:
        raws: list[dict[str, Any]] = [e.source for e in timeline.events]
        own_join = next(
            (
                i
                for i, r in enumerate(raws)
                if r.get("type") == "m.room.member"
                and r.get("state_key") == self.config.user_id
                and (r.get("content") or {}).get("membership") == "join"
                and prev_content(r).get("membership") != "join"
            ),
            None,
        )
        if own_join is not None:
            raws = raws[own_join + 1 :]  # the room's history before the bot came is not news
        elif timeline.limited and timeline.prev_batch:
            raws = await self._fill_gap(room_id, timeline.prev_batch, since) + raws
        view = _Room(self._client().rooms.get(room_id), self._creators.get(room_id, frozenset()))
        await self._fetch_reply_authors(room_id, raws)
        group = self.group_room(room_id)
        out: list[Event] = []
        for raw in raws:
            await self._find_inviter(room_id, raw)
            event = self.translator.translate(room_id, raw, view)
            if event is not None and self.retired(room_id) and event.kind in RETIRED_ROOM_DROPS:
                self._moved_on(group, event)
                event = None
            elif event is not None and group != room_id:
                event = await self._in_group(group, room_id, event)
            if event is not None:
                out.append(event)
            self._tombstone(room_id, raw)
        return out

    def _tombstone(self, room_id: str, raw: Mapping[str, Any]) -> None:
        """A room upgrade claimed: the room names the room that replaces it. Any admin of the
        room can name any room, so this is only a claim (``state["upgrade_claims"]``): the
        adapter joins the named room after this sync and follows it only if its creation names
        this room as its predecessor (:meth:`_check_upgrades`)."""
        if raw.get("type") != "m.room.tombstone" or raw.get("state_key") != "":
            return
        content = raw.get("content")
        replacement = content.get("replacement_room") if isinstance(content, Mapping) else None
        if not isinstance(replacement, str) or not replacement.startswith("!"):
            return
        if replacement == room_id or self.retired(room_id):
            return
        self._claims()[room_id] = {
            "replacement": replacement,
            "by": str(raw.get("sender") or ""),
            "at": self.clock.now().isoformat(),
            # a room the bot is in already (another group's, say) is never left for a claim
            "was_in": replacement in self._client().rooms,
        }

    def _claims(self) -> dict[str, dict[str, Any]]:
        claims: dict[str, dict[str, Any]] = self._state.setdefault("upgrade_claims", {})
        return claims

    async def _check_upgrades(self) -> None:
        """Each claimed upgrade whose replacement room the bot could join: followed (the old
        room's group goes on there) if the replacement's ``m.room.create`` names the old room
        as its ``predecessor``, as a real upgrade's does; otherwise forgotten, and the room
        left unless the bot was in it before (a tombstone naming another group's room or any
        public room is no way to merge groups or to take the bot somewhere). A claim whose
        join was given up is forgotten; one whose join is still to be tried waits. A creation
        the homeserver will not give (refused RETRY_TRIES times) is no upgrade either; a rate
        limit or a server error is asked again at the next sync and not counted."""
        claims = self._claims()
        failed: dict[str, dict[str, Any]] = self._state.get("join_failed") or {}
        for old, claim in list(claims.items()):
            new = str(claim["replacement"])
            if new in failed:
                if not failed[new].get("retry_at"):  # given up
                    del claims[old]
                continue
            try:
                answer = await self._client().room_get_state_event(new, "m.room.create")
            except (aiohttp.ClientError, TimeoutError):
                continue  # asked again after the next sync
            if not isinstance(answer, RoomGetStateEventResponse):
                if not _definite(answer):
                    continue  # a rate limit, a server error: asked again, not counted
                claim["tries"] = int(claim.get("tries", 0)) + 1
                if claim["tries"] < RETRY_TRIES:
                    continue
                predecessor = None  # never said: no upgrade the bot can follow
            else:
                predecessor = answer.content.get("predecessor")
            del claims[old]
            if isinstance(predecessor, Mapping) and predecessor.get("room_id") == old:
                if self.note_upgrade(old, new):
                    self._upgrades()[old]["followed"] = True
                continue
            log.warning(
                "%s: %s named %s as the room replacing %s, but that room %s: not followed",
                self.source,
                claim.get("by") or "someone",
                new,
                old,
                "is no upgrade of it"
                if isinstance(answer, RoomGetStateEventResponse)
                else f"does not say what it replaces (asked {RETRY_TRIES} times)",
            )
            if not claim.get("was_in"):
                await self._leave(new, NO_UPGRADE)

    def _moved_on(self, group: str, event: Event) -> None:
        """A member left the old room after its upgrade: not news (they go on in the new room,
        or it is as if they stayed); if they come into the new room, that is no newcomer."""
        if event.kind == EventKind.MEMBER_LEFT and not event.data.get("removed_by"):
            left: dict[str, list[str]] = self._state.setdefault("left_upgraded_room", {})
            users = left.setdefault(group, [])
            if event.user_id not in users:
                users.append(event.user_id)

    async def _in_group(self, group: str, room_id: str, event: Event) -> Event | None:
        """An event of an upgraded room's replacement, as its group's (the first room's id).
        A member of the room before the upgrade coming into the new room is not a newcomer:
        no ``member_joined`` (no gate, no welcome again)."""
        if event.kind == EventKind.MEMBER_JOINED and await self._followed(
            group, room_id, event.user_id
        ):
            return None
        return replace(event, chat_id=group)

    async def _followed(self, group: str, room_id: str, user_id: str) -> bool:
        """``user_id`` was a member of one of the group's rooms before ``room_id``."""
        left: list[str] = (self._state.get("left_upgraded_room") or {}).get(group, [])
        if user_id in left:
            left.remove(user_id)
            return True
        chain = self.room_chain(group)
        earlier = chain[: chain.index(room_id)] if room_id in chain else chain[:-1]
        for old in reversed(earlier):
            if await self._was_member(old, user_id):
                return True
        return False

    async def _was_member(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is in ``room_id`` (an upgraded group's earlier room) as the bot
        last saw it. matrix-nio keeps every room's members from the sync (SYNC_FILTER loads
        them all, a start's first sync is a full one): no request, however many members follow
        how many upgraded rooms. A room it does not hold (the bot left it before this run) is
        asked once, its state when the bot left, and remembered for the run: it changes no
        more for the bot. A passing failure of that counts the member as new this once."""
        room = self._client().rooms.get(room_id)
        if room is not None:
            user = room.users.get(user_id)
            return user is not None and not user.invited
        members = self._earlier_members.get(room_id)
        if members is None:
            try:
                answer = await self._client().room_get_state(room_id)
            except (aiohttp.ClientError, TimeoutError) as exc:
                answer = None
                reason = network_reason(exc)
            if isinstance(answer, RoomGetStateResponse):
                members = frozenset(
                    str(e.get("state_key"))
                    for e in answer.events
                    if e.get("type") == "m.room.member"
                    and (e.get("content") or {}).get("membership") == "join"
                )
            elif answer is not None and _definite(answer):
                members = frozenset()  # not to be had: nobody there is known
            else:
                if answer is not None:
                    reason = str(self._error(answer, f"state of {room_id}"))
                log.warning(
                    "%s: who was in %s before its upgrade is not known now (%s): %s counts as"
                    " a newcomer",
                    self.source,
                    room_id,
                    reason,
                    user_id,
                )
                return False
            self._earlier_members[room_id] = members
        return user_id in members

    async def _fetch_reply_authors(self, room_id: str, raws: list[dict[str, Any]]) -> None:
        """Replies whose target's author is unknown (the target came before a restart, and the
        client sent no quoted fallback naming it): the target is fetched from the homeserver,
        once, and its sender remembered (the translator's bounded cache). An upgraded group's
        earlier rooms are asked too (a reply in the new room to a message of the old one)."""
        for raw in raws:  # what this batch itself holds is known by the time it is replied to
            if raw.get("type") in ("m.room.message", "m.sticker") and isinstance(
                raw.get("event_id"), str
            ):
                self.translator.senders.remember(raw["event_id"], str(raw.get("sender", "")))
        targets = dict.fromkeys(
            t
            for t in (self.translator.unknown_reply_target(raw) for raw in raws)
            if t and t not in self._unfetchable
        )
        rooms = list(reversed(self.room_chain(self.group_room(room_id))))
        rooms = [room_id, *(r for r in rooms if r != room_id)]
        # at most REPLY_FETCHES a batch: anyone can send replies to made-up event ids, and each
        # is a request before the sync position moves (the rest keep an unknown author)
        for target in list(targets)[:REPLY_FETCHES]:
            for room in rooms:
                answer = await self._client().room_get_event(room, target)
                if isinstance(answer, RoomGetEventResponse):
                    self.translator.senders.remember(target, answer.event.sender)
                    break
                if not _definite(answer):
                    return  # rate limited, a server error: nothing more asked this batch
            else:
                self._unfetchable[target] = None
                while len(self._unfetchable) > UNFETCHABLE_MAX:
                    self._unfetchable.popitem(last=False)

    async def _fill_gap(self, room_id: str, start: str, since: str) -> list[dict[str, Any]]:
        """The events between the stored position and a timeline the homeserver cut short.
        A passing failure fails the sync (tried again, nothing lost), GAP_TRIES times in a row
        at most; a refusal, or the last of those, gives the gap up with what was read of it:
        one room's history the homeserver will not give must not stop every room for good."""
        client = self._client()
        older: list[dict[str, Any]] = []
        token: str | None = start
        try:
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
                log.warning(
                    "%s: gap in %s longer than %d pages", self.source, room_id, MAX_GAP_PAGES
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = network_error(self.source, f"messages of {room_id}", exc)
        except PlatformError as exc:
            error = exc
        else:
            self._gap_failures.pop(room_id, None)
            older.reverse()
            return older
        if isinstance(error, AccessRefused):
            raise error
        failures = self._gap_failures.pop(room_id, 0) + 1
        if not error.permanent and failures < GAP_TRIES:
            self._gap_failures[room_id] = failures
            raise error
        log.warning(
            "%s: the events of %s before the latest ones of this sync cannot be read (%s);"
            " %d of them read, the rest not filled in",
            self.source,
            room_id,
            error,
            len(older),
        )
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
            self.translator.remember_inviter(room_id, target, answer.event.sender)
