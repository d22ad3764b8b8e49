"""The web API says a wrong clock step in the page's language, not pydantic's English, as its
other refusals do (QA docs #13)."""

from __future__ import annotations

from collections.abc import Callable

from tests.web.conftest import Person


def test_a_wrong_clock_step_is_refused_in_the_pages_language(
    person: Callable[[], Person],
) -> None:
    ming = person()
    for lang, said in (
        ("zh_CN", "step：只能是 hour / day / month 之一"),
        ("en", "step: one of hour / day / month"),
    ):
        r = ming.request("POST", f"/api/clock/advance?lang={lang}", json={"step": "week"})
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert (error["message"], error["field"]) == (said, "step"), error
    r = ming.request("POST", "/api/clock/advance?lang=zh_CN", json={"step": "week", "x": 1})
    assert r.json()["error"]["message"] == "step：只能是 hour / day / month 之一（另有 1 处问题）"
