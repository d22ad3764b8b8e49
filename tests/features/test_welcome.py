"""welcome: greet by name, rules privately or in the group, introductions, one welcome per burst."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import select, update

from groupops.domain.actions import ActionKind
from groupops.domain.events import Event, EventKind
from groupops.engine import admin, settings_admin
from groupops.engine.app import App
from groupops.features.registry import FeatureRegistry
from groupops.storage.tables import groups, memberships, outbox
from tests.engine.fakes import FlakyAdapter
from tests.features.helpers import clock, feature_app

WELCOME = "groupops.features.welcome:WelcomeFeature"


def setup(make_app: Callable[..., App], **settings: object) -> App:
    """Python 学习群 (group 1) with only its admin; welcome's ``settings``, English."""
    return feature_app(
        make_app,
        (WELCOME,),
        {"g1": "Python 学习群"},
        feature="welcome",
        settings=settings,
        people=(),
    )


def queued(app: App) -> list[tuple[str, str, str]]:
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    return [(r.kind, r.payload["user_id"], r.payload["text"]) for r in rows]


def sent(app: App) -> list[tuple[str, str]]:
    """(chat, text) of the messages queued for groups."""
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    return [(r.chat_id, r.payload["text"]) for r in rows if r.kind == "send"]


def test_welcome_by_name_with_rules_in_private(make_app: Callable[..., App]) -> None:
    app = setup(make_app, rules="1. No ads.\n2. Be kind.")
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    acts = queued(app)
    assert [a[0] for a in acts] == ["send", "direct_message"]
    assert "Welcome Ann to Python 学习群!" in acts[0][2] and "introduce yourself" in acts[0][2]
    assert acts[1][1] == "u1" and "1. No ads." in acts[1][2]
    asyncio.run(app.deliver())
    dms = [m for m in app.sandbox.messages("g1", viewer="u1") if m.kind == "dm"]
    assert len(dms) == 1 and "Be kind" in dms[0].text
    assert [m for m in app.sandbox.messages("g1", viewer="other") if m.kind == "dm"] == []


def test_rules_go_in_the_group_where_the_platform_cannot_write_privately(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app)
    reg = FeatureRegistry.load((WELCOME,), extensions=False)
    settings_admin.set_setting(
        app.db, reg, feature="welcome", key="rules", value="No ads."
    )  # default
    no_dm = frozenset(ActionKind) - {ActionKind.DIRECT_MESSAGE, ActionKind.OWNER_TASK}
    app.platforms.add(FlakyAdapter("nodm", actions=no_dm))
    app.handle(
        [
            Event(
                "nodm",
                "j1",
                EventKind.MEMBER_JOINED,
                app.clock.now(),
                chat_id="c",
                user_id="u1",
                user_name="Bo",
            )
        ]
    )
    kinds = [(a[0], a[2]) for a in queued(app)]
    assert kinds[0][0] == "send" and "Bo" in kinds[0][1]
    assert kinds[1][0] == "send" and "No ads." in kinds[1][1]


def test_custom_template_and_no_intro_prompt(make_app: Callable[..., App]) -> None:
    app = setup(make_app, template="嗨 {{ name }}，欢迎来到「{{ group }}」", intro_prompt=False)
    app.handle([app.sandbox.join("g1", "u1", "<script>小明</script>")])
    assert queued(app) == [("send", "", "嗨 <script>小明</script>，欢迎来到「Python 学习群」")]


def test_a_join_burst_gets_one_combined_welcome(make_app: Callable[..., App]) -> None:
    app = setup(make_app, rules="No ads.", burst_threshold=3, burst_window_seconds=60)
    c = clock(app)
    c.advance(600)  # long after the admin joined
    for i in range(12):
        app.handle([app.sandbox.join("g1", f"r{i}", f"Raider{i}")])
        c.advance(2)
    first_two = queued(app)
    # the first two joins were ordinary; from the third on the bot holds back
    assert [a[0] for a in first_two] == ["send", "direct_message"] * 2
    app.engine.tick()
    assert len(queued(app)) == 4  # joins have not calmed down yet
    c.advance(61)
    app.engine.tick()
    c.advance(60)
    app.engine.tick()  # a second tick sends nothing more
    acts = queued(app)
    assert len(acts) == 5
    kind, _, text = acts[-1]
    assert kind == "send" and "10 new members" in text and "Raider2, Raider3" in text
    assert "No ads." in text


def test_welcome_turned_off_during_a_burst_sends_no_combined_welcome(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app, burst_threshold=3, burst_window_seconds=60)
    c = clock(app)
    c.advance(600)
    for i in range(5):
        app.handle([app.sandbox.join("g1", f"r{i}", f"Raider{i}")])
        c.advance(2)
    held = len(queued(app))
    reg = FeatureRegistry.load((WELCOME,), extensions=False)
    settings_admin.set_setting(
        app.db, reg, feature="welcome", key="enabled", value=False, group_ref="1"
    )
    app.engine.directory.invalidate()
    c.advance(61)
    app.engine.tick()
    c.advance(60)
    app.engine.tick()
    assert len(queued(app)) == held  # the operator turned welcome off: nobody is greeted
    # on again later, a new burst starts afresh instead of naming the old raiders
    settings_admin.set_setting(
        app.db, reg, feature="welcome", key="enabled", value=True, group_ref="1"
    )
    app.engine.directory.invalidate()
    for i in range(5, 9):
        app.handle([app.sandbox.join("g1", f"r{i}", f"Raider{i}")])
        c.advance(2)
    c.advance(61)
    app.engine.tick()
    c.advance(60)
    app.engine.tick()
    combined = queued(app)[-1][2]
    assert "Raider0" not in combined and "Raider4" not in combined, combined


def test_one_groups_broken_welcome_settings_hold_back_no_other_groups_welcome(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app)
    app.sandbox.create_chat("g2", "Other group")
    app.handle([app.sandbox.join("g2", "admin2", "Admin", is_admin=True)])
    held = {"welcome": {"burst_threshold": 3, "burst_window_seconds": 60}}
    with app.db.begin() as conn:
        conn.execute(update(groups).values(settings=held))
    app.engine.directory.invalidate()
    c = clock(app)
    c.advance(600)
    for i in range(5):
        app.handle(
            [
                app.sandbox.join("g1", f"a{i}", f"Ann{i}"),
                app.sandbox.join("g2", f"b{i}", f"Bob{i}"),
            ]
        )
        c.advance(2)
    with app.db.begin() as conn:  # as an older version or a hand edit might have left them
        broken = {"welcome": {"burst_threshold": "many"}}
        conn.execute(update(groups).where(groups.c.chat_id == "g1").values(settings=broken))
    app.engine.directory.invalidate()
    c.advance(61)
    app.engine.tick()
    c.advance(60)
    app.engine.tick()
    combined = [(chat, text) for chat, text in sent(app) if "Ann2" in text or "Bob2" in text]
    assert [chat for chat, _ in combined] == ["g2"]  # g1's raiders wait for its repair
    assert "Bob3" in combined[0][1]


def test_a_forgotten_newcomer_leaves_the_combined_welcome(make_app: Callable[..., App]) -> None:
    """Forgotten while their join is held back, a newcomer is not named (nor counted) in the
    combined welcome sent after; the others still are."""
    app = setup(make_app, burst_threshold=3, burst_window_seconds=60)
    c = clock(app)
    c.advance(600)
    for uid, name in [("a", "Ann"), ("b", "Bo"), ("l", "李明"), ("h", "李明华"), ("k", "Kim")]:
        app.handle([app.sandbox.join("g1", uid, name)])
        c.advance(2)
    with app.db.connect() as conn:
        from groupops.storage.tables import members

        li_ming = conn.execute(
            select(members.c.id).where(members.c.display_name == "李明")
        ).scalar_one()
    admin.forget_member(app.db, FeatureRegistry.load((WELCOME,), extensions=False), li_ming)
    c.advance(61)
    app.engine.tick()
    c.advance(60)
    app.engine.tick()  # calm now: the held-back joins are welcomed together
    kind, _, text = queued(app)[-1]
    assert kind == "send" and "2 new members" in text, text
    assert "李明华" in text and "Kim" in text and "李明," not in text and ", 李明" not in text


def test_self_introduction_is_recorded(make_app: Callable[..., App]) -> None:
    app = setup(make_app, intro_min_chars=10)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    app.handle([app.sandbox.post("g1", "u1", "hi")])  # too short to count
    clock(app).advance(3600)
    app.handle([app.sandbox.post("g1", "u1", "I am Ann, a data engineer from Berlin")])
    old_timer = Event(
        "sandbox",
        "x1",
        EventKind.MESSAGE,
        app.clock.now(),
        chat_id="g1",
        user_id="old",
        message_id="x1",
        text="I was here long before the bot came",
    )
    app.handle([old_timer])
    with app.db.connect() as conn:
        rows = conn.execute(
            select(memberships.c.member_id, memberships.c.introduced_at).order_by(memberships.c.id)
        ).all()
    assert rows[1].introduced_at == app.clock.now()  # Ann
    assert rows[2].introduced_at is None  # joined before the bot: no introduction window


def test_a_steady_trickle_of_joins_holds_no_newcomer_for_ever(
    make_app: Callable[..., App],
) -> None:
    """Joins that keep coming less than the window apart keep a burst going, but nobody held
    back waits longer than ``burst_max_wait_seconds`` (and a tick): a combined welcome goes
    out then, and the joins after it make a new burst; never more than one such welcome per
    longest wait, so a long raid still does not make the bot spam."""
    app = setup(make_app, burst_threshold=3, burst_window_seconds=60, burst_max_wait_seconds=180)
    c = clock(app)
    c.advance(600)
    joined: dict[str, int] = {}  # name -> second it joined
    welcomed: dict[str, int] = {}  # name -> second the welcome naming them was queued
    combined: list[int] = []  # seconds the combined welcomes were queued
    seen = 0
    for second in range(0, 15 * 60, 20):  # one join every 20 seconds for 15 minutes
        name = f"N{second:03d}"
        app.handle([app.sandbox.join("g1", f"n{second}", name)])
        joined[name] = second
        if second % 60 == 0:
            app.engine.tick()  # the clock ticks once a minute
        texts = [text for _, text in sent(app)][seen:]
        seen += len(texts)
        for text in texts:
            if "new members" in text:
                combined.append(second)
            for who in joined:
                if who in text and who not in welcomed:
                    welcomed[who] = second
        c.advance(20)
    # the burst began at the third join (40 s): the first welcome after 180 s, at the tick
    assert combined == [240, 480, 720], combined  # none at all before: held back for good
    # everyone who joined more than the longest wait and a tick before the end was welcomed
    late = [w for w, at in joined.items() if at < 15 * 60 - 240 and w not in welcomed]
    assert late == []
    assert max(welcomed[w] - joined[w] for w in welcomed) <= 180 + 60
