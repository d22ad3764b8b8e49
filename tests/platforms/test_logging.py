"""serve's log (QA platforms finding 12): groupops' own lines from INFO by default (a
connection connected, failing, working again), GROUPOPS_LOG_LEVEL for more or less."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from groupops.web.server import configure_logging


@pytest.fixture(autouse=True)
def keep_levels() -> Iterator[None]:
    ours, root = logging.getLogger("groupops"), logging.getLogger()
    saved = ours.level, root.level
    yield
    ours.setLevel(saved[0])
    root.setLevel(saved[1])


def test_default_shows_groupops_info(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROUPOPS_LOG_LEVEL", raising=False)
    configure_logging()
    assert logging.getLogger("groupops.platforms").getEffectiveLevel() == logging.INFO


def test_the_env_var_sets_the_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUPOPS_LOG_LEVEL", "debug")
    configure_logging()
    assert logging.getLogger("groupops.platforms").getEffectiveLevel() == logging.DEBUG


def test_a_wrong_level_is_said_and_the_default_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GROUPOPS_LOG_LEVEL", "loud")
    configure_logging()
    assert logging.getLogger("groupops").level == logging.INFO
    assert "not a log level" in caplog.text
