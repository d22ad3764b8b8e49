"""The join gate: mute until answered, remove messages meanwhile, kick on failure or time-out,
ban after repeated failures, raid mode; welcome only once the newcomer is admitted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from groupops.domain.actions import ActionKind
from groupops.domain.errors import InvalidSettings
from groupops.domain.events import Event, EventKind
from groupops.engine import settings_admin, settings_read
from groupops.engine.app import App
from groupops.features.gate.tables import gate_challenges
from groupops.features.registry import FeatureRegistry
from groupops.storage.tables import groups, identities, memberships, outbox
from tests.features import helpers
from tests.features.helpers import clock, feature_app

FEATURES = (
    "groupops.features.moderation:ModerationFeature",
    "groupops.features.gate:GateFeature",
    "groupops.features.welcome:WelcomeFeature",
)


def setup(make_app: Callable[..., App], *, buttons: bool = True, **settings: Any) -> App:
    """Two groups with only their admin, the gate on in both with ``settings``, English;
    ``buttons=False``: a platform like Matrix, no buttons under messages."""
    return feature_app(
        make_app,
        FEATURES,
        {"g1": "Python Learners", "g2": "Second group"},
        feature="gate",
        settings={"enabled": True, **settings},
        people=(),
        buttons=buttons,
    )


def queued(app: App) -> list[dict[str, Any]]:
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    return [dict(r.payload) for r in rows]


def clear(app: App) -> None:
    """Deliver what the bot queued (the platform carries out the mutes and kicks), then
    forget it."""
    asyncio.run(app.deliver())
    helpers.clear(app)


def prompt_of(app: App, chat: str = "g1") -> Any:
    asyncio.run(app.deliver())
    prompts = [m for m in app.sandbox.messages(chat) if m.user_id == "bot" and m.buttons]
    assert prompts, "the gate's question with buttons was not posted"
    return prompts[-1]


def membership(app: App, chat: str, user: str) -> str | None:
    """The member's status in the group as groupops counts it (not the platform's)."""
    with app.db.connect() as conn:
        return conn.execute(
            select(memberships.c.status)
            .join(groups, groups.c.id == memberships.c.group_id)
            .join(identities, identities.c.member_id == memberships.c.member_id)
            .where(groups.c.chat_id == chat, identities.c.user_id == user)
        ).scalar()


def right_and_wrong(app: App, prompt: Any) -> tuple[str, str]:
    with app.db.connect() as conn:
        ch = conn.execute(select(gate_challenges).order_by(gate_challenges.c.id.desc())).first()
    assert ch is not None
    datas = [row[0]["data"] for row in prompt.buttons]
    return datas[ch.answer - 1], next(d for i, d in enumerate(datas) if i != ch.answer - 1)


def test_a_newcomer_is_muted_and_asked_and_welcomed_only_after_answering(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    acts = queued(app)
    assert [a["kind"] for a in acts] == ["mute", "send"]  # no welcome yet
    assert acts[0]["user_id"] == "u1" and acts[0]["until"] is not None
    assert "Ann" in acts[1]["text"] and "How much is" in acts[1]["text"]
    assert len(acts[1]["data"]["buttons"]) == 4
    assert acts[1]["data"]["addresses"] == "u1"  # its time-out's kick never goes before it
    prompt = prompt_of(app)
    # the sandbox refuses a muted person's post, as a real platform would
    status = app.sandbox.member_status("g1", "u1")
    assert status is not None and status["muted_until"] is not None
    with app.db.begin() as conn:
        conn.execute(outbox.delete())
    right, _ = right_and_wrong(app, prompt)
    app.handle([app.sandbox.press("g1", "u1", str(prompt.id), right)])
    kinds = [a["kind"] for a in queued(app)]
    assert kinds[0] == "unmute" and "send" in kinds
    welcome = [a for a in queued(app) if a["kind"] == "send"]
    assert any("Welcome Ann to Python Learners" in a["text"] for a in welcome)
    asyncio.run(app.deliver())
    status = app.sandbox.member_status("g1", "u1")
    assert status is not None and status["muted_until"] is None
    with app.db.connect() as conn:
        assert conn.execute(select(gate_challenges.c.status)).scalar() == "passed"


def test_wrong_answers_remove_the_newcomer_and_repeated_failures_ban(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app, max_attempts=2, ban_after_failures=2)
    app.handle([app.sandbox.join("g1", "bot1", "Spammy")])
    prompt = prompt_of(app)
    clear(app)
    _, wrong = right_and_wrong(app, prompt)
    app.handle([app.sandbox.press("g1", "bot1", str(prompt.id), wrong)])
    assert [a["kind"] for a in queued(app)] == ["send"]  # one more try
    assert "1 more try" in queued(app)[0]["text"]
    clear(app)
    clock(app).advance(1)
    app.handle([app.sandbox.press("g1", "bot1", str(prompt.id), wrong)])
    assert [a["kind"] for a in queued(app)] == ["kick"]
    assert membership(app, "g1", "bot1") == "kicked"  # out of every count at once
    clear(app)
    assert app.sandbox.member_status("g1", "bot1")["status"] == "kicked"  # type: ignore[index]
    # the same person fails again in the workspace's other group: banned this time
    app.handle([app.sandbox.join("g2", "bot1", "Spammy")])
    prompt2 = prompt_of(app, "g2")
    clear(app)
    _, wrong2 = right_and_wrong(app, prompt2)
    app.handle([app.sandbox.press("g2", "bot1", str(prompt2.id), wrong2)])
    clock(app).advance(1)
    app.handle([app.sandbox.press("g2", "bot1", str(prompt2.id), wrong2)])
    assert [a["kind"] for a in queued(app)][-1] == "ban"
    assert membership(app, "g2", "bot1") == "kicked"


def test_no_answer_in_time_means_removal_at_the_next_tick(make_app: Callable[..., App]) -> None:
    app = setup(make_app, timeout_seconds=120)
    app.handle([app.sandbox.join("g1", "u2", "Silent")])
    clear(app)
    clock(app).advance(60)
    app.engine.tick()
    assert queued(app) == []  # still has time
    clock(app).advance(61)
    app.engine.tick()
    assert [(a["kind"], a["user_id"]) for a in queued(app)] == [("kick", "u2")]
    assert membership(app, "g1", "u2") == "kicked"
    app.engine.tick()  # another tick does not kick twice
    assert len(queued(app)) == 1


def test_a_newcomer_moderation_removes_is_not_failed_by_the_gate_later(
    make_app: Callable[..., App],
) -> None:
    """Kicked by moderation (an ad) while the question is open: the gate closes it, and its
    time-out later removes nobody a second time."""
    app = setup(make_app, timeout_seconds=120)
    app.handle([app.sandbox.join("g1", "u3", "Adman")])
    clear(app)
    settings_admin.set_setting(
        app.db,
        FeatureRegistry.load(FEATURES, extensions=False),
        feature="moderation",
        key="ladder",
        value=["kick"],
        group_ref="1",
    )
    app.engine.directory.invalidate()
    ad = Event(  # as a platform reports it (the sandbox itself refuses a muted person)
        "sandbox",
        "ad1",
        EventKind.MESSAGE,
        clock(app).now(),
        chat_id="g1",
        user_id="u3",
        user_name="Adman",
        message_id="9001",
        text="加我微信 abc12345 领福利",
    )
    app.handle([ad])
    assert "kick" in [a["kind"] for a in queued(app)]
    assert membership(app, "g1", "u3") == "kicked"
    with app.db.connect() as conn:
        assert conn.execute(select(gate_challenges.c.status)).scalar() == "left"
    clear(app)
    clock(app).advance(200)
    app.engine.tick()
    assert queued(app) == []


def test_someone_else_pressing_the_buttons_changes_nothing(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    app.handle([app.sandbox.join("g1", "u9", "Helper", is_admin=True)])  # admins are not gated
    prompt = prompt_of(app)
    clear(app)
    right, _ = right_and_wrong(app, prompt)
    app.handle([app.sandbox.press("g1", "u9", str(prompt.id), right)])
    assert queued(app) == []
    with app.db.connect() as conn:
        assert conn.execute(select(gate_challenges.c.status)).scalar() == "pending"


def test_the_operators_quiz_typed_where_the_platform_has_no_buttons(
    make_app: Callable[..., App],
) -> None:
    app = setup(
        make_app,
        buttons=False,
        question="Which book do we read this month?",
        options=["Dune", "三体", "Emma"],
        answer=2,
        mode="quiz",
    )
    app.handle([app.sandbox.join("g1", "u3", "Reader")])
    acts = queued(app)
    assert [a["kind"] for a in acts] == ["send"]  # no mute: they must be able to type
    assert "Which book" in acts[0]["text"] and "2. 三体" in acts[0]["text"]
    clear(app)
    # anything else they post is removed and costs no attempt
    msg = app.sandbox.post("g1", "u3", "hello everyone, what is this group about?")
    app.handle([msg])
    assert [(a["kind"], a["message_id"]) for a in queued(app)] == [("delete", msg.message_id)]
    clear(app)
    # an ad is moderation's (it runs first): removed once, with moderation's warning
    ad = app.sandbox.post("g1", "u3", "buy followers at example.com")
    app.handle([ad])
    deletes = [a for a in queued(app) if a["kind"] == "delete"]
    assert [d["message_id"] for d in deletes] == [ad.message_id]
    clear(app)
    app.handle([app.sandbox.post("g1", "u3", "三体")])
    kinds = [a["kind"] for a in queued(app)]
    assert kinds[0] == "delete" and "send" in kinds  # the answer removed, then the welcome
    assert any("Welcome Reader" in a["text"] for a in queued(app) if a["kind"] == "send")


def test_a_join_spike_closes_the_group_for_a_while(make_app: Callable[..., App]) -> None:
    app = setup(make_app, raid_joins=5, raid_window_seconds=60, raid_close_minutes=10)
    clock(app).advance(120)  # the admins' joins are long past
    for i in range(4):
        app.handle([app.sandbox.join("g1", f"r{i}", f"Raider {i}")])
        clock(app).advance(2)
    clear(app)
    app.handle([app.sandbox.join("g1", "r4", "Raider 4")])
    acts = queued(app)
    assert acts[0]["kind"] == "send" and "closed to new members for 10" in acts[0]["text"]
    assert (acts[1]["kind"], acts[1]["user_id"]) == ("kick", "r4")
    assert membership(app, "g1", "r4") == "kicked"
    clear(app)
    batch = [app.sandbox.join("g1", f"x{i}", f"Late {i}") for i in range(20)]
    app.handle(batch)
    acts = queued(app)
    assert [a["kind"] for a in acts] == ["kick"] * 20  # one announcement only, no prompts
    clear(app)
    clock(app).advance(11 * 60)
    app.engine.tick()
    assert any("open to new members again" in a["text"] for a in queued(app))
    clear(app)
    app.handle([app.sandbox.join("g1", "late", "Later")])
    assert [a["kind"] for a in queued(app)] == ["mute", "send"]  # gated as usual again


def test_a_replayed_join_asks_nothing_twice(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    join = app.sandbox.join("g1", "u1", "Ann")
    app.handle([join])
    app.handle([join, join])
    assert [a["kind"] for a in queued(app)] == ["mute", "send"]


def test_a_half_written_quiz_is_refused_and_nothing_is_stored(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app)
    reg = FeatureRegistry.load(FEATURES, extensions=False)
    with pytest.raises(InvalidSettings, match="quiz"):
        settings_admin.set_setting(
            app.db, reg, feature="gate", key="mode", value="quiz", group_ref="1"
        )
    settings_admin.set_setting(
        app.db, reg, feature="gate", key="options", value=["a", "b"], group_ref="1"
    )
    settings_admin.set_setting(
        app.db, reg, feature="gate", key="question", value="?", group_ref="1"
    )
    with pytest.raises(InvalidSettings, match="answer 3"):
        settings_admin.set_setting(
            app.db, reg, feature="gate", key="answer", value=3, group_ref="1"
        )
    effective = settings_read.effective_settings(app.db, reg, "1")["gate"]
    assert effective["answer"] == 1 and effective["mode"] == "captcha"


def test_gate_disabled_welcomes_at_once(make_app: Callable[..., App]) -> None:
    app = setup(make_app, enabled=False)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    acts = queued(app)
    assert [a["kind"] for a in acts] == ["send"]
    assert "Welcome Ann" in acts[0]["text"]
    assert ActionKind.MUTE.value not in [a["kind"] for a in acts]


def _challenge_status(app: App, user: str) -> str:
    with app.db.connect() as conn:
        return str(
            conn.execute(
                select(gate_challenges.c.status).where(gate_challenges.c.user_id == user)
            ).scalar_one()
        )


def test_turning_the_gate_off_lets_the_waiting_newcomers_in(make_app: Callable[..., App]) -> None:
    app = setup(make_app, timeout_seconds=120)
    app.handle([app.sandbox.join("g1", "u2", "Silent")])
    clear(app)
    reg = FeatureRegistry.load(FEATURES, extensions=False)
    settings_admin.set_setting(
        app.db, reg, feature="gate", key="enabled", value=False, group_ref="1"
    )
    app.engine.directory.invalidate()
    clock(app).advance(30)  # before the deadline: no need to wait for it
    app.engine.tick()
    acts = queued(app)
    assert [(a["kind"], a.get("user_id")) for a in acts] == [("unmute", "u2"), ("send", "")]
    assert "Welcome Silent to Python Learners" in acts[1]["text"]
    assert _challenge_status(app, "u2") == "cancelled"
    clear(app)
    status = app.sandbox.member_status("g1", "u2")
    assert status is not None and status["muted_until"] is None
    clock(app).advance(300)  # long past the question's deadline: nobody is removed for it
    app.engine.tick()
    assert queued(app) == []
    assert membership(app, "g1", "u2") == "active"


def test_one_groups_broken_gate_settings_stop_no_other_groups_time_outs(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app, timeout_seconds=60)
    app.handle([app.sandbox.join("g1", "u3", "Quiet one"), app.sandbox.join("g2", "u4", "Other")])
    clear(app)
    with app.db.begin() as conn:  # as an older version or a hand edit might have left them
        broken = {"gate": {"enabled": True, "timeout_seconds": "soon"}}
        conn.execute(update(groups).where(groups.c.chat_id == "g2").values(settings=broken))
    app.engine.directory.invalidate()
    clock(app).advance(200)
    app.engine.tick()
    kicks = [(a["kind"], a["chat_id"], a["user_id"]) for a in queued(app) if a["kind"] == "kick"]
    assert kicks == [("kick", "g1", "u3")]
    assert _challenge_status(app, "u3") == "failed"
    assert _challenge_status(app, "u4") == "pending"  # left as it is until g2 is repaired
