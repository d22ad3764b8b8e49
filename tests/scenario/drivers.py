"""One driver per platform: how people act on it, and how it shows what the bot did.

Everything platform-specific of the scenario is here; script.py only talks to a Driver.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    JoinResponse,
    LoginResponse,
    MessageDirection,
    RoomCreateResponse,
    RoomGetEventResponse,
    RoomGetStateEventResponse,
    RoomMessagesResponse,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)
from sqlalchemy import Engine, insert, select, update

from groupops.domain.events import Event
from groupops.engine.clock import RealClock
from groupops.platforms.base import Capabilities
from groupops.platforms.matrix import ConnectionStore as MatrixStore
from groupops.platforms.matrix import MatrixAdapter
from groupops.platforms.matrix.config import connect as connect_matrix
from groupops.platforms.sandbox import SANDBOX_CAPABILITIES, SandboxPlatform, SandboxRefused
from groupops.platforms.sandbox.adapter import BOT_ID
from groupops.platforms.sandbox.tables import sandbox_deliveries, sandbox_members, sandbox_messages
from groupops.platforms.telegram import ConnectionStore as TelegramStore
from groupops.platforms.telegram import TelegramAdapter, TelegramConfig
from groupops.platforms.telegram.config import connect as connect_telegram
from tests.helpers import wait_until
from tests.platforms.matrix.conftest import Person as Client
from tests.platforms.matrix.conftest import new_account
from tests.platforms.matrix.helpers import bot_config
from tests.platforms.telegram.conftest import GROUP, TOKEN
from tests.platforms.telegram.fake_bot_api import FakeBotApi
from tests.scenario.bot import SERVE_READY, WAIT, BotProcess, serve_argv
from tests.scenario.proxy import TroubleProxy
from tests.scenario.script import BotLine, Person, Store

#: the bot's actions as a platform counts them: a message is a message, whatever its kind
PLATFORM_KIND = {
    "send": "message",
    "reply": "message",
    "direct_message": "message",
    "delete": "delete",
    "mute": "mute",
    "unmute": "unmute",
    "kick": "kick",
}


def _now() -> datetime:
    return datetime.now(UTC)


# -- sandbox --------------------------------------------------------------------------------
class SandboxDriver:
    """The sandbox's 'servers' are played here (SandboxPlatform, on the bot's database); each
    act becomes an event in the spool the bot process reads (tests/scenario/sandbox_worker.py)."""

    source = "sandbox"
    chat_id = "scenario"
    has_position = False
    capabilities: Capabilities = SANDBOX_CAPABILITIES

    def __init__(self, db: Engine, database_url: str, folder: Path) -> None:
        self.db = db
        self.platform = SandboxPlatform(db, RealClock())
        self.spool = folder / "sandbox-events.jsonl"
        self.spool.touch()
        self.outage = self.spool.with_suffix(".outage")
        self.bot = BotProcess(
            [sys.executable, "-m", "tests.scenario.sandbox_worker", database_url, str(self.spool)],
            folder / "bot.log",
            r"sandbox bot ready",
        )
        self.owner = Person("Owner", user_id="u-owner")
        self._ids: list[str] = []

    def _hand_over(self, event: Event) -> None:
        self._ids.append(event.event_id)
        with open(self.spool, "a", encoding="utf-8") as f:
            f.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")

    def open_group(self) -> None:
        self.platform.create_chat(self.chat_id, "Scenario group")
        with self.db.begin() as conn:  # in the group before the bot came: no event
            conn.execute(
                insert(sandbox_members).values(
                    source=self.source,
                    chat_id=self.chat_id,
                    user_id=self.owner.user_id,
                    name=self.owner.name,
                    status="active",
                    is_admin=True,
                    started_bot=True,
                )
            )
        self.bot.start()
        assert self.post(self.owner, "Hello everyone, welcome to our group!")
        store = Store(self.db, self.source, self.chat_id)
        wait_until(lambda: store.event_ids(), timeout=WAIT, what="the owner's hello stored")

    def person(self, name: str) -> Person:
        return Person(name, user_id=f"u-{name.lower()}")

    def open_private_chat(self, p: Person) -> None:
        return None  # sandbox members can always get a private message

    def join(self, p: Person) -> None:
        self._hand_over(self.platform.join(self.chat_id, p.user_id, p.name))

    def post(self, p: Person, text: str) -> str | None:
        try:
            event = self.platform.post(self.chat_id, p.user_id, text)
        except SandboxRefused:
            return None
        self._hand_over(event)
        return event.message_id

    def press(self, p: Person, line: BotLine, button_text: str) -> None:
        data = next(d for t, d in line.buttons if t == button_text)
        self._hand_over(self.platform.press(self.chat_id, p.user_id, line.id, data))

    def bot_lines(self) -> list[BotLine]:
        return [
            BotLine(
                str(m.id),
                m.text,
                tuple((b["text"], b["data"]) for row in (m.buttons or []) for b in row),
                m.deleted,
            )
            for m in self.platform.messages(self.chat_id, limit=1000)
            if m.user_id == BOT_ID and m.kind == "message"
        ]

    def private_lines(self, p: Person) -> list[str]:
        return [
            m.text
            for m in self.platform.messages(self.chat_id, limit=1000, viewer=p.user_id)
            if m.kind == "dm" and m.to_user_id == p.user_id
        ]

    def is_deleted(self, message_id: str) -> bool:
        with self.db.connect() as conn:
            return bool(
                conn.execute(
                    select(sandbox_messages.c.deleted).where(
                        sandbox_messages.c.id == int(message_id)
                    )
                ).scalar()
            )

    def is_muted(self, p: Person) -> bool:
        row = self.platform.member_status(self.chat_id, p.user_id)
        return bool(row and row["muted_until"] is not None and row["muted_until"] > _now())

    def end_mute(self, p: Person) -> None:
        with self.db.begin() as conn:
            conn.execute(
                update(sandbox_members)
                .where(
                    sandbox_members.c.chat_id == self.chat_id,
                    sandbox_members.c.user_id == p.user_id,
                )
                .values(muted_until=None)
            )

    def is_member(self, p: Person) -> bool:
        row = self.platform.member_status(self.chat_id, p.user_id)
        return bool(row and row["status"] == "active")

    def trouble(self, on: bool) -> None:
        if on:
            self.outage.touch()
        else:
            self.outage.unlink(missing_ok=True)

    def acts(self) -> list[str]:
        return list(self._ids)

    def resumed_from(self) -> str | None:
        return None  # the spool is offered again from its first line; the store drops repeats

    def seen(self) -> Counter[str]:
        with self.db.connect() as conn:
            done = conn.execute(select(sandbox_deliveries.c.action)).scalars().all()
        return Counter(PLATFORM_KIND[str(a["kind"])] for a in done)

    def close(self) -> None:
        self.bot.stop()


# -- Telegram -------------------------------------------------------------------------------
class FakeOnThread:
    """The fake Bot API server on its own event loop in a thread (the bot is another process);
    the test touches it only through :meth:`call`, on that loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake: FakeBotApi = asyncio.run_coroutine_threadsafe(
            FakeBotApi(TOKEN).start(), self.loop
        ).result(10)

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class TelegramDriver:
    """`groupops serve` with a Telegram connection, polling the fake Bot API server; people act
    by the updates the fake serves (tests/platforms/telegram/fake_bot_api.py)."""

    has_position = True

    def __init__(self, db: Engine, database_url: str, folder: Path) -> None:
        self.db = db
        self.server = FakeOnThread()
        self.fake = self.server.fake
        self.group = GROUP
        try:
            self.server.call(self.fake.add_chat, GROUP, "Scenario group")
            config = connect_telegram(
                db,
                TelegramConfig(
                    TOKEN,
                    base_url=self.fake.base_url,
                    poll_timeout=1,
                    request_timeout=2.0,
                    # the scenario's dozen messages go out at once (limits are tested elsewhere)
                    per_second=100.0,
                    per_chat_per_minute=600.0,
                    burst=50,
                ),
                _now(),
            )
        except BaseException:
            self.server.stop()
            raise
        self.source = config.source
        self.chat_id = str(GROUP)
        self.capabilities: Capabilities = TelegramAdapter(
            config, store=TelegramStore(db, config.source)
        ).capabilities
        self.bot = BotProcess(serve_argv(database_url), folder / "bot.log", SERVE_READY)
        self.owner = self._new("Owner", 500)
        self.server.call(self.fake.promote, GROUP, self.owner.ref)
        self._uids = iter(range(501, 600))
        self._updates: list[str] = []
        self._requests_at_kill = 0
        self.bot.on_kill.append(self._killed)

    def _killed(self) -> None:
        self._requests_at_kill = int(self.server.call(len, self.fake.requests))

    def resumed_from(self) -> str | None:
        def first_poll() -> Any:
            later = self.fake.requests[self._requests_at_kill :]
            return next(r.params.get("offset") for r in later if r.method == "getUpdates")

        offset = self.server.call(first_poll)
        return None if offset is None else str(offset)

    @staticmethod
    def _new(name: str, uid: int) -> Person:
        return Person(name, ref=FakeBotApi.person(uid, name), user_id=str(uid))

    def _member(self, p: Person) -> dict[str, Any]:
        found = self.server.call(self.fake.members.get, (self.group, int(p.user_id)))
        return dict(found or {"status": "left"})

    def open_group(self) -> None:
        self.bot.start()
        assert self.post(self.owner, "Hello everyone, welcome to our group!")
        store = Store(self.db, self.source, self.chat_id)
        wait_until(lambda: store.event_ids(), timeout=WAIT, what="the owner's hello stored")

    def person(self, name: str) -> Person:
        return self._new(name, next(self._uids))

    def open_private_chat(self, p: Person) -> None:
        # Telegram: a bot may write privately only to someone who sent it /start
        self.server.call(self.fake.start_bot, p.ref)

    def join(self, p: Person) -> None:
        self._updates.append(str(self.server.call(self.fake.join, self.group, p.ref)))

    def post(self, p: Person, text: str) -> str | None:
        member = self._member(p)
        status = member["status"]
        if status not in ("member", "restricted", "administrator", "creator"):
            return None  # not in the group
        can_send = (member.get("permissions") or {}).get("can_send_messages", True)
        until = int(member.get("until_date") or 0)
        if status == "restricted" and not can_send and (until == 0 or until > _now().timestamp()):
            return None  # Telegram's own apps do not let a muted member send

        def send() -> tuple[int, int]:
            mid = self.fake.post(self.group, p.ref, text)
            return mid, int(self.fake.updates[-1]["update_id"])

        mid, update_id = self.server.call(send)
        self._updates.append(str(update_id))
        return str(mid)

    def press(self, p: Person, line: BotLine, button_text: str) -> None:
        data = next(d for t, d in line.buttons if t == button_text)
        update_id = self.server.call(self.fake.press, self.group, p.ref, int(line.id), data)
        self._updates.append(str(update_id))

    def _lines(self, chat: int) -> list[dict[str, Any]]:
        return list(self.server.call(self.fake.sent, chat))

    def bot_lines(self) -> list[BotLine]:
        out = []
        for m in self._lines(self.group):
            rows = (m.get("reply_markup") or {}).get("inline_keyboard") or []
            buttons = tuple((b["text"], b["callback_data"]) for row in rows for b in row)
            out.append(BotLine(str(m["message_id"]), m["text"], buttons, bool(m.get("deleted"))))
        return out

    def private_lines(self, p: Person) -> list[str]:
        return [m["text"] for m in self._lines(int(p.user_id))]

    def is_deleted(self, message_id: str) -> bool:
        found = self.server.call(self.fake.messages.get, (self.group, int(message_id)))
        return bool(found and found.get("deleted"))

    def is_muted(self, p: Person) -> bool:
        member = self._member(p)
        can_send = (member.get("permissions") or {}).get("can_send_messages", True)
        return member["status"] == "restricted" and not can_send

    def end_mute(self, p: Person) -> None:
        def lift() -> None:  # what Telegram does when until_date has passed
            member = self.fake.members[(self.group, int(p.user_id))]
            member.update(status="member", permissions={}, until_date=0)

        self.server.call(lift)

    def is_member(self, p: Person) -> bool:
        return self._member(p)["status"] in ("member", "restricted", "administrator", "creator")

    def trouble(self, on: bool) -> None:
        def switch() -> None:
            if on:  # 500 to every method but getUpdates, until further notice
                self.fake.fail("500", 10**6)
            else:
                for fault in self.fake.faults:
                    fault.times = 0

        self.server.call(switch)

    def acts(self) -> list[str]:
        return list(self._updates)

    def seen(self) -> Counter[str]:
        def count() -> Counter[str]:
            c: Counter[str] = Counter()
            c["message"] = len(self.fake.calls("sendMessage"))
            c["delete"] = len(self.fake.calls("deleteMessage"))
            c["kick"] = len(self.fake.calls("banChatMember"))
            for r in self.fake.calls("restrictChatMember"):
                perms = r.params.get("permissions") or {}
                c["unmute" if perms.get("can_send_messages") else "mute"] += 1
            return +c

        result: Counter[str] = self.server.call(count)
        return result

    def close(self) -> None:
        try:
            self.bot.stop()
        finally:
            self.server.stop()


# -- Matrix ---------------------------------------------------------------------------------
class MatrixDriver:
    """`groupops serve` with a Matrix connection to a real Synapse (through a proxy that can
    play a failing homeserver); people are matrix-nio clients (tests/platforms/matrix)."""

    has_position = True

    def __init__(self, db: Engine, database_url: str, folder: Path, synapse: Any) -> None:
        self.db = db
        self.synapse = synapse
        self.loop = asyncio.new_event_loop()
        self.proxy = TroubleProxy(synapse.url)
        self.account = new_account(synapse, "bot")
        try:  # `groupops connect matrix`, through the proxy
            config = replace(bot_config(synapse, self.account), homeserver=self.proxy.url)
            config = connect_matrix(db, config, _now())
        except BaseException:
            self.proxy.stop()
            self.loop.close()
            raise
        self.source = config.source
        self.bot_id = config.user_id
        self.capabilities: Capabilities = MatrixAdapter(
            config, store=MatrixStore(db, config.source)
        ).capabilities
        self.bot = BotProcess(serve_argv(database_url), folder / "bot.log", SERVE_READY)
        self.chat_id = ""
        self._syncs_at_kill = 0
        self.bot.on_kill.append(lambda: setattr(self, "_syncs_at_kill", len(self.proxy.syncs)))
        self._reader: Any = None
        self.people: list[Person] = []
        self.owner = self.person("Owner")

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def person(self, name: str) -> Person:
        client = self.run(Client(self.synapse, new_account(self.synapse, name.lower())).login())
        self.run(client.client.set_displayname(name))
        p = Person(name, ref=client, user_id=client.user_id)
        self.people.append(p)
        return p

    def _client(self, p: Person) -> Any:
        return p.ref.client

    def open_group(self) -> None:
        self.bot.start()
        owner = self._client(self.owner)
        made = self.run(
            owner.room_create(
                name="Scenario group",
                invite=[self.bot_id],
                preset=RoomPreset.public_chat,
                # room version 12: the owner (creator) is above every power level; the bot gets
                # 100, enough to remove messages, kick and change power levels (mutes)
                room_version="12",
                power_level_override={"users": {self.bot_id: 100}},
            )
        )
        assert isinstance(made, RoomCreateResponse), made
        self.chat_id = made.room_id

        async def bot_in() -> bool:
            members = await owner.joined_members(self.chat_id)
            return self.bot_id in {m.user_id for m in members.members}

        wait_until(lambda: self.run(bot_in()), timeout=WAIT, what="the bot to join the room")
        assert self.post(self.owner, "Hello everyone, welcome to our group!")
        store = Store(self.db, self.source, self.chat_id)
        wait_until(lambda: store.event_ids(), timeout=WAIT, what="the owner's hello stored")

    def open_private_chat(self, p: Person) -> None:
        return None  # the bot opens a direct room itself, by inviting the person

    def join(self, p: Person) -> None:
        answer = self.run(self._client(p).join(self.chat_id))
        assert isinstance(answer, JoinResponse), answer

    def post(self, p: Person, text: str) -> str | None:
        answer = self.run(
            self._client(p).room_send(
                self.chat_id, "m.room.message", {"msgtype": "m.text", "body": text}
            )
        )
        if isinstance(answer, RoomSendResponse):
            return str(answer.event_id)
        assert getattr(answer, "status_code", "") == "M_FORBIDDEN", answer
        return None  # the homeserver refused: muted, or not in the room

    def press(self, p: Person, line: BotLine, button_text: str) -> None:
        raise AssertionError("Matrix has no buttons: the scenario types the answer")

    def _timeline(self, client: Any, room: str) -> list[dict[str, Any]]:
        """The room's events, oldest first, as ``client`` sees them."""
        synced = self.run(client.sync(timeout=0, sync_filter={"room": {"timeline": {"limit": 1}}}))
        assert isinstance(synced, SyncResponse), synced
        page = self.run(
            client.room_messages(
                room, start=synced.next_batch, direction=MessageDirection.back, limit=1000
            )
        )
        assert isinstance(page, RoomMessagesResponse), page
        return [e.source for e in reversed(page.chunk)]

    def _group(self) -> list[dict[str, Any]]:
        raws = self._timeline(self._client(self.owner), self.chat_id)
        joined = next(
            i
            for i, r in enumerate(raws)
            if r["type"] == "m.room.member"
            and r.get("state_key") == self.bot_id
            and r["content"].get("membership") == "join"
        )
        return raws[joined + 1 :]

    def bot_lines(self) -> list[BotLine]:
        return [
            BotLine(r["event_id"], str(r["content"].get("body", "")), (), _redacted(r))
            for r in self._group()
            if r["sender"] == self.bot_id and r["type"] == "m.room.message"
        ]

    def _as_bot(self) -> Any:
        """The bot's account on another device: it reads the direct rooms the bot made. (The
        person does not join them: a joined direct room becomes a group, see
        test_matrix_direct_room_is_not_a_group.)"""
        if self._reader is None:
            self._reader = AsyncClient(self.synapse.url, self.bot_id)
            answer = self.run(self._reader.login(self.account.password))
            assert isinstance(answer, LoginResponse), answer
        return self._reader

    def private_lines(self, p: Person) -> list[str]:
        reader = self._as_bot()
        lines: list[str] = []
        for room in self.run(reader.joined_rooms()).rooms:
            if room == self.chat_id:
                continue
            member = self.run(reader.room_get_state_event(room, "m.room.member", p.user_id))
            if not isinstance(member, RoomGetStateEventResponse):
                continue  # someone else's direct room
            lines += [
                str(r["content"].get("body", ""))
                for r in self._timeline(reader, room)
                if r["sender"] == self.bot_id and r["type"] == "m.room.message"
            ]
        return lines

    def is_deleted(self, message_id: str) -> bool:
        answer = self.run(self._client(self.owner).room_get_event(self.chat_id, message_id))
        assert isinstance(answer, RoomGetEventResponse), answer
        return _redacted(answer.event.source)

    def _levels(self) -> dict[str, Any]:
        answer = self.run(
            self._client(self.owner).room_get_state_event(self.chat_id, "m.room.power_levels")
        )
        assert isinstance(answer, RoomGetStateEventResponse), answer
        return dict(answer.content)

    def is_muted(self, p: Person) -> bool:
        levels = self._levels()
        need = (levels.get("events") or {}).get("m.room.message", levels.get("events_default", 0))
        mine = (levels.get("users") or {}).get(p.user_id, levels.get("users_default", 0))
        return int(mine) < int(need)

    def end_mute(self, p: Person) -> None:
        levels = self._levels()
        levels["users"] = {u: v for u, v in (levels.get("users") or {}).items() if u != p.user_id}
        answer = self.run(
            self._client(self.owner).room_put_state(self.chat_id, "m.room.power_levels", levels)
        )
        assert getattr(answer, "event_id", ""), answer

    def is_member(self, p: Person) -> bool:
        members = self.run(self._client(self.owner).joined_members(self.chat_id))
        return p.user_id in {m.user_id for m in members.members}

    def trouble(self, on: bool) -> None:
        self.proxy.trouble = on

    def resumed_from(self) -> str | None:
        return self.proxy.syncs[self._syncs_at_kill] or None

    def acts(self) -> list[str]:
        out = []
        for r in self._group():
            content = r.get("content") or {}
            prev = (r.get("unsigned") or {}).get("prev_content") or {}
            if r["type"] == "m.room.message" and r["sender"] != self.bot_id:
                out.append(r["event_id"])
            elif r["type"] == "m.room.member" and r.get("state_key") != self.bot_id:
                now, before = content.get("membership"), prev.get("membership")
                if (now == "join" and before != "join") or (
                    now in ("leave", "ban") and before == "join"
                ):
                    out.append(r["event_id"])
        return out

    def seen(self) -> Counter[str]:
        c: Counter[str] = Counter()
        for r in self._group():
            if r["sender"] != self.bot_id:
                continue
            content = r.get("content") or {}
            if r["type"] == "m.room.message":
                c["message"] += 1
            elif r["type"] == "m.room.redaction":
                c["delete"] += 1
            elif r["type"] == "m.room.member" and content.get("membership") == "leave":
                c["kick"] += 1
            elif r["type"] == "m.room.power_levels":
                need = (content.get("events") or {}).get(
                    "m.room.message", content.get("events_default", 0)
                )
                before = ((r.get("unsigned") or {}).get("prev_content") or {}).get("users") or {}
                after = content.get("users") or {}
                for user in set(before) | set(after):
                    if before.get(user) != after.get(user):
                        muted = int(after.get(user, content.get("users_default", 0))) < int(need)
                        c["mute" if muted else "unmute"] += 1
        for p in self.people:
            if p is not self.owner:
                c["message"] += len(self.private_lines(p))
        return +c

    def close(self) -> None:
        try:
            self.bot.stop()
        finally:
            for p in self.people:
                self.run(p.ref.close())
            if self._reader is not None:
                self.run(self._reader.close())
            self.loop.close()
            self.proxy.stop()


def _redacted(raw: dict[str, Any]) -> bool:
    return "redacted_because" in (raw.get("unsigned") or {}) or (
        raw.get("type") == "m.room.message" and not raw.get("content")
    )
