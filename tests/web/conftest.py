"""Fixtures for the web chat: its config on the test database, a merged catalogue, a client
that plays several people, and a live server on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from groupops.features.registry import DEFAULT_FEATURES
from groupops.web import WebConfig, create_web_app
from groupops.web.runtime import Companion, Runtime
from groupops.web.server import ServeOptions, bind, server_for


@pytest.fixture
def web_config(database_url: str, locale_dir: Path) -> WebConfig:
    return WebConfig(
        database_url=database_url,
        features=DEFAULT_FEATURES,
        extensions=False,
        locale_dir=locale_dir,
        secret="test-secret",
    )


class Person:
    """One browser: its own cookies (identity, CSRF token) over the shared test client."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.cookies = httpx.Cookies()
        self.request("GET", "/")  # the page hands out the CSRF cookie
        assert "csrftoken" in self.cookies
        self.last = 0
        self.seen: list[dict[str, Any]] = []

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        self.client.cookies = self.cookies
        try:
            if method != "GET" and "csrftoken" in self.cookies:
                headers = kw.pop("headers", {})
                kw["headers"] = {"X-CSRFToken": self.cookies["csrftoken"], **headers}
            response: httpx.Response = self.client.request(method, path, **kw)
            return response
        finally:
            self.cookies = httpx.Cookies(self.client.cookies)

    def join(self, chat: str, name: str) -> dict[str, Any]:
        r = self.request("POST", f"/api/groups/{chat}/join", json={"name": name})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def post(self, chat: str, text: str) -> httpx.Response:
        return self.request("POST", f"/api/groups/{chat}/messages", json={"text": text})

    def poll(self, chat: str, after: int | None = None, since: int = 0) -> dict[str, Any]:
        query = {} if after is None else {"after": after, "since": since}
        r = self.request("GET", f"/api/groups/{chat}/messages", params=query)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def wait_for(
        self, chat: str, found: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Poll like the page does until a line matching ``found`` has arrived (among every
        line this person has polled so far); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.seen:
                if found(message):
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching line within {timeout}s; saw {self.seen}")
            time.sleep(0.05)
            data = self.poll(chat, after=self.last)
            self.seen += data["messages"]
            self.last = data["last_id"]


@pytest.fixture
def client(web_config: WebConfig) -> Iterator[TestClient]:
    with TestClient(create_web_app(web_config)) as c:
        yield c


@pytest.fixture
def runtime(client: TestClient) -> Runtime:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return rt


@pytest.fixture
def person(client: TestClient) -> Callable[[], Person]:
    return lambda: Person(client)


class LiveServer:
    """The web chat served by uvicorn on a free loopback port, in a thread, as `groupops serve`
    serves it (its listening socket and uvicorn settings)."""

    def __init__(
        self,
        config: WebConfig,
        companions: Sequence[Companion] = (),
        options: ServeOptions = ServeOptions(),
    ) -> None:
        self.sock = bind("127.0.0.1", 0)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.web = create_web_app(config, companions=companions)
        self.server = server_for(self.web, options)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web chat did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@pytest.fixture
def live_server(web_config: WebConfig) -> Iterator[LiveServer]:
    with LiveServer(web_config) as server:
        yield server
