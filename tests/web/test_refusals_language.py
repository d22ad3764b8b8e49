"""The refusals the web chat's defences answer before any route speak the visitor's language,
as the routes' errors do (?lang=, the language cookie, else Accept-Language; Chinese when the
browser names none): a body too large (413), every connection open (503, which uvicorn
answered in English plain text), a missing CSRF token (403) and a foreign Host (400)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from groupops.web import WebConfig, create_web_app
from groupops.web.server import ServeOptions, local_names
from tests.helpers import wait_until
from tests.web.conftest import LiveServer, Person

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
SAID = {
    "too_large": (
        "the request body is over 65536 bytes",
        "请求体超过 65536 字节",
    ),
    "busy": (
        "the server has 2 connections open, as many as it takes at once: try again in a moment",
        "服务器已打开 2 个连接，达到同时接受的上限：请稍后再试",
    ),
    "csrf_failed": (
        "missing or wrong CSRF token: send the csrftoken cookie's value in the X-CSRFToken header",
        "CSRF 令牌缺失或不对：请在 X-CSRFToken 请求头中发送 csrftoken Cookie 的值",
    ),
    "bad_host": (
        "this server answers under 127.0.0.1, ::1, localhost only, not 'rebind.example:80'",
        "本服务只接受这些名称：127.0.0.1, ::1, localhost，不接受 'rebind.example:80'",
    ),
}


def error_of(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json", r.headers
    error: dict[str, Any] = r.json()["error"]
    return error


def said(code: str, headers: dict[str, str]) -> str:
    english, chinese = SAID[code]
    return english if headers is ENGLISH else chinese


@pytest.mark.parametrize("headers", [ENGLISH, CHINESE], ids=["en", "zh_CN"])
def test_a_body_too_large_is_refused_in_the_visitors_language(
    person: Callable[[], Person], headers: dict[str, str]
) -> None:
    ming = person()
    ming.join("course", "小明")
    path = "/api/groups/course/messages"
    kind = {"Content-Type": "application/json", **headers}
    declared = ming.request("POST", path, content=b"x" * 70_000, headers=kind)
    assert error_of(declared, 413) == {
        "code": "too_large",
        "message": said("too_large", headers),
        "field": "body",
    }

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while it streams in
        for _ in range(8):
            yield b"x" * 16384

    streamed = ming.request("POST", path, content=chunks(), headers=kind)
    assert error_of(streamed, 413)["message"] == said("too_large", headers)


def test_the_pages_chosen_language_outweighs_the_browsers(person: Callable[[], Person]) -> None:
    ming = person()
    r = ming.request(
        "POST", "/api/groups/course/join?lang=en", content=b"x" * 70_000, headers=CHINESE
    )
    assert error_of(r, 413)["message"] == SAID["too_large"][0]


@pytest.mark.parametrize("headers", [ENGLISH, CHINESE], ids=["en", "zh_CN"])
def test_a_missing_csrf_token_is_refused_in_the_visitors_language(
    client: TestClient, headers: dict[str, str]
) -> None:
    client.get("/")
    r = client.post("/api/groups/course/join", json={"name": "小明"}, headers=headers)
    assert error_of(r, 403) == {
        "code": "csrf_failed",
        "message": said("csrf_failed", headers),
        "field": "x-csrftoken",
    }


@pytest.mark.parametrize("headers", [ENGLISH, CHINESE], ids=["en", "zh_CN"])
def test_a_foreign_host_is_refused_in_the_visitors_language(
    web_config: WebConfig, headers: dict[str, str]
) -> None:
    config = replace(web_config, allowed_hosts=local_names("127.0.0.1"))
    with TestClient(create_web_app(config)) as client:
        r = client.get("/api/groups", headers={"host": "rebind.example:80", **headers})
    assert error_of(r, 400) == {
        "code": "bad_host",
        "message": said("bad_host", headers),
        "field": "host",
    }


def test_every_connection_open_is_answered_in_the_visitors_language(
    web_config: WebConfig,
) -> None:
    """Served as serve serves it, two connections at most: with an idle one open, the next
    request is the second, answered 503 in JSON, in the language it asks for."""

    def get(headers: dict[str, str]) -> httpx.Response:
        return httpx.get(server.url + "/api/groups", headers=headers, timeout=5)

    with LiveServer(web_config, options=ServeOptions(max_connections=2)) as server:
        assert get(ENGLISH).status_code == 200
        with socket.create_connection(("127.0.0.1", server.port), timeout=10):  # idle
            wait_until(lambda: get(ENGLISH).status_code == 503, timeout=10, what="a 503")
            for headers in (ENGLISH, CHINESE):
                r = get(headers)
                assert error_of(r, 503) == {"code": "busy", "message": said("busy", headers)}
                assert r.headers["connection"] == "close"
        wait_until(lambda: get(CHINESE).status_code == 200, timeout=10, what="200 again")
