"""A room renamed on Matrix (``PUT /rooms/{id}/state/m.room.name``) is renamed in groupops at
once: the ``m.room.name`` state event is a ``group_updated`` event carrying the new title. Before,
the title only followed with the room's next message. A title of the operator's own stays.
Real Synapse on 127.0.0.1, real engine, and ``groupops groups`` to read it back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nio import RoomCreateResponse, RoomPutStateResponse
from sqlalchemy import select

from groupops.domain.events import EventKind
from groupops.engine.app import App
from groupops.engine.settings_admin import set_group_profile
from groupops.platforms.matrix.translate import Translator
from groupops.storage.tables import events, groups
from tests.cli import cli_app
from tests.cli import run as run_cli
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import bot_config, make_adapter, people, settle
from tests.platforms.matrix.synapse import Synapse


def test_a_rename_shows_at_once_and_an_operator_title_stays(
    synapse: Synapse, make_app: Callable[..., App], database_url: str
) -> None:
    app = make_app(features=())
    bot = new_account(synapse, "bot")

    async def go() -> dict[str, Any]:
        (owner,) = await people(synapse, 1)
        adapter = make_adapter(app.db, bot_config(synapse, bot), app.handle)
        await adapter.connect()
        await adapter.sync_once()  # the first sync only takes the position
        rooms = []
        for name in ("读书会", "Second room"):
            made = await owner.client.room_create(name=name, invite=[bot.user_id])
            assert isinstance(made, RoomCreateResponse), made
            rooms.append(str(made.room_id))
        await settle(adapter, 3)  # the bot joins
        for room in rooms:
            await owner.say(room, "hello")
        await settle(adapter, 2)  # both groups known, by their first names
        first, second = rooms
        set_group_profile(app.db, f"{adapter.config.source}:{second}", title="English corner")
        app.engine.directory.invalidate()

        for room, name in ((first, "读书会 2027"), (second, "Renamed on Matrix")):
            put = await owner.client.room_put_state(room, "m.room.name", {"name": name})
            assert isinstance(put, RoomPutStateResponse), put
        await settle(adapter, 2)  # nothing else said in either room
        out = {"first": first, "second": second, "owner": owner.user_id}
        await adapter.close()
        await owner.close()
        return out

    out = run(go())
    with app.db.connect() as conn:
        titles = {
            r.chat_id: (r.title, r.platform_title)
            for r in conn.execute(select(groups.c.chat_id, groups.c.title, groups.c.platform_title))
        }
        renames = list(
            conn.execute(
                select(events.c.chat_id, events.c.user_id).where(events.c.kind == "group_updated")
            )
        )
    assert titles[out["first"]] == ("读书会 2027", "读书会 2027")
    assert titles[out["second"]] == ("English corner", "Renamed on Matrix")
    assert sorted(tuple(r) for r in renames) == sorted(  # one sync: rooms in any order
        [(out["first"], out["owner"]), (out["second"], out["owner"])]
    )
    res = run_cli(cli_app(), "groups", "--json", "--database-url", database_url)
    assert res.exit_code == 0, res.output
    shown = {str(g["chat_id"]): str(g["title"]) for g in json.loads(res.stdout)}
    assert shown[out["first"]] == "读书会 2027"
    assert shown[out["second"]] == "English corner"


class _Room:
    """A room as translation sees it, its title as matrix-nio would give it."""

    def __init__(self, title: str) -> None:
        self._title = title

    def title(self) -> str:
        return self._title

    def display_name(self, user_id: str) -> str:
        return ""

    def power_level(self, user_id: str) -> int:
        return 50

    def is_creator(self, user_id: str) -> bool:
        return False


def test_a_name_taken_away_leaves_the_rooms_own_title() -> None:
    """With its name removed a room is titled by its alias (as any later event would carry
    it); with no alias either, the event carries no title and the group keeps its own."""
    translator = Translator("matrix:@bot:localhost", "@bot:localhost")

    def named(content: dict[str, Any], room_title: str, state_key: str = "") -> Any:
        raw = {
            "type": "m.room.name",
            "event_id": "$e",
            "sender": "@alice:localhost",
            "state_key": state_key,
            "origin_server_ts": 1_700_000_000_000,
            "content": content,
        }
        return translator.translate("!r:localhost", raw, _Room(room_title))

    renamed = named({"name": "New"}, "Old")  # the event's own name, whatever the sync ends on
    assert renamed.kind == EventKind.GROUP_UPDATED and renamed.data == {"chat_title": "New"}
    assert renamed.user_id == "@alice:localhost" and renamed.is_admin
    assert named({}, "#club:localhost").data == {"chat_title": "#club:localhost"}
    assert named({}, "").data == {}
    assert named({"name": "x"}, "", state_key="odd") is None  # not the room's name
