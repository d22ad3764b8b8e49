"""Who may add the bot to a group (QA security W7): with ``added_by`` set, a group someone else
adds the bot to is left at once (leaveChat) and never becomes a group of the workspace (no
events, no group row, no welcome), and the refusal is kept in the connection's state for the
operator; someone on the list adds it as before. Without a list, anyone may (as before)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from groupops.engine.app import App
from groupops.platforms.telegram.updates import LEAVE_GRACE, LEAVE_RETRY
from groupops.storage.tables import groups
from tests.platforms.telegram.conftest import run, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

OWNER = FakeBotApi.person(501, "Olga")
STRANGER = FakeBotApi.person(666, "Mallory")
MEMBER = FakeBotApi.person(502, "Bob")
THEIRS = -5550000001  # a basic group: left at once
OURS = -1005550000002


def group_rows(app: App) -> set[str]:
    with app.db.connect() as conn:
        return {str(r.chat_id) for r in conn.execute(select(groups.c.chat_id))}


def test_a_group_a_stranger_adds_the_bot_to_is_left_and_never_becomes_a_group(
    make_app: Callable[..., App],
) -> None:
    app = make_app()

    async def go() -> dict[str, object]:
        async with telegram(app, added_by=("501",)) as (fake, adapter):
            fake.add_chat(THEIRS, "Cheap followers", "group", bot=False)
            fake.add_chat(OURS, "Our new group", bot=False)
            fake.bot_rights(THEIRS, STRANGER, status="member")
            fake.post(THEIRS, STRANGER, "hello bot")
            fake.join(THEIRS, MEMBER, by=STRANGER)
            fake.bot_rights(OURS, OWNER, status="administrator")
            fake.post(OURS, OWNER, "welcome everyone")
            await adapter.poll_once()
            left = [r.params["chat_id"] for r in fake.calls("leaveChat")]
            # Telegram then says the bot left (from the bot itself): not news either
            assert fake.updates[-1]["my_chat_member"]["new_chat_member"]["status"] == "left"
            # a supergroup the bot was just added to reaches groupops LEAVE_GRACE late
            app.clock.advance(timedelta(seconds=LEAVE_GRACE + 1))  # type: ignore[attr-defined]
            await adapter.poll_once()
            await app.deliver()
            return {
                "left": left,
                "state": adapter.store.state(),
                "sent_theirs": fake.sent(THEIRS),
            }

    out = run(go())
    assert out["left"] == [THEIRS]
    chats = {r.chat_id for r in stored(app)}
    assert str(THEIRS) not in chats  # nothing of their group reached the engine
    assert str(OURS) in chats  # the owner's group did
    assert str(THEIRS) not in group_rows(app) and str(OURS) in group_rows(app)
    assert out["sent_theirs"] == []  # no welcome in their group
    state = out["state"]
    assert isinstance(state, dict)
    record = state["refused"][str(THEIRS)]
    assert record["by"] == "666" and record["by_name"] == "Mallory"
    assert record["title"] == "Cheap followers" and record["left"] is True


def test_without_a_list_anyone_may_add_the_bot(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> list[object]:
        async with telegram(app) as (fake, adapter):
            fake.add_chat(THEIRS, "Anyone's group", bot=False)
            fake.bot_rights(THEIRS, STRANGER, status="member")
            fake.post(THEIRS, STRANGER, "hello bot")
            await adapter.poll_once()
            app.clock.advance(timedelta(seconds=LEAVE_GRACE + 1))  # type: ignore[attr-defined]
            await adapter.poll_once()  # a new supergroup's first updates: LEAVE_GRACE late
            return list(fake.calls("leaveChat"))

    assert run(go()) == []
    assert str(THEIRS) in {r.chat_id for r in stored(app)}


def test_someone_on_the_list_adding_the_bot_again_lifts_the_refusal(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=())

    async def go() -> dict[str, object]:
        async with telegram(app, added_by=("501", "777")) as (fake, adapter):
            fake.add_chat(THEIRS, "A group", "group", bot=False)
            fake.bot_rights(THEIRS, STRANGER, status="member")
            await adapter.poll_once()
            await adapter.poll_once()  # the bot's own leaving
            fake.bot_rights(THEIRS, OWNER, status="member")
            fake.post(THEIRS, OWNER, "now with the bot")
            await adapter.poll_once()
            return {"state": adapter.store.state(), "left": len(fake.calls("leaveChat"))}

    out = run(go())
    assert out["left"] == 1
    state = out["state"]
    assert isinstance(state, dict) and str(THEIRS) not in state.get("refused", {})
    kinds = [(r.kind, r.text) for r in stored(app) if r.chat_id == str(THEIRS)]
    assert kinds == [("bot_rights_changed", ""), ("message", "now with the bot")]


def test_a_leave_that_fails_is_tried_again_later(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> dict[str, object]:
        async with telegram(app, added_by=("501",)) as (fake, adapter):
            fake.add_chat(THEIRS, "A group", "group", bot=False)
            fake.fail("502", 1, methods={"leaveChat"})
            fake.bot_rights(THEIRS, STRANGER, status="member")
            await adapter.poll_once()
            first = dict(adapter.store.state()["refused"][str(THEIRS)])
            await adapter.poll_once()  # too soon: not asked again
            soon = len(fake.calls("leaveChat", ok_only=False))
            app.clock.advance(timedelta(seconds=LEAVE_RETRY + 1))  # type: ignore[attr-defined]
            fake.post(THEIRS, STRANGER, "still here")
            await adapter.poll_once()
            return {
                "first": first,
                "soon": soon,
                "calls": len(fake.calls("leaveChat", ok_only=False)),
                "record": adapter.store.state()["refused"][str(THEIRS)],
            }

    out = run(go())
    first = out["first"]
    assert isinstance(first, dict)
    assert first["left"] is False and first["tries"] == 1 and "Bad Gateway" in first["error"]
    assert out["soon"] == 1 and out["calls"] == 2
    record = out["record"]
    assert isinstance(record, dict) and record["left"] is True
    assert str(THEIRS) not in {r.chat_id for r in stored(app)}


def test_a_refused_supergroup_is_left_after_a_grace(make_app: Callable[..., App]) -> None:
    """A supergroup may be one of the operator's groups just upgraded (see below): the bot
    leaves it LEAVE_GRACE later, dropping its updates meanwhile."""
    app = make_app(features=())
    theirs = -1005550000009

    async def go() -> tuple[int, int]:
        async with telegram(app, added_by=("501",)) as (fake, adapter):
            fake.add_chat(theirs, "Cheap followers", bot=False)
            fake.bot_rights(theirs, STRANGER, status="member")
            await adapter.poll_once()
            at_first = len(fake.calls("leaveChat"))
            app.clock.advance(timedelta(seconds=LEAVE_GRACE + 1))  # type: ignore[attr-defined]
            fake.post(theirs, STRANGER, "hello bot")
            await adapter.poll_once()
            return at_first, len(fake.calls("leaveChat"))

    assert run(go()) == (0, 1)
    assert str(theirs) not in {r.chat_id for r in stored(app)}


def test_the_bot_stays_in_its_group_upgraded_by_someone_not_on_the_list(
    make_app: Callable[..., App],
) -> None:
    """On an upgrade Telegram tells the bot it was added to the new supergroup, by whoever
    upgraded it (an admin, not on added_by). Over a webhook each update is handled on its own,
    and that join can come before the notice naming the old group: it must not make the bot
    leave its own group."""
    app = make_app(features=())
    old, new = -5550000002, -1005550000002

    async def go() -> dict[str, object]:
        async with telegram(app, added_by=("501",)) as (fake, adapter):
            fake.add_chat(old, "Our group", "group")
            fake.post(old, MEMBER, "before")
            await adapter.poll_once()
            fake.add_chat(new, "Our group", bot=False)
            fake.bot_rights(new, MEMBER, status="administrator")  # the bot's join there first
            fake.migrate(old, new, MEMBER)
            for update in list(fake.updates):  # one at a time, as the webhook hands them over
                if update["update_id"] >= (adapter.offset or 0):
                    await adapter.process([update])
            app.clock.advance(timedelta(seconds=LEAVE_GRACE + 1))  # type: ignore[attr-defined]
            fake.post(new, MEMBER, "after")
            await adapter.poll_once()
            return {"left": fake.calls("leaveChat"), "state": adapter.store.state()}

    out = run(go())
    assert out["left"] == []
    state = out["state"]
    assert isinstance(state, dict) and str(new) not in state.get("refused", {})
    texts = [r.text for r in stored(app) if r.chat_id == str(old) and r.kind == "message"]
    assert texts == ["before", "after"]
