"""Fixtures of the scenario: the database of the bot, and the fixtures of the platform tests it
runs on (a real Synapse per xdist worker; the fake Telegram Bot API server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from tests.platforms.matrix.conftest import synapse

__all__ = ["synapse"]


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    """The bot's database, migrated (the bot process opens the same one)."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
