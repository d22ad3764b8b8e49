"""The web chat has no logins: `groupops serve` leaves it off when the internet can reach the
server (an open --host, or a Telegram connection receiving by webhook, whose proxy forwards
the internet to serve), and then answers only the platforms' webhooks (QA security S1)."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from groupops.platforms.connections import set_enabled, store_connection
from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from groupops.web import WebConfig, create_web_app
from groupops.web.runtime import Companion
from groupops.web.server import (
    OPEN_ADDRESS,
    TURNED_OFF,
    WEBHOOK_RECEIVES,
    WEBHOOKS_RECEIVE,
    is_loopback,
    local_names,
    web_chat_refusal,
    webhook_connections,
)
from tests.conftest import REPO
from tests.helpers import wait_until
from tests.web.test_serve import ENGLISH, GROUPOPS

TOKEN = "7000001:AAHsecretTOKENneverShown_abcdefghij012"


def test_left_to_itself_the_web_chat_runs_only_on_a_loopback_address_without_webhooks() -> None:
    assert web_chat_refusal(None, "127.0.0.1", []) is None
    assert web_chat_refusal(None, "::1", []) is None
    assert web_chat_refusal(None, "0.0.0.0", []) == (OPEN_ADDRESS, {"host": "0.0.0.0"})
    assert web_chat_refusal(None, "::", []) == (OPEN_ADDRESS, {"host": "::"})
    assert web_chat_refusal(None, "203.0.113.5", []) == (OPEN_ADDRESS, {"host": "203.0.113.5"})
    assert web_chat_refusal(None, "127.0.0.1", ["telegram:a_bot", "telegram:b_bot"]) == (
        WEBHOOKS_RECEIVE,
        {"names": "telegram:a_bot, telegram:b_bot"},
    )
    # one connection is said in the singular ("telegram:a_bot receives updates by webhook")
    one = web_chat_refusal(None, "127.0.0.1", ["telegram:a_bot"])
    assert one == (WEBHOOK_RECEIVES, {"names": "telegram:a_bot"})
    assert WEBHOOK_RECEIVES.format(names="telegram:a_bot").startswith(
        "telegram:a_bot receives updates by webhook,"
    )
    # as the operator says
    assert web_chat_refusal(True, "0.0.0.0", ["telegram:a_bot"]) is None
    assert web_chat_refusal(False, "127.0.0.1", []) == (TURNED_OFF, {})
    assert [is_loopback(h) for h in ("127.0.0.2", "::1", "fe80::1%eth0", "localhost", "")] == [
        True,
        True,
        False,
        False,
        False,
    ]


def _telegram(mode: str, username: str) -> dict[str, Any]:
    config: dict[str, Any] = {"token": TOKEN, "username": username, "mode": mode}
    if mode == "webhook":
        config["webhook_url"] = f"https://bots.example.org/hooks/telegram/{username}"
        config["webhook_secret"] = "s3cret"
    return config


def test_the_connections_receiving_by_webhook_are_found(database_url: str) -> None:
    db = make_engine(database_url)
    try:
        upgrade(db)
        now = datetime.now(UTC)
        for mode, name in (
            ("webhook", "hook_bot"),
            ("polling", "poll_bot"),
            ("webhook", "off_bot"),
        ):
            store_connection(db, f"telegram:{name}", "telegram", _telegram(mode, name), now)
        set_enabled(db, "telegram:off_bot", False)  # turned off: serve does not run it
    finally:
        db.dispose()
    assert webhook_connections(database_url) == ["telegram:hook_bot"]


def _hook(request: Request) -> Response:
    return JSONResponse({"ok": True})


def test_with_the_web_chat_off_only_the_webhooks_answer(web_config: WebConfig) -> None:
    async def idle(app: object, stop: Any) -> None:
        await stop.wait()

    hook = Companion(
        "telegram:t_bot", idle, routes=[Route("/hooks/t/bot", _hook, methods=["POST"])]
    )
    config = replace(web_config, web_chat=False)
    with TestClient(create_web_app(config, companions=[hook])) as client:
        for path in ("/", "/api/groups", "/api/clock", "/static/chat.js", "/api/openapi.json"):
            assert client.get(path).status_code == 404, path
        joined = client.post("/api/groups/course/join", json={"name": "x"})
        assert joined.status_code in (403, 404)  # no CSRF cookie was handed out either
        assert client.post("/hooks/t/bot", json={}).json() == {"ok": True}
    with TestClient(create_web_app(web_config, companions=[hook])) as client:
        assert client.get("/api/groups").status_code == 200  # on by default in the app
        assert client.post("/hooks/t/bot", json={}).status_code == 200


def _serve(database_url: str, *extra: str) -> tuple[str, str, subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [str(GROUPOPS), "serve", "--port", "0", "--database-url", database_url, *extra],
        cwd=REPO,
        env={**ENGLISH, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"http://[0-9.]+:(\d+)", line)
        if found:
            return f"http://127.0.0.1:{found.group(1)}", line, proc
    proc.kill()
    proc.wait()
    raise AssertionError("".join(lines))


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.TransportError:
        return 0


@pytest.mark.parametrize(
    ("extra", "served"),
    [(("--host", "0.0.0.0"), False), (("--host", "0.0.0.0", "--web-chat"), True)],
)
def test_serve_on_an_open_address_keeps_the_web_chat_off_unless_asked(
    database_url: str, extra: tuple[str, ...], served: bool
) -> None:
    url, line, proc = _serve(database_url, *extra)
    try:
        status = wait_until(lambda: _status(url + "/api/groups"), timeout=60, what="an answer")
    finally:
        _stop(proc)
    if served:
        assert "sandbox web chat is at http://0.0.0.0:" in line
        assert status == 200
    else:
        assert line.startswith("groupops: the web chat is off (serve listens on 0.0.0.0,"), line
        assert "--web-chat turns it on" in line
        assert "only the platforms' webhooks answer at http://0.0.0.0:" in line
        assert status == 404


def test_on_a_loopback_address_only_the_machines_own_names_are_answered(
    web_config: WebConfig,
) -> None:
    """DNS rebinding (QA security N1): a page whose name points at 127.0.0.1 would be the
    server's own site to the browser, CSRF cookie included; its Host gives it away."""
    assert local_names("127.0.0.1") == ("localhost", "127.0.0.1", "::1")
    assert local_names("127.0.0.2") == ("localhost", "127.0.0.1", "::1", "127.0.0.2")
    assert local_names("0.0.0.0") is None  # others reach it under names serve cannot know

    async def idle(app: object, stop: Any) -> None:
        await stop.wait()

    hook = Companion(
        "telegram:t_bot", idle, routes=[Route("/hooks/t/bot", _hook, methods=["POST"])]
    )
    config = replace(web_config, allowed_hosts=local_names("127.0.0.1"))
    with TestClient(create_web_app(config, companions=[hook])) as client:
        for host in ("127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "127.0.0.1"):
            assert client.get("/api/groups", headers={"host": host}).status_code == 200, host
        for host in ("rebind.attacker.example:8000", "127.0.0.1.nip.io", "", "[::2]:80"):
            refused = client.get("/", headers={"host": host})
            assert refused.status_code == 400, host
            assert refused.json()["error"]["code"] == "bad_host"
            assert refused.json()["error"]["field"] == "host"
        # a webhook comes through the proxy under the public name
        posted = client.post("/hooks/t/bot", json={}, headers={"host": "bots.example.org"})
        assert posted.json() == {"ok": True}


def test_serve_on_a_loopback_address_refuses_another_host_name(database_url: str) -> None:
    url, _, proc = _serve(database_url)
    try:
        wait_until(lambda: _status(url + "/api/groups") == 200, timeout=60, what="an answer")
        rebound = httpx.get(url + "/api/groups", headers={"host": "rebind.example:80"}, timeout=5)
    finally:
        _stop(proc)
    assert rebound.status_code == 400
    assert rebound.json()["error"]["code"] == "bad_host"
