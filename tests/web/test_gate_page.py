"""The join gate in the web chat: the question's buttons are settled (answered, out of time,
closed) once pressing them changes nothing, and a mute's end is given in the group's time
zone, named, as the platform's refusal gives it (QA zh finding 14)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from groupops.engine import settings_admin
from groupops.features.gate.tables import gate_challenges
from groupops.web.runtime import Runtime
from tests.web.conftest import Person


def gate_on(runtime: Runtime, first: Person) -> None:
    first.join("course", "先来的")  # the group exists once someone joined
    settings_admin.set_setting(
        runtime.app.db,
        runtime.app.registry,
        feature="gate",
        key="enabled",
        value=True,
        group_ref="sandbox:course",
    )
    runtime.app.engine.directory.invalidate()


def question_for(newcomer: Person, name: str) -> dict[str, Any]:
    return newcomer.wait_for("course", lambda m: bool(m.get("buttons")) and name in m["text"])


def right_answer(question: dict[str, Any]) -> str:
    a, b = (int(n) for n in re.findall(r"(\d+)\s*[+＋]\s*(\d+)", question["text"])[0])
    return str(
        next(b_["data"] for row in question["buttons"] for b_ in row if b_["text"] == str(a + b))
    )


def test_a_question_answered_is_settled_for_everyone(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    first, ming = person(), person()
    gate_on(runtime, first)
    ming.join("course", "小明")
    question = question_for(ming, "小明")
    assert str(question["id"]) not in ming.poll("course")["questions"]  # open
    pressed = ming.request(
        "POST",
        "/api/groups/course/buttons",
        json={"message_id": question["id"], "data": right_answer(question)},
    )
    assert pressed.status_code == 200, pressed.text
    ming.wait_for("course", lambda m: m["bot"] and "欢迎 小明" in m["text"])
    for viewer in (ming, first):
        assert viewer.poll("course")["questions"][str(question["id"])] == "answered"
        # and on a later poll of the lines shown, as the page asks
        later = viewer.poll("course", after=question["id"], since=question["id"] - 1)
        assert later["questions"] == {str(question["id"]): "answered"}


def test_a_question_out_of_time_is_expired_and_one_left_is_closed(
    person: Callable[[], Person], runtime: Runtime, client: TestClient
) -> None:
    first, late, gone = person(), person(), person()
    gate_on(runtime, first)
    late.join("course", "超时丙")
    gone.join("course", "走了丁")
    slow = question_for(late, "超时丙")
    left = question_for(gone, "走了丁")
    assert gone.request("POST", "/api/groups/course/leave").status_code == 200
    past = runtime.app.clock.now() - timedelta(minutes=2)  # before the tick's minute
    with runtime.app.db.begin() as conn:
        conn.execute(
            update(gate_challenges)
            .where(gate_challenges.c.user_name == "超时丙")
            .values(deadline=past)
        )
    # out of time: expired before the next minute's tick removes them, and after it
    assert first.poll("course")["questions"][str(slow["id"])] == "expired"
    next_minute = runtime.app.clock.now() + timedelta(minutes=1)
    assert client.portal is not None
    client.portal.call(runtime.app.engine.tick, next_minute)  # on the App's event loop
    first.wait_for("course", lambda m: m.get("notice", {}) == {"event": "kicked", "name": "超时丙"})
    states = first.poll("course")["questions"]
    assert states[str(slow["id"])] == "expired"
    assert states[str(left["id"])] == "closed"


def test_a_mute_is_said_in_the_groups_zone(person: Callable[[], Person], runtime: Runtime) -> None:
    first, ming = person(), person()
    gate_on(runtime, first)
    settings_admin.set_group_profile(runtime.app.db, "sandbox:course", timezone="America/New_York")
    runtime.app.engine.directory.invalidate()
    ming.join("course", "小明")
    question_for(ming, "小明")
    data = ming.poll("course")
    assert data["zone"] == "America/New_York"
    me = data["me"]
    assert me["muted_until"] is not None
    refused = ming.request("POST", "/api/groups/course/messages?lang=zh_CN", json={"text": "hi"})
    assert refused.status_code == 403
    # the page's status line and the refusal give the same minute in the same named zone
    said = f"小明 已被禁言至 {me['muted_until_local']}（America/New_York）"
    assert refused.json()["error"]["message"] == said
