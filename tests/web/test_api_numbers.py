"""Numbers past what a database holds are refused naming the field (422 ``invalid_input``),
never a 500: the ids of lines in the query and in request bodies are 64-bit at most."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from groupops.storage.db import LARGEST_ID
from groupops.storage.tables import events
from groupops.web.runtime import Runtime
from tests.web.conftest import Person

HUGE = 99999999999999999999999


def refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_input" and error["field"] == field, error
    assert error["message"]


@pytest.mark.parametrize("field", ["after", "since"])
@pytest.mark.parametrize("value", [HUGE, LARGEST_ID + 1])
def test_a_huge_line_id_in_the_query_is_refused_naming_it(
    person: Callable[[], Person], field: str, value: int
) -> None:
    ming = person()
    query = {"after": 0, "since": 0, field: value}
    refused(ming.request("GET", "/api/groups/course/messages", params=query), field)
    ok = ming.request("GET", "/api/groups/course/messages", params={field: LARGEST_ID})
    assert ok.status_code == 200, ok.text  # the largest id is an id: nothing after it


def test_a_huge_button_message_id_is_refused_naming_it(person: Callable[[], Person]) -> None:
    ming = person()
    ming.join("creators", "小明")
    for value in (HUGE, LARGEST_ID + 1):
        body = {"message_id": value, "data": "x"}
        refused(ming.request("POST", "/api/groups/creators/buttons", json=body), "message_id")
    body = {"message_id": LARGEST_ID, "data": "x"}
    r = ming.request("POST", "/api/groups/creators/buttons", json=body)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text


@pytest.mark.parametrize("reply_to", ["9" * 19, str(LARGEST_ID + 1), "²", "abc", "-1", "0"])
def test_a_reply_to_that_is_no_line_id_is_refused_naming_it(
    person: Callable[[], Person], reply_to: str
) -> None:
    ming = person()
    ming.join("course", "小明")
    r = ming.request(
        "POST", "/api/groups/course/messages", json={"text": "hi", "reply_to": reply_to}
    )
    refused(r, "reply_to")


def test_a_reply_to_a_line_is_posted(person: Callable[[], Person], runtime: Runtime) -> None:
    ming = person()
    ming.join("course", "小明")
    first = ming.post("course", "hello")
    assert first.status_code == 200, first.text
    line = first.json()["id"]
    r = ming.request(
        "POST", "/api/groups/course/messages", json={"text": "again", "reply_to": str(line)}
    )
    assert r.status_code == 200, r.text
    again = r.json()["id"]
    # the page reads the link back on the line, and the stored event carries it
    lines = {m["id"]: m for m in ming.poll("course")["messages"]}
    assert (lines[again]["text"], lines[again]["reply_to"]) == ("again", str(line))
    assert lines[line]["reply_to"] == ""
    with runtime.app.db.connect() as conn:
        stored = conn.execute(
            select(events.c.reply_to_message_id).where(
                events.c.kind == "message", events.c.message_id == str(again)
            )
        ).scalar_one()
        conn.rollback()
    assert stored == str(line)


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "from {low} to {high}"), ("zh_CN", "{low} 到 {high} 之间")],
)
def test_a_number_out_of_range_says_the_whole_range_in_the_pages_language(
    person: Callable[[], Person], lang: str, said: str
) -> None:
    """A body's field (message_id, from 1) and a query's parameter (after, from 0), read from
    the route's own constraints, as settings say theirs."""
    ming = person()
    ming.join("creators", "小明")
    body = {"message_id": 0, "data": "x"}
    r = ming.request("POST", f"/api/groups/creators/buttons?lang={lang}", json=body)
    refused(r, "message_id")
    assert r.json()["error"]["message"].endswith(said.format(low=1, high=LARGEST_ID)), r.text
    r = ming.request("GET", "/api/groups/creators/messages", params={"after": -1, "lang": lang})
    refused(r, "after")
    assert r.json()["error"]["message"].endswith(said.format(low=0, high=LARGEST_ID)), r.text
