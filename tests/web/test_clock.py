"""The movable clock of `groupops serve --movable-clock` (QA zh finding 3): the API moves it
forward an hour, a day or to the next month's start and the scheduled work of the skipped time
runs (a second day's check-in, the month's top 3, the gate's time-out); it is refused, typed,
on the real clock and beside real platform connections. Also reactions and admins in the web
chat."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.features.points.tables import points_ledger
from groupops.platforms.sandbox import SandboxAdapter
from groupops.web import WebConfig, create_web_app
from groupops.web.clock import MovableClock, step_target
from groupops.web.runtime import Companion, Runtime
from tests.helpers import wait_until
from tests.web.conftest import Person


@pytest.fixture
def web_config(web_config: WebConfig) -> WebConfig:
    return replace(web_config, movable_clock=True)


def setting(runtime: Runtime, feature: str, key: str, value: object) -> None:
    settings_admin.set_setting(
        runtime.app.db,
        runtime.app.registry,
        feature=feature,
        key=key,
        value=value,
        group_ref="sandbox:course",
    )
    runtime.app.engine.directory.invalidate()


def advance(who: Person, step: str, chat: str | None = "course") -> httpx.Response:
    body: dict[str, object] = {"step": step}
    if chat is not None:
        body["chat_id"] = chat
    return who.request("POST", "/api/clock/advance?lang=zh_CN", json=body)


def bot_says(fragment: str) -> Callable[[dict[str, object]], bool]:
    return lambda m: bool(m["bot"]) and fragment in str(m["text"])


# -- the clock ---------------------------------------------------------------------------------
def test_moving_a_day_makes_the_next_check_in_a_streak_of_two(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming = person()
    ming.join("course", "小明")
    assert ming.post("course", "签到").status_code == 200
    ming.wait_for("course", bot_says("已连续 1 天"))
    before = runtime.app.clock.now()
    r = advance(ming, "day")
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["moved_seconds"] == 86400 and moved["zone"] == "Asia/Shanghai"
    assert (datetime.fromisoformat(moved["now"]) - before).total_seconds() >= 86400
    assert ming.poll("course")["now_local"] >= moved["now_local"]  # the page shows it
    assert ming.post("course", "签到").status_code == 200
    ming.wait_for("course", bot_says("已连续 2 天"))


def test_the_next_month_brings_the_months_top_3(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming = person()
    ming.join("course", "小明")
    assert ming.post("course", "签到").status_code == 200
    ming.wait_for("course", bot_says("已连续 1 天"))
    r = advance(ming, "month")
    assert r.status_code == 200, r.text
    assert r.json()["now_local"].endswith("-01 00:00")  # the month's start in the group's zone
    ming.wait_for("course", lambda m: bool(m["bot"]) and "🏆" in str(m["text"]))


def test_an_hour_later_an_unanswered_gate_question_has_timed_out(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    first, late = person(), person()
    first.join("course", "先来的")
    setting(runtime, "gate", "enabled", True)
    late.join("course", "超时丙")
    question = first.wait_for("course", lambda m: bool(m.get("buttons")))
    assert advance(first, "hour").status_code == 200
    first.wait_for("course", lambda m: m.get("notice") == {"event": "kicked", "name": "超时丙"})
    assert first.poll("course")["questions"][str(question["id"])] == "expired"


def test_a_month_starts_in_the_zone_of_the_group_named_else_in_utc() -> None:
    now = datetime.fromisoformat("2026-11-30T17:00:00+00:00")  # Dec 1st, 01:00 in Shanghai
    assert step_target(now, "month", "UTC").isoformat() == "2026-12-01T00:00:00+00:00"
    shanghai = step_target(now, "month", "Asia/Shanghai")
    assert shanghai.isoformat() == "2027-01-01T00:00:00+08:00"
    dec = datetime.fromisoformat("2026-12-15T00:00:00+00:00")
    assert step_target(dec, "month", "UTC").isoformat() == "2027-01-01T00:00:00+00:00"


def test_the_clock_never_goes_back() -> None:
    class Jumpy:
        def __init__(self) -> None:
            self.times = [
                datetime.fromisoformat(t) for t in ("2026-01-01T10:00Z", "2026-01-01T09:00Z")
            ]

        def now(self) -> datetime:
            return self.times.pop(0)

    clock = MovableClock(Jumpy())
    first = clock.now()
    assert clock.now() == first  # the machine's clock stepped back; this one does not
    with pytest.raises(ValueError):
        clock.advance(-(first - first.replace(hour=0)))


def test_a_step_that_is_not_one_is_invalid_input(person: Callable[[], Person]) -> None:
    ming = person()
    for body in ({"step": "year"}, {"step": "day", "seconds": -5}, {}):
        r = ming.request("POST", "/api/clock/advance", json=body)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input", r.text
    r = advance(ming, "day", chat="nowhere")
    assert r.status_code == 404 and r.json()["error"]["field"] == "chat_id"


def test_moving_needs_the_csrf_token(client: TestClient, runtime: Runtime) -> None:
    before = runtime.app.clock.now()
    r = client.post("/api/clock/advance", json={"step": "day"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert (runtime.app.clock.now() - before).total_seconds() < 3600


def test_on_the_real_clock_moving_is_refused(
    web_config: WebConfig, person: Callable[[], Person]
) -> None:
    with TestClient(create_web_app(replace(web_config, movable_clock=False))) as c:
        someone = Person(c)
        r = advance(someone, "day")
        assert r.status_code == 409, r.text
        assert r.json()["error"] == {
            "code": "clock_not_movable",
            "message": "只有用 --movable-clock 启动 groupops serve 时，时钟才能拨动",
            "where": "clock",
        }
        shown = someone.request("GET", "/api/clock").json()
        assert shown["movable"] is False and "--movable-clock" in shown["refused"]
        assert 'data-movable-clock="false"' in someone.request("GET", "/").text


@pytest.fixture
def beside_telegram(web_config: WebConfig) -> Iterator[TestClient]:
    """A movable clock asked for, with a (fake) Telegram connection in the same process."""

    def prepare(app: App) -> None:
        app.platforms.add(SandboxAdapter(app.db, app.clock, source="telegram:fakebot"))

    async def run(app: App, stop: asyncio.Event) -> None:
        await stop.wait()

    companion = Companion("telegram:fakebot", run, prepare=prepare)
    with TestClient(create_web_app(web_config, companions=[companion])) as c:
        yield c


def test_beside_a_real_connection_moving_is_refused(beside_telegram: TestClient) -> None:
    someone = Person(beside_telegram)
    runtime: Runtime = beside_telegram.app.state.runtime  # type: ignore[attr-defined]
    before = runtime.app.clock.now()
    r = someone.request("POST", "/api/clock/advance?lang=en", json={"step": "month"})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "clock_not_movable"
    assert error["message"] == (
        "the clock cannot move while real platform connections run in this process"
        " (telegram:fakebot): their messages carry real times"
    )
    assert (runtime.app.clock.now() - before).total_seconds() < 3600
    assert someone.request("GET", "/api/clock").json()["movable"] is False


def test_the_page_shows_the_clock_control_when_movable(person: Callable[[], Person]) -> None:
    page = person().request("GET", "/").text
    assert 'data-movable-clock="true"' in page
    assert "+1 天" in page and "到下个月初" in page


# -- reactions and admins --------------------------------------------------------------------
def reaction_points(runtime: Runtime) -> int:
    with runtime.app.db.connect() as conn:
        n = conn.execute(
            select(func.coalesce(func.sum(points_ledger.c.points), 0)).where(
                points_ledger.c.reason == "reaction"
            )
        ).scalar_one()
        conn.rollback()
    return int(n)


def test_a_reaction_pays_the_author_and_is_counted_on_the_line(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming, hong = person(), person()
    ming.join("course", "小明")
    hong.join("course", "小红")
    line = ming.post("course", "今天学了列表推导式")
    assert line.status_code == 200, line.text
    mid = line.json()["id"]
    for _ in range(2):  # the same reaction twice counts once
        r = hong.request("POST", "/api/groups/course/reactions", json={"message_id": mid})
        assert r.status_code == 200, r.text
    wait_until(lambda: reaction_points(runtime) == 1, what="the reaction's point in the ledger")
    assert ming.poll("course")["reactions"] == {str(mid): {"👍": 1}}
    later = ming.poll("course", after=mid, since=mid - 1)
    assert later["reactions"] == {str(mid): {"👍": 1}}


def test_a_reaction_to_no_line_of_the_group_or_by_a_stranger_is_refused(
    person: Callable[[], Person],
) -> None:
    ming, stranger = person(), person()
    ming.join("course", "小明")
    stranger.join("brand", "路人")
    there = ming.post("course", "hello").json()["id"]
    missing = ming.request(
        "POST", "/api/groups/course/reactions", json={"message_id": 999999}
    ).json()["error"]
    assert (missing["code"], missing["field"]) == ("not_found", "message_id")
    outsider = stranger.request("POST", "/api/groups/course/reactions", json={"message_id": there})
    assert outsider.status_code == 403
    assert outsider.json()["error"]["code"] == "sandbox_refused"
    spaced = ming.request(
        "POST", "/api/groups/course/reactions", json={"message_id": there, "emoji": "a b"}
    )
    assert spaced.status_code == 422 and spaced.json()["error"]["field"] == "emoji"


def test_an_admin_is_spared_by_moderation_and_earns_no_reaction_points_by_default(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    boss, hong = person(), person()
    boss.join("course", "群主")
    hong.join("course", "小红")
    made = boss.request("POST", "/api/groups/course/admin", json={"admin": True})
    assert made.status_code == 200, made.text
    assert made.json()["me"]["admin"] is True
    ad = boss.post("course", "加我微信 abc123")  # admins are exempt from every rule
    assert ad.status_code == 200
    mid = ad.json()["id"]
    assert (
        hong.request("POST", "/api/groups/course/reactions", json={"message_id": mid}).status_code
        == 200
    )
    assert reaction_points(runtime) == 0  # handled before the answer; include_admins is off
    setting(runtime, "points", "include_admins", True)
    again = boss.post("course", "管理员的第二条").json()["id"]
    assert (
        hong.request("POST", "/api/groups/course/reactions", json={"message_id": again}).status_code
        == 200
    )
    wait_until(lambda: reaction_points(runtime) == 1, what="the reaction's point in the ledger")
    # by now the ad's batch has long run: an admin's line stays, and no warning for them
    lines = {m["id"]: m for m in boss.poll("course")["messages"]}
    assert lines[mid]["deleted"] is False
    assert not any(m["bot"] and "警告" in m["text"] for m in lines.values())
    dropped = boss.request("POST", "/api/groups/course/admin", json={"admin": False})
    assert dropped.json()["me"]["admin"] is False
    stranger = person()
    refused = stranger.request("POST", "/api/groups/course/admin", json={"admin": True})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_joined"
