"""A reply names a line of the same group the person can see: a line that does not exist, one
of another group, a notice or someone else's private message is 404 not_found (docs/web.md)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import insert

from groupops.platforms.sandbox.tables import sandbox_messages
from groupops.web.runtime import Runtime
from tests.web.conftest import Person


def not_found(r: object, person_sees: str = "") -> None:
    import httpx

    assert isinstance(r, httpx.Response)
    assert r.status_code == 404, r.text
    error = r.json()["error"]
    assert (error["code"], error["field"], error["where"]) == ("not_found", "reply_to", "course")
    if person_sees:
        assert error["message"] == person_sees


def test_a_reply_to_a_line_that_does_not_exist_is_not_found(person: Callable[[], Person]) -> None:
    ming = person()
    ming.join("course", "小明")
    before = ming.poll("course")["last_id"]
    r = ming.request(
        "POST",
        "/api/groups/course/messages?lang=zh_CN",
        json={"text": "hi", "reply_to": "999999"},
    )
    not_found(r, "没有消息 999999")
    assert ming.poll("course")["last_id"] == before  # nothing was posted


def test_a_reply_to_a_line_of_another_group_is_not_found(person: Callable[[], Person]) -> None:
    ming = person()
    ming.join("course", "小明")
    ming.join("brand", "小明")
    there = ming.post("brand", "在另一个群")
    assert there.status_code == 200, there.text
    r = ming.request(
        "POST",
        "/api/groups/course/messages?lang=en",
        json={"text": "hi", "reply_to": str(there.json()["id"])},
    )
    not_found(r, f"no message {there.json()['id']}")


@pytest.mark.parametrize("line", ["notice", "private"])
def test_a_reply_to_a_notice_or_someone_elses_private_line_is_not_found(
    person: Callable[[], Person], runtime: Runtime, line: str
) -> None:
    ming, hong = person(), person()
    ming.join("course", "小明")
    hong.join("course", "小红")
    with runtime.app.db.begin() as conn:
        target = conn.execute(
            insert(sandbox_messages)
            .values(
                source="sandbox",
                chat_id="course",
                user_id="bot",
                user_name="groupops",
                kind="system" if line == "notice" else "dm",
                text="x",
                reply_to="",
                to_user_id="" if line == "notice" else "someone-else",
                created_at=runtime.app.clock.now(),
                deleted=False,
                pinned=False,
            )
            .returning(sandbox_messages.c.id)
        ).scalar_one()
    r = ming.request(
        "POST", "/api/groups/course/messages", json={"text": "hi", "reply_to": str(target)}
    )
    not_found(r)
