"""A sandbox chat renamed by an admin is a ``group_updated`` event with the new title, as a
Telegram ``new_chat_title`` or a Matrix ``m.room.name`` is: the engine's group takes the title
(before anyone writes again), unless the operator gave the group a title of their own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from groupops.domain.events import EventKind
from groupops.engine.app import App
from groupops.engine.settings_admin import set_group_profile
from groupops.platforms.sandbox.platform import SandboxRefused
from groupops.storage.tables import groups


def titles(app: App) -> dict[str, tuple[str, str]]:
    with app.db.connect() as conn:
        rows = conn.execute(select(groups.c.chat_id, groups.c.title, groups.c.platform_title))
        return {r.chat_id: (r.title, r.platform_title) for r in rows}


def test_a_rename_is_the_platforms_group_updated_and_the_group_follows(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=())
    for chat, title in (("g1", "Runners"), ("g2", "Cooks")):
        app.sandbox.create_chat(chat, title)
        app.handle([app.sandbox.join(chat, "u1", "Ann", is_admin=True)])
    set_group_profile(app.db, "sandbox:g2", title="Kitchen (operator's)")
    app.engine.directory.invalidate()

    renamed = app.sandbox.rename("g1", "u1", "Runners 2027")
    assert renamed is not None
    assert renamed.kind is EventKind.GROUP_UPDATED
    assert (renamed.chat_id, renamed.user_id, renamed.user_name) == ("g1", "u1", "Ann")
    assert dict(renamed.data) == {"chat_title": "Runners 2027"}
    other = app.sandbox.rename("g2", "u1", "Bakers")
    assert other is not None
    app.handle([renamed, other])

    assert titles(app) == {
        "g1": ("Runners 2027", "Runners 2027"),
        "g2": ("Kitchen (operator's)", "Bakers"),
    }
    assert {c["chat_id"]: c["title"] for c in app.sandbox.chats()} == {
        "g1": "Runners 2027",
        "g2": "Bakers",
    }
    assert app.sandbox.rename("g1", "u1", "Runners 2027") is None  # the name it has


def test_a_member_who_is_not_an_admin_cannot_rename(make_app: Callable[..., App]) -> None:
    app = make_app(features=())
    app.sandbox.create_chat("g1", "Runners")
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    with pytest.raises(SandboxRefused):
        app.sandbox.rename("g1", "u1", "Mine now")
    assert {c["chat_id"]: c["title"] for c in app.sandbox.chats()} == {"g1": "Runners"}
