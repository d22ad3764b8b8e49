"""The notify feature: the owner tasks groupops writes are told to the people the settings
name, in a private message from the bot — once each, many in one message, at most once every
``every_minutes`` a person, never in the group, never through a platform that cannot send
private messages (where the message would itself become a task)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import InvalidSettings
from groupops.engine import admin, settings_admin
from groupops.engine.app import App
from groupops.engine.outbox import queue_actions
from groupops.engine.settings_read import workspace_settings
from groupops.features.notify.digest import DATA_KEY, LISTED
from groupops.features.notify.settings import NotifySettings
from groupops.features.registry import FeatureRegistry
from groupops.platforms.sandbox import SandboxAdapter
from groupops.platforms.sandbox.adapter import SANDBOX_CAPABILITIES
from groupops.storage.tables import feature_marks, groups, outbox, owner_tasks
from tests.conftest import T0
from tests.features.helpers import clock, feature_app

NOTIFY = ("groupops.features.notify:NotifyFeature",)
CHATS = {"g1": "Study group", "g2": "Reading club"}


def _app(make_app: Callable[..., App], **settings: Any) -> App:
    """The bot running notify in CHATS (groups 1 and 2, each with its admin "admin"; Ann,
    Bob and Chen in g1), ``settings`` in both groups."""
    return feature_app(make_app, NOTIFY, CHATS, feature="notify", settings=settings)


def _task(app: App, text: str, group: int = 1, chat: str = "g1") -> int:
    """An owner task in ``group`` (as moderation writes one where a platform cannot kick)."""
    with app.db.begin() as conn:
        _, (task,) = queue_actions(
            conn,
            [(Action(ActionKind.OWNER_TASK, "sandbox", chat, text=text), group)],
            workspace_id=1,
            now=clock(app).now(),
            feature="moderation",
        )
    return task


def _tick(app: App, minutes: float = 0) -> datetime:
    at = T0 + timedelta(minutes=minutes)
    clock(app).set(at)
    app.engine.tick(at)
    return at


def _messages(app: App) -> list[dict[str, Any]]:
    """The private messages notify queued, oldest first."""
    with app.db.connect() as conn:
        rows = conn.execute(
            select(outbox).where(outbox.c.feature == "notify").order_by(outbox.c.id)
        ).all()
    return [{**r.payload, "status": r.status, "id": r.id} for r in rows]


def test_a_task_reaches_the_person_named_privately_and_once(
    make_app: Callable[..., App], db: Engine
) -> None:
    app = _app(make_app, to=["admin"])
    task = _task(app, "Please kick Bob by hand")
    _tick(app)
    (sent,) = _messages(app)
    assert sent["kind"] == "direct_message" and sent["user_id"] == "admin"
    assert sent["chat_id"] == "g1" and sent["data"]["private_only"] is True
    assert sent["data"][DATA_KEY] == [task]
    assert f"Study group (#{task}): Please kick Bob by hand" in sent["text"]
    assert f"groupops tasks done {task}" in sent["text"]

    asyncio.run(app.deliver())
    seen = app.sandbox.messages("g1", viewer="admin")
    assert [m.text for m in seen if m.kind == "dm"] == [sent["text"]]
    assert all(sent["text"] != m.text for m in app.sandbox.messages("g1", viewer="u1"))

    for minutes in (1, 30, 600):  # told: never again, whatever the time
        _tick(app, minutes)
    again = make_app(features=NOTIFY, start=T0 + timedelta(days=1))  # nor after a restart
    again.engine.tick(T0 + timedelta(days=1))
    assert len(_messages(app)) == 1
    # the task itself is untouched: still open, for `tasks list`
    assert [t["id"] for t in admin.list_owner_tasks(db, "open")] == [task]


def test_tasks_made_meanwhile_come_together_in_the_next_message(
    make_app: Callable[..., App],
) -> None:
    app = _app(make_app, to=["admin"], every_minutes=10)
    _task(app, "first")
    _tick(app)
    later = [_task(app, f"task {n}", *((2, "g2") if n % 2 else (1, "g1"))) for n in range(12)]
    for minutes in range(1, 10):  # written to at minute 0: nothing before minute 10
        _tick(app, minutes)
    assert len(_messages(app)) == 1
    _tick(app, 10)
    _, digest = _messages(app)
    assert digest["data"][DATA_KEY] == later
    lines = digest["text"].splitlines()
    assert lines[0] == "📋 12 tasks for you:"
    assert lines[1] == f"1. Study group (#{later[0]}): task 0"
    assert lines[2] == f"2. Reading club (#{later[1]}): task 1"
    assert len(lines) == 1 + LISTED + 2
    assert lines[-2] == "… and 2 more." and "groupops tasks list" in lines[-1]
    _tick(app, 20)
    assert len(_messages(app)) == 2


def test_every_minutes_zero_tells_at_each_tick(make_app: Callable[..., App]) -> None:
    app = _app(make_app, to=["admin"], every_minutes=0)
    for minute in range(3):
        _task(app, f"task {minute}")
        _tick(app, minute)
    assert [m["text"].split(": ", 1)[1].splitlines()[0] for m in _messages(app)] == [
        "task 0",
        "task 1",
        "task 2",
    ]


def test_nobody_named_nothing_sent_and_a_person_named_later_gets_the_open_tasks(
    make_app: Callable[..., App], db: Engine
) -> None:
    app = _app(make_app)
    kept = _task(app, "still to do")
    done = _task(app, "done by hand")
    _tick(app)
    assert _messages(app) == []
    admin.complete_owner_task(db, done, T0)
    registry = FeatureRegistry.load(NOTIFY, extensions=False)
    settings_admin.set_setting(db, registry, feature="notify", key="to", value=["admin"])
    app.engine.directory.invalidate()
    _tick(app, 1)
    (sent,) = _messages(app)
    assert sent["data"][DATA_KEY] == [kept]  # the workspace default names them; done is done
    assert "still to do" in sent["text"] and "done by hand" not in sent["text"]


def test_each_person_is_told_on_their_platform_only(make_app: Callable[..., App]) -> None:
    app = _app(make_app, to=["telegram:123456789", "sandbox:u1", "admin", "matrix:@o:x.org"])
    task = _task(app, "look")
    _tick(app)
    told = {(m["source"], m["user_id"]) for m in _messages(app)}
    assert told == {("sandbox", "u1"), ("sandbox", "admin")}
    assert all(m["data"][DATA_KEY] == [task] for m in _messages(app))


def test_a_group_that_names_nobody_tells_nobody(make_app: Callable[..., App]) -> None:
    app = _app(make_app, to=["admin"])
    registry = FeatureRegistry.load(NOTIFY, extensions=False)
    settings_admin.set_setting(
        app.db, registry, feature="notify", key="to", value=[], group_ref="2"
    )
    app.engine.directory.invalidate()
    mine = _task(app, "in group 1")
    _task(app, "in group 2", 2, "g2")
    _tick(app)
    (sent,) = _messages(app)
    assert sent["data"][DATA_KEY] == [mine]


def test_a_platform_without_private_messages_gets_no_message_and_no_task(
    make_app: Callable[..., App], db: Engine
) -> None:
    app = _app(make_app, to=["admin"])
    no_dm = SANDBOX_CAPABILITIES.actions - {ActionKind.DIRECT_MESSAGE}
    app.platforms.add(
        SandboxAdapter(app.db, app.clock, capabilities=replace(SANDBOX_CAPABILITIES, actions=no_dm))
    )
    _task(app, "kick by hand")
    for minutes in (0, 20, 40):
        _tick(app, minutes)
    assert _messages(app) == []
    with db.connect() as conn:  # the message did not become a task (and that one a message ...)
        assert conn.execute(select(func.count()).select_from(owner_tasks)).scalar() == 1


def test_a_person_the_platform_will_not_reach_privately_is_never_told_in_the_group(
    make_app: Callable[..., App],
) -> None:
    app = _app(make_app, to=["stranger"])  # in no chat of the sandbox: no private chat
    _task(app, "secret figures")
    _tick(app)
    assert len(_messages(app)) == 1
    asyncio.run(app.deliver())
    (after,) = _messages(app)
    assert after["status"] == "dead"
    for chat in CHATS:
        assert all("secret figures" not in m.text for m in app.sandbox.messages(chat))


def test_the_bot_removed_from_a_group_is_told_too(make_app: Callable[..., App]) -> None:
    app = _app(make_app, to=["admin"])
    with app.db.begin() as conn:
        conn.execute(update(groups).where(groups.c.id == 2).values(bot_in_chat=False))
    app.engine.directory.invalidate()
    task = _task(app, "The bot was removed from group Reading club", 2, "g2")
    _tick(app)
    (sent,) = _messages(app)
    assert sent["data"][DATA_KEY] == [task] and "Reading club" in sent["text"]
    assert sent["chat_id"] == "g2" and sent["status"] == "pending"  # private: no group needed


def test_the_language_is_the_setting_s_or_the_group_s(make_app: Callable[..., App]) -> None:
    app = _app(make_app, to=["admin"], language="zh_CN")
    _task(app, "look")
    _tick(app)
    (sent,) = _messages(app)
    assert sent["text"].startswith("📋 ") and "Study group" in sent["text"]
    assert "A task for you" not in sent["text"]


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("to", '["has space"]', "'has space' is not a user id"),
        ("to", '["telegram:"]', "'telegram:' is not a user id"),
        ("to", '[""]', "'' is not a user id"),
        ("to", repr([f"u{n}" for n in range(21)]).replace("'", '"'), "at most 20 recipients"),
        ("language", "fr", "'fr' is not a language"),
        ("every_minutes", "-1", "every_minutes"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(
    make_app: Callable[..., App], db: Engine, key: str, value: str, words: str
) -> None:
    _app(make_app, to=["admin"])
    registry = FeatureRegistry.load(NOTIFY, extensions=False)
    with pytest.raises(InvalidSettings) as caught:
        parsed = settings_admin.setting_value(registry, "notify", key, value)
        settings_admin.set_setting(db, registry, feature="notify", key=key, value=parsed)
    assert words in str(caught.value) and key in str(caught.value)
    shown = workspace_settings(db, registry, "default")["notify"]
    assert isinstance(shown, NotifySettings)
    assert shown.to == [] and shown.language == "" and shown.every_minutes == 10  # as before


def test_a_telegram_id_written_as_a_number_is_that_id() -> None:
    assert NotifySettings.model_validate({"to": [123456789, "telegram:42"]}).to == [
        "123456789",
        "telegram:42",
    ]
    assert NotifySettings(to=["123", "telegram:42", "@o:x.org"]).recipients("telegram:bot") == [
        "123",
        "42",
    ]
    assert NotifySettings(to=["123", "telegram:42"], enabled=False).recipients("telegram:b") == []


def test_what_is_for_others_is_read_once_and_the_pause_still_holds(
    make_app: Callable[..., App], db: Engine
) -> None:
    """A person with nothing among the tasks read is marked past them (the next ticks read
    only newer ones), keeping the time of their last message: the pause still counts from it."""
    app = _app(make_app, to=["admin"])
    registry = FeatureRegistry.load(NOTIFY, extensions=False)
    settings_admin.set_setting(db, registry, feature="notify", key="to", value=[], group_ref="2")
    app.engine.directory.invalidate()
    first = _task(app, "first")
    _tick(app)
    other = _task(app, "not theirs", 2, "g2")
    _tick(app, 1)
    with db.connect() as conn:
        (mark,) = conn.execute(
            select(feature_marks.c.mark, feature_marks.c.created_at).where(
                feature_marks.c.feature == "notify"
            )
        ).all()
    assert mark.mark.endswith(f":{other}") and mark.created_at == T0  # past it; written at 0
    later = _task(app, "later")
    _tick(app, 5)  # written to at minute 0: not before minute 10
    assert [m["data"][DATA_KEY] for m in _messages(app)] == [[first]]
    _tick(app, 10)
    assert [m["data"][DATA_KEY] for m in _messages(app)] == [[first], [later]]


def _told_line(app: App, viewer: str = "admin") -> Any:
    """The task message as the sandbox shows it to ``viewer`` (delivered first)."""
    asyncio.run(app.deliver())
    (line,) = [m for m in app.sandbox.messages("g1", viewer=viewer) if m.kind == "dm"]
    return line


def test_the_person_told_closes_the_task_with_its_buttons(
    make_app: Callable[..., App], db: Engine
) -> None:
    app = _app(make_app, to=["admin"])
    done, dismissed = _task(app, "kick Bob"), _task(app, "kick Chen")
    _tick(app)
    line = _told_line(app)
    assert line.buttons == [
        [{"text": f"✅ #{done}", "data": f"task:done:{done}"},
         {"text": f"🚫 #{done}", "data": f"task:dismiss:{done}"}],
        [{"text": f"✅ #{dismissed}", "data": f"task:done:{dismissed}"},
         {"text": f"🚫 #{dismissed}", "data": f"task:dismiss:{dismissed}"}],
    ]  # fmt: skip

    # Ann sees no such line, but a press is a client's word: hers changes nothing
    app.handle([app.sandbox.press("g1", "u1", str(line.id), f"task:done:{done}")])
    assert {t["id"] for t in admin.list_owner_tasks(db, "open")} == {done, dismissed}

    app.handle([app.sandbox.press("g1", "admin", str(line.id), f"task:done:{done}")])
    app.handle([app.sandbox.press("g1", "admin", str(line.id), f"task:dismiss:{dismissed}")])
    app.handle([app.sandbox.press("g1", "admin", str(line.id), f"task:dismiss:{done}")])
    assert admin.list_owner_tasks(db, "open") == []
    (closed,) = admin.list_owner_tasks(db, "done")
    (gone,) = admin.list_owner_tasks(db, "dismissed")
    assert closed["id"] == done and gone["id"] == dismissed
    assert gone["reason"] == "dismissed by Admin from the task message"
    answers = [m for m in _messages(app) if not m["data"].get(DATA_KEY)]
    assert [(m["kind"], m["user_id"], m["text"]) for m in answers] == [
        ("direct_message", "admin", f"✅ Task #{done} is marked done."),
        ("direct_message", "admin", f"Task #{dismissed} is dismissed."),
        ("direct_message", "admin", f"Task #{done} was already closed (done)."),
    ]
    assert all(m["data"]["private_only"] for m in answers)


def test_one_task_has_its_own_two_buttons(make_app: Callable[..., App]) -> None:
    app = _app(make_app, to=["admin"], language="zh_CN")
    task = _task(app, "look")
    _tick(app)
    (sent,) = _messages(app)
    ((done, dismiss),) = sent["data"]["buttons"]
    assert (done["data"], dismiss["data"]) == (f"task:done:{task}", f"task:dismiss:{task}")
    assert done["text"] != "✅ Done" and done["text"].startswith("✅")  # in Chinese


def test_the_language_is_read_as_operators_write_it() -> None:
    assert [NotifySettings(language=v).language for v in ("zh", "zh-CN", " en ", "")] == [
        "zh_CN",
        "zh_CN",
        "en",
        "",
    ]


def test_the_days_reminder_lists_what_was_told_and_is_still_open(
    make_app: Callable[..., App], db: Engine
) -> None:
    """remind_hour 9 in Asia/Shanghai (T0 is 09:00 there): from 09:00 each day, once, the
    tasks told before that day and still open, in one message."""
    app = _app(make_app, to=["admin"], remind_hour=9, every_minutes=0)
    old, closed = _task(app, "kick Bob"), _task(app, "kick Chen")
    _tick(app)  # day 1, 09:00: told (nothing to remind of yet)
    _tick(app, 60)  # 10:00: told today: not "still" open
    admin.complete_owner_task(db, closed, T0)
    fresh = _task(app, "kick Dan")
    day = 24 * 60
    _tick(app, day - 120)  # day 2, 07:00: before the hour (the fresh one is told)
    _tick(app, day)  # day 2, 09:00: the reminder
    _tick(app, day + 30)  # once a day
    kinds = [(m["text"].splitlines()[0], m["data"][DATA_KEY]) for m in _messages(app)]
    assert kinds == [
        ("📋 2 tasks for you:", [old, closed]),
        (f"📋 A task for you in Study group (#{fresh}): kick Dan", [fresh]),
        ("⏰ Still open: 2 tasks for you:", [old, fresh]),
    ]
    reminder = _messages(app)[-1]
    assert [b[0]["data"] for b in reminder["data"]["buttons"]] == [
        f"task:done:{old}",
        f"task:done:{fresh}",
    ]
    for task in (old, fresh):
        admin.complete_owner_task(db, task, T0)
    _tick(app, 2 * day)  # day 3: nothing still open, nothing said
    assert len(_messages(app)) == 3


def test_no_reminders_unless_an_hour_is_set(make_app: Callable[..., App]) -> None:
    app = _app(make_app, to=["admin"])
    _task(app, "kick Bob")
    for minutes in range(0, 3 * 24 * 60, 6 * 60):
        _tick(app, minutes)
    assert len(_messages(app)) == 1


def test_a_plain_id_goes_to_the_platform_it_can_be_a_user_of() -> None:
    both = NotifySettings(to=["123456789", "@olga:example.org", "admin"])
    assert both.recipients("telegram:ops_bot") == ["123456789"]
    assert both.recipients("matrix:@bot:example.org") == ["@olga:example.org"]
    assert both.recipients("sandbox") == ["123456789", "@olga:example.org", "admin"]
    named = NotifySettings(to=["telegram:olga", "matrix:li"])  # named for it: as written
    assert named.recipients("telegram:b") == ["olga"] and named.recipients("matrix:@b:x") == ["li"]
