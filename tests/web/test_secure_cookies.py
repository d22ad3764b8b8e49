"""`groupops serve --secure-cookies` (QA security N4): behind a TLS proxy the web chat's
cookies (CSRF, identity, language) are marked Secure, so a browser never sends them over plain
HTTP; without it they are not (the page must work on http://127.0.0.1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
from fastapi.testclient import TestClient

from groupops.web import WebConfig, create_web_app
from groupops.web.security import CSRF_COOKIE, LANG_COOKIE, PERSON_COOKIE
from tests.web.test_serve import serving


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each cookie the response sets: its whole Set-Cookie line, by name."""
    lines = response.headers.get_list("set-cookie")
    return {line.split("=", 1)[0]: line for line in lines}


def _secure(line: str) -> bool:
    return "secure" in [part.strip().lower() for part in line.split(";")]


def _cookies_set(
    base: str, get: Callable[..., httpx.Response], post: Callable[..., httpx.Response]
) -> dict[str, str]:
    """The Set-Cookie lines of a first page load (CSRF), a language choice and a join."""
    page = get(base + "/?lang=en")
    cookies = _set_cookies(page)
    token = cookies[CSRF_COOKIE].split(";")[0].split("=", 1)[1]
    joined = post(
        base + "/api/groups/course/join",
        json={"name": "小明"},
        headers={"X-CSRFToken": token, "Cookie": f"{CSRF_COOKIE}={token}"},
    )
    assert joined.status_code == 200, joined.text
    return {**cookies, **_set_cookies(joined)}


@pytest.mark.parametrize("secure", [True, False])
def test_the_cookies_are_secure_as_configured(web_config: WebConfig, secure: bool) -> None:
    config = replace(web_config, secure_cookies=secure)
    with TestClient(create_web_app(config), base_url="https://testserver") as client:
        client.cookies.clear()
        cookies = _cookies_set("", client.get, client.post)
    assert set(cookies) >= {CSRF_COOKIE, LANG_COOKIE, PERSON_COOKIE}
    assert {name: _secure(line) for name, line in cookies.items()} == dict.fromkeys(cookies, secure)


def test_serve_secure_cookies_marks_them_secure(database_url: str) -> None:
    with serving(database_url, "--secure-cookies") as (url, _):
        cookies = _cookies_set(url, httpx.get, httpx.post)
    assert set(cookies) >= {CSRF_COOKIE, LANG_COOKIE, PERSON_COOKIE}
    assert all(_secure(line) for line in cookies.values()), cookies
