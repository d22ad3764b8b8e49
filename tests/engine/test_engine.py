"""The engine: idempotent storage, isolated features, the outbox written with the state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from groupops.domain.actions import ActionKind
from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.storage.tables import (
    events,
    feature_errors,
    feature_marks,
    identities,
    memberships,
    outbox,
    owner_tasks,
)
from tests.conftest import T0
from tests.engine.fakes import FlakyAdapter

ECHO = "tests.engine.fakes:EchoFeature"
KICKER = "tests.engine.fakes:KickerFeature"
WELCOME = "groupops.features.welcome:WelcomeFeature"


def msg(
    n: int, text: str, *, source: str = "sandbox", chat: str = "g1", user: str = "u1", at: int = 0
) -> Event:
    return Event(
        source,
        f"e{n}",
        EventKind.MESSAGE,
        T0 + timedelta(seconds=at),
        chat_id=chat,
        user_id=user,
        user_name=user.upper(),
        message_id=str(n),
        text=text,
    )


def count(app: App, table: object, *where: object) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def test_redelivered_event_is_processed_once(make_app: Callable[..., App]) -> None:
    app = make_app(features=(ECHO,))
    first = app.handle([msg(1, "hi"), msg(1, "hi"), msg(2, "yo")])
    again = app.handle([msg(1, "hi"), msg(2, "yo"), msg(3, "new")])
    assert (first.stored, first.duplicates, first.actions) == (2, 1, 2)
    assert (again.stored, again.duplicates, again.actions) == (1, 2, 1)
    assert count(app, events) == 3
    assert count(app, outbox) == 3
    with app.db.connect() as conn:
        texts = sorted(r.payload["text"] for r in conn.execute(select(outbox)))
    assert texts == ["echo:hi", "echo:new", "echo:yo"]


def test_crashing_feature_does_not_stop_the_others(make_app: Callable[..., App]) -> None:
    app = make_app(features=(ECHO, WELCOME))
    join = Event(
        "sandbox", "j1", EventKind.MEMBER_JOINED, T0, chat_id="g1", user_id="u9", user_name="Zoe"
    )
    result = app.handle([join, msg(1, "before"), msg(2, "boom"), msg(3, "after")])
    assert result.feature_errors == 1
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox.c.feature, outbox.c.payload).order_by(outbox.c.id)).all()
        errors = conn.execute(select(feature_errors)).all()
    echoes = [r.payload["text"] for r in rows if r.feature == "echo"]
    assert echoes == ["echo:before", "echo:after"]  # the echo feature lost only the bad event
    assert any(r.feature == "welcome" and "Zoe" in r.payload["text"] for r in rows)
    assert len(errors) == 1 and "boom on purpose" in errors[0].error
    assert count(app, events) == 4  # nothing the batch carried was lost


def test_a_failing_features_writes_are_undone_with_it(make_app: Callable[..., App]) -> None:
    """The feature's own rows for the event it failed on are rolled back (its savepoint);
    what it wrote for the other events, and what other features wrote, stays."""
    app = make_app(features=(ECHO, "tests.engine.fakes:MarkerFeature"))
    result = app.handle([msg(1, "before"), msg(2, "boom"), msg(3, "after")])
    assert result.feature_errors == 2  # echo and marker each failed on "boom" alone
    with app.db.connect() as conn:
        marks = sorted(r.mark for r in conn.execute(select(feature_marks)))
    assert marks == ["seen:after", "seen:before"]
    assert count(app, outbox) == 2  # echo's replies to the two others


def test_failed_batch_leaves_nothing_half_written(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(features=(ECHO,))

    def broken(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(app.engine, "_write_outbox", broken)
    with pytest.raises(OSError):
        app.handle([msg(1, "hi")])
    assert count(app, events) == 0 and count(app, outbox) == 0
    monkeypatch.undo()
    result = app.handle([msg(1, "hi")])  # the platform re-delivers: processed now, once
    assert (result.stored, result.actions) == (1, 1)


def test_action_the_platform_cannot_do_becomes_an_owner_task(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=(KICKER,))
    no_kick = frozenset(ActionKind) - {ActionKind.KICK, ActionKind.BAN, ActionKind.OWNER_TASK}
    app.platforms.add(FlakyAdapter("wecomlike", actions=no_kick))
    app.handle([msg(1, "kick me", source="wecomlike"), msg(2, "kick me", source="sandbox")])
    with app.db.connect() as conn:
        tasks = conn.execute(select(owner_tasks)).all()
        queued = conn.execute(select(outbox.c.source, outbox.c.kind)).all()
    assert [(t.source, t.status) for t in tasks] == [("wecomlike", "open")]
    assert "kick" in tasks[0].text and "asked for it" in tasks[0].text
    assert [(q.source, q.kind) for q in queued] == [("sandbox", "kick")]


def test_memberships_follow_joins_and_leaves(make_app: Callable[..., App]) -> None:
    app = make_app(features=())
    join = Event(
        "sandbox",
        "j1",
        EventKind.MEMBER_JOINED,
        T0,
        chat_id="g1",
        user_id="u1",
        data={"invite_link": "https://t.me/+abc", "inviter_user_id": "u0"},
    )
    left = Event(
        "sandbox", "l1", EventKind.MEMBER_LEFT, T0 + timedelta(hours=1), chat_id="g1", user_id="u1"
    )
    app.handle([join])
    app.handle([left])
    with app.db.connect() as conn:
        rows = conn.execute(select(memberships).order_by(memberships.c.id)).all()
    assert len(rows) == 1  # the inviter gets a member, not a membership
    assert rows[0].status == "left" and rows[0].via == "https://t.me/+abc"
    assert rows[0].inviter_member_id is not None and rows[0].joined_at == T0


def test_delivery_to_sandbox_is_exactly_once(make_app: Callable[..., App]) -> None:
    app = make_app(features=(WELCOME,))
    app.sandbox.create_chat("g1", "Group One")
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    assert asyncio.run(app.deliver()) == 1
    assert asyncio.run(app.deliver()) == 0
    bot = [m for m in app.sandbox.messages("g1") if m.user_id == "bot"]
    assert len(bot) == 1 and "Ann" in bot[0].text


def test_settings_changed_between_batches_apply_to_the_next_one(
    make_app: Callable[..., App],
) -> None:
    """Validated settings are kept across batches; a change made by an operator (here through
    the admin API, as the CLI does) is seen at the engine's next reload of the groups."""
    from groupops.engine.settings_admin import set_setting

    app = make_app(features=(ECHO,))
    app.engine.settings_refresh_seconds = 0.0  # reload the groups before every batch
    app.handle([msg(1, "one")])
    cached = dict(app.engine._settings_cache)
    app.handle([msg(2, "two")])  # reloaded, unchanged: the same validated object
    assert app.engine._settings_cache[("echo", 1)][2] is cached[("echo", 1)][2]
    set_setting(app.db, app.registry, feature="echo", key="prefix", value="> ", group_ref="1")
    app.handle([msg(3, "three")])
    with app.db.connect() as conn:
        texts = [r.payload["text"] for r in conn.execute(select(outbox).order_by(outbox.c.id))]
    assert texts == ["echo:one", "echo:two", "> three"]


def test_a_started_engine_knows_its_members_without_a_look_up_each(
    make_app: Callable[..., App],
) -> None:
    """warm_up reads who is who in bulk: the first message of a known member after a
    (re)start resolves with no query of identities or memberships, and lands as before."""
    from sqlalchemy import event as sa_event

    first = make_app(features=())
    joins = [
        Event("sandbox", f"j{i}", EventKind.MEMBER_JOINED, T0, chat_id="g1", user_id=f"u{i}")
        for i in range(5)
    ]
    first.engine.store_only([joins])
    restarted = make_app(features=())  # a new process: nothing held in memory
    restarted.engine.warm_up()
    asked: list[str] = []
    sa_event.listen(restarted.db, "before_cursor_execute", lambda *a: asked.append(a[2]))
    said = Event(
        "sandbox", "m1", EventKind.MESSAGE, T0 + timedelta(minutes=1), chat_id="g1", user_id="u3",
        text="hello",
    )  # fmt: skip
    assert restarted.handle([said]).stored == 1
    looked_up = [s for s in asked if "FROM identities" in s or "FROM memberships" in s]
    assert not looked_up, looked_up
    with restarted.db.connect() as conn:
        member = conn.execute(
            select(identities.c.member_id).where(identities.c.user_id == "u3")
        ).scalar_one()
        stored = conn.execute(select(events.c.member_id).where(events.c.event_id == "m1")).scalar()
    assert stored == member
    # a member the engine has never seen is still found or created on the way
    new = Event("sandbox", "j9", EventKind.MEMBER_JOINED, T0, chat_id="g1", user_id="u9")
    assert restarted.handle([new]).stored == 1
    assert any("FROM identities" in s for s in asked)


def test_actions_go_out_in_the_order_of_their_events(make_app: Callable[..., App]) -> None:
    """Features run one after another over a batch; the outbox still follows the events: a
    newcomer who posts an ad right after joining is welcomed first, then warned."""
    app = make_app(
        features=("groupops.features.moderation:ModerationFeature", WELCOME),
    )
    app.sandbox.create_chat("g1", "Group")
    app.handle([app.sandbox.join("g1", "admin", "Admin", is_admin=True)])
    with app.db.begin() as conn:
        conn.execute(outbox.delete())
    app.handle(
        [
            app.sandbox.join("g1", "u1", "Ann"),
            app.sandbox.post("g1", "u1", "加我微信 abc123"),
        ]
    )
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox.c.kind, outbox.c.payload).order_by(outbox.c.id)).all()
    said = [(r.kind, r.payload.get("text", "")[:20]) for r in rows]
    kinds = [r.kind for r in rows]
    welcome = next(i for i, r in enumerate(rows) if "Ann" in r.payload.get("text", ""))
    assert "delete" in kinds and welcome < kinds.index("delete"), said
    # the removal still comes before its warning: one event's actions keep the features' order
    warning = next(i for i, r in enumerate(rows) if r.kind == "send" and i > welcome + 1)
    assert kinds.index("delete") < warning, said
