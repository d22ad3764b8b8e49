"""Private chats people open with the bot (an invitation marked ``is_direct``: never a
group): whether an invitation is one, which the bot takes (at most ``max_private_chats``, one
each, from anyone when ``invited_by`` is empty, else from the list or a member of a group the
bot is in), and which it no longer holds (the person left, the bot was removed, an earlier
version took a group for one, a room the bot made for someone whose answer was lost). Part of
:class:`~groupops.platforms.matrix.adapter.MatrixAdapter`, under :mod:`.sync`; the rooms the
bot makes itself to write to someone are :mod:`.deliver`'s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from nio import RoomGetEventResponse

from groupops.platforms.matrix.config import may_invite
from groupops.platforms.matrix.homeserver import log, made_private_for
from groupops.platforms.matrix.leaving import (
    ALONE,
    EXTRA_PRIVATE_ROOM,
    ONE_PRIVATE_CHAT_EACH,
    TOO_MANY_PRIVATE_CHATS,
    Leaving,
)
from groupops.platforms.matrix.translate import prev_content

#: the bot's own earlier membership events looked at, at most, to find the invitation it
#: joined a room on (each a request; one per change of the bot's profile since)
MEMBER_HOPS = 10


class PrivateChats(Leaving):
    """The private chats people opened with the bot (``state["direct_rooms"]``)."""

    async def _admit_private_chat(self, room_id: str, inviter: str, title: str) -> bool:
        """Whether to join ``room_id``, a private chat ``inviter`` opened with the bot (an
        ``is_direct`` invitation, noted just before): when ``invited_by`` is set, the inviter
        must be on it or a member of a group the bot is in (:meth:`_serves`): a private chat
        still costs the bot a room to sync and hold, and anyone anywhere can mark an
        invitation direct. Refused otherwise (never the bot's private chat), or declined
        past ``max_private_chats`` or one each (:meth:`_room_for_private_chat`)."""
        if not (may_invite(self.config.invited_by, inviter) or (inviter and self._serves(inviter))):
            self._forget_direct(room_id)  # never the bot's private chat
            await self._refuse(room_id, inviter, title, direct=True)
            return False
        if not await self._room_for_private_chat(room_id, inviter, title):
            return False
        self._accepted(room_id)
        return True

    def _private_chats(self) -> list[str]:
        """The private chats people opened with the bot that it is in or joining (their
        invitations accepted), oldest first: what ``max_private_chats`` bounds."""
        leaving = self._leaving()
        return [str(r) for r in self._state.get("direct_rooms") or [] if r not in leaving]

    async def _room_for_private_chat(self, room_id: str, inviter: str, title: str) -> bool:
        """Whether the bot takes the private chat ``room_id`` (named ``title``, if at all)
        that ``inviter`` opened with it: not when it has ``max_private_chats`` already, nor
        when the inviter has one already (a room they are in, or opened and the bot is
        joining): the bot writes to a person in one room, and a room it keeps costs it sync
        traffic and memory, however many anyone opens. Declined (the invitation left with a
        word to the inviter, through the leave queue) and forgotten as a private chat;
        logged. One declined past ``max_private_chats`` is kept in ``state["refused"]`` too
        (``why``: too many private chats), so that the operator sees who was turned away;
        a second one from the same person is not (they have a private chat with the bot)."""
        held = [r for r in self._private_chats() if r != room_id]
        theirs = next((r for r in held if inviter and self._opened_by(r, inviter)), None)
        if theirs is not None:
            why, detail = ONE_PRIVATE_CHAT_EACH, f"they have one with the bot already ({theirs})"
        elif len(held) >= self.config.max_private_chats:
            why = TOO_MANY_PRIVATE_CHATS
            detail = (
                f"the bot has {len(held)} private chats open, its most"
                f" (max_private_chats {self.config.max_private_chats})"
            )
            self._note_refused(room_id, inviter, title, why=why, direct=True)
        else:
            return True
        self._forget_direct(room_id)
        log.warning(
            "%s: invited to %s (a private chat) by %s: declined, %s",
            self.source,
            room_id,
            inviter or "someone unknown",
            detail,
        )
        await self._decline(room_id, why)
        return False

    def _opened_by(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is in the private chat ``room_id`` (joined or invited, as the
        sync last said), or invited the bot into it and the bot is not in it yet."""
        client = self._client()
        room = client.rooms.get(room_id)
        if room is not None:
            return user_id in room.users
        invited = client.invited_rooms.get(room_id)
        return invited is not None and invited.inviter == user_id

    def _prune_private_chats(self, present: set[str]) -> None:
        """From a sync that holds every room the bot is in or invited to (a start's first):
        the private chats it is in none of (removed, or the invitation withdrawn, while it
        was away; or kept by an earlier version that never forgot one) are forgotten, so that
        they hold no place under ``max_private_chats``. One whose join is still to be tried
        (``join_failed``) stays."""
        failed = self._state.get("join_failed") or {}
        for room_id in self._private_chats():
            if room_id not in present and room_id not in failed:
                self._forget_direct(room_id)

    def _forget_direct(self, room_id: str) -> None:
        """``room_id`` is no private chat of the bot's any more (it left it, or declines it)."""
        direct: list[str] = self._state.get("direct_rooms") or []
        if room_id in direct:
            direct.remove(room_id)

    async def _leave_abandoned(self, joined: Mapping[str, Any]) -> None:
        """A private chat someone opened with the bot that nobody but the bot is in any more
        (they left): the bot leaves it too, so that it holds no place under
        ``max_private_chats`` (and the person may open another). Looked at when the sync
        holds the room (a start's first sync holds every room)."""
        for room_id in [r for r in self._private_chats() if r in joined]:
            room = self._client().rooms.get(room_id)
            if room is None or any(u != self.config.user_id for u in room.users):
                continue
            self._forget_direct(room_id)
            log.warning(
                "%s: everyone else left the private chat %s: the bot leaves it too",
                self.source,
                room_id,
            )
            await self._leave(room_id, ALONE)

    def _serves(self, user_id: str) -> bool:
        """Whether ``user_id`` is a member (joined) of a group the bot is in, as matrix-nio
        holds the rooms' members from the sync (no request): a private chat, a room refused
        or being left is no group."""
        skip = self.direct_rooms() | set(self._state.get("refused") or {}) | set(self._leaving())
        for room_id, room in self._client().rooms.items():
            if room_id in skip:
                continue
            user = room.users.get(user_id)
            if user is not None and not user.invited:
                return True
        return False

    async def _recheck_direct(self, joined: Mapping[str, Any]) -> None:
        """Rooms an earlier version took for private chats on anyone's ``is_direct`` (a
        member's own member event carrying it, before d937b9a) stay so in the stored state,
        and their events go unread. Each room of ``state["direct_rooms"]`` is looked at once
        (``state["direct_checked"]``) when the sync holds the bot's membership there (a
        start's first sync, a full one, holds every joined room's): it stays a private chat
        only if the bot's own invitation said ``is_direct``; otherwise it is a group again,
        read from this sync on (what it said meanwhile is not read back). The rooms the bot
        made to write to someone are private chats by making."""
        direct: list[str] = self._state.get("direct_rooms") or []
        checked: list[str] = self._state.setdefault("direct_checked", [])
        made = set((self._state.get("dm_rooms") or {}).values())
        for room_id in [r for r in direct if r not in checked and r in joined]:
            if room_id in made:
                checked.append(room_id)
                continue
            info = joined[room_id]
            own = [
                e.source
                for e in [*info.state, *info.timeline.events]
                if e.source.get("type") == "m.room.member"
                and e.source.get("state_key") == self.config.user_id
            ]
            if not own:
                continue  # an incremental sync without it: at the next start
            invited = await self._invited_as_direct(room_id, own[-1])
            if invited is None:
                continue  # not to be told now: still a private chat, looked at again later
            if invited:
                checked.append(room_id)
                continue
            direct.remove(room_id)
            log.warning(
                "%s: %s was taken for a private chat by an earlier version (someone's is_direct);"
                " the bot's invitation did not say so: it is read as a group again",
                self.source,
                room_id,
            )

    async def _adopt_lost(self, joined: Mapping[str, Any]) -> None:
        """Rooms the bot made to write to someone privately that it does not know: the
        answer to making one was lost (a time-out, a proxy's 504) after the homeserver had
        made it, and a retry may have made another. Unknown, such a room would be read as a
        group once the person joined it. Each is recognised when the sync shows its creation
        (the first sync that holds it, a start's): the bot its creator, its one invitation
        marked ``is_direct`` (:func:`made_private_for`). The person's private room is the one
        they have, else the newest such room; the bot leaves the others (an invitation there
        cannot be taken back: the person has the bot's power level in a private room it
        makes)."""
        known = self.direct_rooms() | set(self._leaving()) | set(self._state.get("refused") or {})
        found: dict[str, list[tuple[int, str]]] = {}
        for room_id, info in joined.items():
            if room_id in known:
                continue
            events = (e.source for e in [*info.state, *info.timeline.events])
            made = made_private_for(events, self.config.user_id)
            if made is not None:
                found.setdefault(made[0], []).append((made[1], room_id))
        for user_id, made_for in found.items():
            async with self._dm_locks.hold(user_id):  # not while the deliverer makes one
                extra = self._adopt_made(user_id, made_for)
            for room_id in extra:
                log.warning(
                    "%s: %s is another private room the bot made for %s (the answer to making"
                    " one was lost); it writes to them in %s and leaves this one",
                    self.source,
                    room_id,
                    user_id,
                    self._state["dm_rooms"][user_id],
                )
                await self._leave(room_id, EXTRA_PRIVATE_ROOM)

    async def _invited_as_direct(self, room_id: str, raw: Mapping[str, Any]) -> bool | None:
        """Whether the bot joined ``room_id`` on an invitation marked ``is_direct``, from its
        current membership event ``raw`` back: the content before a join is the invitation's
        (``unsigned.prev_content``); a join after a join (the bot's profile changed) is
        followed back to the event it replaced (``unsigned.replaces_state``), at most
        MEMBER_HOPS times. None when that cannot be told now (a request failed)."""
        for _ in range(MEMBER_HOPS):
            content = raw.get("content")
            content = content if isinstance(content, Mapping) else {}
            if content.get("is_direct") is True:
                return True
            if content.get("membership") != "join":
                return False
            before = prev_content(raw)
            if before.get("membership") == "invite":
                return before.get("is_direct") is True
            if before.get("membership") != "join":
                return False  # joined with no invitation: the room's creator, a public room
            unsigned = raw.get("unsigned")
            replaced = unsigned.get("replaces_state") if isinstance(unsigned, Mapping) else None
            if not isinstance(replaced, str):
                return None
            try:
                answer = await self._client().room_get_event(room_id, replaced)
            except (aiohttp.ClientError, TimeoutError):
                return None
            if not isinstance(answer, RoomGetEventResponse):
                return None
            raw = answer.event.source
        return None
