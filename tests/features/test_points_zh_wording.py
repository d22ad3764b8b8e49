"""The points feature's lines read as written Chinese in a Chinese group and as English in an
English one: the month's top 3 names its month "2026 年 11 月" ("November 2026"), and the 积分
reply sets its two sentences side by side in Chinese, with a space in English."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from groupops.engine import settings_admin
from groupops.engine.app import App
from tests.features.helpers import clock, said
from tests.features.test_points import say, setup


def month_end(app: App) -> str:
    clock(app).set(datetime(2026, 11, 30, 4, 0, tzinfo=UTC))  # 30 Nov, 12:00 in Shanghai
    say(app, "u1", "an idea worth sharing")
    said(app)
    clock(app).set(datetime(2026, 11, 30, 16, 1, tzinfo=UTC))  # 00:01 on 1 December
    app.engine.tick()
    return said(app)[0].splitlines()[0]


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("zh_CN", "🏆 Brand Club 2026 年 11 月前三名："),
        ("en", "🏆 The top 3 of November 2026 in Brand Club:"),
    ],
)
def test_the_top_three_names_its_month(
    make_app: Callable[..., App], language: str, title: str
) -> None:
    app = setup(make_app)
    settings_admin.set_group_profile(app.db, "1", language=language)
    app.engine.directory.invalidate()
    assert month_end(app) == title


@pytest.mark.parametrize(
    ("language", "reply"),
    [
        (
            "zh_CN",
            "Ann：共 5 积分，等级「新人」。本月 5 积分，排名第 1。再得 45 积分升级为「常客」。",
        ),
        (
            "en",
            "Ann: 5 points, level Newcomer. This month: 5 points, #1. 45 more points to Regular.",
        ),
    ],
)
def test_the_points_reply_joins_its_sentences(
    make_app: Callable[..., App], language: str, reply: str
) -> None:
    app = setup(make_app)
    settings_admin.set_group_profile(app.db, "1", language=language)
    app.engine.directory.invalidate()
    say(app, "u1", "签到")
    said(app)
    say(app, "u1", "积分")
    assert said(app) == [reply]
