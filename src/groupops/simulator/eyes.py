"""What a simulated person sees of the bot on the sandbox platform: its questions with buttons
(the join gate) and whether they are removed or muted. Read from the platform, as a person reads
their screen; never from the engine's own tables."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from groupops.platforms.sandbox.adapter import BOT_ID
from groupops.platforms.sandbox.tables import sandbox_members, sandbox_messages
from groupops.simulator.texts import solve_captcha


@dataclass(frozen=True)
class Prompt:
    message_id: str
    text: str
    buttons: list[dict[str, str]]

    def addressed_to(self, name: str) -> bool:
        """The gate greets the newcomer by name first: "👋 Ann, welcome! …"."""
        first = self.text.split("\n", 1)[0]
        return any(first.startswith(f"👋 {name}{mark}") for mark in (",", "，"))

    def choose(self, rng: random.Random, right: bool) -> str:
        """The button a person presses: the right sum, or (a careless one, a bot) another."""
        answer = solve_captcha(self.text.rsplit("\n", 1)[-1]) or solve_captcha(self.text)
        good = [b["data"] for b in self.buttons if b.get("text") == answer]
        bad = [b["data"] for b in self.buttons if b.get("text") != answer]
        if right and good:
            return good[0]
        return rng.choice(bad or good)

    def is_right(self, data: str) -> bool:
        answer = solve_captcha(self.text.rsplit("\n", 1)[-1]) or solve_captcha(self.text)
        return any(b["data"] == data and b.get("text") == answer for b in self.buttons)


def new_prompts(db: Engine, source: str, chat_id: str, after: int) -> list[Prompt]:
    """The bot's messages with buttons in the chat after message ``after``."""
    s = sandbox_messages.c
    with db.connect() as conn:
        rows = conn.execute(
            select(s.id, s.text, s.buttons)
            .where(
                s.source == source,
                s.chat_id == chat_id,
                s.user_id == BOT_ID,
                s.id > after,
                s.buttons.is_not(None),
                s.deleted.is_(False),
            )
            .order_by(s.id)
        ).all()
        conn.rollback()
    return [
        Prompt(str(r.id), str(r.text), [b for row in (r.buttons or []) for b in row]) for r in rows
    ]


def last_message_id(db: Engine, source: str, chat_id: str) -> int:
    s = sandbox_messages.c
    with db.connect() as conn:
        found = conn.execute(
            select(s.id)
            .where(s.source == source, s.chat_id == chat_id)
            .order_by(s.id.desc())
            .limit(1)
        ).scalar()
        conn.rollback()
    return int(found or 0)


def restrained(db: Engine, source: str, now: datetime, prefix: str = "") -> list[Any]:
    """Members the platform says are out of a chat (left, kicked, banned) or muted now."""
    m = sandbox_members.c
    q = select(m.chat_id, m.user_id, m.status, m.muted_until).where(
        m.source == source,
        m.is_admin.is_(False),
        (m.status != "active") | (m.muted_until > now),
    )
    if prefix:
        q = q.where(m.user_id.startswith(prefix))
    with db.connect() as conn:
        rows = conn.execute(q).all()
        conn.rollback()
    return list(rows)
