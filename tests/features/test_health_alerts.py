"""The health feature: once a day the running bot judges every group as ``groupops health``
does, and tells the operator (an owner task) when a group starts needing them — once, not again
while it stays so, and again only after it recovered and fell again."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from groupops.domain.events import Event, EventKind
from groupops.engine import admin, settings_admin
from groupops.engine.app import App
from groupops.features.health.alerts import DATA_KEY
from groupops.features.health.settings import HealthSettings
from groupops.features.registry import FeatureRegistry
from groupops.i18n import Catalogs
from groupops.importers.store import import_file
from groupops.report.health import concerns_of, group_health
from groupops.report.labels import STAGES
from groupops.storage.tables import feature_marks, groups
from groupops.stored_texts import task_text
from tests.analytics.helpers import T0, days, joined, msg
from tests.features.helpers import clock

HEALTH = ("groupops.features.health:HealthFeature",)
PEOPLE = ("a", "b", "c", "d")


def _app(make_app: Callable[..., App], chats: Iterable[str], **settings: Any) -> App:
    """The bot running the health feature, with ``chats`` (groups 1, 2, … in UTC, English),
    each joined by PEOPLE at T0; the health ``settings`` in every group."""
    app = make_app(features=HEALTH, start=T0)
    for n, chat in enumerate(chats, 1):
        app.handle([dataclasses.replace(joined(u, T0), chat_id=chat) for u in PEOPLE])
        settings_admin.set_group_profile(app.db, str(n), language="en", timezone="UTC")
        registry = FeatureRegistry.load(HEALTH, extensions=False)
        for key, value in settings.items():
            settings_admin.set_setting(
                app.db, registry, feature="health", key=key, value=value, group_ref=str(n)
            )
    app.engine.directory.invalidate()
    return app


def _day(app: App, day: int, chats: Iterable[str] = ("g",), *, talk: bool) -> datetime:
    """Day ``day`` after T0: the tick at 09:00 UTC (the default hour), then, with ``talk``,
    a message from each of PEOPLE in each of ``chats``. Returns the tick's time."""
    at = T0 + days(day)
    clock(app).set(at)
    app.engine.tick(at)
    if talk:
        for chat in chats:
            app.handle(
                [
                    dataclasses.replace(msg(u, at + timedelta(hours=1, minutes=i)), chat_id=chat)
                    for i, u in enumerate(PEOPLE)
                ]
            )
    return at


def _tasks(db: Engine, *status: str) -> list[dict[str, Any]]:
    """The health tasks of these ``status`` (default: the open ones), in order."""
    found = [t for s in status or ("open",) for t in admin.list_owner_tasks(db, s)]
    return sorted((t for t in found if t["feature"] == "health"), key=lambda t: t["id"])


def _needs_you(db: Engine, at: datetime) -> list[str]:
    """What ``groupops health`` finds group 1 needs the operator for, as of ``at``."""
    (row,) = group_health(db, now=at, only=[1])
    return concerns_of(row["stage"], row["warning"])


def test_a_group_going_quiet_is_told_once_then_again_after_it_recovered_and_fell(
    make_app: Callable[..., App], db: Engine
) -> None:
    app = _app(make_app, ["g"])
    falls: list[tuple[int, list[str]]] = []  # the days a fall began, and what it was
    was: list[str] = []
    counts = []

    def day(d: int, *, talk: bool) -> None:
        nonlocal was
        at = _day(app, d, talk=talk)
        now = _needs_you(db, at)
        if now and not was:
            falls.append((d, now))
        was = now
        counts.append(len(_tasks(db)))

    for d in range(60):  # busy for two months
        day(d, talk=True)
    assert _tasks(db) == [] and falls == []
    for d in range(60, 110):  # then silent
        day(d, talk=False)
    assert len(falls) == 1 and was == ["dead"]
    (task,) = _tasks(db)
    first_day = falls[0][0]
    # told on the day the fall began, of what it was, and not again on the days after
    assert counts[first_day - 1] == 0 and counts[first_day] == 1 and counts[-1] == 1
    assert task["action"]["data"][DATA_KEY]["concerns"] == falls[0][1]
    assert task["group_id"] == 1

    # the tick again the same day, and a restarted bot: no second look, no second task
    at = T0 + days(109)
    app.engine.tick(at + timedelta(minutes=30))
    again = make_app(features=HEALTH, start=at)
    again.engine.tick(at + timedelta(hours=2))
    assert len(_tasks(db)) == 1

    for d in range(110, 170):  # it comes back to life
        day(d, talk=True)
    assert was == [] and len(falls) == 1 and len(_tasks(db)) == 1
    for d in range(170, 230):  # and falls again: told again, once
        day(d, talk=False)
    assert len(falls) == 2
    assert len(_tasks(db)) == 2
    assert counts.index(2) == falls[1][0]


def test_a_group_where_the_alerts_are_off_is_never_told(
    make_app: Callable[..., App], db: Engine
) -> None:
    app = _app(make_app, ["g"], enabled="false")
    for d in range(40):
        _day(app, d, talk=True)
    for d in range(40, 90):
        _day(app, d, talk=False)
    assert _needs_you(db, T0 + days(89)) == ["dead"]
    assert _tasks(db) == []


def test_only_the_states_chosen_are_told(make_app: Callable[..., App], db: Engine) -> None:
    """Without the warning and declining alerts, the group is told only once it is dead."""
    app = _app(make_app, ["g"], alert_warning="false", alert_declining="false")
    for d in range(40):
        _day(app, d, talk=True)
    told_on = None
    for d in range(40, 90):
        at = _day(app, d, talk=False)
        if told_on is None and _tasks(db):
            told_on = d
            assert _needs_you(db, at)[-1] == "dead"
            assert _needs_you(db, at - days(1))[-1:] != ["dead"]
    (task,) = _tasks(db)
    assert task["action"]["data"][DATA_KEY]["concerns"] == ["dead"]


def test_the_hour_is_the_groups_own(make_app: Callable[..., App], db: Engine) -> None:
    """Before the hour set (the group's time zone) the day's look is not taken."""
    app = _app(make_app, ["g"], hour="15")
    at = T0 + days(1)  # 09:00 UTC
    app.engine.tick(at)
    assert _day_marks(db) == []
    app.engine.tick(at + timedelta(hours=6))
    assert _day_marks(db) == ["day:" + at.date().isoformat()]


def _day_marks(db: Engine) -> list[str]:
    with db.connect() as conn:
        return sorted(
            str(m)
            for m in conn.execute(
                select(feature_marks.c.mark).where(
                    feature_marks.c.feature == "health", feature_marks.c.mark.like("day:%")
                )
            ).scalars()
        )


def test_a_tick_spends_little_and_the_next_ticks_go_on(
    make_app: Callable[..., App], db: Engine
) -> None:
    """With no time to spend, a tick looks at one group; the next ticks take the rest, and
    once all are looked at the day's ticks look at none."""
    app = _app(make_app, ["g1", "g2", "g3"])
    app.registry.by_name["health"].tick_seconds = 0.0  # type: ignore[attr-defined]
    at = T0 + days(1)
    looked = []
    for minute in range(4):
        app.engine.tick(at + timedelta(minutes=minute))
        looked.append(len(_day_marks(db)))
    assert looked == [1, 2, 3, 3]
    app.engine.tick(at + timedelta(hours=10))  # later the same day: no group is looked at again
    with db.connect() as conn:
        when = conn.execute(
            select(feature_marks.c.created_at).where(feature_marks.c.mark.like("day:%"))
        ).scalars()
        assert sorted(when) == [at + timedelta(minutes=m) for m in range(3)]


def _numbers(text: str) -> list[int]:
    """The whole numbers of ``text``, in order."""
    return [int(n) for n in re.findall(r"(?<![\d.])\d+(?![\d.])", text)]


def _in_order(wanted: list[int], found: list[int]) -> bool:
    """Whether ``wanted`` are among ``found`` in this order (other numbers between them)."""
    rest = iter(found)
    return all(any(n == w for n in rest) for w in wanted)


def test_the_task_is_in_the_groups_language_and_said_again_in_the_readers(
    make_app: Callable[..., App], db: Engine, locale_dir: Path
) -> None:
    app = _app(make_app, ["g"])
    settings_admin.set_group_profile(app.db, "1", language="zh_CN")
    with db.begin() as conn:
        conn.execute(groups.update().values(title="读书会"))
    app.engine.directory.invalidate()
    catalogs = Catalogs(locale_dir)
    app.engine.catalogs = catalogs
    zh, en = catalogs.gettext("zh_CN"), catalogs.gettext("en")
    for d in range(40):
        _day(app, d, talk=True)
    d = 40
    while not _tasks(db):
        at = _day(app, d, talk=False)
        d += 1
    (task,) = _tasks(db)
    (row,) = group_health(db, now=at, only=[1])
    figures = [
        row["messages_prev_28d"],
        row["messages_last_28d"],
        row["active_prev_28d"],
        row["active_last_28d"],
    ]
    stored = task["text"]
    assert "读书会" in stored and zh("early warning: {reasons}").split("{")[0] in stored
    assert _in_order(figures, _numbers(stored))
    assert f"{row['days_since_last_message']:g}" in stored
    english = task_text(task, en)
    assert english.startswith("Group 读书会 needs you: ")
    assert _in_order(figures, _numbers(english))
    assert task_text(task, zh) == stored
    for concern in concerns_of(row["stage"], row["warning"]):
        if concern in STAGES:
            assert zh(STAGES[concern]) in stored and STAGES[concern] in english


def test_a_group_nobody_has_joined_yet_is_not_told(
    make_app: Callable[..., App], db: Engine
) -> None:
    """A chat the bot knows before anyone is in it (``groupops serve`` makes its sandbox
    chats groups at once) is dead to the life cycle, yet there is nothing to tell; once people
    joined and went quiet, it is told."""
    from groupops.web.runtime import ensure_engine_groups

    app = make_app(features=HEALTH, start=T0)
    app.sandbox.create_chat("empty", "Empty")
    ensure_engine_groups(app, (("empty", "Empty"),))
    app.engine.directory.invalidate()
    at = T0 + days(30)
    (row,) = group_health(db, now=at)
    assert row["stage"] == "dead"
    app.engine.tick(at)
    assert _day_marks(db) == ["day:" + at.date().isoformat()]  # looked at
    assert _tasks(db) == []
    app.handle([app.sandbox.join("empty", "u1", "Ann")])  # T0: then nobody speaks
    app.engine.tick(at + days(1))
    assert len(_tasks(db)) == 1


@pytest.mark.parametrize("recovery_days", [None, 3, 1])
def test_a_group_hovering_around_a_threshold_is_told_once_a_real_fall(
    make_app: Callable[..., App], db: Engine, recovery_days: int | None
) -> None:
    """A group revived a little each time it needs the operator (and left alone when it does
    not) hovers around the thresholds: falling, fine again the next days, falling again. A
    fall is told only when it is the first, or the group had stayed fine ``recovery_days``
    days in a row before it (7 unless set): one task a real fall, not one a crossing."""
    settings = {} if recovery_days is None else {"recovery_days": str(recovery_days)}
    wanted_days = recovery_days or HealthSettings().recovery_days
    app = _app(make_app, ["g"], **settings)
    for d in range(40):
        _day(app, d, talk=True)
    falls, expected = 0, 0
    fine_days: int | None = None  # in a row, since the last look needing the operator
    for d in range(40, 120):
        now = _needs_you(db, T0 + days(d))
        before = len(_tasks(db))
        _day(app, d, talk=bool(now))  # the day's look (as `health` judged), then the talk
        told = len(_tasks(db)) - before
        if now:
            if fine_days != 0:
                falls += 1
            due = fine_days is None or fine_days >= wanted_days
            assert told == (1 if due and fine_days != 0 else 0), d
            expected += told
            fine_days = 0
        else:
            assert told == 0, d
            fine_days = (fine_days or 0) + 1 if fine_days is not None else None
    assert len(_tasks(db)) == expected
    if wanted_days == 1:
        assert expected == falls
    else:
        assert 1 <= expected < falls  # the hovering told fewer times than it fell


def _bot_in(app: App, n: int, *, in_chat: bool, chat: str = "g") -> None:
    """The platform says the bot is (``in_chat``) or is no longer in ``chat``."""
    app.handle(
        [
            Event(
                "test",
                f"bot-{n}",
                EventKind.BOT_RIGHTS_CHANGED,
                app.clock.now(),
                chat_id=chat,
                user_id="admin",
                data={"status": "administrator" if in_chat else "kicked", "in_chat": in_chat},
            )
        ]
    )


def _marks(db: Engine, group_id: int) -> list[str]:
    with db.connect() as conn:
        return sorted(
            str(m)
            for m in conn.execute(
                select(feature_marks.c.mark).where(
                    feature_marks.c.feature == "health", feature_marks.c.group_id == group_id
                )
            ).scalars()
        )


def _fall(app: App, db: Engine, chats: Iterable[str] = ("g",)) -> int:
    """Busy 40 days, then silent until group 1 is told: the day after."""
    for d in range(40):
        _day(app, d, chats, talk=True)
    d = 40
    while not _tasks(db):
        _day(app, d, chats, talk=False)
        d += 1
    return d


def test_the_bot_removed_its_health_task_is_dismissed_and_its_marks_go(
    make_app: Callable[..., App], db: Engine
) -> None:
    app = _app(make_app, ["g"])
    d = _fall(app, db)
    assert any(m.startswith("told:") for m in _marks(db, 1))
    _bot_in(app, 1, in_chat=False)
    assert _tasks(db) == []
    (task,) = _tasks(db, "dismissed")
    assert task["reason"] == "dismissed by groupops: the bot is no longer in this group"
    assert _marks(db, 1) == []
    for day in range(d, d + 3):  # not looked at while the bot is away
        _day(app, day, talk=False)
    assert _marks(db, 1) == [] and len(_tasks(db, "open", "dismissed")) == 1
    # back in the group, which still needs the operator: looked at afresh, told again
    _bot_in(app, 2, in_chat=True)
    _day(app, d + 3, talk=False)
    assert [t["status"] for t in _tasks(db, "open", "dismissed")] == ["dismissed", "open"]


def test_what_a_group_left_while_the_alerts_were_off_kept_goes_at_the_next_look(
    make_app: Callable[..., App], db: Engine
) -> None:
    """The feature off in group 1 does not hear of the bot leaving it: the next day's look
    (of group 2) drops group 1's marks and dismisses its open task all the same."""
    app = _app(make_app, ["g", "h"])
    d = _fall(app, db, ("g", "h"))
    registry = FeatureRegistry.load(HEALTH, extensions=False)
    settings_admin.set_setting(
        app.db, registry, feature="health", key="enabled", value="false", group_ref="1"
    )
    app.engine.directory.invalidate()
    _bot_in(app, 1, in_chat=False)
    task = next(t for t in _tasks(db) if t["group_id"] == 1)
    assert task["status"] == "open" and _marks(db, 1) != []
    _day(app, d, ("h",), talk=False)
    (task,) = [t for t in _tasks(db, "open", "dismissed") if t["group_id"] == 1]
    assert task["status"] == "dismissed" and "no longer in this group" in task["reason"]
    assert _marks(db, 1) == [] and _marks(db, 2) != []


def test_imported_history_is_never_told(
    make_app: Callable[..., App], db: Engine, tmp_path: Path
) -> None:
    """A group made by `groupops import` is over: however dead it looks, no task (the live
    group beside it, as dead, is told)."""
    app = _app(make_app, ["g"])
    export = tmp_path / "WhatsApp Chat with Runners.txt"
    lines = [
        f"2/{day}/24, 10:0{i} - {u}: hello" for day in range(1, 28) for i, u in enumerate("AB")
    ]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert import_file(app.engine, export).stored == len(lines)
    app.engine.directory.invalidate()
    with db.connect() as conn:
        imported = conn.execute(
            select(groups.c.id).where(groups.c.source == "import:whatsapp")
        ).scalar_one()
    at = T0 + days(60)
    (row,) = group_health(db, now=at, only=[imported])
    assert concerns_of(row["stage"], row["warning"])  # it looks as if it needed the operator
    _fall(app, db)
    assert [t["group_id"] for t in _tasks(db)] == [1]
    assert _marks(db, imported) == []
