"""groupops' own words in the platforms' errors (engine.deadletters.PLATFORM_WORDS) are each
said in Chinese, and the adapters raise with those very definitions: the token refused
(Telegram), the login refused (Matrix), a private message the member cannot receive (both), as
a connection's health and a dead letter keep them, read back by error_words."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from groupops.domain.errors import PlatformError, RecipientUnreachable
from groupops.engine import deadletters
from groupops.engine.deadletters import (
    ACCESS_REFUSED,
    BLOCKED,
    LEFT_PRIVATE_CHAT,
    NOT_STARTED,
    PLATFORM_WORDS,
    REROUTED,
    TOKEN_REFUSED,
    error_words,
)
from groupops.i18n import Catalogs
from groupops.platforms.commands import error_said
from groupops.platforms.matrix import homeserver
from groupops.platforms.telegram import botapi

CJK = re.compile(r"[\u4e00-\u9fff]")
SRC = Path(deadletters.__file__).resolve().parents[1]
#: the phrases defined once in deadletters and raised by the adapters
DEFINED = {
    "TOKEN_REFUSED": TOKEN_REFUSED,
    "ACCESS_REFUSED": ACCESS_REFUSED,
    "NOT_STARTED": NOT_STARTED,
    "BLOCKED": BLOCKED,
    "LEFT_PRIVATE_CHAT": LEFT_PRIVATE_CHAT,
}


@pytest.fixture
def zh(locale_dir: Path) -> Callable[[str], str]:
    return Catalogs(locale_dir).gettext("zh_CN")


@pytest.mark.parametrize("phrase", PLATFORM_WORDS)
def test_every_platform_phrase_is_said_in_chinese(phrase: str, zh: Callable[[str], str]) -> None:
    said = zh(phrase)
    assert said != phrase and CJK.search(said), phrase
    fields = set(re.findall(r"\{(\w+)\}", phrase))
    assert set(re.findall(r"\{(\w+)\}", said)) == fields, said


def test_the_defined_phrases_are_platform_words() -> None:
    assert all(any(p is w for w in PLATFORM_WORDS) for p in DEFINED.values())


def test_the_adapters_raise_with_the_one_definition() -> None:
    """The adapters' errors carry deadletters' objects as their templates, and no adapter
    writes one of these phrases out again."""
    assert botapi.TokenRefused("telegram:bot getUpdates").template is TOKEN_REFUSED
    refused = homeserver.AccessRefused("matrix:@bot:hs sync", "M_UNKNOWN_TOKEN gone")
    assert refused.template is ACCESS_REFUSED and "(M_UNKNOWN_TOKEN gone)" in str(refused)
    platforms = SRC / "platforms"
    for name, phrase in DEFINED.items():
        fixed = max(re.split(r"\{\w+\}", phrase), key=len)[:40]
        copies = [
            str(f.relative_to(SRC))
            for f in platforms.rglob("*.py")
            if fixed in f.read_text(encoding="utf-8")
        ]
        assert not copies, (name, copies)


STORED = [
    # a connection's health: the call that failed, then groupops' words
    (
        "telegram:bot",
        f"telegram:bot getUpdates: {TOKEN_REFUSED}",
        "getUpdates: 机器人令牌被拒绝",
    ),
    (
        "matrix:@bot:hs",
        str(homeserver.AccessRefused("matrix:@bot:hs sync", "M_UNKNOWN_TOKEN gone")),
        "sync: 服务器拒绝了机器人的登录（M_UNKNOWN_TOKEN gone）",
    ),
]


@pytest.mark.parametrize(("source", "stored", "chinese"), STORED)
def test_a_refused_connection_says_it_in_chinese(
    source: str, stored: str, chinese: str, zh: Callable[[str], str]
) -> None:
    assert error_said(stored, source, zh).startswith(chinese), error_said(stored, source, zh)


def rerouted(exc: PlatformError) -> str:
    """The dead letter the deliverer writes for a private message posted in the group."""
    return REROUTED.format(error=f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize(
    ("exc", "chinese"),
    [
        (
            RecipientUnreachable(
                LEFT_PRIVATE_CHAT, where="matrix:@bot:hs", user="@m:hs", room="!dm:hs"
            ),
            "@m:hs 已离开与机器人的私聊 !dm:hs（或拒绝了它）；已改为发在群里",
        ),
        (
            RecipientUnreachable(
                BLOCKED,
                where="telegram:bot direct_message in -1001",
                reason="Forbidden: bot was blocked by the user",
            ),
            "该成员收不到机器人的私信：Forbidden: bot was blocked by the user；已改为发在群里",
        ),
        (
            RecipientUnreachable(NOT_STARTED, where="telegram:bot direct_message in -1001"),
            "该成员没有和机器人开始过私聊；已改为发在群里",
        ),
    ],
)
def test_an_unreachable_member_is_said_in_chinese(
    exc: PlatformError, chinese: str, zh: Callable[[str], str]
) -> None:
    source = str(exc.where).split(" ")[0]
    row = {"last_error": rerouted(exc), "source": source}
    assert error_words(row, zh) == chinese
    assert error_words(row, lambda m: m) == str(exc.message) + "; posted in the group instead"
