"""Renaming a sandbox group through the web chat's API, as an admin renames a Telegram group
or a Matrix room: the chat's title changes, the chat says who renamed it, and the engine gets
the ``group_updated`` event the other platforms' renames are, so the group's stored title (what
``groupops groups`` lists) follows. Only a member who is an admin may; bad names are refused
naming the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from groupops.platforms.sandbox.tables import sandbox_chats, sandbox_messages
from groupops.storage.tables import events, groups
from groupops.web.runtime import Runtime
from tests.cli import cli_app
from tests.cli import run as run_cli
from tests.web.conftest import Person

NEW = "Python 进阶训练营"
OLD = "Python 入门训练营"


def rename(who: Person, title: Any, chat: str = "course") -> Any:
    return who.request("POST", f"/api/groups/{chat}/rename", json={"title": title})


def admin(who: Person, chat: str = "course") -> None:
    r = who.request("POST", f"/api/groups/{chat}/admin", json={"admin": True})
    assert r.status_code == 200, r.text


def stored_titles(runtime: Runtime) -> tuple[str, str, str]:
    """The sandbox chat's title, and the engine group's title and platform title."""
    with runtime.app.db.connect() as conn:
        chat = conn.execute(
            select(sandbox_chats.c.title).where(sandbox_chats.c.chat_id == "course")
        ).scalar_one()
        group = conn.execute(
            select(groups.c.title, groups.c.platform_title).where(
                groups.c.source == "sandbox", groups.c.chat_id == "course"
            )
        ).one()
        conn.rollback()
    return str(chat), str(group.title), str(group.platform_title)


def renames(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.app.db.connect() as conn:
        rows = conn.execute(
            select(events.c.chat_id, events.c.user_id, events.c.payload).where(
                events.c.kind == "group_updated"
            )
        ).all()
        conn.rollback()
    return [{"chat_id": r.chat_id, "user_id": r.user_id, **r.payload["data"]} for r in rows]


def lines(runtime: Runtime) -> int:
    with runtime.app.db.connect() as conn:
        n = conn.execute(select(func.count()).select_from(sandbox_messages)).scalar_one()
        conn.rollback()
    return int(n)


def test_an_admin_renames_the_group_and_the_engine_follows(
    person: Callable[[], Person], runtime: Runtime, database_url: str
) -> None:
    ming, hong = person(), person()
    ming.join("course", "小明")
    hong.join("course", "小红")
    admin(ming)
    assert stored_titles(runtime) == (OLD, OLD, OLD)

    r = rename(ming, f"  {NEW}  ")  # trimmed, as a name is
    assert r.status_code == 200, r.text
    assert r.json() == {"chat_id": "course", "title": NEW, "renamed": True}

    # the engine stored the event and took the title: before the person was told
    assert stored_titles(runtime) == (NEW, NEW, NEW)
    (event,) = renames(runtime)
    assert event["chat_id"] == "course" and event["chat_title"] == NEW
    # the others see the new name in the group list, in the open chat, and a line saying so
    listed = {g["chat_id"]: g["title"] for g in hong.request("GET", "/api/groups").json()["groups"]}
    assert listed["course"] == NEW
    polled = hong.poll("course")
    assert polled["title"] == NEW
    line = polled["messages"][-1]
    assert line["kind"] == "system" and not line["bot"]
    assert line["notice"] == {"event": "renamed", "name": "小明", "title": NEW}
    assert line["text"] == f"小明 renamed the group to {NEW}"
    # the operator's list of groups says the new name
    res = run_cli(cli_app(), "groups", "--json", "--database-url", database_url)
    assert res.exit_code == 0, res.output
    shown = {g["chat_id"]: g["title"] for g in json.loads(res.stdout)}
    assert shown["course"] == NEW

    # the same name again changes nothing: no event, no line
    before = lines(runtime)
    again = rename(ming, NEW)
    assert again.status_code == 200 and again.json()["renamed"] is False
    assert len(renames(runtime)) == 1 and lines(runtime) == before


def test_only_an_admin_in_the_group_may_rename_it(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming, hong, stranger = person(), person(), person()
    ming.join("course", "小明")
    hong.join("course", "小红")
    hong.join("brand", "小红")

    r = rename(stranger, NEW)  # this browser has joined no group
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_joined"
    r = rename(ming, NEW)  # a member, not an admin
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "sandbox_refused"
    assert error["message"] == "只有管理员才能修改群名"
    english = ming.request("POST", "/api/groups/course/rename?lang=en", json={"title": NEW}).json()[
        "error"
    ]["message"]
    assert english == "only an admin can rename the group"
    r = rename(ming, NEW, chat="brand")  # not in that group
    assert r.status_code == 403 and r.json()["error"]["code"] == "sandbox_refused"
    admin(hong)
    assert hong.request("POST", "/api/groups/course/leave").status_code == 200
    r = rename(hong, NEW)  # an admin who left
    assert r.status_code == 403 and r.json()["error"]["code"] == "sandbox_refused"
    r = rename(hong, NEW, chat="nowhere")
    assert r.status_code == 404 and r.json()["error"]["field"] == "chat_id"

    assert stored_titles(runtime) == (OLD, OLD, OLD)
    assert renames(runtime) == []


def test_a_bad_name_is_refused_naming_the_field(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming = person()
    ming.join("course", "小明")
    admin(ming)
    for title in ("", "   ", "x" * 129, "a\u0000b", "a\u202eb", 12, None):
        r = rename(ming, title)
        assert r.status_code == 422, (title, r.text)
        assert r.json()["error"]["field"] == "title", (title, r.text)
    r = ming.request("POST", "/api/groups/course/rename", json={})
    assert r.status_code == 422 and r.json()["error"]["field"] == "title"
    r = ming.request("POST", "/api/groups/course/rename", json={"title": NEW, "chat": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "chat"
    r = rename(ming, "")
    assert r.json()["error"]["message"] == "群名是空的"
    assert stored_titles(runtime) == (OLD, OLD, OLD)
    assert rename(ming, "x" * 128).status_code == 200  # at the limit
