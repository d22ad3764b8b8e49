"""A private message to someone the sandbox cannot reach privately is unreachable as on
Telegram (RecipientUnreachable, NOT_STARTED there, NOT_STARTED_BOT here), so the deliverer
posts it in the group instead (a private-only one is a dead letter). In the sandbox, joining
a chat starts the bot there (its member row, started_bot): someone with no row in the chat
never did, and someone who left still has their private chat, as on Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import RecipientUnreachable
from groupops.engine import deadletters
from groupops.engine.app import App
from groupops.engine.deadletters import error_words
from groupops.i18n import Catalogs
from groupops.platforms.sandbox.tables import sandbox_members, sandbox_messages
from groupops.storage.tables import outbox
from tests.platforms.sandbox.test_other_chats_line import SOURCE, perform, queue


@pytest.fixture
def zh(locale_dir: Path) -> Callable[[str], str]:
    return Catalogs(locale_dir).gettext("zh_CN")


def one_chat(make_app: Callable[..., App]) -> App:
    app = make_app(features=())
    app.sandbox.create_chat("g1", "Runners")
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    return app


def outbox_rows(app: App) -> list[dict[str, Any]]:
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    return [dict(r._mapping) for r in rows]


def bot_lines(app: App) -> list[tuple[str, str, str]]:
    m = sandbox_messages.c
    with app.db.connect() as conn:
        rows = conn.execute(
            select(m.kind, m.to_user_id, m.text).where(m.user_id == "bot").order_by(m.id)
        ).all()
    return [tuple(r) for r in rows]


UNREACHABLE = "RecipientUnreachable: the member has not started the bot"


def not_started(app: App, user: str) -> None:
    with app.db.begin() as conn:
        conn.execute(
            update(sandbox_members)
            .where(sandbox_members.c.user_id == user)
            .values(started_bot=False)
        )


@pytest.mark.parametrize("who", ["no member row", "not started the bot"])
def test_a_private_message_to_someone_unreachable_is_posted_in_the_group(
    make_app: Callable[..., App], zh: Callable[[str], str], who: str
) -> None:
    app = one_chat(make_app)
    user = "u9"
    if who == "not started the bot":
        user = "u1"
        not_started(app, user)
    with pytest.raises(RecipientUnreachable) as unreachable:
        perform(app, Action(ActionKind.DIRECT_MESSAGE, SOURCE, "g1", user_id=user, text="x"))
    assert unreachable.value.template is deadletters.NOT_STARTED_BOT
    queue(app, Action(ActionKind.DIRECT_MESSAGE, SOURCE, "g1", user_id=user, text="the rules"))
    asyncio.run(app.deliver())  # refused: the post in the group is queued in its place
    asyncio.run(app.deliver())
    private, public = outbox_rows(app)
    assert private["status"] == "rerouted"
    assert private["last_error"] == f"{UNREACHABLE}; posted in the group instead"
    assert error_words(private, zh) == "该成员没有启动过机器人；已改为发在群里"
    assert public["kind"] == "send" and public["status"] == "delivered"
    assert public["payload"]["data"] == {"instead_of": private["id"]}
    assert bot_lines(app) == [("message", "", "the rules")]  # in the group, for all to see


def test_a_private_only_message_to_someone_unreachable_is_a_dead_letter(
    make_app: Callable[..., App],
) -> None:
    app = one_chat(make_app)
    queue(
        app,
        Action(
            ActionKind.DIRECT_MESSAGE,
            SOURCE,
            "g1",
            user_id="u9",
            text="your code is 1234",
            data={"private_only": True},
        ),
    )
    asyncio.run(app.deliver())
    (dead,) = outbox_rows(app)
    assert dead["status"] == "dead" and dead["last_error"] == UNREACHABLE
    assert bot_lines(app) == []


def test_a_member_who_left_is_still_reached_privately(make_app: Callable[..., App]) -> None:
    """As on Telegram, leaving the group does not end the private chat: their row (started
    the bot) stays, and the web chat shows them their private messages."""
    app = one_chat(make_app)
    app.handle([app.sandbox.leave("g1", "u1")])
    queue(app, Action(ActionKind.DIRECT_MESSAGE, SOURCE, "g1", user_id="u1", text="come back"))
    asyncio.run(app.deliver())
    (sent,) = outbox_rows(app)
    assert sent["status"] == "delivered"
    assert bot_lines(app) == [("dm", "u1", "come back")]
    seen = app.sandbox.messages("g1", viewer="u1")
    assert [m.text for m in seen if m.kind == "dm"] == ["come back"]


def test_a_member_row_in_another_chat_does_not_reach_them_in_this_one(
    make_app: Callable[..., App],
) -> None:
    """The sandbox's private messages are lines of the chat, started per chat (at the join)."""
    app = one_chat(make_app)
    with app.db.begin() as conn:
        conn.execute(
            insert(sandbox_members).values(
                source=SOURCE,
                chat_id="g2",
                user_id="u9",
                name="Bob",
                status="active",
                is_admin=False,
                started_bot=True,
            )
        )
    with pytest.raises(RecipientUnreachable):
        perform(app, Action(ActionKind.DIRECT_MESSAGE, SOURCE, "g1", user_id="u9", text="x"))
