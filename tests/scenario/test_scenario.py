"""One scenario, written once (script.py), run on the sandbox, Telegram (the fake Bot API server)
and Matrix (a real Synapse), each time with the bot process SIGKILLed and restarted in the
middle. On SQLite, and on PostgreSQL with GROUPOPS_TEST_DATABASE=postgresql."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.scenario.drivers import MatrixDriver, SandboxDriver, TelegramDriver
from tests.scenario.script import Driver, run_scenario

# a bot process started, SIGKILLed and started again, on each platform: 20 to 45 s each
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sandbox", "telegram", "matrix"])
def driver(
    request: pytest.FixtureRequest, db: Engine, database_url: str, tmp_path: Path
) -> Iterator[Driver]:
    made: Driver  # each driver is checked against the protocol by mypy here
    if request.param == "sandbox":
        made = SandboxDriver(db, database_url, tmp_path)
    elif request.param == "telegram":
        made = TelegramDriver(db, database_url, tmp_path)
    else:
        made = MatrixDriver(db, database_url, tmp_path, request.getfixturevalue("synapse"))
    try:
        yield made
    finally:
        made.close()


def test_scenario_from_join_to_kick_survives_a_sigkill(driver: Driver, db: Engine) -> None:
    try:
        figures = run_scenario(driver, db)
    except BaseException:
        print(f"--- the bot's output ({driver.source}) ---\n{driver.bot.output()}")
        raise
    print(driver.source, figures)
    assert "Traceback" not in driver.bot.output()
