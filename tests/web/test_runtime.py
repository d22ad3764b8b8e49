"""The live runtime: companions are prepared before the App's loops, run beside the web chat,
are told to stop at shutdown, may mount webhook routes, and cannot take the server down."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from groupops.engine.app import App
from groupops.web import WebConfig, create_web_app
from groupops.web.runtime import Companion
from tests.helpers import wait_until


def test_companions_prepare_run_mount_routes_and_stop(web_config: WebConfig) -> None:
    calls: list[str] = []
    hooks: list[bytes] = []

    def prepare(app: App) -> None:
        assert app._queue is None  # before the live loops start: adapters go in here
        calls.append("prepare")

    async def run(app: App, stop: asyncio.Event) -> None:
        calls.append("run")
        await stop.wait()
        calls.append("stopped")

    async def crash(app: App, stop: asyncio.Event) -> None:
        raise RuntimeError("a broken connection")

    async def hook(request: Request) -> JSONResponse:
        hooks.append(await request.body())
        return JSONResponse({"ok": True})

    companions = [
        Companion("probe", run, prepare, routes=[Route("/hooks/probe", hook, methods=["POST"])]),
        Companion("broken", crash),
    ]
    with TestClient(create_web_app(web_config, companions=companions)) as client:
        wait_until(lambda: "run" in calls, what="the companion to run")
        assert calls == ["prepare", "run"]
        # a webhook proves itself with its own secret: no browser CSRF token needed
        r = client.post("/hooks/probe", content=b'{"update_id": 1}')
        assert r.status_code == 200 and hooks == [b'{"update_id": 1}']
        # everything else still needs the token
        r = client.post("/api/groups/course/join", json={"name": "小明"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        # the crashed companion did not take the web chat down
        assert client.get("/api/groups").status_code == 200
    assert calls == ["prepare", "run", "stopped"]


def test_serve_refuses_to_start_with_a_feature_that_does_not_load(database_url: str) -> None:
    import pytest

    from groupops.features.registry import FeatureLoadError
    from groupops.web.server import ServeOptions, serve

    said: list[str] = []
    config = WebConfig(database_url=database_url, features=("groupops.features.nope:Nope",))
    with pytest.raises(FeatureLoadError, match=r"groupops\.features\.nope"):
        serve(config, ServeOptions(port=0), echo=said.append)
    assert said == []  # refused before anything was served or announced
