"""points: check-ins, messages with a cooldown, replies, reactions received, levels, the
leaderboards summed in SQL, and the month's top 3 at the month's end in the group's zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import typer
from sqlalchemy import func, select, update

from groupops.domain.errors import InvalidSettings
from groupops.engine import admin, settings_admin
from groupops.engine.app import App
from groupops.features.checkin.tables import checkin_stats
from groupops.features.points import (
    InvalidPeriod,
    PointsFeature,
    leaderboard,
    member_points,
    period_bounds,
)
from groupops.features.points.settings import PointsSettings
from groupops.features.points.tables import points_balances, points_ledger
from groupops.features.registry import FeatureRegistry
from groupops.storage.tables import events, groups, rejected_events
from tests.cli import error_line, run
from tests.conftest import T0
from tests.features.helpers import clear, clock, feature_app, said

CHECKIN = "groupops.features.checkin:CheckinFeature"
POINTS = "groupops.features.points:PointsFeature"
MODERATION = "groupops.features.moderation:ModerationFeature"
FEATURES = (MODERATION, CHECKIN, POINTS)
MEMBER = {"u1": 2, "u2": 3, "u3": 4, "admin": 1}


def setup(make_app: Callable[..., App], tz: str = "Asia/Shanghai", **settings: Any) -> App:
    """Brand Club (group 1): admin, Ann, Bob and Chen; points' ``settings``, English."""
    return feature_app(
        make_app, FEATURES, {"g1": "Brand Club"}, feature="points", settings=settings, timezone=tz
    )


def say(app: App, uid: str, text: str, reply_to: str = "") -> str:
    event = app.sandbox.post("g1", uid, text, reply_to=reply_to)
    app.handle([event])
    return event.message_id


def balance(app: App, uid: str) -> int:
    with app.db.connect() as conn:
        found = member_points(conn, 1, MEMBER[uid])
    return int(found["points"]) if found else 0


def board(app: App, period: str = "month", at: datetime | None = None) -> list[tuple[str, int]]:
    with app.db.connect() as conn:
        rows = leaderboard(conn, 1, period, at or app.clock.now(), 10)
    return [(r["member"], r["points"]) for r in rows]


def test_messages_pay_once_per_cooldown_so_floods_do_not(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    for n in range(5):  # a burst inside one minute
        say(app, "u1", f"thoughts number {n}")
        clock(app).advance(5)
    assert balance(app, "u1") == 1
    clock(app).advance(60)
    say(app, "u1", "a later message")
    say(app, "u1", "ok")  # within the cooldown anyway
    clock(app).advance(61)
    say(app, "u1", "k")  # too short to pay
    assert balance(app, "u1") == 2


def test_replies_pay_more_and_not_to_oneself(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    question = say(app, "u1", "How do I install it on Windows?")
    clock(app).advance(61)
    own = say(app, "u1", "anyone?", reply_to=question)
    clock(app).advance(61)
    say(app, "u2", "Use the installer from the site", reply_to=question)
    assert balance(app, "u2") == 2
    assert balance(app, "u1") == 2  # the question 1 + the self-reply as a plain message 1
    assert own


def test_reactions_pay_the_author_with_a_daily_cap(make_app: Callable[..., App]) -> None:
    app = setup(make_app, reaction_daily_cap=3, message_points=0)
    post = say(app, "u1", "Here are my notes from today's lesson")
    more = say(app, "u1", "And my questions")
    app.handle([app.sandbox.react("g1", "u1", post)])  # their own: nothing
    for uid in ("u2", "u3", "admin"):
        app.handle([app.sandbox.react("g1", uid, post, "👍")])
    app.handle([app.sandbox.react("g1", "u2", more, "❤️")])
    assert balance(app, "u1") == 3  # four reactions by others, capped at 3 a day
    clock(app).advance(timedelta(days=1))
    app.handle([app.sandbox.react("g1", "u3", more, "🔥")])
    assert balance(app, "u1") == 4


def test_a_batch_of_reactions_pays_as_one_by_one(make_app: Callable[..., App]) -> None:
    """Whom a batch's reactions pay is read for the whole batch at once: the cap, admins and
    self-applause still count as when they come one by one."""
    app = setup(make_app, reaction_daily_cap=3, message_points=0)
    notes = say(app, "u1", "Here are my notes from today's lesson")
    questions = say(app, "u1", "And my questions")
    slides = say(app, "u2", "And the slides")
    rules = say(app, "admin", "Please read the rules")
    reactions = [
        app.sandbox.react("g1", "u2", notes, "👍"),
        app.sandbox.react("g1", "u3", notes, "👍"),
        app.sandbox.react("g1", "u1", notes, "👏"),  # their own: nothing
        app.sandbox.react("g1", "admin", notes, "👍"),
        app.sandbox.react("g1", "u2", notes, "❤️"),  # Bob's second on the notes: nothing
        app.sandbox.react("g1", "u2", questions, "❤️"),  # the fourth by others: over the cap
        app.sandbox.react("g1", "u1", slides, "👍"),
        app.sandbox.react("g1", "u3", slides, "🔥"),
        app.sandbox.react("g1", "u1", rules, "👍"),  # admins earn nothing
    ]
    app.handle(reactions)
    assert (balance(app, "u1"), balance(app, "u2"), balance(app, "admin")) == (3, 2, 0)


def test_checkins_pay_and_the_command_message_does_not(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u1", "签到")
    assert balance(app, "u1") == 5
    with app.db.connect() as conn:
        from groupops.features.points.tables import points_ledger

        reasons = conn.execute(select(points_ledger.c.reason)).scalars().all()
    assert reasons == ["checkin"]


def test_admins_earn_nothing_unless_included(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "admin", "Welcome everyone, class starts at 8")
    assert balance(app, "admin") == 0
    reg = FeatureRegistry.load(FEATURES, extensions=False)
    settings_admin.set_setting(
        app.db, reg, feature="points", key="include_admins", value=True, group_ref="1"
    )
    app.engine.directory.invalidate()
    clock(app).advance(61)
    say(app, "admin", "Reminder: homework is due Friday")
    assert balance(app, "admin") == 1


def test_removed_ads_earn_nothing(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u3", "cheap followers at https://spam.example.com 加我微信 abc12345")
    assert balance(app, "u3") == 0


def test_levels_are_announced_once(make_app: Callable[..., App]) -> None:
    app = setup(make_app, levels=[{"name": "Seed", "points": 0}, {"name": "Sprout", "points": 3}])
    for _ in range(4):
        say(app, "u2", "a useful contribution")
        clock(app).advance(61)
    texts = said(app)
    assert texts == ["🎉 Bob reached level Sprout with 3 points!"]


def test_points_command_and_leaderboard_command(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u1", "签到")
    say(app, "u2", "签到")
    clock(app).advance(61)
    say(app, "u2", "hello there")
    clear(app)
    say(app, "u1", "积分")
    say(app, "u3", "/top")
    mine, top = said(app)
    assert mine == (
        "Ann: 5 points, level Newcomer. This month: 5 points, #2. 45 more points to Regular."
    )
    assert top.splitlines() == [
        "🏆 Points this month in Brand Club:",
        "1. Bob · 6 pts",
        "2. Ann · 5 pts",
    ]
    assert balance(app, "u1") == 5 and balance(app, "u3") == 0  # commands earn nothing
    clear(app)
    say(app, "u3", "积分")  # not on the board: no rank to give
    assert said(app) == [
        "Chen: 0 points, level Newcomer. No points this month yet. 50 more points to Regular."
    ]


def test_daily_weekly_monthly_boards_in_the_groups_zone(make_app: Callable[..., App]) -> None:
    app = setup(make_app)  # T0: Monday 2026-11-02 09:00 in Shanghai
    say(app, "u1", "签到")
    clock(app).advance(timedelta(days=1))
    say(app, "u2", "签到")
    clock(app).advance(timedelta(minutes=2))
    say(app, "u2", "good morning all")
    assert board(app, "day") == [("Bob", 6)]
    assert board(app, "week") == [("Bob", 6), ("Ann", 5)]
    assert board(app, "month") == [("Bob", 6), ("Ann", 5)]
    assert board(app, "week", T0 + timedelta(days=7)) == []
    # ties go to who got there first
    clock(app).advance(timedelta(days=1))
    say(app, "u1", "签到")
    say(app, "u1", "and hello")
    assert board(app, "month")[0] == ("Bob", 6) or board(app, "month")[0] == ("Ann", 11)
    assert board(app, "month") == [("Ann", 11), ("Bob", 6)]


def test_period_bounds_follow_the_zone() -> None:
    at = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # already 1 December in Shanghai
    start, end = period_bounds("month", at, "Asia/Shanghai")
    assert (start, end) == (
        datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 16, 0, tzinfo=UTC),
    )
    start, end = period_bounds("week", datetime(2026, 11, 4, tzinfo=UTC), "UTC")
    assert (start.day, end.day) == (2, 9)
    with pytest.raises(InvalidPeriod, match="year"):
        period_bounds("year", at, "UTC")


def test_month_end_top_three_once_with_rewards(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    clock(app).set(datetime(2026, 11, 30, 4, 0, tzinfo=UTC))  # 30 Nov, 12:00 in Shanghai
    for uid, n in (("u1", 3), ("u2", 1), ("u3", 2), ("admin", 5)):
        for k in range(n):
            say(app, uid, f"an idea worth sharing #{k}")
            clock(app).advance(61)
    clear(app)
    clock(app).set(datetime(2026, 11, 30, 15, 59, tzinfo=UTC))  # 23:59 local: not yet
    app.engine.tick()
    assert said(app) == []
    clock(app).set(datetime(2026, 11, 30, 16, 1, tzinfo=UTC))  # 00:01 on 1 December
    app.engine.tick()
    app.engine.tick()  # the next tick does not announce again
    texts = said(app)
    assert texts[1:] == [  # the rewards lifted two members a level: said after the top 3
        "🎉 Ann reached level Regular with 103 points!",
        "🎉 Chen reached level Regular with 62 points!",
    ]
    assert texts[0].splitlines() == [
        "🏆 The top 3 of November 2026 in Brand Club:",
        "🥇 Ann · 3 pts · 🎁 +100 bonus points",
        "🥈 Chen · 2 pts · 🎁 +60 bonus points",
        "🥉 Bob · 1 pts · 🎁 +30 bonus points",
        "Thank you all for taking part: a new month starts now, everyone starts at 0!",
    ]
    assert balance(app, "u1") == 103
    assert board(app, "month") == []  # rewards do not count in December's race


def test_month_end_follows_each_groups_zone(make_app: Callable[..., App]) -> None:
    app = setup(make_app, tz="America/New_York")
    clock(app).set(datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    say(app, "u1", "late night thoughts")
    clear(app)
    clock(app).set(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # 20:00 on 30 Nov in New York
    app.engine.tick()
    assert said(app) == []
    clock(app).set(datetime(2026, 12, 1, 5, 1, tzinfo=UTC))  # 00:01 on 1 Dec in New York
    app.engine.tick()
    assert said(app)[0].startswith("🏆 The top 3 of November 2026")


def test_bad_settings_name_the_field(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    reg = FeatureRegistry.load(FEATURES, extensions=False)
    with pytest.raises(InvalidSettings, match="first level must need 0"):
        settings_admin.set_setting(
            app.db,
            reg,
            feature="points",
            key="levels",
            value=[{"name": "A", "points": 5}],
            group_ref="1",
        )
    with pytest.raises(InvalidSettings, match="message_cooldown_seconds"):
        settings_admin.set_setting(
            app.db, reg, feature="points", key="message_cooldown_seconds", value=-1, group_ref="1"
        )


def test_leaderboard_command_line(
    make_app: Callable[..., App], database_url: str, cli: typer.Typer
) -> None:
    import json

    app = setup(make_app)
    say(app, "u1", "签到")
    say(app, "u2", "签到")
    clock(app).advance(61)
    say(app, "u2", "hello all")
    args = ["leaderboard", "--group", "sandbox:g1", "--period", "month", "--json"]
    db = {"GROUPOPS_DATABASE_URL": database_url}
    res = run(cli, *args, "--at", "2026-11-15", **db)
    assert res.exit_code == 0, res.output
    assert [(r["rank"], r["member"], r["points"]) for r in json.loads(res.stdout)] == [
        (1, "Bob", 6),
        (2, "Ann", 5),
    ]
    october = run(cli, *args, "--at", "2026-10-31T23:00", **db)
    assert october.exit_code == 0 and json.loads(october.stdout) == [], october.output
    nonsense = error_line(run(cli, *args, "--at", "last tuesday", **db))
    assert "is not a date or time" in nonsense and "last tuesday" in nonsense, nonsense
    bad = error_line(run(cli, "leaderboard", "--group", "sandbox:g1", "--period", "year", **db))
    assert "unknown period 'year'" in bad, bad


def test_months_are_filled_from_the_ledger_on_upgrade(database_url: str) -> None:
    """Migration 0007 sums the ledger already stored into each member's month, in the group's
    own zone, without the last race's prize."""
    from alembic import command
    from sqlalchemy import insert

    from groupops.features.points.tables import points_ledger, points_months
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import alembic_config, upgrade
    from groupops.storage.tables import groups, members, workspaces

    db = make_engine(database_url)
    upgrade(db)
    command.downgrade(alembic_config(db), "0006")
    with db.begin() as conn:
        conn.execute(
            insert(workspaces).values(id=1, slug="w", name="w", settings={}, created_at=T0)
        )
        conn.execute(
            insert(groups).values(
                id=1, workspace_id=1, source="sandbox", chat_id="g", title="g",
                timezone="Asia/Shanghai", language="en", settings={}, created_at=T0,
            )
        )  # fmt: skip
        conn.execute(
            insert(members),
            [
                {"id": i, "workspace_id": 1, "display_name": f"m{i}", "created_at": T0}
                for i in (1, 2)
            ],
        )
        late_october_utc = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)  # 1 November in Shanghai
        conn.execute(
            insert(points_ledger),
            [
                {"group_id": 1, "member_id": 1, "points": 5, "reason": "message",
                 "at": late_october_utc, "cause_seq": None},
                {"group_id": 1, "member_id": 1, "points": 3, "reason": "checkin",
                 "at": late_october_utc + timedelta(days=2), "cause_seq": None},
                {"group_id": 1, "member_id": 1, "points": 100, "reason": "monthly_reward",
                 "at": late_october_utc, "cause_seq": None},
                {"group_id": 1, "member_id": 2, "points": 4, "reason": "message",
                 "at": late_october_utc - timedelta(hours=2), "cause_seq": None},
            ],
        )  # fmt: skip
    upgrade(db)
    with db.connect() as conn:
        rows = sorted(
            (str(r.month), int(r.member_id), int(r.points), r.last_at)
            for r in conn.execute(select(points_months))
        )
    db.dispose()
    assert rows == [
        ("2026-10-01", 2, 4, late_october_utc - timedelta(hours=2)),
        ("2026-11-01", 1, 8, late_october_utc + timedelta(days=2)),
    ]


def test_month_race_ties_go_to_who_got_there_first(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u2", "Bob was here first")
    clock(app).advance(5)
    say(app, "u1", "Ann said it later")
    top = board(app)
    assert top[0][0] == "Bob" and top[1][0] == "Ann" and top[0][1] == top[1][1] > 0
    say(app, "u1", "积分")
    assert "#2" in said(app)[-1]


@pytest.mark.parametrize("limit", [200_000, 2, 0], ids=["whole-group", "per-member", "none"])
def test_balances_kept_in_memory_follow_commits_only(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """The balances a batch wrote are kept for the next batches only once the batch commits:
    a batch that fails as a whole (here writing its outbox) leaves neither the stored nor the
    remembered balance changed, and its re-delivery pays once. The same whether the group's
    balances fit in memory, or only some members', or none."""
    monkeypatch.setattr(PointsFeature, "KNOWN_LIMIT", limit)
    app = setup(make_app)
    say(app, "u2", "someone else speaks first")
    say(app, "u1", "first message of the day")
    assert balance(app, "u1") == 1
    clock(app).advance(61)
    event = app.sandbox.post("g1", "u1", "second message, batch fails")

    def broken(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    real_write_outbox = app.engine._write_outbox
    monkeypatch.setattr(app.engine, "_write_outbox", broken)
    with pytest.raises(OSError):
        app.handle([event])
    monkeypatch.setattr(app.engine, "_write_outbox", real_write_outbox)
    assert balance(app, "u1") == 1
    app.handle([event])  # the platform re-delivers the failed one: paid now, once
    assert balance(app, "u1") == 2  # not 3: the failed batch's award was forgotten
    clock(app).advance(61)
    say(app, "u1", "third message, pays")
    assert balance(app, "u1") == 3
    with app.db.connect() as conn:
        ledger = conn.execute(
            select(func.sum(points_ledger.c.points)).where(points_ledger.c.member_id == 2)
        ).scalar_one()
    assert ledger == 3
    assert balance(app, "u2") == 1


def test_a_forgotten_members_points_start_again_from_nothing(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app)
    say(app, "u1", "a message that pays")
    assert balance(app, "u1") == 1
    admin.forget_member(app.db, app.registry, MEMBER["u1"])
    clock(app).advance(61)
    say(app, "u1", "back again after being forgotten")
    with app.db.connect() as conn:
        rows = conn.execute(select(points_balances)).all()
    assert [(r.member_id != MEMBER["u1"], r.points) for r in rows] == [(True, 1)]


def test_a_member_forgotten_by_another_process_is_dropped_by_the_serving_one(
    make_app: Callable[..., App],
) -> None:
    """The CLI forgets a member while `serve` holds them in memory (their member id, points
    and check-in summary): the serving engine drops them at its next batch, so their next
    message is stored for a new member, not refused for the deleted one."""
    app = setup(make_app)
    say(app, "u1", "a message that pays")
    say(app, "u1", "签到")
    assert balance(app, "u1") > 0
    cli_registry = FeatureRegistry.load(FEATURES, extensions=False)  # another process's
    admin.forget_member(app.db, cli_registry, MEMBER["u1"])
    clock(app).advance(61)
    result = app.handle([app.sandbox.post("g1", "u1", "back again after being forgotten")])
    assert (result.stored, result.feature_errors) == (1, 0)
    app.handle([app.sandbox.post("g1", "u1", "签到")])
    with app.db.connect() as conn:
        stored = conn.execute(
            select(events.c.member_id).where(events.c.text == "back again after being forgotten")
        ).scalar_one()
        rows = conn.execute(select(points_balances)).all()
        rejected = conn.execute(select(func.count()).select_from(rejected_events)).scalar_one()
        summaries = conn.execute(select(checkin_stats.c.member_id, checkin_stats.c.total)).all()
    assert stored not in (None, MEMBER["u1"])  # a new member
    assert rejected == 0
    assert [(r.member_id, r.points > 0) for r in rows] == [(stored, True)]
    assert [tuple(r) for r in summaries] == [(stored, 1)]  # the first check-in of the new one


def test_a_restarted_process_reads_balances_once_before_events(
    make_app: Callable[..., App],
) -> None:
    """A new process (App.start warms up) reads every group's balances and check-in summaries
    before events come; its batches then read none, and go on from the stored balances."""
    from sqlalchemy import event as sa_event

    app = setup(make_app)
    say(app, "u1", "a message that pays")
    assert balance(app, "u1") == 1
    restarted = make_app(features=FEATURES)
    restarted.engine.warm_up()
    read: list[str] = []

    @sa_event.listens_for(restarted.db, "before_cursor_execute")
    def _seen(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            read.append(statement)

    clock(restarted).advance(61)
    restarted.handle([restarted.sandbox.post("g1", "u1", "another one that pays")])
    restarted.handle([restarted.sandbox.post("g1", "u2", "签到")])
    assert not [s for s in read if "points_balances" in s or "checkin_stats" in s]
    assert balance(app, "u1") == 2
    with app.db.connect() as conn:
        earned = conn.execute(
            select(func.sum(points_ledger.c.points)).where(points_ledger.c.member_id == 3)
        ).scalar_one()
    assert earned and balance(app, "u2") == earned  # the check-in paid, as stored


def test_points_commands_are_matched_as_check_ins_are(make_app: Callable[..., App]) -> None:
    """Upper or lower case makes no difference, and Telegram's command with the bot's name
    (`/top@yourbot`) is the command, as `/checkin@yourbot` is a check-in; text after the
    keyword makes it no points command (it is still a command: see the next test)."""
    app = setup(make_app)
    say(app, "u1", "签到")
    clear(app)
    say(app, "u1", "/Points")
    clock(app).advance(60)  # a member asking again within a minute gets no second answer
    say(app, "u1", "/points@yourbot")
    say(app, "u2", "/TOP@yourbot")
    clock(app).advance(60)
    say(app, "u2", " /top ")
    mine, mine_again, top, top_again = said(app)
    assert mine == mine_again and mine.startswith("Ann: 5 points, level Newcomer."), mine
    assert top == top_again and top.splitlines()[1] == "1. Ann · 5 pts", top
    say(app, "u1", "积分 please")
    say(app, "u1", "/topics")
    assert said(app) == []


def test_commands_earn_no_message_points(make_app: Callable[..., App]) -> None:
    """What moderation and welcome take for a command (anything starting with `/`, a
    message starting with a command keyword) earns nothing; conversation does."""
    app = setup(make_app)
    for text in ("/help", "积分怎么算", "/start@yourbot please", "积分 please", "排行榜 本周"):
        say(app, "u1", text)
        clock(app).advance(61)  # past the cooldown: only being a command keeps them unpaid
    assert balance(app, "u1") == 0
    say(app, "u1", "how are the points counted?")
    assert balance(app, "u1") == 1


def test_monthly_rewards_are_for_the_top_3_only(make_app: Callable[..., App]) -> None:
    """Only the month's top 3 are named and rewarded: a fourth reward is refused when set, with
    the setting and the limit named; a longer list stored before is read as its first 3 (the
    items after them were never used) and keeps points on in the group."""
    app = setup(make_app)
    reg = FeatureRegistry.load(FEATURES, extensions=False)
    four = [{"points": n} for n in (100, 60, 30, 10)]
    with pytest.raises(InvalidSettings) as refused:
        settings_admin.set_setting(
            app.db, reg, feature="points", key="monthly_rewards", value=four, group_ref="1"
        )
    assert "monthly_rewards" in str(refused.value) and "at most 3 items, not 4" in str(
        refused.value
    ), refused.value
    three = [{"points": 5, "text": "a signed book"}, {"points": 3}, {"points": 1}]
    settings_admin.set_setting(
        app.db, reg, feature="points", key="monthly_rewards", value=three, group_ref="1"
    )
    with app.db.begin() as conn:  # as an older version let an operator store them
        conn.execute(
            update(groups)
            .where(groups.c.id == 1)
            .values(settings={"points": {"monthly_rewards": four}})
        )
    app.engine.directory.invalidate()
    stored = PointsSettings.model_validate({"monthly_rewards": four})
    assert [r.points for r in stored.monthly_rewards] == [100, 60, 30]
    say(app, "u1", "still earning")  # points stays on in the group
    assert balance(app, "u1") == 1
