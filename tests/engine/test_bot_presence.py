"""The bot removed from a group or losing its rights there (``bot_rights_changed``): the group
remembers it, the operator gets one owner task per change, nothing more is sent to a group
the bot is not in (scheduled work skips it, what was waiting becomes a dead letter), and the
tasks close themselves when the bot is back or has its rights again (engine/bot.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, ClassVar

from sqlalchemy import Connection, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import Event, EventKind
from groupops.engine import bot
from groupops.engine.app import App
from groupops.engine.context import BatchContext, Incoming
from groupops.engine.deadletters import NOT_IN_GROUP
from groupops.engine.outbox import queue_actions
from groupops.features.base import FeatureSettings
from groupops.storage.tables import groups, outbox, owner_tasks
from tests.conftest import T0
from tests.engine.fakes import FlakyAdapter

SRC = "telegram:testbot"
ECHO = "tests.engine.fakes:EchoFeature"
POSTER = "tests.engine.test_bot_presence:PosterFeature"
ADMIN_RIGHTS = {
    "can_delete_messages": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_pin_messages": True,
    "can_invite_users": True,
}


class PosterFeature:
    """Posts in every group at each tick: scheduled work (reminders, rankings) in small."""

    name: ClassVar[str] = "poster"
    order: ClassVar[int] = 70
    settings_model: ClassVar[type[FeatureSettings]] = FeatureSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset({EventKind.TICK})

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for group in ctx.all_groups():
            ctx.emit_for_group(
                Action(ActionKind.SEND, group.source, group.chat_id, text="hi"), group
            )

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        return None


def connected(make_app: Callable[..., App], *features: str) -> App:
    """An App with a (fake) Telegram connection: what it can do is queued, not a task."""
    app = make_app(features=features)
    app.platforms.add(FlakyAdapter(SRC))
    return app


def rights_event(
    n: int,
    status: str,
    *,
    chat: str = "-100",
    rights: dict[str, bool] | None = None,
    in_chat: bool = True,
    by: str = "Alice",
    at: int = 0,
) -> Event:
    return Event(
        SRC,
        f"r{n}",
        EventKind.BOT_RIGHTS_CHANGED,
        T0 + timedelta(seconds=at),
        chat_id=chat,
        user_id="42",
        user_name=by,
        data={
            "status": status,
            "old_status": "",
            "is_admin": status in ("administrator", "creator"),
            "in_chat": in_chat,
            "rights": rights or {},
            "chat_title": f"Group {chat}",
        },
    )


def message(n: int, text: str, *, chat: str = "-100", at: int = 0) -> Event:
    return Event(
        SRC,
        f"m{n}",
        EventKind.MESSAGE,
        T0 + timedelta(seconds=at),
        chat_id=chat,
        user_id="7",
        user_name="Bob",
        message_id=str(n),
        text=text,
    )


def tasks(app: App, status: str = "open") -> list[Any]:
    with app.db.connect() as conn:
        return list(
            conn.execute(
                select(owner_tasks).where(owner_tasks.c.status == status).order_by(owner_tasks.c.id)
            )
        )


def queued(app: App) -> list[Any]:
    with app.db.connect() as conn:
        return list(conn.execute(select(outbox).order_by(outbox.c.id)))


def group_row(app: App, chat: str = "-100") -> Any:
    with app.db.connect() as conn:
        return conn.execute(select(groups).where(groups.c.chat_id == chat)).one()


def zh(app: App) -> Callable[[str], str]:
    return app.catalogs.gettext("zh_CN")  # a new group speaks zh_CN


def test_the_bot_kicked_is_kept_on_the_group_and_one_task_says_so(
    make_app: Callable[..., App],
) -> None:
    app = connected(make_app, ECHO)
    app.handle([rights_event(1, "administrator", rights=ADMIN_RIGHTS)])
    assert tasks(app) == []  # an administrator with every right: nothing to do
    app.handle([rights_event(2, "kicked", in_chat=False, by="Alice", at=5)])
    row = group_row(app)
    assert (row.bot_in_chat, row.bot_status) == (False, "kicked")
    assert row.bot_rights == ADMIN_RIGHTS  # what it had in the chat, compared on its return
    assert row.bot_changed_at == T0 + timedelta(seconds=5)
    [task] = tasks(app)
    t = zh(app)
    assert task.text == t(bot.REMOVED_BY).format(group="Group -100", who="Alice")
    assert (task.feature, task.group_id, task.chat_id) == ("bot", row.id, "-100")
    assert task.action["data"] == {"bot": "removed", "status": "kicked"}
    # the platform saying it again (a re-delivery under another id) is no new change
    app.handle([rights_event(3, "kicked", in_chat=False, at=6)])
    assert len(tasks(app)) == 1


def test_banned_and_left_say_so(make_app: Callable[..., App]) -> None:
    app = connected(make_app)
    app.handle([rights_event(1, "banned", chat="-1", in_chat=False, by="Eve")])
    matrix = Event(
        "matrix:bot",
        "x1",
        EventKind.BOT_RIGHTS_CHANGED,
        T0,
        chat_id="!room",
        user_id="@bot:hs",
        data={"status": "left", "in_chat": False, "rights": {}, "chat_title": "Room"},
    )
    app.handle([matrix])
    t = zh(app)
    assert [r.text for r in tasks(app)] == [
        t(bot.BANNED_BY).format(group="Group -1", who="Eve"),
        t(bot.LEFT).format(group="Room"),  # Matrix: "left" is the bot leaving on its own
    ]


def test_actions_waiting_for_the_group_become_dead_letters_saying_why(
    make_app: Callable[..., App],
) -> None:
    app = connected(make_app, ECHO)
    app.handle([message(1, "hello"), message(2, "other", chat="-200")])
    assert [r.status for r in queued(app)] == ["pending", "pending"]
    app.handle([rights_event(1, "kicked", in_chat=False)])
    rows = queued(app)
    assert [(r.chat_id, r.status, r.last_error) for r in rows] == [
        ("-100", "dead", NOT_IN_GROUP),
        ("-200", "pending", ""),  # another group: untouched
    ]


def test_what_is_aimed_at_a_group_the_bot_left_is_a_dead_letter_never_sent(
    make_app: Callable[..., App],
) -> None:
    """A message of the same batch before the removal, and an operator's action written
    after it (queue_actions): dead letters at once, not one refusal after another."""
    app = connected(make_app, ECHO)
    app.handle([message(1, "before", at=0), rights_event(1, "left", in_chat=False, at=1)])
    [echo] = queued(app)
    assert (echo.status, echo.last_error, echo.attempts) == ("dead", NOT_IN_GROUP, 0)
    with app.db.begin() as conn:
        gid = group_row(app).id
        queue_actions(
            conn,
            [
                (Action(ActionKind.SEND, SRC, "-100", text="broadcast"), gid),
                (Action(ActionKind.SEND, SRC, "-200", text="broadcast"), None),
            ],
            workspace_id=1,
            now=T0,
            feature="broadcast",
        )
    assert [(r.chat_id, r.status) for r in queued(app)[1:]] == [
        ("-100", "dead"),
        ("-200", "pending"),
    ]


def test_scheduled_work_skips_a_group_the_bot_is_not_in_until_it_is_back(
    make_app: Callable[..., App],
) -> None:
    app = connected(make_app, POSTER)
    app.handle([message(1, "a"), message(2, "b", chat="-200")])
    app.engine.tick(T0 + timedelta(minutes=1))
    assert sorted(r.chat_id for r in queued(app)) == ["-100", "-200"]
    app.handle([rights_event(1, "kicked", in_chat=False, at=90)])
    before = len(queued(app))
    app.engine.tick(T0 + timedelta(minutes=2))
    assert [r.chat_id for r in queued(app)[before:]] == ["-200"]  # nothing for -100
    app.handle([rights_event(2, "administrator", rights=ADMIN_RIGHTS, at=150)])
    before = len(queued(app))
    app.engine.tick(T0 + timedelta(minutes=3))
    assert sorted(r.chat_id for r in queued(app)[before:]) == ["-100", "-200"]


def test_the_bot_back_closes_the_removal_task_and_asks_nothing(
    make_app: Callable[..., App],
) -> None:
    app = connected(make_app)
    app.handle([rights_event(1, "administrator", rights=ADMIN_RIGHTS)])
    app.handle([rights_event(2, "kicked", in_chat=False, at=1)])
    [task] = tasks(app)
    app.handle([rights_event(3, "administrator", rights=ADMIN_RIGHTS, at=2)])
    assert tasks(app) == []
    [done] = tasks(app, "done")
    assert done.id == task.id
    assert done.reason == zh(app)(bot.BACK)
    assert done.done_at is not None
    assert group_row(app).bot_in_chat is True


def test_back_without_its_rights_asks_for_them(make_app: Callable[..., App]) -> None:
    """Added back as a plain member: the removal task is answered, the rights are not."""
    app = connected(make_app)
    app.handle([rights_event(1, "administrator", rights=ADMIN_RIGHTS)])
    app.handle([rights_event(2, "kicked", in_chat=False, at=1)])
    app.handle([rights_event(3, "member", at=2, by="Carol")])
    [task] = tasks(app)
    assert task.action["data"] == {
        "bot": "rights",
        "rights": ["can_delete_messages", "can_restrict_members", "can_invite_users"],
    }
    t = zh(app)
    words, effects = bot.rights_words(
        ["can_delete_messages", "can_restrict_members", "can_invite_users"], t
    )
    # "may not" (it came back so), not "may no longer ... (changed by Carol)"
    assert task.text == t(bot.LACKS).format(group="Group -100", rights=words, effects=effects)


def test_a_right_taken_is_one_task_and_giving_it_back_closes_it(
    make_app: Callable[..., App],
) -> None:
    app = connected(make_app)
    app.handle([rights_event(1, "administrator", rights=ADMIN_RIGHTS)])
    fewer = {**ADMIN_RIGHTS, "can_delete_messages": False}
    app.handle([rights_event(2, "administrator", rights=fewer, at=1)])
    [task] = tasks(app)
    assert task.action["data"] == {"bot": "rights", "rights": ["can_delete_messages"]}
    t = zh(app)
    words, effects = bot.rights_words(["can_delete_messages"], t)
    assert task.text == t(bot.LACKS_BY).format(
        group="Group -100", rights=words, effects=effects, who="Alice"
    )
    # another change that takes nothing more: no second task
    app.handle(
        [rights_event(3, "administrator", rights={**fewer, "can_pin_messages": False}, at=2)]
    )
    assert len(tasks(app)) == 1
    # a second right taken: a task for it alone; the first stays open
    worse = {**fewer, "can_restrict_members": False}
    app.handle([rights_event(4, "administrator", rights=worse, at=3)])
    assert [r.action["data"]["rights"] for r in tasks(app)] == [
        ["can_delete_messages"],
        ["can_restrict_members"],
    ]
    # delete given back: its task is done, the other stays
    app.handle(
        [rights_event(5, "administrator", rights={**worse, "can_delete_messages": True}, at=4)]
    )
    assert [r.action["data"]["rights"] for r in tasks(app)] == [["can_restrict_members"]]
    assert [r.reason for r in tasks(app, "done")] == [t(bot.RIGHTS_BACK)]
    app.handle([rights_event(6, "administrator", rights=ADMIN_RIGHTS, at=5)])
    assert tasks(app) == []
    assert len(tasks(app, "done")) == 2


def test_the_owner_and_a_group_never_said_about_need_nothing(
    make_app: Callable[..., App],
) -> None:
    app = connected(make_app, ECHO)
    app.handle([message(1, "hi", chat="-300")])  # never said: taken as there, as before
    app.handle([rights_event(1, "creator", chat="-400")])  # the owner names no rights
    assert tasks(app) == []
    assert group_row(app, "-300").bot_status == ""
    assert [r.status for r in queued(app)] == ["pending"]


def test_a_restricted_bot_that_may_not_send_is_told(make_app: Callable[..., App]) -> None:
    app = connected(make_app)
    restricted = {"can_send_messages": False, "can_invite_users": True}
    app.handle([rights_event(1, "restricted", rights=restricted)])
    [task] = tasks(app)
    assert task.action["data"]["rights"] == [
        "can_send_messages",
        "can_delete_messages",
        "can_restrict_members",
    ]


def test_a_live_batch_hands_the_deliverer_nothing_for_a_group_the_bot_left(
    make_app: Callable[..., App],
) -> None:
    app = connected(make_app, ECHO)
    app.handle([rights_event(1, "kicked", in_chat=False)])
    app.engine.hand_off_lease = 30.0
    # a message from before the removal, delivered after it: its echo is not handed over
    result = app.handle([message(1, "late", at=-1), message(2, "here", chat="-200", at=1)])
    assert [h.chat_id for h in result.handed] == ["-200"]
    assert [(r.chat_id, r.status) for r in queued(app)] == [("-100", "dead"), ("-200", "sending")]


def test_another_process_sees_the_bot_back(make_app: Callable[..., App]) -> None:
    """The directory reads which groups the bot is not in once, then follows its batches;
    a change stored by another process is seen after the groups are read again."""
    app = connected(make_app, ECHO)
    app.handle([rights_event(1, "kicked", in_chat=False)])
    with app.db.begin() as conn:
        conn.execute(update(groups).values(bot_in_chat=True))
    app.engine.directory.invalidate()
    app.handle([message(1, "back")])
    assert [r.status for r in queued(app)] == ["pending"]


def test_an_event_of_the_group_after_the_removal_says_the_bot_is_back(
    make_app: Callable[..., App],
) -> None:
    """Matrix says nothing when the bot joins a room again, and no platform tells a bot what
    happens in a chat it is not in: a member's message newer than the removal means the bot
    is back (its task done, its actions sent again); an older one (delivered late) does not."""
    app = connected(make_app, ECHO)
    app.handle([rights_event(1, "administrator", rights=ADMIN_RIGHTS)])
    app.handle([rights_event(2, "kicked", in_chat=False, at=10)])
    app.handle([message(1, "from before", at=5)])
    assert group_row(app).bot_in_chat is False
    assert [r.status for r in queued(app)] == ["dead"]
    # in one batch: the message that says it is back, and one after it
    app.handle([message(2, "hello again", at=20), message(3, "and again", at=21)])
    row = group_row(app)
    assert (row.bot_in_chat, row.bot_status, row.bot_rights) == (True, "", ADMIN_RIGHTS)
    assert [r.status for r in queued(app)] == ["dead", "pending", "pending"]
    assert tasks(app) == []
    assert [r.reason for r in tasks(app, "done")] == [zh(app)(bot.BACK)]


def test_a_button_pressed_does_not_say_the_bot_is_back(make_app: Callable[..., App]) -> None:
    """Telegram hands a callback query to the bot whose message holds the button wherever
    that message is: a member pressing an old welcome's button in a group that removed the
    bot says nothing of the bot being there (the press is stamped when it arrives, always
    after the removal). The group stays without the bot and its task open."""
    app = connected(make_app, ECHO)
    app.handle([rights_event(1, "kicked", in_chat=False, at=10)])
    press = Event(
        SRC,
        "b1",
        EventKind.BUTTON,
        T0 + timedelta(minutes=5),
        chat_id="-100",
        user_id="7",
        user_name="Bob",
        message_id="3",
        data={"button_data": "welcome:ok", "callback_query_id": "q1"},
    )
    app.handle([press])
    assert group_row(app).bot_in_chat is False
    assert [t.action["data"]["bot"] for t in tasks(app)] == [bot.REMOVED]
    assert tasks(app, "done") == []


def test_an_event_of_the_removals_very_second_does_not_say_the_bot_is_back(
    make_app: Callable[..., App],
) -> None:
    """Telegram's times are whole seconds: a member's message of the second the bot was
    removed in, delivered after the removal (a webhook's parallel posts), was sent before it
    as far as anyone can tell; one a second later says the bot is back."""
    app = connected(make_app, ECHO)
    app.handle([rights_event(1, "kicked", in_chat=False, at=10)])
    app.handle([message(1, "same second", at=10)])
    assert group_row(app).bot_in_chat is False
    assert [r.status for r in queued(app)] == ["dead"]
    app.handle([message(2, "a second later", at=11)])
    assert group_row(app).bot_in_chat is True


def test_a_private_message_refused_after_the_removal_is_not_posted_in_the_group(
    make_app: Callable[..., App],
) -> None:
    """A private message the platform will not carry goes to the group instead, but not to a
    group the bot has left meanwhile (it was being sent when the removal came): it is a dead
    letter with the platform's reason, no post is queued there. In a group the bot is in, it
    is posted there as before."""
    app = connected(make_app)
    adapter = app.platforms.get(SRC)
    app.handle([rights_event(1, "administrator", rights=ADMIN_RIGHTS)])
    app.handle([rights_event(2, "administrator", chat="-200", rights=ADMIN_RIGHTS)])
    with app.db.begin() as conn:
        ids = {r.chat_id: r.id for r in conn.execute(select(groups))}
        for chat in ("-100", "-200"):
            queue_actions(
                conn,
                [(Action(ActionKind.DIRECT_MESSAGE, SRC, chat, user_id="7", text="rules"), None)],
                workspace_id=1,
                now=T0,
                feature="welcome",
            )
        # the bot removed from -100 while its private message was on its way
        conn.execute(update(groups).where(groups.c.id == ids["-100"]).values(bot_in_chat=False))
    assert isinstance(adapter, FlakyAdapter)
    adapter.script = ["unreachable", "unreachable"]
    asyncio.run(app.deliver())
    rows = [(r.chat_id, r.kind, r.status) for r in queued(app)]
    assert rows[:2] == [("-100", "direct_message", "dead"), ("-200", "direct_message", "rerouted")]
    assert [(c, k) for c, k, _ in rows[2:]] == [("-200", "send")]
