"""A fake Telegram Bot API server on 127.0.0.1, written from https://core.telegram.org/bots/api.

It answers ``POST/GET /bot<token>/<method>`` with the documented envelope
(``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...,
"parameters": {"retry_after": ...}}``), keeps the groups, members and messages the methods act
on, serves updates through ``getUpdates`` (offset confirms, ``timeout`` long-polls) or by
posting them to the webhook set with ``setWebhook`` (with ``X-Telegram-Bot-Api-Secret-Token``),
records every request with the time of ``now()``, and fails on demand (429 with
``retry_after``, 5xx, a request that hangs past the client's time-out). With ``enforce_limits``
it also refuses (429) a 21st message in one group within 60 seconds, as Telegram does.

Tests inject what people do with :meth:`join`, :meth:`post`, :meth:`press` ...
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from tests.loopback import serve

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MESSAGE_METHODS = frozenset({"sendMessage"})
#: sendMessage's longest text, after entities parsing
MESSAGE_MAX = 4096
_INT_KEYS = {
    "chat_id",
    "user_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "until_date",
    "sender_chat_id",
    "member_limit",
    "expire_date",
}
_JSON_KEYS = {"reply_markup", "reply_parameters", "permissions", "allowed_updates", "entities"}


@dataclass
class Recorded:
    at: datetime
    method: str
    params: dict[str, Any]
    outcome: str = "ok"  # ok, 429, 500, 502, timeout, error


@dataclass
class Fault:
    kind: str  # "429", "500", "502", "timeout", "400" (the bot may not write there, for now)
    times: int
    methods: frozenset[str] | None = None  # None: every method but getUpdates
    retry_after: int = 3
    after: int = 0  # matching calls let through before the fault starts
    description: str | None = None  # a 400's text, when not the default one

    def matches(self, method: str) -> bool:
        if self.times <= 0:
            return False
        hit = method != "getUpdates" if self.methods is None else method in self.methods
        if hit and self.after > 0:
            self.after -= 1
            return False
        return hit


def _length_after_entities(text: str, parse_mode: Any) -> int:
    """Telegram's count of a message's length: the text left once the markup is parsed, in
    UTF-16 code units (an emoji outside the basic plane counts two)."""
    if parse_mode == "HTML":
        text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return len(text.encode("utf-16-le")) // 2


def _bool(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


@dataclass
class FakeBotApi:
    token: str
    username: str = "groupops_test_bot"
    bot_id: int = 7000001
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    enforce_limits: bool = False
    hang_seconds: float = 5.0
    #: seconds each answer takes (a network round trip to Telegram); getUpdates excepted
    round_trip: float = 0.0

    def __post_init__(self) -> None:
        self.requests: list[Recorded] = []
        self.updates: list[dict[str, Any]] = []
        self.confirmed = 0  # updates below this id are gone (getUpdates offset)
        self.chats: dict[int, dict[str, Any]] = {}
        self.members: dict[tuple[int, int], dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.join_requests: set[tuple[int, int]] = set()
        self.invite_links: list[dict[str, Any]] = []
        self.pinned: dict[int, int] = {}
        self.answered: list[str] = []
        self.blocked: set[int] = set()  # people who blocked the bot
        self.banned_sender_chats: set[tuple[int, int]] = set()  # (group, channel)
        self.migrated: dict[int, int] = {}  # groups upgraded to supergroups: old id -> new id
        self.faults: list[Fault] = []
        self.webhook: dict[str, Any] | None = None
        self.webhook_posts: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self.served: list[int] = []  # update ids answered to getUpdates, in order
        #: the bot's command lists (setMyCommands), by (scope, language_code); a scope as
        #: sorted (field, value) pairs
        self.commands: dict[tuple[tuple[tuple[str, Any], ...], str], list[dict[str, str]]] = {}
        self._update_ids = itertools.count(100_000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._news = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    # -- server ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "groupops",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }

    async def start(self) -> FakeBotApi:
        app = web.Application(client_max_size=2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner, self.port = await serve(app)
        return self

    async def stop(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self,
        kind: str,
        times: int,
        methods: set[str] | None = None,
        retry_after: int = 3,
        after: int = 0,
        description: str | None = None,
    ) -> None:
        self.faults.append(
            Fault(
                kind,
                times,
                frozenset(methods) if methods else None,
                retry_after,
                after,
                description,
            )
        )

    def calls(self, method: str, *, ok_only: bool = True) -> list[Recorded]:
        return [
            r for r in self.requests if r.method == method and (r.outcome == "ok" or not ok_only)
        ]

    @staticmethod
    def _answer(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str, **parameters: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                raw.update(await request.json())
            else:
                raw.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if key in _INT_KEYS and isinstance(value, str):
                value = int(value)
            elif key in _JSON_KEYS and isinstance(value, str):
                value = json.loads(value)
            params[key] = value
        return params

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self.requests.append(Recorded(self.now(), method, {}, "unauthorized"))
            return self._error(401, "Unauthorized")
        params = await self._params(request)
        record = Recorded(self.now(), method, params)
        self.requests.append(record)
        if self.round_trip and method != "getUpdates":
            await asyncio.sleep(self.round_trip)
        for fault in self.faults:
            if fault.matches(method):
                fault.times -= 1
                record.outcome = fault.kind
                if fault.kind == "429":
                    return self._error(
                        429,
                        f"Too Many Requests: retry after {fault.retry_after}",
                        retry_after=fault.retry_after,
                    )
                if fault.kind == "timeout":
                    await asyncio.sleep(self.hang_seconds)  # the client gave up long before
                    return self._error(504, "Gateway Timeout")
                code = int(fault.kind)
                text = {
                    400: "Bad Request: not enough rights to send text messages to the chat",
                    500: "Internal Server Error",
                    502: "Bad Gateway",
                }.get(code, "Error")
                return self._error(code, fault.description or text)
        if isinstance(params.get("chat_id"), int) and params["chat_id"] in self.migrated:
            record.outcome = "400"
            return self._error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self.migrated[params["chat_id"]],
            )
        handler = getattr(self, f"m_{method}", None)
        if handler is None:
            record.outcome = "error"
            return self._error(404, "Not Found")
        try:
            response: web.Response = await handler(params)
        except KeyError as exc:
            response = self._error(400, f"Bad Request: parameter {exc} is required")
        if response.status != 200 and record.outcome == "ok":
            record.outcome = str(response.status)
        return response

    # -- the world: chats, people, updates -------------------------------------------------
    def add_chat(
        self, chat_id: int, title: str = "Group", kind: str = "supergroup", *, bot: bool = True
    ) -> None:
        """A group; the bot is an administrator there unless ``bot`` is False (someone adds
        it later: :meth:`bot_rights`)."""
        self.chats[chat_id] = {"id": chat_id, "type": kind, "title": title}
        if bot:
            self.members[(chat_id, self.bot_id)] = {"status": "administrator", "user": self.me}

    @staticmethod
    def person(user_id: int, first_name: str, username: str | None = None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        return user

    def _ts(self) -> int:
        return int(self.now().timestamp())

    def _until(self, p: dict[str, Any]) -> int:
        """restrictChatMember / banChatMember's ``until_date`` as Telegram reads it: 0 (for
        ever) when missing, less than 30 seconds from now or more than 366 days."""
        until = int(p.get("until_date", 0) or 0)
        if until and 30 <= until - self._ts() <= 366 * 86400:
            return until
        return 0

    def push(self, body: dict[str, Any]) -> int:
        """Queue one update (assigning its update_id); it reaches the bot by getUpdates or by
        the webhook."""
        update = {"update_id": next(self._update_ids), **body}
        self.updates.append(update)
        self._news.set()
        return int(update["update_id"])

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _member_status(self, chat_id: int, user: dict[str, Any]) -> dict[str, Any]:
        found = self.members.get((chat_id, user["id"]))
        return dict(found) if found else {"status": "left", "user": user}

    def join(
        self,
        chat_id: int,
        user: dict[str, Any],
        *,
        invite_link: dict[str, Any] | None = None,
        by: dict[str, Any] | None = None,
        via_join_request: bool = False,
    ) -> int:
        old = self._member_status(chat_id, user)
        new = {"status": "member", "user": user}
        self.members[(chat_id, user["id"])] = new
        body: dict[str, Any] = {
            "chat": self.chats[chat_id],
            "from": by or user,
            "date": self._ts(),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        if invite_link is not None:
            body["invite_link"] = invite_link
        if via_join_request:
            body["via_join_request"] = True
        return self.push({"chat_member": body})

    def leave(self, chat_id: int, user: dict[str, Any], by: dict[str, Any] | None = None) -> int:
        old = self._member_status(chat_id, user)
        new = {"status": "left", "user": user}
        self.members[(chat_id, user["id"])] = new
        return self.push(
            {
                "chat_member": {
                    "chat": self.chats[chat_id],
                    "from": by or user,
                    "date": self._ts(),
                    "old_chat_member": old,
                    "new_chat_member": new,
                }
            }
        )

    def migrate(self, old: int, new: int, by: dict[str, Any]) -> None:
        """The group ``old`` is upgraded to the supergroup ``new`` (made public, join requests
        turned on ...): Telegram says so in both chats, moves the members, numbers the new
        chat's messages anew, and refuses the old id from then on (400 with
        ``migrate_to_chat_id``)."""
        self.chats[new] = {"id": new, "type": "supergroup", "title": self.chats[old]["title"]}
        for (chat, user), member in list(self.members.items()):
            if chat == old:
                self.members[(new, user)] = dict(member)
        self.post(old, by, migrate_to_chat_id=new)
        self.post(new, by, migrate_from_chat_id=old)
        self.migrated[old] = new

    def promote(self, chat_id: int, user: dict[str, Any]) -> None:
        """Make someone an administrator (no update: as if done before the bot came)."""
        self.members[(chat_id, user["id"])] = {"status": "administrator", "user": user}

    def post(self, chat_id: int, user: dict[str, Any], text: str = "", **fields: Any) -> int:
        """A person posts a message; returns its message_id."""
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": user,
            "chat": self.chats.get(chat_id) or {"id": chat_id, "type": "private", **user},
            "date": self._ts(),
            **fields,
        }
        if text:
            message["text"] = text
        self.messages[(chat_id, message["message_id"])] = message
        self.push({"message": message})
        return int(message["message_id"])

    def rename(self, chat_id: int, user: dict[str, Any], title: str) -> int:
        """A person renames the group: the chat takes the title, and Telegram posts the
        ``new_chat_title`` service message (whose chat carries the new title already)."""
        self.chats[chat_id] = {**self.chats[chat_id], "title": title}
        return self.post(chat_id, user, "", new_chat_title=title)

    def start_bot(self, user: dict[str, Any]) -> int:
        """The person opens a private chat with the bot and sends /start."""
        self.chats.setdefault(
            user["id"], {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        )
        return self.post(
            user["id"], user, "/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}]
        )

    def edit(self, chat_id: int, message_id: int, text: str) -> int:
        message = dict(self.messages[(chat_id, message_id)])
        message.update(text=text, edit_date=self._ts())
        self.messages[(chat_id, message_id)] = message
        return self.push({"edited_message": message})

    def react(self, chat_id: int, user: dict[str, Any], message_id: int, emoji: str) -> int:
        return self.push(
            {
                "message_reaction": {
                    "chat": self.chats[chat_id],
                    "message_id": message_id,
                    "user": user,
                    "date": self._ts(),
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": emoji}],
                }
            }
        )

    def press(self, chat_id: int, user: dict[str, Any], message_id: int, data: str) -> int:
        message = self.messages[(chat_id, message_id)]
        return self.push(
            {
                "callback_query": {
                    "id": f"cq{next(self._update_ids)}",
                    "from": user,
                    "message": message,
                    "chat_instance": str(chat_id),
                    "data": data,
                }
            }
        )

    def request_join(
        self, chat_id: int, user: dict[str, Any], invite_link: dict[str, Any] | None = None
    ) -> int:
        self.join_requests.add((chat_id, user["id"]))
        body: dict[str, Any] = {
            "chat": self.chats[chat_id],
            "from": user,
            "user_chat_id": user["id"],
            "date": self._ts(),
        }
        if invite_link:
            body["invite_link"] = invite_link
        return self.push({"chat_join_request": body})

    def bot_rights(self, chat_id: int, by: dict[str, Any], status: str = "administrator") -> int:
        old = self.members.get((chat_id, self.bot_id)) or {"status": "left", "user": self.me}
        new: dict[str, Any] = {"status": status, "user": self.me}
        if status == "administrator":
            new.update(self._admin_rights())
        self.members[(chat_id, self.bot_id)] = new
        return self.push(
            {
                "my_chat_member": {
                    "chat": self.chats[chat_id],
                    "from": by,
                    "date": self._ts(),
                    "old_chat_member": old,
                    "new_chat_member": new,
                }
            }
        )

    @staticmethod
    def _admin_rights() -> dict[str, Any]:
        return {
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": False,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": False,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
            "can_pin_messages": True,
        }

    def sent(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat, in order."""
        return [
            m
            for (c, _), m in sorted(self.messages.items())
            if c == chat_id and m["from"]["id"] == self.bot_id
        ]

    # -- updates out -----------------------------------------------------------------------
    async def m_getUpdates(self, p: dict[str, Any]) -> web.Response:
        if self.webhook is not None:
            return self._error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(p.get("offset", 0))
        if offset > 0:
            self.confirmed = max(self.confirmed, offset)  # earlier updates are forgotten
        limit = int(p.get("limit", 100))
        timeout = int(p.get("timeout", 0))

        def pending() -> list[dict[str, Any]]:
            return [u for u in self.updates if u["update_id"] >= self.confirmed][:limit]

        found = pending()
        if not found and timeout > 0:
            self._news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), timeout)
            found = pending()
        self.served += [u["update_id"] for u in found]
        return self._answer(found)

    async def m_setWebhook(self, p: dict[str, Any]) -> web.Response:
        self.webhook = {"url": p["url"], "secret_token": p.get("secret_token", "")}
        if self._webhook_task is None:
            self._webhook_task = asyncio.create_task(self._deliver_webhook())
        self._news.set()
        return self._answer(True)

    async def m_deleteWebhook(self, p: dict[str, Any]) -> web.Response:
        self.webhook = None
        return self._answer(True)

    async def _deliver_webhook(self) -> None:
        """Post each update in order to the webhook; a refused one is posted again later."""
        self._session = aiohttp.ClientSession()
        while True:
            hook = self.webhook
            todo = [u for u in self.updates if u["update_id"] >= self.confirmed]
            if hook is None or not todo:
                self._news.clear()
                await self._news.wait()
                continue
            update = todo[0]
            headers = {SECRET_HEADER: hook["secret_token"]} if hook["secret_token"] else {}
            try:
                async with self._session.post(hook["url"], json=update, headers=headers) as r:
                    status = r.status
            except aiohttp.ClientError:
                status = 0
            self.webhook_posts.append((update["update_id"], status))
            if 200 <= status < 300:
                self.confirmed = update["update_id"] + 1
            else:
                await asyncio.sleep(0.2)

    # -- methods ---------------------------------------------------------------------------
    async def m_getMe(self, p: dict[str, Any]) -> web.Response:
        return self._answer(self.me)

    def _chat(self, p: dict[str, Any]) -> dict[str, Any] | None:
        return self.chats.get(int(p["chat_id"]))

    async def m_sendMessage(self, p: dict[str, Any]) -> web.Response:
        chat = self._chat(p)
        if chat is None and int(p["chat_id"]) > 0:  # a person who never started the bot
            return self._error(403, "Forbidden: bot can't initiate conversation with a user")
        if int(p["chat_id"]) in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        text = str(p.get("text", ""))
        if not text:
            return self._error(400, "Bad Request: message text is empty")
        if _length_after_entities(text, p.get("parse_mode")) > MESSAGE_MAX:
            return self._error(400, "Bad Request: message is too long")
        if self.enforce_limits and chat["type"] != "private":
            now = self.now().timestamp()
            recent = [
                r
                for r in self.requests[:-1]
                if r.method in MESSAGE_METHODS
                and r.outcome == "ok"
                and r.params.get("chat_id") == chat["id"]
                and now - r.at.timestamp() < 60
            ]
            if len(recent) >= 20:
                self.requests[-1].outcome = "limit"  # the bot broke Telegram's group limit
                return self._error(429, "Too Many Requests: retry after 10", retry_after=10)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self.me,
            "chat": chat,
            "date": self._ts(),
            "text": text,
        }
        if p.get("reply_markup"):
            message["reply_markup"] = p["reply_markup"]
        reply = p.get("reply_parameters")
        if reply:
            target = self.messages.get((chat["id"], int(reply["message_id"])))
            if target is not None:
                message["reply_to_message"] = target
            elif not reply.get("allow_sending_without_reply"):
                return self._error(400, "Bad Request: message to be replied not found")
        if p.get("parse_mode"):
            message["parse_mode_used"] = p["parse_mode"]
        self.messages[(chat["id"], message["message_id"])] = message
        return self._answer(message)

    async def m_deleteMessage(self, p: dict[str, Any]) -> web.Response:
        key = (int(p["chat_id"]), int(p["message_id"]))
        message = self.messages.get(key)
        if message is None or message.get("deleted"):
            return self._error(400, "Bad Request: message to delete not found")
        if self._ts() - int(message["date"]) > 48 * 3600:
            return self._error(400, "Bad Request: message can't be deleted for everyone")
        message["deleted"] = True
        return self._answer(True)

    def _in_chat(self, p: dict[str, Any]) -> tuple[int, int] | web.Response:
        chat = self._chat(p)
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        return chat["id"], int(p["user_id"])

    async def m_restrictChatMember(self, p: dict[str, Any]) -> web.Response:
        key = self._in_chat(p)
        if isinstance(key, web.Response):
            return key
        member = self.members.get(key)
        if member is None:
            return self._error(400, "Bad Request: user not found")
        if member["status"] in ("administrator", "creator"):
            return self._error(400, "Bad Request: can't restrict self or an administrator")
        perms = p.get("permissions") or {}
        muted = not perms.get("can_send_messages", False)
        member.update(
            status="restricted" if muted else "member",
            is_member=True,
            until_date=self._until(p),
            permissions=perms,
        )
        return self._answer(True)

    async def m_banChatMember(self, p: dict[str, Any]) -> web.Response:
        key = self._in_chat(p)
        if isinstance(key, web.Response):
            return key
        user = (self.members.get(key) or {}).get("user") or {"id": key[1]}
        self.members[key] = {"status": "kicked", "user": user, "until_date": self._until(p)}
        return self._answer(True)

    async def m_unbanChatMember(self, p: dict[str, Any]) -> web.Response:
        key = self._in_chat(p)
        if isinstance(key, web.Response):
            return key
        member = self.members.get(key)
        if member is not None and member["status"] == "kicked":
            member["status"] = "left"
        elif member is not None and not _bool(p.get("only_if_banned")):
            member["status"] = "left"  # without only_if_banned, Telegram removes a member
        return self._answer(True)

    async def m_banChatSenderChat(self, p: dict[str, Any]) -> web.Response:
        chat = self._chat(p)
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        self.banned_sender_chats.add((chat["id"], int(p["sender_chat_id"])))
        return self._answer(True)

    async def m_unbanChatSenderChat(self, p: dict[str, Any]) -> web.Response:
        chat = self._chat(p)
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        self.banned_sender_chats.discard((chat["id"], int(p["sender_chat_id"])))
        return self._answer(True)

    async def _join_request_answer(self, p: dict[str, Any], approve: bool) -> web.Response:
        key = self._in_chat(p)
        if isinstance(key, web.Response):
            return key
        if key not in self.join_requests:
            return self._error(400, "Bad Request: HIDE_REQUESTER_MISSING")
        self.join_requests.discard(key)
        if approve:
            self.members[key] = {"status": "member", "user": {"id": key[1]}}
        return self._answer(True)

    async def m_approveChatJoinRequest(self, p: dict[str, Any]) -> web.Response:
        return await self._join_request_answer(p, True)

    async def m_declineChatJoinRequest(self, p: dict[str, Any]) -> web.Response:
        return await self._join_request_answer(p, False)

    async def m_createChatInviteLink(self, p: dict[str, Any]) -> web.Response:
        chat = self._chat(p)
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        name = p.get("name")
        if name is not None and len(str(name)) > 32:
            return self._error(400, "Bad Request: invite link name is too long")
        link: dict[str, Any] = {
            "invite_link": f"https://t.me/+fake{len(self.invite_links):06d}",
            "creator": self.me,
            "creates_join_request": _bool(p.get("creates_join_request")),
            "is_primary": False,
            "is_revoked": False,
        }
        if name:
            link["name"] = str(name)
        self.invite_links.append({**link, "chat_id": chat["id"]})
        return self._answer(link)

    async def m_pinChatMessage(self, p: dict[str, Any]) -> web.Response:
        key = (int(p["chat_id"]), int(p["message_id"]))
        if key not in self.messages:
            return self._error(400, "Bad Request: message to pin not found")
        self.pinned[key[0]] = key[1]
        return self._answer(True)

    async def m_leaveChat(self, p: dict[str, Any]) -> web.Response:
        """The bot leaves: Telegram tells it so (my_chat_member, from the bot itself)."""
        chat = self._chat(p)
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        if not self._bot_in(chat["id"]):
            return self._error(403, "Forbidden: bot is not a member of the supergroup chat")
        self.bot_rights(chat["id"], self.me, status="left")
        return self._answer(True)

    def _bot_in(self, chat_id: int) -> bool:
        member = self.members.get((chat_id, self.bot_id)) or {}
        return member.get("status") in ("creator", "administrator", "member")

    async def m_answerCallbackQuery(self, p: dict[str, Any]) -> web.Response:
        self.answered.append(str(p["callback_query_id"]))
        return self._answer(True)

    async def m_getChatAdministrators(self, p: dict[str, Any]) -> web.Response:
        chat = self._chat(p)
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        out = []
        for (c, _), m in self.members.items():
            if c != chat["id"]:
                continue
            if m["status"] == "creator":
                out.append({"status": "creator", "user": m["user"], "is_anonymous": False})
            elif m["status"] == "administrator":
                out.append({"status": "administrator", "user": m["user"], **self._admin_rights()})
        return self._answer(out)

    # -- the command menu (setMyCommands, getMyCommands, deleteMyCommands) ---------------
    # What the Bot API checks (its server, TDLib, then Telegram): the scope (BotCommandScope:
    # a known type, a chat it can see), the language (empty or two lower-case letters), each
    # command trimmed and without a leading "/", 1-32 characters, its description trimmed,
    # 1-256; then Telegram's own: at most 100 commands, each of a-z, 0-9 and _ only.

    def command_list(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The list set for exactly ``scope`` (None: the default scope) and language."""
        key = tuple(sorted((scope or {"type": "default"}).items()))
        return list(self.commands.get((key, language_code), []))

    def _command_scope(
        self, p: dict[str, Any]
    ) -> tuple[tuple[tuple[str, Any], ...], str] | web.Response:
        raw = p.get("scope") or {"type": "default"}
        try:
            scope = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            return self._error(400, "Bad Request: can't parse scope JSON object")
        if not isinstance(scope, dict):
            return self._error(400, "Bad Request: can't parse BotCommandScope: expected an Object")
        kind = scope.get("type")
        if kind not in {
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        }:
            return self._error(
                400, "Bad Request: can't parse BotCommandScope: Unsupported type specified"
            )
        if kind.startswith("chat"):
            if "chat_id" not in scope:
                return self._error(
                    400, "Bad Request: can't parse BotCommandScope: Can't find field \"chat_id\""
                )
            chat = str(scope["chat_id"])
            if not chat.lstrip("-").isdigit() or int(chat) not in self.chats:
                return self._error(400, "Bad Request: chat not found")
        language = str(p.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            return self._error(400, "Bad Request: invalid language code specified")
        return tuple(sorted(scope.items())), language

    async def m_setMyCommands(self, p: dict[str, Any]) -> web.Response:
        where = self._command_scope(p)
        if isinstance(where, web.Response):
            return where
        raw = p.get("commands", [])  # none: the empty list, which deletes the list
        try:
            commands = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            return self._error(400, "Bad Request: can't parse commands JSON object")
        if not isinstance(commands, list):
            return self._error(400, "Bad Request: expected an Array of BotCommand")
        kept: list[dict[str, str]] = []
        for item in commands:
            if not isinstance(item, dict):
                return self._error(400, "Bad Request: can't parse BotCommand: expected an Object")
            for name in ("command", "description"):
                if name not in item:
                    return self._error(
                        400, f"Bad Request: can't parse BotCommand: Can't find field \"{name}\""
                    )
            command = str(item["command"]).strip().removeprefix("/")
            description = str(item["description"]).strip()
            if not command:
                return self._error(400, "Bad Request: command must be non-empty")
            if len(command) > 32:
                return self._error(400, "Bad Request: command length must not exceed 32")
            if not description:
                return self._error(400, "Bad Request: command description must be non-empty")
            if len(description) > 256:
                return self._error(
                    400, "Bad Request: command description length must not exceed 256"
                )
            kept.append({"command": command, "description": description})
        if len(kept) > 100:
            return self._error(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        if any(not re.fullmatch(r"[a-z0-9_]+", c["command"]) for c in kept):
            return self._error(400, "Bad Request: BOT_COMMAND_INVALID")
        if kept:
            self.commands[where] = kept
        else:
            self.commands.pop(where, None)
        return self._answer(True)

    async def m_getMyCommands(self, p: dict[str, Any]) -> web.Response:
        where = self._command_scope(p)
        if isinstance(where, web.Response):
            return where
        return self._answer(self.commands.get(where, []))

    async def m_deleteMyCommands(self, p: dict[str, Any]) -> web.Response:
        where = self._command_scope(p)
        if isinstance(where, web.Response):
            return where
        self.commands.pop(where, None)
        return self._answer(True)

    async def m_getChat(self, p: dict[str, Any]) -> web.Response:
        chat = self._chat(p)
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        return self._answer(
            {
                **chat,
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
                "permissions": {
                    "can_send_messages": True,
                    "can_send_photos": True,
                    "can_send_videos": True,
                    "can_send_polls": False,
                    "can_invite_users": True,
                    "can_pin_messages": False,
                },
            }
        )
