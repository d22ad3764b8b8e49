"""One driver per platform: how people act on it, and how it shows what the bot did.

Everything platform-specific of the scenario is here; script.py only talks to a Driver.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from groupops.domain.events import Event
from groupops.engine.clock import RealClock
from groupops.platforms.base import Capabilities
from groupops.platforms.sandbox import SANDBOX_CAPABILITIES, SandboxPlatform, SandboxRefused
from groupops.platforms.sandbox.adapter import BOT_ID
from groupops.platforms.sandbox.tables import sandbox_deliveries, sandbox_members, sandbox_messages
from tests.scenario.bot import BotProcess, wait_until
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
        wait_until("the owner's hello stored", lambda: store.event_ids())

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

    def seen(self) -> Counter[str]:
        with self.db.connect() as conn:
            done = conn.execute(select(sandbox_deliveries.c.action)).scalars().all()
        return Counter(PLATFORM_KIND[str(a["kind"])] for a in done)

    def close(self) -> None:
        self.bot.stop()


def describe(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:2000]
