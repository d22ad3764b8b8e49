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

from sqlalchemy import Engine, select

from groupops.engine import admin, settings_admin
from groupops.engine.app import App
from groupops.features.health.alerts import DATA_KEY
from groupops.features.registry import FeatureRegistry
from groupops.i18n import Catalogs
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


def _tasks(db: Engine) -> list[dict[str, Any]]:
    return [t for t in admin.list_owner_tasks(db) if t["feature"] == "health"]


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
