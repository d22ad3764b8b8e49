"""A reason that did not reach the homeserver, stored inside groupops' other words or after the
action it stopped (``matrix:bot: send in !room: cannot connect to …``), is said in the
operator's language too: the outbox's dead letters and a connection's health read it back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from groupops.domain.errors import PlatformError
from groupops.engine.deadletters import CANNOT_CONNECT, NO_ANSWER, SYNC_FAILED, error_words
from groupops.engine.outbox import failure_text
from groupops.i18n import Catalogs
from groupops.platforms.matrix.config import network_error
from groupops.stored_texts import error_said

SOURCE = "matrix:bot"


@pytest.fixture
def zh(locale_dir: Path) -> Callable[[str], str]:
    return Catalogs(locale_dir).gettext("zh_CN")


def _connect(reason: str) -> str:
    return CANNOT_CONNECT.format(host="hs.example", port=8448, reason=reason)


def test_a_network_reason_after_the_action_it_stopped_is_said_in_chinese(
    zh: Callable[[str], str],
) -> None:
    stored = failure_text(
        PlatformError(
            CANNOT_CONNECT, where=f"{SOURCE}: send in !r:hs", host="hs", port=1, reason="x"
        )
    )
    assert stored == "PlatformError: matrix:bot: send in !r:hs: cannot connect to hs:1: x"
    assert error_words({"last_error": stored, "source": SOURCE}, zh) == "无法连接 hs:1：x"


def test_a_real_network_error_of_a_send_reads_back_in_chinese(zh: Callable[[str], str]) -> None:
    stored = failure_text(network_error(SOURCE, "unmute in !r:hs", TimeoutError()))
    assert stored == f"PlatformError: {SOURCE}: unmute in !r:hs: {NO_ANSWER}"
    assert error_words({"last_error": stored, "source": SOURCE}, zh) == zh(NO_ANSWER)
    assert zh(NO_ANSWER) != NO_ANSWER


def test_a_network_reason_inside_sync_failed_is_said_in_chinese(zh: Callable[[str], str]) -> None:
    stored = SYNC_FAILED.format(reason=_connect("refused"))
    said = error_said(stored, SOURCE, zh)
    assert said == zh(SYNC_FAILED).format(reason="无法连接 hs.example:8448：refused")
    assert "cannot connect" not in said


def test_the_platforms_own_words_inside_a_reason_stay_as_they_are(
    zh: Callable[[str], str],
) -> None:
    stored = SYNC_FAILED.format(reason="M_UNKNOWN: something odd")
    assert error_said(stored, SOURCE, zh) == zh(SYNC_FAILED).format(
        reason="M_UNKNOWN: something odd"
    )
