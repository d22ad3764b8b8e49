"""Fixtures of the scenario: the database of the bot, and the fixtures of the platform tests it
runs on (a real Synapse per xdist worker; the fake Telegram Bot API server)."""

from __future__ import annotations

from tests.platforms.matrix.conftest import synapse

__all__ = ["synapse"]
