"""A notice that says what the platform did ("Bob is muted for 1 hour") is not posted when
the platform refused to do it: it joins the refused action in the dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import select

from groupops.domain.events import Event, EventKind
from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.engine.deadletters import list_outbox, retry_dead
from groupops.features.registry import FeatureRegistry
from groupops.storage.tables import outbox
from tests.engine.fakes import FlakyAdapter

MODERATION = "groupops.features.moderation:ModerationFeature"


def event(app: App, n: int, kind: EventKind, message_id: str = "", text: str = "") -> Event:
    at = app.clock.now()
    return Event(
        "flaky",
        f"e{n}",
        kind,
        at,
        chat_id="c1",
        user_id="u1",
        user_name="Bob",
        message_id=message_id,
        text=text,
    )


def setup(make_app: Callable[..., App], step: str) -> tuple[App, FlakyAdapter]:
    app = make_app(features=(MODERATION,))
    adapter = FlakyAdapter("flaky")
    app.platforms.add(adapter)
    app.handle([event(app, 0, EventKind.MEMBER_JOINED)])
    reg = FeatureRegistry.load((MODERATION,), extensions=False)
    settings_admin.set_setting(
        app.db, reg, feature="moderation", key="ladder", value=[step], group_ref="1"
    )
    settings_admin.set_setting(
        app.db, reg, feature="moderation", key="newcomer_hours", value=0, group_ref="1"
    )
    settings_admin.set_group_profile(app.db, "1", language="en")
    app.engine.directory.invalidate()
    asyncio.run(app.deliver())
    adapter.sent.clear()
    return app, adapter


def ad(app: App) -> None:
    app.handle([event(app, 1, EventKind.MESSAGE, message_id="m1", text="加我微信 abc123")])


def statuses(app: App) -> list[tuple[str, str]]:
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox.c.kind, outbox.c.status).order_by(outbox.c.id)).all()
    return [(r.kind, r.status) for r in rows]


def test_a_refused_mute_is_not_announced(make_app: Callable[..., App]) -> None:
    app, adapter = setup(make_app, "mute:1h")
    ad(app)
    assert [k for k, _ in statuses(app)] == ["delete", "mute", "send"]
    adapter.script = ["ok", "permanent"]  # the delete goes through, the mute is refused
    deliver_all(app)
    assert [a.kind for _, a in adapter.sent] == ["delete"]  # nobody is told Bob is muted
    assert statuses(app) == [("delete", "delivered"), ("mute", "dead"), ("send", "dead")]
    dead = list_outbox(app.db, "dead")
    assert "announces outbox" in dead[1]["last_error"] and "(mute)" in dead[1]["last_error"]
    # the operator gives the bot the right and retries both: mute first, then the notice
    assert retry_dead(app.db, app.clock) == 2
    deliver_all(app)
    sent = [a for _, a in adapter.sent[1:]]
    assert [a.kind for a in sent] == ["mute", "send"] and "muted" in sent[1].text


def deliver_all(app: App) -> None:
    """Deliver until nothing is left to try (a chat stops at a failed action for this pass)."""
    for _ in range(5):
        asyncio.run(app.deliver())


def test_a_warning_is_posted(make_app: Callable[..., App]) -> None:
    app, adapter = setup(make_app, "warn")
    ad(app)
    deliver_all(app)
    assert [a.kind for _, a in adapter.sent] == ["delete", "send"]


def test_a_done_mute_is_announced(make_app: Callable[..., App]) -> None:
    app, _ = setup(make_app, "mute:1h")
    ad(app)
    deliver_all(app)
    assert statuses(app) == [("delete", "delivered"), ("mute", "delivered"), ("send", "delivered")]


def test_a_refused_kick_is_not_announced(make_app: Callable[..., App]) -> None:
    app, adapter = setup(make_app, "kick")
    ad(app)
    adapter.script = ["ok", "permanent"]
    deliver_all(app)
    assert statuses(app) == [("delete", "delivered"), ("kick", "dead"), ("send", "dead")]


def test_a_refused_delete_does_not_hold_the_mute_notice(make_app: Callable[..., App]) -> None:
    app, adapter = setup(make_app, "mute:1h")
    ad(app)
    adapter.script = ["permanent", "ok", "ok"]  # only the delete is refused
    deliver_all(app)
    assert statuses(app) == [("delete", "dead"), ("mute", "delivered"), ("send", "delivered")]
