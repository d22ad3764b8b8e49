"""The page itself: self-contained, every chat string escaped, every figure kept, in Chinese
and English."""

from __future__ import annotations

import html
import json
import os
import re
import stat
from pathlib import Path

import plotly.offline
import pytest

from groupops.i18n import Catalogs
from groupops.report import METRICS, REPORT, write_report
from groupops.report.html import render
from groupops.report.labels import AREAS
from tests.report.sample import EVIL, EVIL_IMG, sample_metrics


@pytest.fixture(scope="module")
def page_en() -> str:
    return render(sample_metrics(), lang="en", files=["chat <1>.txt"])


def test_plotly_is_inlined_once_and_nothing_is_loaded_from_elsewhere(page_en: str) -> None:
    head = plotly.offline.get_plotlyjs()[:300]
    assert page_en.count(head) == 1  # the library once, not per chart
    outside = page_en.replace(plotly.offline.get_plotlyjs(), "")
    charts = outside.count('class="plotly-graph-div"')
    assert charts >= 8
    assert outside.count("Plotly.newPlot(") == charts
    assert not re.search(r"<script[^>]+src=", outside)
    assert "<link" not in outside
    assert "@import" not in outside and "@font-face" not in outside
    assert not re.search(r"https?://", outside)


def test_every_chat_string_is_escaped(page_en: str) -> None:
    outside = page_en.replace(plotly.offline.get_plotlyjs(), "")
    assert EVIL not in outside and "<script>alert" not in outside
    assert EVIL_IMG not in outside and "<img" not in outside
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in outside  # shown as text
    # in the figures' JSON the label is HTML-escaped (plotly draws tags in labels) and the
    # JSON itself has no "<" a browser could read as a tag
    for script in re.findall(r"<script[^>]*>(.*?)</script>", outside, flags=re.S):
        assert "<" not in script.replace("<\\/", "")
    assert "chat &lt;1&gt;.txt" in outside


def test_every_area_has_its_section_and_unknown_areas_are_kept() -> None:
    metrics = sample_metrics()
    metrics["brand_new_area"] = {"figure": 7, "rows": [{"who": "Dana", "n": 3}]}
    page = render(metrics, lang="en")
    for key, _title in AREAS:
        assert f'data-area="{key}"' in page
    assert "Other figures: brand new area" in page  # keys read as English, not snake_case
    assert "Dana" in page


def test_chinese_report_has_chinese_headings(locale_dir: Path) -> None:
    page = render(sample_metrics(), lang="zh_CN", catalogs=Catalogs(locale_dir))
    assert '<html lang="zh-CN">' in page
    for heading in ("社群健康报告", "活跃度", "生命周期与预警", "回复关系：意见领袖与灵魂人物"):
        assert f">{heading}</" in page
    assert "衰退" in page  # the stage, translated
    assert ">Activity</" not in page


def test_write_report_writes_both_files_and_metrics_keep_every_figure(tmp_path: Path) -> None:
    metrics = sample_metrics()
    report, figures = write_report(metrics, tmp_path / "out", lang="en")
    assert report == tmp_path / "out" / REPORT and figures == tmp_path / "out" / METRICS
    assert json.loads(figures.read_text(encoding="utf-8")) == metrics
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [METRICS, REPORT]


@pytest.mark.parametrize(("mask", "mode"), [(0o077, 0o600), (0o027, 0o640)])
def test_report_files_are_readable_as_the_umask_says(tmp_path: Path, mask: int, mode: int) -> None:
    """The report names members and quotes them: who else may read it is the user's umask's
    call, as for any file they write (a fixed 0644 showed it to every local user)."""
    before = os.umask(mask)
    try:
        report, figures = write_report(sample_metrics(), tmp_path / "out", lang="en")
    finally:
        os.umask(before)
    assert stat.S_IMODE(report.stat().st_mode) == mode
    assert stat.S_IMODE(figures.stat().st_mode) == mode


def test_write_report_leaves_old_files_alone_when_rendering_fails(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / REPORT).write_text("old report")

    class Unrenderable(dict[str, object]):
        def items(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_report(Unrenderable(a=1), out, lang="en")
    assert (out / REPORT).read_text() == "old report"
    assert sorted(p.name for p in out.iterdir()) == [REPORT]


def test_terminal_summary_names_stage_top3_leaders_frt_and_spam() -> None:
    from groupops.report.commands import _summary

    rows = dict(_summary(sample_metrics(), Catalogs().gettext("en")))
    assert rows["stage"] == "declining"
    assert rows["early warning"] == "activity halves every 3 weeks"
    assert rows["members"] == "42" and rows["messages"] == "1,234"
    assert rows["top 3 of 2024-03"] == f"{EVIL}, 小明, Alice"  # the latest month
    assert rows["opinion leaders"].startswith(EVIL_IMG)
    # the label is said once, not again in the value
    assert rows["first response"] == "median 45 s, 90% within 10.0 min, 55.0% within 1 minute"
    assert rows["spam share"] == "2.1%"


def _keys(obj: object) -> set[str]:
    """Every mapping key in the metrics, at any depth."""
    if isinstance(obj, dict):
        return {str(k) for k in obj} | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


def _visible(page: str) -> list[str]:
    """The page's text nodes, without the scripts (plotly, the figures' JSON) and styles."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.S)
    return [html.unescape(t).strip() for t in re.findall(r">([^<>]+)<", body) if t.strip()]


@pytest.fixture(scope="module")
def telegram_metrics(shared_data: Path) -> dict[str, object]:
    from groupops.report import _plain
    from groupops.report.pipeline import analyze_files

    metrics = analyze_files([shared_data / "telegram/BIG_20A_5475M.json"]).metrics
    return dict(_plain(metrics))


def test_chinese_report_translates_keys_evidence_segments_and_values(
    telegram_metrics: dict[str, object], locale_dir: Path
) -> None:
    page = render(telegram_metrics, lang="zh_CN", catalogs=Catalogs(locale_dir))
    shown = _visible(page)
    snake = sorted(k for k in _keys(telegram_metrics) if "_" in k and k in shown)
    assert not snake  # no heading, column or figure shown as a metrics.json key
    for english in ("occasional", "True", "text", "kind", "name", "score", "posts", "from"):
        assert english not in shown, english
    lc = telegram_metrics["lifecycle"]
    assert isinstance(lc, dict)
    for line in lc["evidence"]:
        assert line not in shown  # "messages 141 -> 132" is shown in Chinese
    assert any(t.startswith("消息 ") and "→" in t for t in shown)
    assert any(t.startswith("活跃成员 ") and "→" in t for t in shown)
    assert any(t.startswith("判断规则：") for t in shown)  # what the figures are measured by
    assert "偶尔发言" in shown and "文字" in shown
    assert "每周消息（最近 12 周）" in shown


def test_english_report_humanises_keys(telegram_metrics: dict[str, object]) -> None:
    shown = _visible(render(telegram_metrics, lang="en"))
    assert not sorted(k for k in _keys(telegram_metrics) if "_" in k and k in shown)
    assert "messages per week, last 12 weeks" in shown
    assert "share of their messages" in shown
    lc = telegram_metrics["lifecycle"]
    assert isinstance(lc, dict)
    assert all(line in shown for line in lc["evidence"])  # English as the analytics wrote it
    assert f"by the rule: {lc['rule']}" in shown


def test_chinese_summary_has_chinese_time_units(locale_dir: Path) -> None:
    from groupops.report.commands import _summary

    metrics = sample_metrics()
    metrics["qa"] = {"first_response": {"median": 59, "p90": 593131, "within_1min": 0.667}}
    rows = dict(_summary(metrics, Catalogs(locale_dir).gettext("zh_CN")))
    frt = rows["首次回复"]
    assert frt.startswith("中位数 59 秒，") and "6.9 天" in frt, frt
    assert "首次回复" not in frt
    assert " s" not in frt and " d" not in frt


def test_times_written_to_the_minute_are_said_in_minutes(locale_dir: Path) -> None:
    """WhatsApp and IRC write minutes only: an answer in the same minute is "under 1 min",
    not "0 s" (the export cannot tell 0 s from 59 s), and 60 s is "1 min"."""
    from groupops.report.commands import _summary

    metrics = sample_metrics()
    metrics["qa"] = {
        "first_response": {"median": 0, "p90": 60, "within_1min": 0.93, "resolution_s": 60}
    }
    en = dict(_summary(metrics, Catalogs(locale_dir).gettext("en")))["first response"]
    # the 90th percentile is within the minute: said once, by the share within a minute
    assert en == "median under 1 min, 93.0% within 1 minute", en
    zh = dict(_summary(metrics, Catalogs(locale_dir).gettext("zh_CN")))["首次回复"]
    assert zh == "中位数 不到 1 分钟，93.0% 在 1 分钟内", zh
    assert zh.count("1 分钟内") == 1


def test_qa_knows_when_an_export_writes_minutes_only(tmp_path: Path) -> None:
    from groupops.report.pipeline import analyze_files

    chat = tmp_path / "chat.txt"
    chat.write_text(
        "01/03/2024, 10:00 - Ann: how do I check in?\n01/03/2024, 10:00 - Bob: Ann: type 签到\n",
        encoding="utf-8",
    )
    frt = analyze_files([chat]).metrics["qa"]["first_response"]
    assert frt["resolution_s"] == 60 and frt["median"] == 0


def _part(page: str, area: str) -> str:
    found = re.search(rf'data-area="{area}".*?</section>', page, flags=re.S)
    assert found, area
    return found.group(0)


def test_growth_without_invitations_says_there_is_no_data() -> None:
    """An export that records no invitations (IRC, Telegram) has growth keys all zero: the part
    says it has no data, with no zero figures or empty headings; the joins by channel stay."""
    metrics = sample_metrics()
    metrics["growth"] = {
        "invited": 0,
        "inviters_count": 0,
        "generations": 0,
        "by_generation": {},
        "inviters": [],
        "joins_by_channel": {"unknown": 3},
        "tree": [],
        "active_after_7d": None,
        "active_after_30d": None,
    }
    part = _part(render(metrics, lang="en"), "growth")
    assert "No data for this part." in part
    for figure in ("invited", "generations", "invitees by generation", "active 7 days after"):
        assert f"<th>{figure}" not in part, figure
    assert "unknown: 3" in part
    # with invitations the part shows them, and no note
    assert "No data for this part." not in _part(render(sample_metrics(), lang="en"), "growth")
