"""The web chat's poll (GET /api/groups/{chat_id}/messages, twice a second per page) reads the
reactions to the lines it shows only: an indexed search of each line's events
(ix_events_message), not every reaction event of the group, whose number only grows. What it
answers is what counting all of them gave."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, select, text

from groupops.domain.events import EventKind
from groupops.engine.app import App
from groupops.platforms.sandbox.platform import reactions_now
from groupops.storage.tables import events, groups
from groupops.web import chat

PEOPLE = ["u1", "u2", "u3", "u4"]
EMOJIS = ["👍", "🔥", "🎉"]


def busy_group(
    make_app: Callable[..., App], lines: int = 60, acts: int = 600
) -> tuple[App, list[int]]:
    """Group g1 with ``lines`` lines and ``acts`` reactions given and taken back on them at
    random (and a second group, g2, with reactions of its own); g1's line ids."""
    app = make_app(features=())
    rnd = random.Random(7)
    ids: dict[str, list[int]] = {}
    for chat_id in ("g1", "g2"):
        app.sandbox.create_chat(chat_id, chat_id)
        app.handle([app.sandbox.join(chat_id, u, u.upper()) for u in PEOPLE])
        posted = [app.sandbox.post(chat_id, rnd.choice(PEOPLE), f"line {n}") for n in range(lines)]
        app.handle(posted)
        ids[chat_id] = [int(p.message_id) for p in posted]
    for n in range(acts):
        chat_id = "g1" if n % 4 else "g2"
        line, who, emoji = rnd.choice(ids[chat_id]), rnd.choice(PEOPLE), rnd.choice(EMOJIS)
        if rnd.random() < 0.3:
            taken = app.sandbox.unreact(chat_id, who, str(line), emoji)
            if taken is not None:
                app.handle([taken])
            continue
        app.handle([app.sandbox.react(chat_id, who, str(line), emoji, as_member=True)])
    return app, ids["g1"]


def counted_from_all(app: App, since: int, upto: int, viewer: str) -> tuple[Any, Any]:
    """The poll's reactions as counting every reaction event of the group gave them."""
    e = events.c
    with app.db.connect() as conn:
        gid = conn.execute(select(groups.c.id).where(groups.c.chat_id == "g1")).scalar()
        rows = conn.execute(
            select(e.message_id, e.user_id, e.payload)
            .where(e.group_id == gid, e.kind == EventKind.REACTION.value)
            .order_by(e.seq)
        ).all()
    counts: dict[str, dict[str, int]] = {}
    mine: dict[str, list[str]] = {}
    for (line, user, emoji), reacted in reactions_now(rows).items():
        if reacted.standing and since < int(line) <= upto:
            on_line = counts.setdefault(line, {})
            on_line[emoji] = on_line.get(emoji, 0) + 1
            if user == viewer:
                mine.setdefault(line, []).append(emoji)
    return counts, mine


def test_the_poll_answers_what_counting_every_reaction_gave(
    make_app: Callable[..., App],
) -> None:
    app, ids = busy_group(make_app)
    now = app.clock.now()
    windows = [(None, 0), (ids[30], ids[10]), (ids[-1], ids[0] - 1), (ids[5], ids[5] - 1)]
    for after, since in windows:
        for viewer in (*PEOPLE, None):
            got = chat.poll(app.sandbox, "g1", viewer, after=after, since=since, now=now)
            shown_from = since if after is not None else got["messages"][0]["id"] - 1
            counts, mine = counted_from_all(app, shown_from, got["last_id"], viewer or "")
            assert got["reactions"] == counts, (after, since)
            # byte for byte: the same order of lines and emojis
            assert list(got["reactions"].items()) == list(counts.items())
            assert got["my_reactions"] == mine, (after, since, viewer)
    assert any(chat.poll(app.sandbox, "g1", "u1", after=None, since=0, now=now)["reactions"])


@contextmanager
def statements(db: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL run on ``db`` meanwhile, with its parameters as the driver got them."""
    ran: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        ran.append((sql, params))

    event.listen(db, "before_cursor_execute", seen)
    try:
        yield ran
    finally:
        event.remove(db, "before_cursor_execute", seen)


def test_the_poll_reads_the_shown_lines_reactions_by_their_index(
    make_app: Callable[..., App],
) -> None:
    """How the database reads the events in the poll's read of reactions: by
    ix_events_message, the line's id part of the search (before: every reaction of the group
    through ix_events_group_kind_time, all of them sorted)."""
    app, ids = busy_group(make_app, lines=200, acts=1500)
    with statements(app.db) as ran:
        chat.poll(app.sandbox, "g1", "u1", after=ids[-1], since=ids[-20], now=app.clock.now())
    reads = [(sql, p) for sql, p in ran if re.search(r"\bFROM events\b", sql)]
    assert reads, "the poll read no reactions"
    with app.db.connect() as conn:
        on_postgres = conn.dialect.name == "postgresql"
        if on_postgres:
            conn.execute(text("ANALYZE events"))
            conn.execute(text("ANALYZE sandbox_messages"))
        for sql, params in reads:
            if on_postgres:
                plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params)]
                where = [line for line in plan if "Index Cond" in line]
                assert any("message_id" in line for line in where), plan
                assert not any("ix_events_group_kind_time" in line for line in plan), plan
            else:
                plan = [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
                on_events = [line for line in plan if re.search(r"\bevents\b", line)]
                assert on_events and all(
                    "USING INDEX ix_events_message" in line and "message_id=?" in line
                    for line in on_events
                ), plan
        conn.rollback()
