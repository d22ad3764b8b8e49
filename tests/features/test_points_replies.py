"""Reply points are for answering another member. A reply to the bot (its check-in reply, a
welcome) paid reply points, twice a message's, and so did a reply whose author the platform
did not name (Matrix, for a message older than what the adapter remembers), even one to the
member's own message. Now a reply pays ``reply_points`` only when it answers a member other
than its author; any other reply pays as a message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.features.points import member_points
from tests.features.helpers import clock, feature_app

MODERATION = "groupops.features.moderation:ModerationFeature"
CHECKIN = "groupops.features.checkin:CheckinFeature"
POINTS = "groupops.features.points:PointsFeature"
MEMBER = {"u1": 2, "u2": 3, "u3": 4}


def setup(make_app: Callable[..., App]) -> App:
    """Brand Club (group 1): admin, Ann, Bob, Chen; message 1 point, reply 2 (defaults)."""
    return feature_app(
        make_app, (MODERATION, CHECKIN, POINTS), {"g1": "Brand Club"}, timezone="Asia/Shanghai"
    )


def balance(app: App, uid: str) -> int:
    with app.db.connect() as conn:
        found = member_points(conn, 1, MEMBER[uid])
    return int(found["points"]) if found else 0


def post(app: App, uid: str, text: str, reply_to: str = "") -> str:
    event = app.sandbox.post("g1", uid, text, reply_to=reply_to)
    app.handle([event])
    clock(app).advance(61)  # past the cooldown
    return event.message_id


def unnamed_reply(app: App, uid: str, text: str, reply_to: str, n: int) -> Event:
    """A reply as Matrix reports one to a message it no longer remembers: no author named."""
    return Event(
        "sandbox",
        f"unnamed{n}",
        EventKind.MESSAGE,
        clock(app).now(),
        chat_id="g1",
        user_id=uid,
        user_name="Ann" if uid == "u1" else "Bob",
        message_id=f"90{n}",
        text=text,
        reply_to_message_id=reply_to,
    )


def test_a_reply_to_the_bot_pays_as_a_message(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    post(app, "u1", "签到")  # 5 points, and the bot's reply
    asyncio.run(app.deliver())
    bot_reply = [m for m in app.sandbox.messages("g1") if m.user_id == "bot"][-1]
    post(app, "u1", "thank you, bot", reply_to=str(bot_reply.id))
    assert balance(app, "u1") == 5 + 1
    question = post(app, "u2", "Who has read chapter three?")
    post(app, "u1", "I have, it was great", reply_to=question)
    assert balance(app, "u1") == 5 + 1 + 2  # another member answered: a reply


def test_a_reply_naming_no_author_is_judged_by_the_stored_message(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app)
    mine = post(app, "u1", "my notes from today")
    bobs = post(app, "u2", "and mine from yesterday")
    app.handle([unnamed_reply(app, "u1", "adding one more thing", mine, 1)])
    clock(app).advance(61)
    assert balance(app, "u1") == 1 + 1  # answering herself: a message
    app.handle([unnamed_reply(app, "u1", "thanks for these", bobs, 2)])
    clock(app).advance(61)
    assert balance(app, "u1") == 1 + 1 + 2  # answering Bob: a reply
    app.handle([unnamed_reply(app, "u1", "to a message never seen", "123456", 3)])
    assert balance(app, "u1") == 1 + 1 + 2 + 1


def test_a_batch_of_replies_pays_as_one_by_one(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    post(app, "u3", "签到")
    asyncio.run(app.deliver())
    bot_reply = str([m for m in app.sandbox.messages("g1") if m.user_id == "bot"][-1].id)
    chens = post(app, "u3", "what did everyone read")
    anns = post(app, "u1", "a book on gardens")
    events = []
    for uid, reply_to in (("u1", chens), ("u2", bot_reply), ("u2", anns), ("u1", anns)):
        events.append(app.sandbox.post("g1", uid, "a reply of some length", reply_to=reply_to))
        clock(app).advance(61)
    before = balance(app, "u1"), balance(app, "u2")
    app.handle(events)
    assert (balance(app, "u1") - before[0], balance(app, "u2") - before[1]) == (2 + 1, 1 + 2)


def test_an_edit_pays_nothing(make_app: Callable[..., App]) -> None:
    """Editing a message (a platform reports each edit) is no new message: it pays nothing,
    also past the cooldown."""
    app = setup(make_app)
    mid = post(app, "u1", "my notes from today")
    for n in range(3):
        edit = Event(
            "sandbox",
            f"edit{n}",
            EventKind.MESSAGE_EDITED,
            clock(app).now(),
            chat_id="g1",
            user_id="u1",
            user_name="Ann",
            message_id=mid,
            text=f"my notes from today, edited {n}",
        )
        app.handle([edit])
        clock(app).advance(61)
    assert balance(app, "u1") == 1
