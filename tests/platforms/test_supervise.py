"""supervise.Backoff: the pause after a failed try of a receive loop (Telegram, Matrix)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from groupops.domain.errors import PlatformError
from groupops.platforms import supervise
from groupops.platforms.supervise import MAX_PAUSE, REFUSED_RETRY, Backoff, Health


class _Store:
    def __init__(self) -> None:
        self.saved: list[dict[str, Any]] = []

    def load(self) -> tuple[Any, dict[str, Any]]:
        return None, {}

    def save_state(self, state: dict[str, Any]) -> None:
        self.saved.append(dict(state["health"]))


def _backoff(changed: bool = False) -> tuple[Backoff, _Store, dict[str, Any]]:
    store, state = _Store(), dict[str, Any]()
    health = Health("tg:bot", store, lambda: state, lambda: datetime(2026, 1, 1, tzinfo=UTC))
    return Backoff(health, lambda: changed), store, state


def _failure(retry_after: float | None = None) -> PlatformError:
    return PlatformError("failed: boom", where="tg:bot getUpdates", retry_after=retry_after)


def test_pauses_double_up_to_the_most_and_a_success_starts_over() -> None:
    backoff, _, _ = _backoff()
    pauses = [backoff.pause(_failure()) for _ in range(8)]
    assert pauses == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, MAX_PAUSE, MAX_PAUSE]
    backoff.ok()
    assert backoff.pause(_failure()) == 1.0


def test_the_platforms_retry_after_wins_and_still_grows_the_next_pause() -> None:
    backoff, _, _ = _backoff()
    assert backoff.pause(_failure(retry_after=7.5)) == 7.5
    assert backoff.pause(_failure()) == 2.0


def test_refused_credentials_wait_long_and_leave_the_growing_pause_alone() -> None:
    backoff, _, _ = _backoff()
    backoff.pause(_failure())
    assert backoff.pause(_failure(), refused=True) == REFUSED_RETRY
    assert backoff.pause(_failure()) == 2.0


def test_a_failure_is_logged_kept_in_the_health_and_waited_until_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backoff, store, state = _backoff()

    async def go() -> float:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, stop.set)
        began = loop.time()
        await backoff.failed(stop, _failure())  # a 1 s pause, cut short by stop
        return loop.time() - began

    with caplog.at_level(logging.WARNING, logger="groupops.platforms"):
        waited = asyncio.run(go())
    assert waited < 0.9
    assert state["health"]["status"] == "failing"
    assert state["health"]["error"] == "getUpdates: failed: boom"
    assert any(
        "tg:bot: getUpdates: failed: boom; next try in 1s" in r.getMessage() for r in caplog.records
    )
    backoff.ok()
    assert [h["status"] for h in store.saved] == ["failing", "ok"]


def test_a_change_of_the_stored_settings_ends_the_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervise, "WATCH_EVERY", 0.01)
    backoff, _, _ = _backoff(changed=True)

    async def go() -> float:
        loop = asyncio.get_running_loop()
        began = loop.time()
        await backoff.failed(asyncio.Event(), _failure(), refused=True)  # 300 s otherwise
        return loop.time() - began

    assert asyncio.run(go()) < 1.0


def test_a_change_of_the_stored_settings_starts_the_pauses_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`groupops connect` again, or a connection disabled then enabled, during a pause: the
    next failure (with the new settings) waits 1 s again, not the 32 s the old ones reached."""
    monkeypatch.setattr(supervise, "WATCH_EVERY", 0.01)
    change = {"now": False}
    store, state = _Store(), dict[str, Any]()
    health = Health("tg:bot", store, lambda: state, lambda: datetime(2026, 1, 1, tzinfo=UTC))
    backoff = Backoff(health, lambda: change["now"])
    for _ in range(5):
        backoff.pause(_failure())  # 1, 2, 4, 8, 16: the next would be 32
    change["now"] = True
    asyncio.run(backoff.failed(asyncio.Event(), _failure()))  # cut short by the change
    assert backoff.pause(_failure()) == 1.0
    # a pause that ran its course without a change keeps growing as before
    change["now"] = False
    backoff.wait = 0.01
    asyncio.run(backoff.failed(asyncio.Event(), _failure()))
    assert backoff.pause(_failure()) == 0.02


class _Failing:
    """A connection store whose read fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.reads = 0

    def load(self) -> tuple[Any, dict[str, Any]]:
        self.reads += 1
        raise self.error

    def save_state(self, state: dict[str, Any]) -> None:
        return None


_DOWN = OperationalError("SELECT config", {}, Exception("could not connect to server"))


def test_a_database_that_is_down_means_nothing_to_take_up_now() -> None:
    assert supervise.stored_differs(_Failing(_DOWN), object()) is False
    assert supervise.changed_settings(_Failing(_DOWN), object(), "tg:bot") is None


@pytest.mark.parametrize("error", [AttributeError("no from_json"), TypeError("bad field")])
def test_any_other_error_reading_the_settings_goes_up(error: Exception) -> None:
    """A bug or a changed schema must not look like "nothing changed" (QA code review #14)."""
    with pytest.raises(type(error)):
        supervise.stored_differs(_Failing(error), object())
    with pytest.raises(type(error)):
        supervise.changed_settings(_Failing(error), object(), "tg:bot")


def test_a_pause_whose_settings_check_fails_still_waits_and_asks_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(supervise, "WATCH_EVERY", 0.01)
    store = _Failing(TypeError("bad field"))
    state: dict[str, Any] = {}
    health = Health("tg:bot", store, lambda: state, lambda: datetime(2026, 1, 1, tzinfo=UTC))
    backoff = Backoff(
        health, lambda: supervise.stored_differs(store, object()), first=0.2, most=0.2
    )

    async def go() -> float:
        loop = asyncio.get_running_loop()
        began = loop.time()
        await backoff.failed(asyncio.Event(), _failure())
        return loop.time() - began

    assert asyncio.run(go()) >= 0.19  # the whole pause: the loop's next try says the error
    assert store.reads == 1


def test_a_receive_step_runs_unless_stop_comes_first() -> None:
    """One receive step (a Matrix sync, a Telegram getUpdates) of the adapters' loops: it
    finishes (True, its error raised), or ``stop`` comes first and it is cancelled (False)
    before it stored anything."""

    async def scenario() -> tuple[bool, bool, list[str]]:
        done: list[str] = []

        async def step(seconds: float, fail: bool = False) -> list[str]:
            await asyncio.sleep(seconds)
            if fail:
                raise PlatformError("sync_failed", where="test")
            done.append(f"{seconds}")
            return done

        stop = asyncio.Event()
        finished = await supervise.unless_stopped(step(0), stop)
        with pytest.raises(PlatformError):
            await supervise.unless_stopped(step(0, fail=True), stop)
        asyncio.get_running_loop().call_later(0.05, stop.set)
        stopped = await supervise.unless_stopped(step(30), stop)
        await asyncio.sleep(0)
        return finished, stopped, done

    finished, stopped, done = asyncio.run(scenario())
    assert finished is True
    assert stopped is False
    assert done == ["0"]  # the 30 s step was cancelled, never finished
