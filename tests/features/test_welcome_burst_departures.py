"""A join burst's combined welcome names and counts only those still there when it goes out:
a held-back newcomer who left, or was removed as an advertiser (kicked, blacklisted), is not
welcomed (docs/features/welcome.md, docs/features/moderation.md). A burst that ends with one
newcomer held back welcomes them as an ordinary welcome would."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import insert, select

from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.features.registry import FeatureRegistry
from groupops.features.welcome.tables import welcome_bursts
from tests.features.helpers import clock
from tests.features.test_welcome import queued, setup

MODERATED = (
    "groupops.features.moderation:ModerationFeature",
    "groupops.features.welcome:WelcomeFeature",
)


def calm(app: App) -> None:
    """Let the joins calm down: the combined welcome goes out."""
    clock(app).advance(61)
    app.engine.tick()
    clock(app).advance(60)
    app.engine.tick()


def test_who_left_or_was_removed_is_not_welcomed(make_app: Callable[..., App]) -> None:
    app = setup(make_app, burst_threshold=3, burst_window_seconds=60)
    c = clock(app)
    c.advance(600)
    for i in range(7):
        app.handle([app.sandbox.join("g1", f"n{i}", f"新人{i}号")])
        c.advance(2)
    app.handle([app.sandbox.leave("g1", "n3")])  # held back, then gone
    app.handle([app.sandbox.leave("g1", "n0")])  # welcomed before the burst: changes nothing
    calm(app)
    kind, _, text = queued(app)[-1]
    assert kind == "send" and "4 new members" in text, text
    assert "新人2号, 新人4号, 新人5号, 新人6号!" in text, text


def test_an_advertiser_removed_during_the_burst_is_not_welcomed(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=MODERATED)
    app.sandbox.create_chat("g1", "Python 学习群")
    app.handle([app.sandbox.join("g1", "admin", "Admin", is_admin=True)])
    reg = FeatureRegistry.load(MODERATED, extensions=False)
    for feature, key, value in [
        ("welcome", "burst_threshold", 3),
        ("moderation", "ladder", ["kick"]),
    ]:
        settings_admin.set_setting(
            app.db, reg, feature=feature, key=key, value=value, group_ref="1"
        )
    settings_admin.set_group_profile(app.db, "1", language="en")
    app.engine.directory.invalidate()
    c = clock(app)
    c.advance(600)
    for uid, name in [("a", "Ann"), ("b", "Bo"), ("c", "Cy"), ("ad", "推广员"), ("d", "Di")]:
        app.handle([app.sandbox.join("g1", uid, name)])
        c.advance(2)
    app.handle([app.sandbox.post("g1", "ad", "cheap followers at https://spam.example.com")])
    assert ("kick", "ad") in [(kind, user) for kind, user, _ in queued(app)]
    calm(app)
    texts = [text for kind, _, text in queued(app) if kind == "send"]
    combined = [t for t in texts if t.startswith("Welcome to our")]
    assert len(combined) == 1, texts
    assert "2 new members: Cy, Di!" in combined[0], combined
    assert "推广员" not in combined[0]


def test_everyone_held_back_gone_means_no_combined_welcome(make_app: Callable[..., App]) -> None:
    app = setup(make_app, burst_threshold=3, burst_window_seconds=60)
    c = clock(app)
    c.advance(600)
    for i in range(4):
        app.handle([app.sandbox.join("g1", f"n{i}", f"N{i}")])
        c.advance(2)
    app.handle([app.sandbox.leave("g1", "n2"), app.sandbox.leave("g1", "n3")])
    sent = len(queued(app))
    calm(app)
    assert len(queued(app)) == sent
    with app.db.connect() as conn:
        assert conn.execute(select(welcome_bursts)).all() == []
    # a new burst later starts afresh
    c.advance(600)
    for i in range(4, 8):
        app.handle([app.sandbox.join("g1", f"n{i}", f"N{i}")])
        c.advance(2)
    calm(app)
    assert "2 new members: N6, N7!" in queued(app)[-1][2]


def test_a_burst_of_one_reads_like_the_ordinary_welcome(make_app: Callable[..., App]) -> None:
    app = setup(make_app, rules="No ads.", burst_threshold=3, burst_window_seconds=60)
    c = clock(app)
    c.advance(600)
    for uid, name in [("a", "Ann"), ("b", "Bo"), ("c", "用户C")]:
        app.handle([app.sandbox.join("g1", uid, name)])
        c.advance(2)
    calm(app)
    last = queued(app)[-2:]
    assert [(k, u) for k, u, _ in last] == [("send", ""), ("direct_message", "c")], last
    assert last[0][2].startswith("Welcome 用户C to Python 学习群! 🎉\n"), last
    assert "1 new members" not in last[0][2] and "No ads." in last[1][2]


def test_a_burst_stored_before_member_ids_were_kept(make_app: Callable[..., App]) -> None:
    app = setup(make_app, burst_threshold=3, burst_window_seconds=60)
    c = clock(app)
    c.advance(600)
    now = c.now()
    for uid, name in [("x", "Xu"), ("y", "Yan"), ("z", "Zed")]:
        app.handle([app.sandbox.join("g1", uid, name)])
    with app.db.begin() as conn:  # as an older version stored it: names only
        conn.execute(welcome_bursts.delete())
        conn.execute(
            insert(welcome_bursts).values(
                group_id=1, names=["Xu", "Yan", "Zed"], count=3, started_at=now, last_join_at=now
            )
        )
    app.handle([app.sandbox.leave("g1", "y")])
    calm(app)
    assert "2 new members: Xu, Zed!" in queued(app)[-1][2], queued(app)[-1]
