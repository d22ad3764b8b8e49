"""Rooms the bot does not stay in: an invitation it refuses (``invited_by``) or declines (a
private chat past ``max_private_chats``), a room it leaves as not its own (a tombstone's room
that is no upgrade, a private chat nobody else is in), each left with a word to the people
there in the language of the connection's groups, and tried again while the homeserver does
not take the leave. Part of :class:`~groupops.platforms.matrix.adapter.MatrixAdapter`, under
:mod:`.private_chats` and :mod:`.sync`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiohttp
from nio import Api, AsyncClient, ErrorResponse, RoomLeaveResponse

from groupops.engine.directory import NEW_GROUP_LANGUAGE
from groupops.i18n import N_, Catalogs
from groupops.platforms.connections import TOO_MANY_GROUPS as TOO_MANY_GROUPS
from groupops.platforms.connections import TOO_MANY_PRIVATE_CHATS as TOO_MANY_PRIVATE_CHATS
from groupops.platforms.connections import is_direct
from groupops.platforms.matrix.config import network_error
from groupops.platforms.matrix.homeserver import AccessRefused, Homeserver, log, retry_due

#: invitations refused (``invited_by``) or declined past ``max_groups`` or
#: ``max_private_chats`` remembered for the operator, of each kind (groups, private chats:
#: the oldest of the kind go, so that a flood of one kind never pushes the other off the
#: list); also the rooms left remembered (``state["leaving"]``)
MAX_REFUSED = 500
#: why the bot leaves a room (``state["leaving"][room]["why"]``) that is not its own: an
#: invitation refused (``invited_by``), a room a tombstone named that is no upgrade, a group
#: past ``max_groups`` or a private chat past ``max_private_chats`` (each also the ``why`` of
#: its record in ``state["refused"]``, the connection's word), a second private chat from the
#: same person, one nobody else is in
REFUSED, NO_UPGRADE = "refused", "no upgrade"
ONE_PRIVATE_CHAT_EACH, ALONE = "one private chat each", "alone"
#: a second private room the bot made for someone (the answer to making one was lost)
EXTRA_PRIVATE_ROOM = "extra private room"
#: what the bot says to the inviter when it declines (the leave's reason), by why
LEAVE_WORDS = {
    REFUSED: N_("Sorry, this bot accepts invitations only from people its operators allow."),
    TOO_MANY_GROUPS: N_(
        "Sorry, this bot is in as many groups as it may: it cannot join yours now."
    ),
    TOO_MANY_PRIVATE_CHATS: N_(
        "Sorry, this bot has as many private chats open as it may: it cannot take yours now."
    ),
    ONE_PRIVATE_CHAT_EACH: N_("You already have a private chat with this bot."),
}


async def leave_with_reason(client: AsyncClient, room_id: str, reason: str) -> Any:
    """``POST /rooms/{roomId}/leave`` with a ``reason`` (the spec's, shown to the people in
    the room, or to the inviter of a declined invitation): matrix-nio's answer
    (``RoomLeaveResponse``, else an ErrorResponse).

    matrix-nio (0.26) has no public way to send the reason: ``AsyncClient.room_leave`` and
    ``Api.room_leave`` take the room only (its kick, ban and knock take one). The request
    goes through its private ``AsyncClient._send``, as every one of its own requests does
    (the access token in a header, not the URL; CheckedClient's reading of the answer); the
    one place groupops calls it. tests/platforms/matrix/test_leave_reason.py fails if that
    method's signature changes, or once ``room_leave`` takes a reason (then use that)."""
    method, path = Api.room_leave(client.access_token, room_id)
    return await client._send(RoomLeaveResponse, method, path, Api.to_json({"reason": reason}))


class Leaving(Homeserver):
    """Invitations refused and rooms left as not the bot's (``state["refused"]``,
    ``state["leaving"]``)."""

    #: the words the bot says to people (a declined invitation's reason)
    _catalogs: Catalogs

    def _refused(self) -> dict[str, dict[str, Any]]:
        """``state["refused"]``: the invitations refused (``invited_by``) or declined past
        ``max_groups`` or ``max_private_chats`` (``why``), kept for the operator (room ->
        title, by, by_name, at, left, and the leave's error while not left; ``direct`` for a
        private chat); ``groupops connections`` lists them (connections.refusals). A room
        the bot takes after all is off it (:meth:`_accepted`, :meth:`_in_rooms`)."""
        refused: dict[str, dict[str, Any]] = self._state.setdefault("refused", {})
        return refused

    def _note_refused(self, room_id: str, inviter: str, title: str, **extra: Any) -> None:
        """Keep the invitation to ``room_id`` the bot says no to in ``state["refused"]``
        (the latest last), with ``extra`` (``why``, ``direct``). Past MAX_REFUSED of its
        kind (private chats, groups) the oldest of that kind go: a flood of private chats
        opened with the bot never pushes the groups turned away off the list, nor the
        other way round."""
        refused = self._refused()
        refused.pop(room_id, None)
        record = {
            "title": title,
            "by": inviter,
            "by_name": "",
            "at": self.clock.now().isoformat(),
            "left": False,
            **extra,
        }
        refused[room_id] = record
        kind = [r for r, one in refused.items() if is_direct(one) == is_direct(record)]
        for room in kind[: max(0, len(kind) - MAX_REFUSED)]:
            del refused[room]

    async def _refuse(self, room_id: str, inviter: str, title: str, direct: bool = False) -> None:
        """Reject the invitation to ``room_id`` from ``inviter``, who is not on
        ``invited_by`` (nor, for a private chat, ``direct``, a member of a group the bot is
        in): leave the invited room, which the homeserver takes as "no", and keep it in
        ``state["refused"]`` for the operator."""
        self._note_refused(room_id, inviter, title, **({"direct": True} if direct else {}))
        log.warning(
            "%s: invited to %s (%s) by %s, who is not on invited_by%s: refused",
            self.source,
            room_id,
            title or ("a private chat" if direct else ""),
            inviter or "someone unknown",
            " nor a member of a group the bot is in" if direct else "",
        )
        await self._decline(room_id, REFUSED)

    async def _decline(self, room_id: str, why: str) -> None:
        """Say no to the invitation to ``room_id`` (:meth:`_leave`, with the words of
        ``why``)."""
        self._leaving().pop(room_id, None)  # invited anew: the tries start over
        await self._leave(room_id, why)

    def _accepted(self, room_id: str) -> None:
        """``room_id`` is the bot's: an invitation to it the bot takes, or a room a sync
        says the bot is in (:meth:`_in_rooms`). Off the refused, whatever the refusal's
        why, and no longer a room it leaves (left before as not the bot's: it is now)."""
        self._refused().pop(room_id, None)
        self._leaving().pop(room_id, None)

    def _in_rooms(self, joined: Iterable[str]) -> None:
        """The rooms a sync says the bot is in (its membership there is join). One whose
        invitation it refused or declined (``state["refused"]``: the bot never joins such a
        room itself) was joined another way since: the invitation accepted in another
        client of the bot's account, a homeserver admin's join, an invitation sent again and
        taken there before the bot saw it. A room the bot is in is not refused: it is taken
        as an accepted invitation's (:meth:`_accepted`), off the list and read from then on,
        as a room invited to again and accepted is; logged. A private chat's record
        (``direct``: the invitation said ``is_direct``) makes it the private chat it is,
        though the invitation joined on (sent again from a client that does not mark it, or
        seen in an earlier sync) does not say so: never read as a group. Looked at before
        anything of the sync is read."""
        refused = self._state.get("refused") or {}
        for room_id in [r for r in joined if r in refused]:
            record = refused[room_id]
            direct = is_direct(record)
            log.warning(
                "%s: the bot is in %s (%s), whose invitation it had declined (%s): joined"
                " another way since, it is off the refused list%s",
                self.source,
                room_id,
                record.get("title") or ("a private chat" if direct else "no name"),
                record.get("why") or REFUSED,
                " and is a private chat" if direct else "",
            )
            self._accepted(room_id)
            if direct:  # the invitation said is_direct, whatever the one joined on says
                self._mark_direct(room_id)

    def _leaving(self) -> dict[str, dict[str, Any]]:
        """``state["leaving"]``: the rooms the bot leaves, or left, as not its own (room ->
        why, left, and while not left the error, tries and next try of the leave)."""
        leaving: dict[str, dict[str, Any]] = self._state.setdefault("leaving", {})
        return leaving

    async def _leave(self, room_id: str, why: str) -> None:
        """Leave ``room_id``, or decline the invitation to it, as not the bot's (``why``: an
        invitation ``refused``, a tombstone's room that is ``no upgrade``). Noted in
        ``state["leaving"]`` before asking, so that a lost login or a crash keeps it due; a
        failed leave is tried again by :meth:`_retry_leaves` (LEAVE_RETRY doubling, or the
        homeserver's ``retry_after``) while running. The record stays once left, so that what
        the homeserver still says of the room (the bot's own leave) is not read as a group's;
        the oldest left go past MAX_REFUSED."""
        leaving = self._leaving()
        before = leaving.pop(room_id, None)
        leaving[room_id] = {**(before or {}), "why": why, "left": False}
        while len(leaving) > MAX_REFUSED:  # the oldest left first, then the oldest at all
            done = (r for r, record in leaving.items() if record.get("left"))
            leaving.pop(next(done, next(iter(leaving))))
        try:
            answer = await self._leave_saying(room_id, LEAVE_WORDS.get(why))
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = network_error(self.source, f"leave {room_id}", exc)
        else:
            if not isinstance(answer, ErrorResponse):
                self._left(room_id)
                return
            error = self._error(answer, f"leave {room_id}")
            if isinstance(error, AccessRefused):
                raise error  # the login is gone: the sync fails, the leave stays due
        record = {"why": why, "left": False, **self._next_try(before, error, "leave", room_id)}
        leaving[room_id] = record
        refused = self._state.get("refused") or {}
        if room_id in refused:
            refused[room_id]["error"] = record["error"]

    def _left(self, room_id: str) -> None:
        """The bot is out of a room it was leaving (its leave taken, or the homeserver's sync
        says it is out: the invitation withdrawn, the bot removed)."""
        leaving = self._leaving()
        record = leaving.get(room_id)
        if record is None or record.get("left"):
            return
        if record.get("error"):
            log.warning("%s: left %s after all", self.source, room_id)
        leaving[room_id] = {"why": record.get("why", ""), "left": True}
        refused = (self._state.get("refused") or {}).get(room_id)
        if refused is not None:
            refused["left"] = True
            refused.pop("error", None)

    async def _leave_saying(self, room_id: str, words: str | None) -> Any:
        """Leave ``room_id`` (or decline the invitation to it), with ``words`` to the people
        there as the leave's ``reason``, in the language of the connection's groups."""
        client = self._client()
        if not words:
            return await client.room_leave(room_id)
        language = self.config.group_language or NEW_GROUP_LANGUAGE
        return await leave_with_reason(client, room_id, self._catalogs.gettext(language)(words))

    async def _retry_leaves(self) -> None:
        """Leave again the rooms whose failed leave is due."""
        now = self.clock.now()
        due = [
            (room_id, str(record.get("why", "")))
            for room_id, record in self._leaving().items()
            if not record.get("left")
            # a leave never answered (the login lost before it) has no try yet
            and (retry_due(record, now) or (not record.get("tries") and not record.get("retry_at")))
        ]
        for room_id, why in due:
            await self._leave(room_id, why)
