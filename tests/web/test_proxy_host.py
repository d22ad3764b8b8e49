"""Behind a reverse proxy the Host check still sees the name the browser asked for: a proxy that
rewrites Host (nginx's default `proxy_pass http://127.0.0.1:8000` sends Host 127.0.0.1:8000)
passes the original on in X-Forwarded-Host or Forwarded, and every name a request carries must
be one serve answers under; so a page rebinding its own name to the proxy's address is refused
as one rebinding to serve itself is. A forwarded name only refuses, never admits, so no proxy
has to be trusted. `--allowed-host` adds the public name the proxy serves the web chat under."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
import typer
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from groupops.web import WebConfig, create_web_app
from groupops.web.runtime import Companion
from groupops.web.server import local_names
from tests.cli import error_line, run
from tests.helpers import wait_until
from tests.web.test_web_chat_off import _serve, _status, _stop

PUBLIC = "chat.example.org"


async def _hook(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _idle(app: object, stop: object) -> None:
    await stop.wait()  # type: ignore[attr-defined]


@pytest.fixture
def proxied(web_config: WebConfig) -> Iterator[TestClient]:
    """The web chat as serve on 127.0.0.1 with --allowed-host chat.example.org serves it."""
    hook = Companion("t", _idle, routes=[Route("/hooks/t/bot", _hook, methods=["POST"])])
    config = replace(web_config, allowed_hosts=local_names("127.0.0.1", (PUBLIC,)))
    with TestClient(create_web_app(config, companions=[hook])) as client:
        yield client


@pytest.fixture
def local_only(web_config: WebConfig) -> Iterator[TestClient]:
    """The web chat as serve on 127.0.0.1 serves it, without --allowed-host."""
    config = replace(web_config, allowed_hosts=local_names("127.0.0.1"))
    with TestClient(create_web_app(config)) as client:
        yield client


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"host": "127.0.0.1:8000", "x-forwarded-host": "rebind.example"}, "x-forwarded-host"),
        ({"host": "127.0.0.1:8000", "x-forwarded-host": f"{PUBLIC}"}, "x-forwarded-host"),
        ({"host": "localhost", "forwarded": "for=192.0.2.1;host=rebind.example"}, "forwarded"),
        ({"host": "127.0.0.1", "forwarded": 'host="rebind.example:443";proto=https'}, "forwarded"),
    ],
)
def test_a_proxy_that_rewrites_host_is_seen_through(
    local_only: TestClient, headers: dict[str, str], field: str
) -> None:
    refused = local_only.get("/api/groups", headers=headers)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("bad_host", field), error
    assert local_only.get("/api/groups", headers={"host": "127.0.0.1:8000"}).status_code == 200


def test_the_allowed_public_name_is_answered_as_host_or_forwarded(proxied: TestClient) -> None:
    for headers in (
        {"host": f"{PUBLIC}"},  # the proxy passes the original Host (proxy_set_header Host)
        {"host": "127.0.0.1:8000", "x-forwarded-host": f"{PUBLIC}"},
        {"host": "127.0.0.1:8000", "x-forwarded-host": f"{PUBLIC.upper()}:443"},
        {"host": "127.0.0.1:8000", "forwarded": f"for=192.0.2.1;host={PUBLIC};proto=https"},
        {"host": "localhost:8000"},  # this machine's names still
    ):
        assert proxied.get("/api/groups", headers=headers).status_code == 200, headers
    for headers in (
        {"host": "rebind.example"},
        {"host": f"{PUBLIC}", "x-forwarded-host": "rebind.example"},
        {"host": "127.0.0.1", "x-forwarded-host": f"{PUBLIC}, rebind.example"},  # a chain
    ):
        refused = proxied.get("/api/groups", headers=headers)
        assert refused.status_code == 400, headers
        assert "rebind.example" in refused.json()["error"]["message"]
    # webhooks are reached under any name, forwarded or not
    hooked = proxied.post("/hooks/t/bot", json={}, headers={"x-forwarded-host": "bots.example"})
    assert hooked.json() == {"ok": True}


def test_allowed_names_are_added_to_the_machines_own() -> None:
    assert local_names("127.0.0.1", ("Chat.Example.org:443",)) == (
        "localhost",
        "127.0.0.1",
        "::1",
        "chat.example.org",
    )
    # on an open address the check is on once a name is given: the names, not any
    assert local_names("0.0.0.0", (PUBLIC,)) == ("localhost", "127.0.0.1", "::1", PUBLIC)
    assert local_names("192.0.2.7", (PUBLIC,)) == (
        "localhost",
        "127.0.0.1",
        "::1",
        "192.0.2.7",
        PUBLIC,
    )
    assert local_names("0.0.0.0") is None


@pytest.mark.parametrize("given", ["https://chat.example.org/", "chat.example.org/chat", " "])
def test_serve_refuses_an_allowed_host_that_is_no_name(
    cli: typer.Typer, database_url: str, given: str
) -> None:
    args = ("serve", "--port", "0", "--allowed-host", given, "--database-url", database_url)
    line = error_line(run(cli, *args))
    # an option of the command that does not fit (docs/operations.md): invalid_option naming it
    assert line.startswith("error [invalid_option] --allowed-host: "), line
    assert "is not a host name" in line, line
    zh = error_line(run(cli, *args, lang="zh_CN"))
    assert "不是主机名" in zh, zh


def test_serve_answers_under_an_allowed_host(database_url: str) -> None:
    url, _, proc = _serve(database_url, "--allowed-host", PUBLIC)
    try:
        wait_until(lambda: _status(url + "/api/groups") == 200, timeout=60, what="an answer")
        public = httpx.get(url + "/api/groups", headers={"x-forwarded-host": PUBLIC}, timeout=5)
        other = httpx.get(url + "/api/groups", headers={"host": "rebind.example"}, timeout=5)
    finally:
        _stop(proc)
    assert public.status_code == 200, public.text
    assert other.status_code == 400 and other.json()["error"]["code"] == "bad_host"
