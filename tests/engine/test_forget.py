"""forget: a member forgotten is gone everywhere groupops keeps them (the outbox and the
sandbox platform's tables too), and their id is never handed out again, so a forgotten person
who comes back is a new member with nothing, paid like anyone (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from sqlalchemy import Connection, func, select

from groupops.engine import admin
from groupops.engine.app import App
from groupops.features.points import leaderboard
from groupops.features.points.tables import points_ledger
from groupops.features.registry import FeatureRegistry
from groupops.platforms.sandbox.tables import sandbox_deliveries, sandbox_messages
from groupops.storage.tables import events, members, outbox, owner_tasks
from tests.features.helpers import feature_app

CHECKIN = "groupops.features.checkin:CheckinFeature"
POINTS = "groupops.features.points:PointsFeature"
FEATURES = (CHECKIN, POINTS)


def setup(make_app: Callable[..., App]) -> App:
    """Reading Camp (group 1, Asia/Shanghai, English): admin, Ann and Emily."""
    return feature_app(
        make_app,
        FEATURES,
        {"g1": "Reading Camp"},
        people=(("u1", "Ann"), ("u2", "Emily")),
        timezone="Asia/Shanghai",
    )


def say(app: App, uid: str, text: str) -> None:
    app.handle([app.sandbox.post("g1", uid, text)])


def member_of(app: App, name: str) -> int:
    with app.db.connect() as conn:
        return int(
            conn.execute(select(members.c.id).where(members.c.display_name == name)).scalar_one()
        )


def forget(app: App, member_id: int) -> dict[str, int]:
    return admin.forget_member(
        app.db, FeatureRegistry.load(FEATURES, extensions=False), member_id, app.clock.now()
    )


def deliver(app: App) -> None:
    while asyncio.run(app.deliver()):
        pass


def test_a_forgotten_id_is_never_handed_out_again(make_app: Callable[..., App]) -> None:
    """Emily has the highest id; forgotten, she comes back the same day as a new member with a
    new id, and her check-in is stored, paid and ranked (it was dropped as a duplicate of her
    scrubbed one: same member id, same derived event id). A newcomer gets a new id too."""
    app = setup(make_app)
    say(app, "u2", "签到")
    emily = member_of(app, "Emily")
    with app.db.connect() as conn:
        assert emily == conn.execute(select(func.max(members.c.id))).scalar_one()
    forget(app, emily)

    say(app, "u2", "I'm back")
    back = member_of(app, "Emily")
    assert back > emily
    say(app, "u2", "签到")
    app.handle([app.sandbox.join("g1", "u3", "Chen")])
    assert member_of(app, "Chen") > back

    with app.db.connect() as conn:
        checked = conn.execute(
            select(events.c.event_id).where(
                events.c.kind == "checked_in", events.c.member_id == back
            )
        ).all()
        paid = conn.execute(
            select(func.sum(points_ledger.c.points)).where(points_ledger.c.member_id == back)
        ).scalar()
        board = leaderboard(conn, 1, "month", app.clock.now(), 10)
    assert len(checked) == 1 and paid is not None and paid > 0
    assert [(r["member"], r["points"]) for r in board] == [("Emily", paid)]


def _kept_about(conn: Connection, words: tuple[str, ...]) -> list[str]:
    """Every outbox, owner task and sandbox row whose stored values mention one of ``words``."""
    found = []
    for table in (outbox, owner_tasks, sandbox_messages, sandbox_deliveries):
        for row in conn.execute(select(table)):
            text = json.dumps(
                {k: v for k, v in row._mapping.items()}, ensure_ascii=False, default=str
            )
            if any(w in text for w in words):
                found.append(f"{table.name}: {text}")
    return found


def test_forget_removes_the_bots_actions_and_the_sandboxs_copies(
    make_app: Callable[..., App],
) -> None:
    """Delivered or still waiting, no action about Emily stays in the outbox (aimed at her or
    answering her), and the sandbox keeps no message by her or for her: her lines, the bot's
    answers to her, its deliveries. Ann's stay, including the leaderboard Ann asked for, which
    names Emily (as other people's messages that mention her stay). Her account in the chat
    stays (a platform's, as on a real one): writing again, she is a new member."""
    app = setup(make_app)
    say(app, "u2", "签到 read 20 pages")
    say(app, "u1", "签到")
    say(app, "u2", "积分")
    deliver(app)
    say(app, "u1", "积分榜")  # names Emily, not delivered yet
    say(app, "u1", "积分")  # about Ann only, not delivered yet
    with app.db.connect() as conn:
        assert _kept_about(conn, ("Emily", "u2"))  # the test has something to forget
        ann_lines = conn.execute(
            select(func.count())
            .select_from(sandbox_messages)
            .where(sandbox_messages.c.user_id == "u1")
        ).scalar_one()
    forget(app, member_of(app, "Emily"))

    with app.db.connect() as conn:
        kept = _kept_about(conn, ("Emily", "u2"))
        assert len(kept) == 1 and kept[0].startswith("outbox: ") and "积分榜" not in kept[0]
        assert "u2" not in kept[0]  # only her name, in the board Ann asked for
        ann_texts = [r.payload["text"] for r in conn.execute(select(outbox))]
        assert any(t.startswith("✅ Ann checked in") for t in ann_texts)
        assert any(t.startswith("Ann: ") for t in ann_texts)
        assert (
            conn.execute(
                select(func.count())
                .select_from(sandbox_messages)
                .where(sandbox_messages.c.user_id == "u1")
            ).scalar_one()
            == ann_lines
        )
    deliver(app)  # what is left is sent as before
    with app.db.connect() as conn:
        statuses = {r.status for r in conn.execute(select(outbox.c.status))}
    assert statuses == {"delivered"}
    assert (app.sandbox.member_status("g1", "u2") or {}).get("status") == "active"
    say(app, "u2", "back again")
    assert member_of(app, "Emily") > 0


def test_forget_leaves_what_was_said_to_others(make_app: Callable[..., App]) -> None:
    """Forgetting Ann leaves every action and line of others whole: Anna's, and the
    leaderboard Anna asked for that names Ann too (a name is no proof of who is meant: it may
    be another member's, part of a longer name, or of the group's title)."""
    app = setup(make_app)
    app.handle([app.sandbox.join("g1", "u4", "Anna")])
    say(app, "u1", "签到")
    say(app, "u4", "签到")
    deliver(app)
    say(app, "u4", "积分榜")  # names Ann and Anna, not delivered yet
    ann = member_of(app, "Ann")
    with app.db.connect() as conn:
        theirs = {
            r.id: r.payload["text"]
            for r in conn.execute(select(outbox))
            if r.payload.get("user_id") != "u1" and "Ann checked in" not in r.payload["text"]
        }
        anna_lines = conn.execute(
            select(func.count())
            .select_from(sandbox_messages)
            .where(sandbox_messages.c.text.contains("Anna"))
        ).scalar_one()
    assert any("Ann " in t and "Anna" in t for t in theirs.values())
    forget(app, ann)

    with app.db.connect() as conn:
        after = {r.id: r.payload["text"] for r in conn.execute(select(outbox))}
        assert {i: after.get(i) for i in theirs} == theirs
        assert (
            conn.execute(
                select(func.count())
                .select_from(sandbox_messages)
                .where(sandbox_messages.c.text.contains("Anna"))
            ).scalar_one()
            == anna_lines
        )
    deliver(app)
    with app.db.connect() as conn:
        assert {r.status for r in conn.execute(select(outbox.c.status))} == {"delivered"}
