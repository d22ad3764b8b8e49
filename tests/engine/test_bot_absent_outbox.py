"""The outbox for a group the bot is not in: ``outbox retry`` holds back what needs the group
until the bot is back (engine/deadletters.py), and a private message, which does not need the
group, still goes to the member (engine/outbox.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import typer
from sqlalchemy import Connection, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import EventKind
from groupops.engine.app import App
from groupops.engine.context import BatchContext, Incoming
from groupops.engine.deadletters import NOT_IN_GROUP, BotNotInGroup, retry, retry_dead
from groupops.engine.outbox import queue_actions
from groupops.features.base import FeatureSettings
from groupops.storage.tables import groups, outbox
from tests.cli import run
from tests.conftest import T0
from tests.engine.fakes import FlakyAdapter
from tests.engine.test_bot_presence import (
    ADMIN_RIGHTS,
    ECHO,
    SRC,
    connected,
    message,
    queued,
    rights_event,
)

WELCOME_DM = "tests.engine.test_bot_absent_outbox:PrivateWelcome"


class PrivateWelcome:
    """Answers every message with a private message to its author (a welcome's rules)."""

    name: ClassVar[str] = "private_welcome"
    order: ClassVar[int] = 60
    settings_model: ClassVar[type[FeatureSettings]] = FeatureSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset({EventKind.MESSAGE})

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for item in batch:
            e = item.event
            ctx.emit(
                Action(
                    ActionKind.DIRECT_MESSAGE, e.source, e.chat_id, user_id=e.user_id, text="rules"
                )
            )

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        return None


def dead_letters_in_two_groups(app: App) -> dict[tuple[str, str], int]:
    """Both groups known, the bot then removed from -100: a post and a private message for
    -100 and a post for -200, all dead letters. Their ids by (chat, kind)."""
    app.handle([rights_event(1, "administrator", rights=ADMIN_RIGHTS)])
    app.handle([rights_event(2, "administrator", chat="-200", rights=ADMIN_RIGHTS)])
    with app.db.begin() as conn:
        ids, _ = queue_actions(
            conn,
            [
                (Action(ActionKind.SEND, SRC, "-100", text="post"), None),
                (Action(ActionKind.DIRECT_MESSAGE, SRC, "-100", user_id="7", text="dm"), None),
                (Action(ActionKind.SEND, SRC, "-200", text="post"), None),
            ],
            workspace_id=1,
            now=T0,
            feature="broadcast",
        )
        conn.execute(update(outbox).values(status="dead", last_error=NOT_IN_GROUP))
    app.handle([rights_event(3, "kicked", in_chat=False, at=1)])
    return dict(
        zip([("-100", "send"), ("-100", "direct_message"), ("-200", "send")], ids, strict=True)
    )


def status_of(app: App) -> dict[int, str]:
    with app.db.connect() as conn:
        return {
            int(r.id): str(r.status) for r in conn.execute(select(outbox.c.id, outbox.c.status))
        }


def test_retry_holds_a_group_the_bot_is_not_in_and_sends_the_rest(
    make_app: Callable[..., App],
) -> None:
    """In the same call: the post for the group the bot left stays dead, named with its group
    and why; the other group's post and the private message (no group needed) are queued.
    Once the bot is back the held one is queued as any other."""
    app = connected(make_app)
    ids = dead_letters_in_two_groups(app)
    done = retry(app.db, app.clock)
    assert done.queued == 2
    [held] = done.held
    assert isinstance(held, BotNotInGroup) and held.code == "bot_not_in_group"
    assert held.ids == [ids[("-100", "send")]]
    assert held.group == f"Group -100 ({SRC}:-100)"
    assert str(held) == (
        f"outbox: action {held.ids[0]} for group Group -100 ({SRC}:-100) not queued again: the"
        " bot is not in the group; add it back, then retry"
    )
    zh = app.catalogs.gettext("zh_CN")
    assert held.localized(zh) == (
        f"发件队列：动作 {held.ids[0]}（群 Group -100 ({SRC}:-100)）未重新排队：机器人不在该群；"
        "请先把机器人加回该群，再重试"
    )
    assert status_of(app) == {
        ids[("-100", "send")]: "dead",
        ids[("-100", "direct_message")]: "pending",
        ids[("-200", "send")]: "pending",
    }
    # named by id, it is held too (and the count says so)
    assert retry_dead(app.db, app.clock, [ids[("-100", "send")]]) == 0
    assert status_of(app)[ids[("-100", "send")]] == "dead"
    app.handle([rights_event(4, "administrator", rights=ADMIN_RIGHTS, at=2)])
    assert retry(app.db, app.clock) == type(done)(1, [])
    assert set(status_of(app).values()) == {"pending"}


def test_a_long_wait_names_the_first_ids_only() -> None:
    many = BotNotInGroup(list(range(1, 26)), "Study group (telegram:bot:-1)")
    assert many.ids == list(range(1, 26))
    assert str(many).startswith("outbox: actions 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, … for group")


def test_outbox_retry_says_which_group_it_held_in_both_languages(
    make_app: Callable[..., App], database_url: str, cli: typer.Typer
) -> None:
    app = connected(make_app)
    ids = dead_letters_in_two_groups(app)
    held, other = ids[("-100", "send")], ids[("-200", "send")]
    url = ("--database-url", database_url)
    res = run(cli, "outbox", "retry", str(held), str(other), *url)
    assert res.exit_code == 1, res.output  # an id asked for was not queued
    assert res.stdout.strip() == "1 action queued again"
    assert res.stderr.strip() == (
        f"error [bot_not_in_group] outbox: action {held} for group Group -100 ({SRC}:-100) not"
        " queued again: the bot is not in the group; add it back, then retry"
    )
    assert status_of(app)[other] == "pending"
    res = run(cli, "outbox", "retry", "--all", *url, lang="zh_CN")
    assert res.exit_code == 0, res.output  # --all: the held ones are expected to wait
    assert "1 个动作已重新排队" in res.stdout
    assert f"动作 {held}（群 Group -100 ({SRC}:-100)）未重新排队：机器人不在该群" in res.stderr
    assert "Traceback" not in res.output and "not queued" not in res.stderr
    assert status_of(app)[held] == "dead"


def test_a_private_message_in_a_group_the_bot_left_goes_to_the_member(
    make_app: Callable[..., App],
) -> None:
    """A private chat does not need the group: written by a batch (handed to the live
    deliverer) or by an operator (queue_actions), it is sent; the same batch's reply in the
    group is a dead letter as before."""
    app = connected(make_app, ECHO, WELCOME_DM)
    app.handle([rights_event(1, "kicked", in_chat=False)])
    app.engine.hand_off_lease = 30.0
    result = app.handle([message(1, "late", at=-1)])
    assert [h.kind for h in result.handed] == ["direct_message"]
    with app.db.begin() as conn:
        queue_actions(
            conn,
            [(Action(ActionKind.DIRECT_MESSAGE, SRC, "-100", user_id="8", text="hi"), None)],
            workspace_id=1,
            now=T0,
            feature="broadcast",
        )
    rows = [(r.kind, r.status, r.last_error) for r in queued(app)]
    assert sorted(rows) == [
        ("direct_message", "pending", ""),
        ("direct_message", "sending", ""),
        ("reply", "dead", NOT_IN_GROUP),
    ]

    asyncio.run(app.deliver())  # the handed one (the App told its deliverer), then the queue
    adapter = app.platforms.get(SRC)
    assert isinstance(adapter, FlakyAdapter)
    assert sorted((a.kind, a.user_id) for _key, a in adapter.sent) == [
        (ActionKind.DIRECT_MESSAGE, "7"),
        (ActionKind.DIRECT_MESSAGE, "8"),
    ]
    assert [r.status for r in queued(app)] == ["dead", "delivered", "delivered"]


def test_a_private_message_refused_in_a_group_the_bot_left_is_not_posted_there(
    make_app: Callable[..., App],
) -> None:
    """Let through to the deliverer, a private message the platform will not carry is a dead
    letter with the platform's reason, never a post queued in the group (d57f8a7)."""
    app = connected(make_app)
    app.handle([rights_event(1, "left", in_chat=False)])
    with app.db.begin() as conn:
        queue_actions(
            conn,
            [(Action(ActionKind.DIRECT_MESSAGE, SRC, "-100", user_id="7", text="rules"), None)],
            workspace_id=1,
            now=T0,
            feature="welcome",
        )
    adapter = app.platforms.get(SRC)
    assert isinstance(adapter, FlakyAdapter)
    adapter.script = ["unreachable"]
    asyncio.run(app.deliver())
    rows: list[Any] = queued(app)
    assert [(r.kind, r.status) for r in rows] == [("direct_message", "dead")]
    assert "RecipientUnreachable" in rows[0].last_error and adapter.calls == 1
    assert adapter.sent == []
    with app.db.connect() as conn:
        assert conn.execute(select(groups.c.bot_in_chat)).scalar() is False


def test_a_private_message_waiting_when_the_bot_is_removed_stays_queued(
    make_app: Callable[..., App],
) -> None:
    """The removal turns what waits for the group into dead letters, not the private messages
    waiting for its members: those are still sent."""
    app = connected(make_app, ECHO, WELCOME_DM)
    app.handle([message(1, "hello")])
    assert sorted(r.kind for r in queued(app)) == ["direct_message", "reply"]
    app.handle([rights_event(1, "kicked", in_chat=False)])
    assert sorted((r.kind, r.status, r.last_error) for r in queued(app)) == [
        ("direct_message", "pending", ""),
        ("reply", "dead", NOT_IN_GROUP),
    ]
