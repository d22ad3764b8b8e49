"""A Telegram group is named by the chat's title from whatever update first shows it, and
follows a rename, unless the operator gave it a title of their own (QA platforms finding 3:
groups first seen through a join or a message were titled by their chat id, "欢迎 Alice 加入
「-1001」", in every message of the bot)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from sqlalchemy import select, update

from groupops.engine.app import App
from groupops.engine.settings_admin import set_group_profile
from groupops.storage.tables import groups
from tests.cli import cli_app
from tests.cli import run as run_cli
from tests.platforms.telegram.conftest import GROUP, OTHER_GROUP, run, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

ALICE = FakeBotApi.person(501, "Alice", "alice")


def _titles(app: App) -> dict[str, tuple[str, str]]:
    with app.db.connect() as conn:
        rows = conn.execute(select(groups.c.chat_id, groups.c.title, groups.c.platform_title))
        return {r.chat_id: (r.title, r.platform_title) for r in rows}


def test_titles_come_from_any_update_and_follow_renames(make_app: Callable[..., App]) -> None:
    app = make_app(features=("groupops.features.welcome:WelcomeFeature",))

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.join(GROUP, ALICE)  # a chat_member update first
            fake.post(OTHER_GROUP, ALICE, "hello")  # a message first
            await adapter.poll_once()
            await app.deliver()
            assert _titles(app)[str(GROUP)][0] == "Study group"
            assert _titles(app)[str(OTHER_GROUP)] == ("Second group", "Second group")
            welcome = [r for r in fake.calls("sendMessage") if r.params["chat_id"] == GROUP]
            assert welcome and "Study group" in welcome[0].params["text"]
            assert str(GROUP) not in welcome[0].params["text"]

            # renamed on Telegram: the service message and every later update carry the title
            fake.chats[GROUP]["title"] = "学习群 2027"
            fake.post(GROUP, ALICE, "", new_chat_title="学习群 2027")
            fake.post(GROUP, ALICE, "after the rename")
            await adapter.poll_once()
            assert _titles(app)[str(GROUP)] == ("学习群 2027", "学习群 2027")

            # the operator's own title stays, whatever the platform says next
            set_group_profile(app.db, f"{adapter.source}:{OTHER_GROUP}", title="English corner")
            app.engine.directory.invalidate()
            fake.chats[OTHER_GROUP]["title"] = "Renamed on Telegram"
            fake.post(OTHER_GROUP, ALICE, "still here")
            await adapter.poll_once()
            assert _titles(app)[str(OTHER_GROUP)] == ("English corner", "Renamed on Telegram")

    run(go())


def test_a_group_titled_by_its_chat_id_gets_the_platform_title(
    make_app: Callable[..., App],
) -> None:
    """A database from before: the group was created with its chat id as title."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.post(GROUP, ALICE, "first")
            await adapter.poll_once()
            with app.db.begin() as conn:
                conn.execute(update(groups).values(title=str(GROUP), platform_title=""))
            app.engine.directory.invalidate()
            fake.post(GROUP, ALICE, "second")
            await adapter.poll_once()
            assert _titles(app)[str(GROUP)] == ("Study group", "Study group")

    asyncio.run(go())


def test_a_rename_shows_at_once_and_an_operator_title_stays(
    make_app: Callable[..., App], database_url: str
) -> None:
    """The ``new_chat_title`` service message is a ``group_updated`` event: the group's title
    follows it before anyone writes again (before, it waited for the group's next message);
    a title of the operator's own is kept, the platform's noted beside it."""
    app = make_app(features=("groupops.features.welcome:WelcomeFeature",))

    def listed() -> dict[str, str]:
        res = run_cli(cli_app(), "groups", "--json", "--database-url", database_url)
        assert res.exit_code == 0, res.output
        return {str(g["chat_id"]): str(g["title"]) for g in json.loads(res.stdout)}

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.post(GROUP, ALICE, "hello")
            fake.post(OTHER_GROUP, ALICE, "hello")
            await adapter.poll_once()
            set_group_profile(app.db, f"{adapter.source}:{OTHER_GROUP}", title="English corner")
            app.engine.directory.invalidate()

            fake.rename(GROUP, ALICE, "学习群 2027")
            fake.rename(OTHER_GROUP, ALICE, "Renamed on Telegram")
            await adapter.poll_once()  # nothing else said in either group

            assert _titles(app)[str(GROUP)] == ("学习群 2027", "学习群 2027")
            assert _titles(app)[str(OTHER_GROUP)] == ("English corner", "Renamed on Telegram")
            renames = [e for e in stored(app) if e.kind == "group_updated"]
            assert [(e.chat_id, e.user_id) for e in renames] == [
                (str(GROUP), "501"),
                (str(OTHER_GROUP), "501"),
            ]
            assert not [e for e in stored(app) if e.kind == "message" and not e.text]

    run(go())
    shown = listed()
    assert shown[str(GROUP)] == "学习群 2027"
    assert shown[str(OTHER_GROUP)] == "English corner"
