"""The Telegram adapter's way in: a batch of Bot API updates (from ``getUpdates`` or the
webhook) is translated, handed to the engine in one transaction, and only then does the polling
position move; who started the bot and each group's administrators are tracked on the way."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import exists, select
from telegram.error import TelegramError

from groupops.domain.events import Event
from groupops.platforms.supervise import Handler, Rejecter, hand_over
from groupops.platforms.telegram.botapi import BotApi, log
from groupops.platforms.telegram.translate import ADMIN, GROUP_TYPES, is_member, name_of
from groupops.storage.tables import groups

T = TypeVar("T")

#: the updates asked for: chat_member and message_reaction only come when asked for by name
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "message_reaction",
    "callback_query",
)
MAX_STARTED = 200_000  # people remembered as having started the bot
#: groups the bot left because someone not on ``added_by`` added it, remembered (the oldest go)
MAX_REFUSED = 500
#: the first wait before a failed leaveChat is tried again (seconds); it doubles
LEAVE_RETRY = 60.0
#: tries of leaveChat before a refused group is given up (the record says so)
LEAVE_TRIES = 8
#: how long the bot stays in a refused supergroup before leaving it (seconds): a group just
#: upgraded to a supergroup tells the bot "you were added" there by whoever upgraded it, and
#: that may come before the notice naming the group it was (over a webhook each update comes
#: on its own); the notice takes the refusal back. A basic group is left at once
LEAVE_GRACE = 30.0
#: updates of a supergroup the bot was just added to kept waiting with its join (each chat's):
#: past that many, all of them are handed over at once
HELD_MAX = 200
#: where each update kind names its chat
_CHAT_KEYS = (
    "message",
    "edited_message",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "message_reaction",
)


def bot_added_to_supergroup(update: Mapping[str, Any]) -> str:
    """The supergroup the update says the bot was added to ("" for any other update)."""
    member = update.get("my_chat_member") or {}
    chat = member.get("chat") or {}
    if chat.get("type") != "supergroup" or chat.get("id") is None:
        return ""
    if is_member(member.get("old_chat_member") or {}):
        return ""
    return str(chat["id"]) if is_member(member.get("new_chat_member") or {}) else ""


def _held_chats(update: Mapping[str, Any]) -> tuple[str, str, bool]:
    """(the supergroup the update says the bot was added to, the chat the update is of,
    whether that chat is a supergroup)."""
    chat = _chat(update)
    return bot_added_to_supergroup(update), chat_of(update), chat.get("type") == "supergroup"


def _chat(update: Mapping[str, Any]) -> Mapping[str, Any]:
    """The chat (Telegram's Chat) an update happened in ({} for none)."""
    for key in _CHAT_KEYS:
        chat = (update.get(key) or {}).get("chat") or {}
        if chat.get("id") is not None:
            return chat
    chat = ((update.get("callback_query") or {}).get("message") or {}).get("chat") or {}
    return chat if chat.get("id") is not None else {}


def chat_of(update: Mapping[str, Any]) -> str:
    """The chat an update happened in ("" for none)."""
    chat = _chat(update)
    return str(chat["id"]) if chat else ""


def _admin_chats(update: Mapping[str, Any]) -> set[str]:
    """The groups whose administrators the update's translation asks about."""
    chats: set[str] = set()
    for key in ("message", "edited_message", "message_reaction"):
        chat = (update.get(key) or {}).get("chat") or {}
        if chat.get("type") in GROUP_TYPES:
            chats.add(str(chat["id"]))
    q = (update.get("callback_query") or {}).get("message") or {}
    if (q.get("chat") or {}).get("type") in GROUP_TYPES:
        chats.add(str(q["chat"]["id"]))
    return chats


class Updates(BotApi):
    """Updates in (part of :class:`~groupops.platforms.telegram.adapter.TelegramAdapter`)."""

    handle: Handler | None
    reject: Rejecter | None
    _admins: dict[str, tuple[datetime, frozenset[str]]]
    #: supergroups found to be groups of groupops (:meth:`_may_be_upgrade`)
    _known: set[str]

    async def _admins_of(self, chat_id: str) -> frozenset[str]:
        now = self.clock.now()
        cached = self._admins.get(chat_id)
        if cached and now - cached[0] < timedelta(seconds=self.config.admin_cache_seconds):
            return cached[1]
        try:
            found = await self._bot().get_chat_administrators(int(chat_id))
        except (TelegramError, ValueError) as exc:
            log.warning("%s: administrators of %s unknown: %s", self.source, chat_id, exc)
            return cached[1] if cached else frozenset()
        ids = frozenset(str(m.user.id) for m in found)
        self._admins[chat_id] = (now, ids)
        return ids

    def _track(self, update: Mapping[str, Any]) -> bool:
        """Remember who started the bot (a private /start) or blocked it; True if changed."""
        started: list[str] = list(self._state.get("started", ()))
        message = update.get("message") or {}
        chat = message.get("chat") or {}
        if chat.get("type") == "private" and str(message.get("text", "")).startswith("/start"):
            user = str(chat.get("id"))
            if user not in started:
                started.append(user)
                self._state["started"] = started[-MAX_STARTED:]
                return True
        member = update.get("my_chat_member") or {}
        mchat = member.get("chat") or {}
        if mchat.get("type") == "private":
            user, status = str(mchat.get("id")), (member.get("new_chat_member") or {}).get("status")
            if status == "kicked" and user in started:  # the person blocked the bot
                started.remove(user)
                self._state["started"] = started
                return True
            if status == "member" and user not in started:
                started.append(user)
                self._state["started"] = started[-MAX_STARTED:]
                return True
        return False

    async def process(self, updates: Sequence[Mapping[str, Any]]) -> list[Event]:
        """Translate a batch of updates, hand the events to the engine (one transaction), then
        store the position past them. Raises if the engine fails: nothing is stored then. An
        update the adapter cannot read (a field of another shape than the Bot API's) is logged
        and skipped, alone: the position moves past it with the rest (:meth:`_readable`)."""
        async with self._lock:
            # first, for the whole batch: its events of the new chat already belong to the group
            scanned = self._readable(updates, self._migration)
            changed = any(news for _, news in scanned)
            admitted = []
            for u, (drop, news) in self._readable([u for u, _ in scanned], self._admission):
                changed = news or changed
                if not drop:
                    admitted.append(u)
            admitted, released, held = self._hold(admitted)
            changed = held or changed
            asking = self._readable(admitted, _admin_chats)
            admitted = [u for u, _ in asking]
            admins = {c: await self._admins_of(c) for c in set().union(*(c for _, c in asking))}
            events: list[Event] = []
            answer: list[Mapping[str, Any]] = []  # the buttons pressed, to stop their spinners
            for u in admitted:
                try:
                    self._note_admin_change(u)
                    event = self.translator.translate(
                        u, lambda c, user: user in admins.get(c, frozenset())
                    )
                    if event is not None and self.group_chat(event.chat_id) != event.chat_id:
                        event = self._in_group(event)
                except Exception as exc:  # its shape, not the engine: this update alone
                    self._unreadable(u, exc)
                    continue
                if event is not None:
                    events.append(event)
                if "callback_query" in u:
                    answer.append(u["callback_query"])
            if events and self.handle is not None:
                # commits (an event the engine refuses is set aside): only then does the
                # position move
                hand_over(self.source, self.handle, self.reject, events)
            for chat in released:  # handed over: no longer held
                self._state["held"].pop(chat, None)
                changed = True
            for _, news in self._readable([u for u, _ in scanned], self._track):
                changed = news or changed
            ids = [int(u["update_id"]) for u in updates if isinstance(u.get("update_id"), int)]
            if ids and (self.offset is None or max(ids) + 1 > self.offset):
                self._state["offset"] = max(ids) + 1
                changed = True
            if changed:
                self.store.save_state(self._state)
        await self.leave_refused()
        for query in answer:
            await self._answer(query)
        return events

    def _in_group(self, event: Event) -> Event:
        """An event of a group's new chat (since its upgrade) as the group's: its chat the
        group's id, its messages named with the new chat (:meth:`group_message`)."""
        chat = event.chat_id
        return replace(
            event,
            chat_id=self.group_chat(chat),
            message_id=self.group_message(chat, event.message_id),
            reply_to_message_id=self.group_message(chat, event.reply_to_message_id),
        )

    def _readable(
        self,
        updates: Sequence[Mapping[str, Any]],
        read: Callable[[Mapping[str, Any]], T],
    ) -> list[tuple[Mapping[str, Any], T]]:
        """Each update with what ``read`` found in it, but those it could not read: an update
        whose fields have another shape than the Bot API's (a bug of Telegram's or of a proxy,
        a future change) would otherwise fail the whole batch again at every try, and the
        stream would never move on. Such an update is logged (:meth:`_unreadable`) and left
        out."""
        found: list[tuple[Mapping[str, Any], T]] = []
        for u in updates:
            try:
                found.append((u, read(u)))
            except Exception as exc:  # its shape, not the engine or the database
                self._unreadable(u, exc)
        return found

    def _unreadable(self, update: Mapping[str, Any], exc: Exception) -> None:
        """Log an update skipped as unreadable: its number, its kind and the error (the token
        masked, cut short), not the update itself (people's messages)."""
        kinds = ",".join(sorted(k for k in update if k != "update_id")) or "nothing"
        log.warning(
            "%s: update %s skipped, not understood (%s): %s: %s",
            self.source,
            update.get("update_id"),
            kinds[:100],
            type(exc).__name__,
            self._filter.mask(str(exc))[:120],
        )

    # -- the bot's own join in a supergroup, held a while -----------------------------------
    def _hold(
        self, updates: list[Mapping[str, Any]]
    ) -> tuple[list[Mapping[str, Any]], list[str], bool]:
        """(the updates to translate now, the held chats among them, whether the held ones
        changed). The bot added to a supergroup is held back LEAVE_GRACE: when a group is
        upgraded, Telegram tells the bot it was added to the new supergroup, and that can come
        before the notice naming the group it was (over a webhook each update comes on its
        own; polls cut a stream anywhere); handed over at once, it made the engine a second
        group for the same chat. What happens in that chat meanwhile (a member joins, speaks)
        would make that group just as well: it waits with the join, in its order. The notice
        drops the join (:meth:`note_migration`: the bot was there all along) and lets the rest
        go at once, as the old group's; else all of it is handed over when the join's time
        comes, before the batch's own updates. Only a supergroup the bot has just been added
        to waits, or, over a webhook, one that is no group yet and may be an upgraded group's
        new chat (:meth:`_may_be_upgrade`): its updates wait from the first, the join goes
        before them when it comes. The groups the bot is in are never held up."""
        held: dict[str, dict[str, Any]] = self._state.setdefault("held", {})
        now = self.clock.now()
        until = (now + timedelta(seconds=LEAVE_GRACE)).isoformat()
        changed = False
        kept: list[Mapping[str, Any]] = []
        for u, (added, chat, supergroup) in self._readable(updates, _held_chats):
            early: dict[str, Any] = held[added] if isinstance(held.get(added), dict) else {}
            if added and self.group_chat(added) == added and not early.get("update"):
                # what overtook the join there (a webhook's) waits already: it goes after it
                held[added] = {
                    "update": dict(u),
                    "until": until,
                    "updates": early.get("updates") or [],
                }
                changed = True
            elif isinstance(held.get(chat), dict):
                waiting = held[chat].setdefault("updates", [])
                waiting.append(dict(u))
                if len(waiting) >= HELD_MAX:  # too many to keep in the state: all go now
                    held[chat]["until"] = now.isoformat()
                changed = True
            elif supergroup and self._may_be_upgrade(chat):
                held[chat] = {"until": until, "updates": [dict(u)]}
                changed = True
            else:
                kept.append(u)
        due = [
            chat
            for chat, h in held.items()
            if isinstance(h, dict) and datetime.fromisoformat(str(h.get("until"))) <= now
        ]
        refused = self._state.get("refused") or {}
        released: list[Mapping[str, Any]] = []
        for chat in due:
            if chat in refused:  # the bot added there by someone not on added_by: it leaves
                continue
            if held[chat].get("update"):  # the join (gone if the notice came)
                released.append(held[chat]["update"])
            released += held[chat].get("updates") or []
        return [*released, *kept], due, changed

    def _may_be_upgrade(self, chat: str) -> bool:
        """Whether an update of supergroup ``chat`` may have overtaken the bot's join there and
        the notice of an upgrade: over a webhook Telegram posts several updates at once, so a
        member's words in a group's new chat can come first and, handed over, would make a
        second group. It is so when the connection is a webhook's, ``chat`` is no group of
        groupops (nor an upgraded group's known new chat), and a group the bot is in is a
        basic group not upgraded yet, which ``chat`` may be the supergroup of (a supergroup's
        id starts with -100, a basic group's does not). Polling reads the updates in order:
        the join always comes first there."""
        if self.config.mode != "webhook" or chat in self._known or self.group_chat(chat) != chat:
            return False
        g = groups.c
        upgraded = list((self._state.get("migrated") or {}).keys())
        known = exists().where(g.source == self.source, g.chat_id == chat)
        basic = exists().where(
            g.source == self.source,
            g.bot_in_chat.is_(True),
            g.chat_id.like("-%"),
            g.chat_id.not_like("-100%"),
            g.chat_id.not_in(upgraded),
        )
        with self.store.db.connect() as conn:
            is_known, has_basic = conn.execute(select(known, basic)).one()
        if is_known:
            self._known.add(chat)  # (a group stays one: never asked again)
        return not is_known and bool(has_basic)

    def next_release(self) -> float:
        """Seconds until the first held chat's time comes (LEAVE_GRACE when none is held)."""
        now = self.clock.now()
        untils = [
            datetime.fromisoformat(str(h.get("until")))
            for h in (self._state.get("held") or {}).values()
            if isinstance(h, dict)
        ]
        if not untils:
            return LEAVE_GRACE
        return min(LEAVE_GRACE, max(0.0, (min(untils) - now).total_seconds()))

    # -- who may add the bot to a group (``added_by``) -------------------------------------
    def _admission(self, update: Mapping[str, Any]) -> tuple[bool, bool]:
        """(drop, changed): whether the update is of a group the bot was added to by someone
        not on ``added_by`` (it is not handed to the engine: no group, no features), and
        whether the refused groups changed. The bot added by someone on the list (again)
        takes a group off them; a group upgraded to a supergroup is the same group."""
        refused: dict[str, dict[str, Any]] = self._state.get("refused") or {}
        member = update.get("my_chat_member") or {}
        chat = member.get("chat") or {}
        if chat.get("type") in GROUP_TYPES and chat.get("id") is not None:
            chat_id = str(chat["id"])
            old, new = member.get("old_chat_member") or {}, member.get("new_chat_member") or {}
            if not is_member(old) and is_member(new):  # the bot was added
                actor = member.get("from") or {}
                by = str(actor.get("id", ""))
                allowed = self.config.added_by
                if not allowed or by in allowed or self.group_chat(chat_id) != chat_id:
                    return False, refused.pop(chat_id, None) is not None
                now = self.clock.now()
                refused[chat_id] = {
                    "title": str(chat.get("title") or ""),
                    "by": by,
                    "by_name": name_of(actor),
                    "at": now.isoformat(),
                    "left": False,
                    "tries": 0,
                }
                if chat.get("type") == "supergroup":  # perhaps one of ours, just upgraded
                    grace = now + timedelta(seconds=LEAVE_GRACE)
                    refused[chat_id]["retry_at"] = grace.isoformat()
                while len(refused) > MAX_REFUSED:
                    refused.pop(next(iter(refused)))
                self._state["refused"] = refused
                log.warning(
                    "%s: added to group %s (%s) by %s, who is not on added_by: leaving it",
                    self.source,
                    chat_id,
                    chat.get("title") or "",
                    by,
                )
                return True, True
        return chat_of(update) in refused, False

    async def leave_refused(self) -> None:
        """leaveChat for each refused group the bot has not left yet (a failure is tried again
        later, at most LEAVE_TRIES times; the record says why)."""
        refused: dict[str, dict[str, Any]] = self._state.get("refused") or {}
        now = self.clock.now()
        due = [
            chat_id
            for chat_id, r in refused.items()
            if not r.get("left")
            and int(r.get("tries", 0)) < LEAVE_TRIES
            and (not r.get("retry_at") or datetime.fromisoformat(r["retry_at"]) <= now)
        ]
        if not due:
            return
        for chat_id in due:
            record = refused[chat_id]
            try:
                await self._bot().leave_chat(int(chat_id))
            except TelegramError as exc:
                error = self._error(exc, "leaveChat")
                record["tries"] = int(record.get("tries", 0)) + 1
                record["error"] = str(error)[:300]
                if error.permanent:  # not in the chat any more (removed, the chat is gone)
                    record["left"] = True
                    continue
                wait = error.retry_after or LEAVE_RETRY * 2 ** (record["tries"] - 1)
                record["retry_at"] = (now + timedelta(seconds=wait)).isoformat()
                log.warning("%s: cannot leave %s yet: %s", self.source, chat_id, error)
                continue
            record["left"] = True
            record.pop("retry_at", None)
            record.pop("error", None)
        await self.save()

    def _migration(self, update: Mapping[str, Any]) -> bool:
        """A group upgraded to a supergroup: Telegram says so in the old chat
        (``migrate_to_chat_id``) and in the new one (``migrate_from_chat_id``)."""
        m = update.get("message") or {}
        chat = str((m.get("chat") or {}).get("id", ""))
        # when it happened, not when the bot reads it (after an outage, the new chat's
        # messages of the meantime are the new chat's)
        date = m.get("date")
        when = datetime.fromtimestamp(date, UTC) if isinstance(date, int) else None
        if m.get("migrate_to_chat_id") and chat:
            return self.note_migration(chat, str(m["migrate_to_chat_id"]), when)
        if m.get("migrate_from_chat_id") and chat:
            return self.note_migration(str(m["migrate_from_chat_id"]), chat, when)
        return False

    def _note_admin_change(self, update: Mapping[str, Any]) -> None:
        cm = update.get("chat_member") or {}
        chat_id = str((cm.get("chat") or {}).get("id", ""))
        if chat_id in self._admins:
            new = cm.get("new_chat_member") or {}
            user = str((new.get("user") or {}).get("id", ""))
            when, ids = self._admins[chat_id]
            ids = ids | {user} if new.get("status") in ADMIN else ids - {user}
            self._admins[chat_id] = (when, ids)

    async def _answer(self, query: Mapping[str, Any]) -> None:
        """Stop the pressed button's spinner (best effort: the press is already stored)."""
        try:
            await self._bot().answer_callback_query(str(query.get("id")))
        except TelegramError as exc:
            log.info("%s: callback query not answered: %s", self.source, self._error(exc, "answer"))

    async def poll_once(self, timeout: int = 0) -> list[Event]:
        """One ``getUpdates`` from the stored offset; the events handed to the engine."""
        bot = self._bot()
        kwargs: dict[str, Any] = {"timeout": timeout, "allowed_updates": list(ALLOWED_UPDATES)}
        if self.offset is not None:
            kwargs["offset"] = self.offset
        try:
            # the raw JSON, not Bot.get_updates: its strict parsing fails the whole batch on one
            # update it cannot build (a newer Bot API field), and the poll would stall on it
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*Bot.getUpdates", category=UserWarning)
                raw = await bot.do_api_request(
                    "getUpdates",
                    api_kwargs=kwargs,
                    read_timeout=timeout + self.config.request_timeout,
                )
        except TelegramError as exc:
            raise self._error(exc, "getUpdates") from None
        updates = [u for u in (raw or []) if isinstance(u, dict)]
        if not updates and not self._state.get("held"):
            await self.leave_refused()  # a failed leave whose time came
            return []
        return await self.process(updates)  # (none: a held join whose time came)

    async def start_webhook(self) -> None:
        """Ask Telegram to post updates to the configured URL, with the secret header."""
        try:
            await self._bot().set_webhook(
                self.config.webhook_url,
                secret_token=self.config.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        except TelegramError as exc:
            raise self._error(exc, "setWebhook") from None
