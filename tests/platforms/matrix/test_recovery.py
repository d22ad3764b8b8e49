"""A Matrix connection whose login the homeserver stops taking (the bot's devices logged out,
its password reset) says so in one line naming the fix, and takes up the new login stored by
``groupops connect matrix`` without a restart of serve (QA platforms finding 2); a homeserver
that cannot be reached is named with the reason, not aiohttp's class name (finding 11)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

import pytest
from nio import AsyncClient, LoginResponse
from sqlalchemy import Engine

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.platforms import supervise
from groupops.platforms.matrix import MatrixConfig
from groupops.platforms.matrix.config import connect, login
from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from tests.helpers import until
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    bot_room,
    make_adapter,
    people,
    served,
)
from tests.platforms.matrix.synapse import Synapse, free_port


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervise, "WATCH_EVERY", 0.05)


def test_logged_out_bot_is_named_and_a_new_login_is_taken_up(
    synapse: Synapse, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    bot = new_account(synapse, "bot")
    config = connect(db, bot_config(synapse, bot), datetime.now(UTC))
    handed = Collected()

    async def go() -> None:
        adapter = make_adapter(db, config, handed)
        await adapter.connect()
        room = await bot_room(adapter)
        (alice,) = await people(synapse, 1)
        await alice.join(room)
        stop = asyncio.Event()
        task = asyncio.create_task(adapter.run(stop, timeout_ms=300))
        await alice.say(room, "one")
        await until(lambda: any(e.text == "one" for e in handed.events))
        # the bot's password is reset with every device logged out
        other = AsyncClient(synapse.url, bot.user_id)
        assert isinstance(await other.login(bot.password), LoginResponse)
        await other.logout(all_devices=True)
        await other.close()
        await until(
            lambda: any("refused the bot's login" in r.getMessage() for r in caplog.records)
        )
        assert adapter.store.load()[1]["health"]["status"] == "failing"
        await alice.say(room, "two")
        # the operator runs `groupops connect matrix` again (in another process)
        await asyncio.to_thread(connect, db, bot_config(synapse, bot), datetime.now(UTC))
        await until(lambda: any(e.text == "two" for e in handed.events))
        await until(lambda: adapter.store.load()[1]["health"]["status"] == "ok")
        stop.set()
        await asyncio.wait_for(task, 10)
        await adapter.close()
        await alice.client.close()

    with caplog.at_level(logging.INFO, logger="groupops"):
        run(go())
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("groupops")]
    refused = [m for m in lines if "refused the bot's login" in m]
    assert len(refused) == 1 and "groupops connect matrix" in refused[0]
    assert any("working again" in m for m in lines)
    assert not any(
        r.name == "nio.responses" and r.levelno >= logging.WARNING for r in caplog.records
    )


def test_unreachable_homeserver_is_named_with_the_reason(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    config = MatrixConfig(
        f"http://127.0.0.1:{free_port()}", "@bot:example.org", access_token="t", device_id="D"
    )

    async def go() -> PlatformError:
        adapter = make_adapter(engine, config, Collected())
        await adapter.connect()
        try:
            await adapter.perform(
                Action(ActionKind.SEND, adapter.source, "!r:example.org", text="hi"),
                idempotency_key="k",
            )
        except PlatformError as exc:
            return exc
        finally:
            await adapter.close()
        raise AssertionError("the send did not fail")

    try:
        error = run(go())
    finally:
        engine.dispose()
    assert "cannot connect to 127.0.0.1" in str(error)
    assert "refused" in str(error).lower()
    assert "ClientConnectorError" not in str(error)


class _NotAHomeserver(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = b"<html>Not Found</html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


def test_login_errors_say_what_is_wrong_without_nio_noise(
    synapse: Synapse, caplog: pytest.LogCaptureFixture
) -> None:
    bot = new_account(synapse, "bot")
    with served(_NotAHomeserver) as url, caplog.at_level(logging.INFO):
        with pytest.raises(PlatformError) as wrong:
            run(login(MatrixConfig(synapse.url, bot.user_id, password="wrong-password")))
        with pytest.raises(PlatformError) as elsewhere:
            run(login(MatrixConfig(url, bot.user_id, password="x")))
    assert "M_FORBIDDEN" in str(wrong.value)
    assert "HTTP 404" in str(elsewhere.value) and "unknown error" not in str(elsewhere.value)
    assert not any("Error validating response" in r.getMessage() for r in caplog.records)
