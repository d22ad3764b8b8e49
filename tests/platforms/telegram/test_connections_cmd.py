"""Day-to-day connection management (QA platforms findings 13, 14): `groupops connections`
shows how each connection receives and its health without cutting the id in 80 columns, and
`groupops connections disable/enable` stops and starts a connection in a running serve."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from groupops.cli import _register_all
from groupops.cli import app as cli
from groupops.engine.app import App
from groupops.platforms import supervise
from groupops.platforms.connections import set_enabled
from tests.helpers import until
from tests.platforms.telegram.conftest import GROUP, TOKEN, fake_in_thread, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

ALICE = FakeBotApi.person(501, "Alice")


def test_disable_stops_a_running_connection_and_enable_starts_it(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervise, "WATCH_EVERY", 0.05)
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app, connect=False) as (fake, adapter):
            # how often the loop has asked whether the stored connection changed: a round
            # of the loop while it is off
            asked = 0
            changed = adapter._settings_changed

            def counted() -> bool:
                nonlocal asked
                asked += 1
                return changed()

            monkeypatch.setattr(adapter, "_settings_changed", counted)
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.run(stop))
            fake.post(GROUP, ALICE, "one")
            await until(lambda: len(stored(app)) == 1)
            assert set_enabled(app.db, adapter.source, False)
            assert not set_enabled(app.db, adapter.source, False)  # already off
            await until(lambda: adapter.bot is None)
            polls = len(fake.calls("getUpdates", ok_only=False))
            fake.post(GROUP, ALICE, "two")
            # two more rounds of the loop, a whole one after the message: it stayed off
            rounds = asked + 2
            await until(lambda: asked >= rounds, what="two rounds of the disabled loop")
            assert len(fake.calls("getUpdates", ok_only=False)) == polls
            assert len(stored(app)) == 1
            assert set_enabled(app.db, adapter.source, True)
            await until(lambda: len(stored(app)) == 2)
            stop.set()
            await asyncio.wait_for(task, 10)

    asyncio.run(go())


def test_connections_lists_receiving_and_health_with_whole_ids(database_url: str) -> None:
    _register_all()
    runner = CliRunner()
    with fake_in_thread() as fake:
        args = ["--token", TOKEN, "--api-url", fake.base_url, "--database-url", database_url]
        assert runner.invoke(cli, ["connect", "telegram", *args]).exit_code == 0
    db_args = ["--database-url", database_url]
    listed = runner.invoke(cli, ["connections", *db_args], env={"COLUMNS": "80"})
    assert listed.exit_code == 0, listed.output
    assert "telegram:groupops_test_bot" in listed.output  # whole, not "telegram:groupops_test_b…"
    assert "polling" in listed.output and "receives" in listed.output
    off = runner.invoke(cli, ["connections", "disable", "telegram:groupops_test_bot", *db_args])
    assert off.exit_code == 0 and "off" in off.output, off.output
    rows = json.loads(runner.invoke(cli, ["connections", "--json", *db_args]).output)
    assert rows[0]["health"] == "disabled" and rows[0]["receives"] == "polling"
    zh = runner.invoke(cli, ["connections", "--lang", "zh_CN", *db_args], env={"COLUMNS": "80"})
    assert "已停用" in zh.output and "接收方式" in zh.output, zh.output
    on = runner.invoke(cli, ["connections", "enable", "telegram:groupops_test_bot", *db_args])
    assert on.exit_code == 0 and "on" in on.output
    missing = runner.invoke(cli, ["connections", "disable", "telegram:nobody", *db_args])
    assert missing.exit_code == 2 and "not_found" in missing.output


def test_connections_shows_who_may_add_the_bot_and_the_groups_it_left(database_url: str) -> None:
    from groupops.platforms.telegram import ConnectionStore
    from groupops.storage.db import make_engine

    _register_all()
    runner = CliRunner()
    db_args = ["--database-url", database_url]
    with fake_in_thread() as fake:
        args = ["--token", TOKEN, "--api-url", fake.base_url, *db_args]
        assert runner.invoke(cli, ["connect", "telegram", *args]).exit_code == 0
        anyone = runner.invoke(cli, ["connections", *db_args], env={"COLUMNS": "100"})
        assert "may be added to groups by: anyone" in anyone.output, anyone.output
        listed = runner.invoke(cli, ["connect", "telegram", *args, "--added-by", "501,777"])
        assert listed.exit_code == 0, listed.output
    db = make_engine(database_url)
    try:
        store = ConnectionStore(db, "telegram:groupops_test_bot")
        refused = {
            "-1005550000001": {
                "title": "Cheap followers",
                "by": "666",
                "by_name": "Mallory",
                "at": "2026-11-24T11:00:00+00:00",
                "left": True,
                "tries": 0,
            }
        }
        store.save_state({**store.state(), "refused": refused})
    finally:
        db.dispose()
    shown = runner.invoke(cli, ["connections", *db_args], env={"COLUMNS": "100"})
    assert shown.exit_code == 0, shown.output
    assert "may be added to groups by: 501, 777" in shown.output, shown.output
    assert "left the groups someone not on its list brought it into (1," in shown.output
    assert "-1005550000001 “Cheap followers”, by 666 Mallory at 2026-11-24 11:00 UTC" in (
        shown.output
    )
    rows = json.loads(runner.invoke(cli, ["connections", "--json", *db_args]).output)
    assert rows[0]["may_add"] == ["501", "777"]
    assert rows[0]["refused"][0]["by"] == "666" and rows[0]["refused"][0]["left"] is True
