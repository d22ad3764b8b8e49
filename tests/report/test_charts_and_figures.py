"""The report's charts and figures as an operator reads them: silent weeks on a date axis,
readable axes for a short history, whole-number counts, the invitation tree, shares as
percentages, Chinese figures with units and readable times, and the analysis' stages on the
progress bar."""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from groupops.analytics import analyze
from groupops.i18n import Catalogs
from groupops.report.html import render
from tests.analytics.helpers import T0, days, joined, left, msg
from tests.report.sample import sample_metrics
from tests.report.test_readable import charts, title
from tests.report.test_render import _keys, _part, _visible


def _chart(page: str, start: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    for data, layout, _config in charts(page):
        if title(layout).startswith(start):
            return data, layout
    raise AssertionError(f"no chart titled {start!r}: {[title(lo) for _d, lo, _c in charts(page)]}")


def _quiet_group() -> dict[str, Any]:
    """Talks in early February, silent for five weeks, talks again in mid-March."""
    events = [msg("ann", T0 - days(28) + days(d), f"a {d}") for d in range(4)]
    events += [msg("bob", T0 + days(14) + days(d), f"b {d}") for d in range(3)]
    return analyze(events)


def test_the_weekly_chart_is_on_a_date_axis_with_silent_weeks_at_zero() -> None:
    page = render(_quiet_group(), lang="en")
    data, layout = _chart(page, "Messages and active members per week")
    xs = data[0]["x"]
    mondays = [date.fromisoformat(x) for x in xs]
    assert all(d.weekday() == 0 for d in mondays)
    assert [(b - a).days for a, b in pairwise(mondays)] == [7] * (len(xs) - 1)
    assert data[0]["y"] == [4, 0, 0, 0, 0, 0, 3]
    assert layout["xaxis"]["type"] == "date"
    daily, _layout = _chart(page, "Messages and active members per day")
    assert len(daily[0]["x"]) == 45 and daily[0]["y"].count(0) == 38


def test_a_history_inside_one_month_gets_readable_axes_and_visible_points() -> None:
    events = [msg("ann", T0 + days(d), "hello") for d in range(4)] + [joined("bob", T0)]
    page = render(analyze(events), lang="en")
    data, layout = _chart(page, "Messages and active members per month")
    assert "markers" in data[0]["mode"]  # a single month is a dot
    axis = layout["xaxis"]
    assert axis["dtick"] == "M1" and axis["tickformat"] == "%b %Y"
    lo, hi = (date.fromisoformat(x[:10]) for x in axis["range"])
    assert (hi - lo).days >= 28  # a month wide, not a millisecond
    assert layout["yaxis"]["dtick"] == 1  # 1, 2, 3 messages: never 0.5
    _d, day = _chart(page, "Messages and active members per day")
    assert day["xaxis"]["dtick"] == 86_400_000 and day["yaxis"]["dtick"] == 1
    _d, ret = _chart(page, "Newcomers still active")
    assert ret["xaxis"]["dtick"] == 1  # whole weeks after joining


def test_three_months_are_labelled_by_month_with_the_last_one_inside() -> None:
    events = [msg("ann", T0 + days(d), "hello") for d in (0, 30, 60)]
    _d, layout = _chart(render(analyze(events), lang="en"), "Messages and active members per month")
    axis = layout["xaxis"]
    assert axis["dtick"] == "M1"
    assert axis["range"][1][:10] > "2024-05-01"  # May, the last month, is inside the axis


def test_count_bars_have_whole_number_ticks() -> None:
    metrics = sample_metrics()
    page = render(metrics, lang="en")
    _d, growth = _chart(page, "Invitees per inviter")
    assert growth["xaxis"]["dtick"] == 1 and growth["xaxis"]["tickformat"] == ",d"
    _d, seg = _chart(page, "Members per segment")
    assert seg["yaxis"]["tickformat"] == ",d"


def _invitations(n: int) -> list[Any]:
    """boss invites ann and bob; ann invites cat; cat invites n - 3 more."""
    events = [msg("boss", T0, "welcome")]
    pairs = [("boss", "ann"), ("boss", "bob"), ("ann", "cat")]
    pairs += [("cat", f"guest{i:03d}") for i in range(n - 3)]
    for i, (who, whom) in enumerate(pairs):
        events.append(joined(whom, T0 + days(1) + i * days(0.001), inviter=who))
    return events


def test_the_report_shows_who_invited_whom_by_generation(locale_dir: Path) -> None:
    metrics = analyze(_invitations(4))
    part = _part(render(metrics, lang="en"), "growth")
    shown = _visible(part)
    assert "generation 1: 2 invited by 1" in shown
    assert "generation 3: 1 invited by 1" in shown
    rows = re.findall(r"<tr><td>([^<]+)</td><td[^>]*>(\d+)</td><td>([^<]+)</td></tr>", part)
    assert ("boss", "2", "ann, bob") in rows and ("ann", "1", "cat") in rows
    assert ("cat", "1", "guest000") in rows
    assert part.count('<details class="group" open>') == 3  # small: open
    zh = _visible(_part(render(metrics, lang="zh_CN", catalogs=Catalogs(locale_dir)), "growth"))
    assert "第 1 代：1 位邀请人邀请了 2 人" in zh and "ann、bob" in zh


def test_hundreds_of_invitations_stay_readable() -> None:
    part = _part(render(analyze(_invitations(300)), lang="en"), "growth")
    assert part.count('<details class="group">') == 3  # closed: one line a generation
    tree = part.split("Who invited whom, by generation")[1]
    assert "open>" not in tree
    guests = re.findall(r"guest\d{3}", tree)
    assert len(set(guests)) == 297  # every invitee is there, none cut


def test_the_soul_figures_split_is_a_share_in_both_languages(locale_dir: Path) -> None:
    en = _visible(_part(render(sample_metrics(), lang="en"), "graph"))
    assert "share of members cut off without them" in en and "40.0%" in en
    assert "members cut off without them" not in en
    zh = _visible(
        _part(render(sample_metrics(), lang="zh_CN", catalogs=Catalogs(locale_dir)), "graph")
    )
    assert "没有他们会断开的成员占比" in zh and "没有他们会断开的成员数" not in zh


def _course_group() -> dict[str, Any]:
    """A WeChat course group in Asia/Shanghai, minute-precision times: a question answered
    after 4 minutes, one nobody answers, invitations, a departure."""
    events = [joined("wang", T0), joined("zhang", T0, inviter="wang"), joined("li", T0, "zhang")]
    events += [
        msg("zhang", T0 + days(0.1), "怎么提交作业？", mid="q1"),
        msg("wang", T0 + days(0.1) + 4 * 60 * S, "在小程序里提交", reply_to="q1"),
        msg("li", T0 + days(1), "明天几点上课？"),
        msg("wang", T0 + days(2), "今晚八点直播"),
        left("li", T0 + days(2.5)),
    ]
    return analyze(events, tz="Asia/Shanghai")


S = days(1) / 86400


def test_every_figure_of_the_chinese_report_is_readable(locale_dir: Path) -> None:
    metrics = _course_group()
    metrics["qa"]["first_response"]["resolution_s"] = 60  # an export that writes minutes
    page = render(metrics, lang="zh_CN", catalogs=Catalogs(locale_dir))
    shown = _visible(page)
    text = "\n".join(shown)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text)  # no raw ISO stamp anywhere
    assert "resolution" not in text
    assert "时间精确到: 1 分钟" in text  # the precision, with its unit
    assert re.search(r"中位数: \d+ 分钟", text)  # durations with their unit
    now = metrics["overview"]["now"]  # 2024-03-07T05:00:00+08:00
    assert f"截至\n{now[:10]} {now[11:16]}" in text
    footer = re.search(r"<footer>([^<]+)</footer>", page)
    assert footer and "Asia/Shanghai" in footer.group(1) and "UTC" not in footer.group(1)
    # every key shown under an English name in the English report is translated in Chinese
    english = set(_visible(render(metrics, lang="en")))
    for key in _keys(metrics):
        from groupops.report.labels import key_label

        label = key_label(key)
        if label in english and re.search(r"[a-z]", label) and label != "PageRank":
            assert label not in shown, (key, label)


def test_progress_names_the_analysis_stage_in_the_operators_language(locale_dir: Path) -> None:
    from groupops.report.commands import progress_display

    class Bar:
        def __init__(self) -> None:
            self.said: list[str] = []

        def add_task(self, description: str, total: int | None = None) -> int:
            self.said.append(description)
            return len(self.said)

        def update(self, task: int, **kw: Any) -> None:
            self.said.append(kw["description"])

    bar = Bar()
    progress = progress_display(bar, Catalogs(locale_dir).gettext("zh_CN"))
    progress("import", 100, None)
    for i, stage in enumerate(("activity", "replies", "graph", "spam")):
        progress(stage, i, 7)
    assert "导入中" in bar.said
    for words in ("分析中：推断回复关系", "分析中：回复关系图", "分析中：垃圾广告"):
        assert any(words.replace("：", ": ") == s or words == s for s in bar.said), bar.said
