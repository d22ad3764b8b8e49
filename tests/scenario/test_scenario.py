"""One scenario, written once (script.py), run on the sandbox, Telegram (the fake Bot API server)
and Matrix (a real Synapse), with the bot process SIGKILLed and restarted in the middle."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from tests.platforms.matrix.synapse import Synapse
from tests.scenario.drivers import MatrixDriver, SandboxDriver, TelegramDriver
from tests.scenario.script import run_scenario


def test_sandbox(db: Engine, database_url: str, tmp_path: Path) -> None:
    driver = SandboxDriver(db, database_url, tmp_path)
    try:
        print(run_scenario(driver, db))
    except BaseException:
        print(driver.bot.output())
        raise
    finally:
        driver.close()


def test_telegram(db: Engine, database_url: str, tmp_path: Path) -> None:
    driver = TelegramDriver(db, database_url, tmp_path)
    try:
        print(run_scenario(driver, db))
    except BaseException:
        print(driver.bot.output())
        raise
    finally:
        driver.close()


def test_matrix(db: Engine, database_url: str, tmp_path: Path, synapse: Synapse) -> None:
    driver = MatrixDriver(db, database_url, tmp_path, synapse)
    try:
        print(run_scenario(driver, db))
    except BaseException:
        print(driver.bot.output())
        raise
    finally:
        driver.close()
