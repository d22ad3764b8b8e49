"""A reaction taken back in the web chat (DELETE /api/groups/{chat_id}/reactions/{message_id}),
as Telegram and Matrix let people do: the engine gets a reaction event with ``removed`` as
those platforms deliver one, the count under the line drops, the poll says which reactions are
the viewer's own, and the points feature treats it as theirs (710a05d: a removal takes nothing
back, the reaction given again pays nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from groupops.domain.events import EventKind
from groupops.storage.tables import events
from groupops.web.runtime import Runtime
from tests.helpers import wait_until
from tests.web.conftest import Person
from tests.web.test_clock import reaction_points

REACTIONS = "/api/groups/course/reactions"


def reaction_events(runtime: Runtime) -> list[dict[str, Any]]:
    e = events.c
    with runtime.app.db.connect() as conn:
        rows = conn.execute(
            select(e.event_id, e.user_id, e.message_id, e.reply_to_message_id, e.payload)
            .where(e.kind == EventKind.REACTION.value)
            .order_by(e.seq)
        ).all()
        conn.rollback()
    return [dict(r._mapping) for r in rows]


def take_back(who: Person, mid: int, **params: str) -> Any:
    return who.request("DELETE", f"{REACTIONS}/{mid}", params=params)


def test_a_reaction_taken_back_is_a_removal_the_engine_gets_and_the_line_counts_no_more(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming, hong = person(), person()
    ming.join("course", "小明")
    hong.join("course", "小红")
    mid = ming.post("course", "今天学了列表推导式").json()["id"]
    assert hong.request("POST", REACTIONS, json={"message_id": mid}).status_code == 200
    wait_until(lambda: reaction_points(runtime) == 1, what="the reaction's point")
    seen = hong.poll("course")
    assert seen["reactions"] == {str(mid): {"👍": 1}}
    assert seen["my_reactions"] == {str(mid): ["👍"]}
    assert ming.poll("course")["my_reactions"] == {}  # not his

    taken = take_back(hong, mid)
    assert taken.status_code == 200, taken.text
    assert taken.json() == {"message_id": mid, "emoji": "👍", "removed": True}
    (given, removal) = reaction_events(runtime)
    author = given["payload"]["reply_to_user_id"]
    assert removal["user_id"] == given["user_id"] != author
    # the shape Telegram's translator gives a reaction taken back (and Matrix's redaction)
    assert removal["message_id"] == removal["reply_to_message_id"] == str(mid)
    assert removal["payload"]["reply_to_user_id"] == author
    assert removal["payload"]["user_name"] == "小红"
    assert removal["payload"]["data"] == {
        "emoji": "👍",
        "removed": True,
        "removed_emojis": ["👍"],
    }
    assert removal["event_id"] != given["event_id"]
    for who in (hong, ming):
        after = who.poll("course")
        assert after["reactions"] == {} and after["my_reactions"] == {}
    assert reaction_points(runtime) == 1  # a removal takes nothing back

    # nothing left to take back: nothing happens
    again = take_back(hong, mid)
    assert again.json() == {"message_id": mid, "emoji": "👍", "removed": False}
    assert take_back(ming, mid, emoji="🔥").json()["removed"] is False
    assert len(reaction_events(runtime)) == 2

    # given again: a new event (not the first one's id), counted, and it pays nothing
    for _ in range(2):  # twice: counts once
        assert hong.request("POST", REACTIONS, json={"message_id": mid}).status_code == 200
    events_now = reaction_events(runtime)
    assert len(events_now) == 3 and len({e["event_id"] for e in events_now}) == 3
    assert "removed" not in events_now[-1]["payload"]["data"]
    assert hong.poll("course")["reactions"] == {str(mid): {"👍": 1}}
    assert hong.poll("course")["my_reactions"] == {str(mid): ["👍"]}
    assert reaction_points(runtime) == 1
    # and taken back again
    assert take_back(hong, mid).json()["removed"] is True
    assert hong.poll("course", after=mid, since=mid - 1)["reactions"] == {}


def test_one_of_two_reactions_taken_back_leaves_the_other(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming, hong, li = person(), person(), person()
    ming.join("course", "小明")
    hong.join("course", "小红")
    li.join("course", "小李")
    mid = ming.post("course", "周末一起跑步吗").json()["id"]
    for who, emoji in ((hong, "👍"), (hong, "🔥"), (li, "👍")):
        r = who.request("POST", REACTIONS, json={"message_id": mid, "emoji": emoji})
        assert r.status_code == 200, r.text
    assert hong.poll("course")["reactions"] == {str(mid): {"👍": 2, "🔥": 1}}
    assert take_back(hong, mid, emoji="🔥").json()["removed"] is True
    assert take_back(li, mid).json()["removed"] is True
    seen = hong.poll("course")
    assert seen["reactions"] == {str(mid): {"👍": 1}}
    assert seen["my_reactions"] == {str(mid): ["👍"]}
    assert li.poll("course")["my_reactions"] == {}


def test_taking_back_is_refused_as_giving_is(person: Callable[[], Person]) -> None:
    ming, stranger, nobody = person(), person(), person()
    ming.join("course", "小明")
    stranger.join("brand", "路人")
    there = ming.post("course", "hello").json()["id"]
    elsewhere = stranger.post("brand", "hi").json()["id"]
    for mid in (999999, elsewhere):
        missing = take_back(ming, mid).json()["error"]
        assert (missing["code"], missing["field"]) == ("not_found", "message_id"), mid
    outsider = take_back(stranger, there)
    assert outsider.status_code == 403
    assert outsider.json()["error"]["code"] == "sandbox_refused"
    assert take_back(nobody, there).json()["error"]["code"] == "not_joined"
    spaced = take_back(ming, there, emoji="a b")
    assert spaced.status_code == 422 and spaced.json()["error"]["field"] == "emoji"
    for bad in ("0", "9223372036854775808", "x"):
        r = ming.request("DELETE", f"{REACTIONS}/{bad}")
        assert r.status_code == 422 and r.json()["error"]["field"] == "message_id", bad
    no_token = ming.client.request("DELETE", f"{REACTIONS}/{there}")
    assert no_token.status_code == 403 and no_token.json()["error"]["code"] == "csrf_failed"
