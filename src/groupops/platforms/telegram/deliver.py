"""The Telegram adapter's way out: one groupops action as Bot API calls. The Bot API has no
idempotency key: a send whose answer was lost in a time-out may be sent again by the
deliverer's retry."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import (
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError, RecipientUnreachable
from groupops.engine.deadletters import (
    BAD_CHAT_ID,
    BAD_MESSAGE_ID,
    BAD_USER_ID,
    BLOCKED,
    BUTTON_DATA_TOO_LONG,
    CANNOT,
    CHANNEL_BAN_FOR_GOOD,
    CHANNEL_ONLY_BAN,
    DELETE_TOO_OLD,
    MALFORMED_BUTTONS,
    NOT_STARTED,
    POSTED_BEFORE_UPGRADE,
)
from groupops.platforms.base import DeliveryResult
from groupops.platforms.supervise import refuse_unless_doable
from groupops.platforms.telegram.botapi import BotApi
from groupops.platforms.telegram.split import split_message

TELEGRAM_ACTIONS = frozenset(
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
        ActionKind.CREATE_INVITE_LINK,
        ActionKind.APPROVE_JOIN,
        ActionKind.DECLINE_JOIN,
    }
)
#: a bot may delete other people's messages for 48 hours only
DELETE_MAX_AGE = 48 * 3600
CALLBACK_DATA_MAX = 64  # bytes, by the Bot API
#: restrictChatMember / banChatMember: an ``until_date`` less than 30 seconds from now (or more
#: than 366 days) means *forever* to Telegram
UNTIL_MIN = timedelta(seconds=30)
#: the least ``until_date`` groupops sends is this much further: the Bot API takes whole
#: seconds (python-telegram-bot cuts the fraction off) and Telegram reads it against its own
#: clock when the request arrives (time on the way, clocks a little apart), so an end sent
#: exactly 30 s ahead arrives as 29.x s: forever
UNTIL_MARGIN = timedelta(seconds=10)
#: what a chat speaking in a group (a member's channel) can be the target of
SENDER_CHAT_KINDS = frozenset(
    {ActionKind.MUTE, ActionKind.UNMUTE, ActionKind.KICK, ActionKind.BAN, ActionKind.UNBAN}
)
#: deleteMessage's answer for a message that is not there (any more)
ALREADY_DELETED = "message to delete not found"


#: long texts half sent, kept in the connection's state (``parts``) so that a retry of the
#: action sends only the parts still missing, after a restart too; the oldest go first
PARTS_KEPT = 500

#: a message the bot sent: its id and when Telegram dated it
Sent = tuple[int, datetime]


def _parts(data: dict[str, Any], messages: list[Sent]) -> dict[str, Any]:
    """A text sent as several messages: the result names them all, in order."""
    if len(messages) > 1:
        data["message_ids"] = [str(mid) for mid, _ in messages]
    return data


def _digest(parts: list[str]) -> str:
    """Which text a record of parts sent is about (the same action sends the same text; a
    record that does not match is not trusted)."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _int(value: str, bad: str, where: str) -> int:
    """``value`` as Telegram's number; ``bad`` says it is none (BAD_CHAT_ID …)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PlatformError(bad, where=where, permanent=True, value=repr(value)) from None


def keyboard(rows: Any, where: str) -> InlineKeyboardMarkup | None:
    """``Action.data["buttons"]`` (rows of {"text", "data"}) as an inline keyboard."""
    if not rows:
        return None
    try:
        built = []
        for row in rows:
            line = []
            for b in row:
                data = str(b["data"])
                if len(data.encode()) > CALLBACK_DATA_MAX:
                    raise PlatformError(
                        BUTTON_DATA_TOO_LONG, where=where, permanent=True, limit=CALLBACK_DATA_MAX
                    )
                line.append(InlineKeyboardButton(str(b["text"]), callback_data=data))
            built.append(line)
    except (KeyError, TypeError) as exc:
        raise PlatformError(
            MALFORMED_BUTTONS, where=where, permanent=True, reason=str(exc)
        ) from None
    return InlineKeyboardMarkup(built)


class Delivery(BotApi):
    """Actions out (part of :class:`~groupops.platforms.telegram.adapter.TelegramAdapter`)."""

    async def perform(self, action: Action, *, idempotency_key: str) -> DeliveryResult:
        refuse_unless_doable(self.source, self.capabilities, self.config.enabled, action)
        what = f"{action.kind} in {action.chat_id}"
        try:
            try:
                return await self._perform(action, what, idempotency_key)
            except ChatMigrated as exc:
                # the group became a supergroup before the bot heard of it: from now on its
                # actions go to the new chat, this one at once
                if not self.note_migration(action.chat_id, str(exc.new_chat_id)):
                    raise
                await self.save()
                # (a long text's parts sent to the old chat are sent again in the new one)
                return await self._perform(action, what, idempotency_key)
        except Forbidden as exc:
            if action.kind == ActionKind.DIRECT_MESSAGE:
                # blocked the bot, deactivated, never started it: the deliverer posts the
                # message in the group instead, and the bot stops counting on a private chat
                self.forget_started(action.user_id)
                raise RecipientUnreachable(
                    BLOCKED, where=f"{self.source} {what}", reason=self._filter.mask(exc.message)
                ) from None
            raise self._error(exc, what) from None
        except BadRequest as exc:
            if action.kind == ActionKind.DELETE and ALREADY_DELETED in exc.message.lower():
                # the author, an admin or another bot removed it first (or our own earlier
                # try, whose answer was lost): what the action wanted is done
                return DeliveryResult("", {"already_gone": True})
            raise self._error(exc, what) from None
        except TelegramError as exc:
            raise self._error(exc, what) from None

    def _until(self, action: Action) -> tuple[bool, datetime | None]:
        """(over, the ``until_date`` to send) for a mute or ban delivered now. ``over``: its end
        has already passed (a late delivery: a retry, an outage, a long queue), so there is
        nothing to do. An end less than 40 seconds away is sent as 40 seconds from now, since
        Telegram reads anything under 30 s as *forever* (UNTIL_MARGIN: the 10 s more). No end
        (None): forever."""
        if action.until is None:
            return False, None
        now = self.clock.now()
        if action.until <= now:
            return True, None
        return False, max(action.until, now + UNTIL_MIN + UNTIL_MARGIN)

    async def _send_text(
        self,
        chat: int,
        text: str,
        key: str,
        *,
        reply: ReplyParameters | None = None,
        markup: InlineKeyboardMarkup | None = None,
        silent: bool = False,
    ) -> list[Sent]:
        """``text`` as one message, or as several in order when it is longer than Telegram
        takes (:func:`split_message`): the first part is the reply, the last carries the
        buttons, the parts after the first make no sound of their own. The parts already sent
        by an earlier try of the same action (``key``: a rate limit, a time-out, a refusal or a
        restart between two parts; an operator's ``outbox retry``) are not sent again: each
        part sent is written down in the connection's state before the next one goes."""
        parts = split_message(text)
        if len(parts) == 1:
            message = await self._bot().send_message(
                chat, text, reply_parameters=reply, reply_markup=markup, disable_notification=silent
            )
            return [(message.message_id, message.date)]
        sent = self._parts_sent(key, chat, parts)
        for i in range(len(sent), len(parts)):
            message = await self._bot().send_message(
                chat,
                parts[i],
                reply_parameters=reply if i == 0 else None,
                reply_markup=markup if i == len(parts) - 1 else None,
                disable_notification=silent or i > 0,
            )
            sent.append([message.message_id, int(message.date.timestamp())])
            if i < len(parts) - 1:
                await self.save()  # before the next part goes: sent is sent, come what may
        self._state.get("parts", {}).pop(key, None)  # done: the record goes
        await self.save()
        return [(int(mid), datetime.fromtimestamp(int(at), UTC)) for mid, at in sent]

    def _parts_sent(self, key: str, chat: int, parts: list[str]) -> list[list[int]]:
        """The record of the parts of ``key``'s text sent so far (``[message id, date]``
        each), to add to: the one kept if it is about the same text in the same chat (a group
        upgraded meanwhile: its new chat gets the whole text), else a new one."""
        kept: dict[str, Any] = self._state.setdefault("parts", {})
        record = kept.pop(key, None)
        digest = _digest(parts)
        if (
            not isinstance(record, dict)
            or record.get("chat") != str(chat)
            or record.get("digest") != digest
            or not isinstance(record.get("sent"), list)
            or len(record["sent"]) >= len(parts)
        ):
            record = {"chat": str(chat), "digest": digest, "sent": []}
        kept[key] = record  # the newest last
        while len(kept) > PARTS_KEPT:
            kept.pop(next(iter(kept)))
        sent: list[list[int]] = record["sent"]
        return sent

    def _sent(self, messages: list[Sent], chat_id: str) -> DeliveryResult:
        for mid, when in messages:
            self.translator.remember(chat_id, str(mid), self.config.bot_id, when)
        return DeliveryResult(str(messages[0][0]), _parts({"chat_id": chat_id}, messages))

    def _in_old_chat(self, action: Action, number: str, in_new: bool) -> bool:
        """The action's message (``number``; ``in_new``: its id named the new chat) was posted
        before its group became a supergroup: it stayed in the old chat (the new one numbers
        its messages anew, so its id there would be another message)."""
        new_chat = self.platform_chat(action.chat_id)
        if not number or in_new or new_chat == action.chat_id:
            return False
        # a plain number: the old chat's, or the new chat's stored before its messages were
        # named with it. Each chat's messages are remembered under its own id, and one number
        # may have been seen in both: then the times decide
        in_old = self.translator.sent_at(action.chat_id, number) is not None
        if in_old != (self.translator.sent_at(new_chat, number) is not None):
            return in_old
        upgraded = (self._state.get("migrated_at") or {}).get(action.chat_id)
        posted = action.data.get("message_at")
        if not upgraded or not posted:
            return False
        when = datetime.fromisoformat(str(posted))
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        return when < datetime.fromisoformat(upgraded)

    async def _sender_chat(
        self, action: Action, chat: int, sender_chat: int, where: str
    ) -> DeliveryResult:
        """A member speaking as one of their channels (``sender_chat``: a negative id) is no
        user: Telegram bans and unbans such a chat with its own methods, and has no mute or
        kick for it."""
        bot = self._bot()
        if action.kind == ActionKind.BAN:
            over, _ = self._until(action)
            if over:
                return DeliveryResult("", {"expired": True})  # its time is up: nothing to do
            if action.until is not None:
                # banChatSenderChat has no until_date: sent, a ban meant to end would not
                raise PlatformError(
                    CHANNEL_BAN_FOR_GOOD, where=where, permanent=True, channel=sender_chat
                )
            await bot.ban_chat_sender_chat(chat, sender_chat)
            return DeliveryResult()
        if action.kind == ActionKind.UNBAN:
            await bot.unban_chat_sender_chat(chat, sender_chat)
            return DeliveryResult()
        raise PlatformError(
            CHANNEL_ONLY_BAN, where=where, permanent=True, channel=sender_chat, kind=action.kind
        )

    async def _perform(self, action: Action, what: str, key: str) -> DeliveryResult:
        bot = self._bot()
        where = f"{self.source} {what}"
        kind = action.kind
        chat_id = self.platform_chat(action.chat_id)  # an upgraded group's new chat
        chat = _int(chat_id, BAD_CHAT_ID, where)
        user = _int(action.user_id, BAD_USER_ID, where) if action.user_id else 0
        number, in_new = self.message_number(action.chat_id, action.message_id)
        in_old_chat = self._in_old_chat(action, number, in_new)
        if in_old_chat and kind in (ActionKind.DELETE, ActionKind.PIN):
            raise PlatformError(POSTED_BEFORE_UPGRADE, where=where, permanent=True, chat=chat_id)
        if kind in (ActionKind.SEND, ActionKind.REPLY):
            # plain text, no parse_mode: a member's name cannot become markup
            reply = None
            if kind == ActionKind.REPLY and not in_old_chat:
                reply = ReplyParameters(
                    _int(number, BAD_MESSAGE_ID, where), allow_sending_without_reply=True
                )
            sent = await self._send_text(
                chat,
                action.text,
                key,
                reply=reply,
                markup=keyboard(action.data.get("buttons"), where),
                silent=bool(action.data.get("silent", False)),
            )
            return self._sent(sent, chat_id)
        if kind == ActionKind.DIRECT_MESSAGE:
            if not self.started(action.user_id):
                raise RecipientUnreachable(NOT_STARTED, where=where)
            dm = await self._send_text(
                user, action.text, key, markup=keyboard(action.data.get("buttons"), where)
            )
            return DeliveryResult(str(dm[0][0]), _parts({"chat_id": action.user_id}, dm))
        if kind == ActionKind.DELETE:
            mid = _int(number, BAD_MESSAGE_ID, where)
            when = self.translator.sent_at(chat_id, number)
            if when is None and action.data.get("message_at"):
                when = datetime.fromisoformat(str(action.data["message_at"]))
            if when is not None and when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if when is not None and (self.clock.now() - when).total_seconds() > DELETE_MAX_AGE:
                raise PlatformError(DELETE_TOO_OLD, where=where, permanent=True)
            await bot.delete_message(chat, mid)
            return DeliveryResult()
        if user < 0 and kind in SENDER_CHAT_KINDS:
            return await self._sender_chat(action, chat, user, where)
        if kind == ActionKind.MUTE:
            over, until = self._until(action)
            if over:
                return DeliveryResult("", {"expired": True})  # its time is up: nothing to do
            await bot.restrict_chat_member(
                chat,
                user,
                ChatPermissions.no_permissions(),
                until_date=until,
                use_independent_chat_permissions=True,
            )
            return DeliveryResult()
        if kind == ActionKind.UNMUTE:
            info = await bot.get_chat(chat)
            permissions = info.permissions or ChatPermissions.all_permissions()
            await bot.restrict_chat_member(
                chat, user, permissions, use_independent_chat_permissions=True
            )
            return DeliveryResult()
        if kind == ActionKind.BAN:
            over, until = self._until(action)
            if over:
                return DeliveryResult("", {"expired": True})
            await bot.ban_chat_member(
                chat,
                user,
                until_date=until,
                revoke_messages=bool(action.data.get("revoke_messages", False)),
            )
            return DeliveryResult()
        if kind == ActionKind.KICK:
            await bot.ban_chat_member(chat, user)
            await bot.unban_chat_member(chat, user, only_if_banned=True)  # may come back
            return DeliveryResult()
        if kind == ActionKind.UNBAN:
            await bot.unban_chat_member(chat, user, only_if_banned=True)
            return DeliveryResult()
        if kind == ActionKind.APPROVE_JOIN:
            await bot.approve_chat_join_request(chat, user)
            return DeliveryResult()
        if kind == ActionKind.DECLINE_JOIN:
            await bot.decline_chat_join_request(chat, user)
            return DeliveryResult()
        if kind == ActionKind.PIN:
            await bot.pin_chat_message(
                chat,
                _int(number, BAD_MESSAGE_ID, where),
                disable_notification=not action.data.get("notify", False),
            )
            return DeliveryResult()
        if kind == ActionKind.CREATE_INVITE_LINK:
            name = str(action.data.get("invite_name") or "")[:32] or None
            link = await bot.create_chat_invite_link(
                chat,
                name=name,
                creates_join_request=bool(action.data.get("join_request", False)),
            )
            return DeliveryResult(
                "", {"invite_link": link.invite_link, "invite_name": link.name or ""}
            )
        raise PlatformError(CANNOT, where=where, permanent=True, platform="telegram", kind=kind)
