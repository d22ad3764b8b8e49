"""The page explains itself: a line per part, a title per chart (with its zone or period),
segments by readable names with what they mean, dates and toolbar in the page's language,
local days and hours for --tz, and no pasted blob copied whole."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import plotly.offline
import pytest

from groupops.i18n import Catalogs
from groupops.report.html import render
from groupops.report.labels import AREAS
from tests.report.sample import sample_metrics

_DECODER = json.JSONDecoder()


def charts(page: str) -> list[tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]]:
    """(data, layout, config) of every chart on the page."""
    outside = page.replace(plotly.offline.get_plotlyjs(), "")
    found = []
    for m in re.finditer(r'Plotly\.newPlot\(\s*"chart-\d+",\s*', outside):
        rest = outside[m.end() :]
        data, end = _DECODER.raw_decode(rest)
        rest = rest[end:].lstrip(", \n")
        layout, end = _DECODER.raw_decode(rest)
        rest = rest[end:].lstrip(", \n")
        config, _end = _DECODER.raw_decode(rest)
        found.append((data, layout, config))
    return found


def title(layout: dict[str, Any]) -> str:
    t = layout.get("title")
    return str(t.get("text", "") if isinstance(t, dict) else t or "")


def help_lines(page: str) -> dict[str, str]:
    return {
        key: text
        for key, text in re.findall(
            r'<section id="([^"]+)"[^>]*>\s*<h2>[^<]*</h2>\s*<p class="help">([^<]+)</p>', page
        )
    }


def zh(locale_dir: Path, metrics: dict[str, Any] | None = None) -> str:
    return render(metrics or sample_metrics(), lang="zh_CN", catalogs=Catalogs(locale_dir))


def test_every_part_says_what_it_means_in_english_and_chinese(locale_dir: Path) -> None:
    en = help_lines(render(sample_metrics(), lang="en"))
    assert set(en) == {"overview"} | {k for k, _t in AREAS}
    assert en["top3"] == "The three most active members of each month: the names to thank publicly."
    assert "the people to contact now" not in en["segments"]  # said by the segment itself
    assert "Contact the drifting members now" in en["segments"]
    cn = help_lines(zh(locale_dir))
    assert set(cn) == set(en)
    assert cn["top3"] == "每月最活跃的三位成员：值得公开感谢的人。"
    assert all(re.search(r"[\u4e00-\u9fff]", line) for line in cn.values())


def test_every_chart_has_a_title_saying_what_it_shows(locale_dir: Path) -> None:
    metrics = sample_metrics()
    metrics["activity"]["time_zone"] = "Asia/Shanghai"
    for page in (render(metrics, lang="en"), zh(locale_dir, metrics)):
        found = charts(page)
        assert len(found) >= 10
        assert all(title(layout).strip() for _d, layout, _c in found), [
            title(layout) for _d, layout, _c in found
        ]
    titles = [title(layout) for _d, layout, _c in charts(render(metrics, lang="en"))]
    assert (
        "Messages and active members per day, 2024-03-01 to 2024-03-28 (Asia/Shanghai time)"
        in titles
    )
    assert "When people talk: messages by weekday and hour (Asia/Shanghai time)" in titles
    assert "Members per segment" in titles and "Most frequent words (times used)" in titles
    cn = [title(layout) for _d, layout, _c in charts(zh(locale_dir, metrics))]
    assert "大家什么时候说话：按星期和小时统计的消息数（Asia/Shanghai 时间）" in cn


def test_the_per_day_chart_says_when_it_shows_only_the_last_days() -> None:
    metrics = sample_metrics()
    metrics["overview"]["first"] = "2022-01-01"  # the history is longer than the daily series
    titles = [title(layout) for _d, layout, _c in charts(render(metrics, lang="en"))]
    assert (
        "Messages and active members per day, the last 28 days: "
        "2024-03-01 to 2024-03-28 (UTC time)" in titles
    )


def test_segments_have_readable_names_and_definitions(locale_dir: Path) -> None:
    page = render(sample_metrics(), lang="en")
    part = re.search(r'data-area="segments".*?</section>', page, flags=re.S)
    assert part
    text = part.group(0)
    assert "<td>Drifting away</td>" in text
    assert "the people to contact now" in text
    assert "<h3>Core</h3>" in text and "<h3>core</h3>" not in text
    data, _layout, _config = next(c for c in charts(page) if title(c[1]) == "Members per segment")
    assert data[0]["x"][:3] == ["New and active", "Core", "Drifting away"]
    cn = zh(locale_dir)
    assert "<td>正在流失</td>" in cn and "现在就该联系的人" in cn


def test_sentiment_keeps_the_count_off_the_shares_axis() -> None:
    metrics = sample_metrics()
    metrics["sentiment"]["over_time"] = [
        {"week": "2024-W09", "scored": 191, "positive": 0.5, "negative": 0.2},
        {"week": "2024-W10", "scored": 150, "positive": 0.4, "negative": 0.3},
    ]
    page = render(metrics, lang="en")
    data, layout, _config = next(c for c in charts(page) if title(c[1]).startswith("Mood per week"))
    on_y2 = [t["name"] for t in data if t.get("yaxis") == "y2"]
    on_y = [t["name"] for t in data if t.get("yaxis", "y") == "y"]
    assert on_y2 == ["messages scored"]
    assert sorted(on_y) == ["negative", "positive"]
    assert layout["yaxis"]["tickformat"] == ".0%"
    assert layout["yaxis2"]["overlaying"] == "y" and layout["yaxis2"]["side"] == "right"


def test_chinese_page_registers_plotly_locale_and_keeps_nothing_english_in_the_toolbar(
    locale_dir: Path,
) -> None:
    page = zh(locale_dir)
    outside = page.replace(plotly.offline.get_plotlyjs(), "")
    found = re.search(r"<script>Plotly\.register\((\{.*?\})\);</script>", outside)
    assert found
    locale = json.loads(found.group(1))
    assert locale["name"] == "zh-CN" and locale["format"]["shortMonths"][0] == "1月"
    assert locale["format"]["month"] == "%Y年%-m月"
    assert locale["dictionary"]["Download plot as a PNG"] == "下载图表（PNG）"
    configs = [config for _d, _l, config in charts(page)]
    assert configs and all(c["locale"] == "zh-CN" for c in configs)
    # buttons the operator does not need are gone; the rest have Chinese tooltips
    assert all("lasso2d" in c["modeBarButtonsToRemove"] for c in configs)
    english = render(sample_metrics(), lang="en")
    assert "Plotly.register(" not in english.replace(plotly.offline.get_plotlyjs(), "")
    assert all("locale" not in c for _d, _l, c in charts(english))


def test_one_more_row_is_singular() -> None:
    from groupops.report.page import MAX_ROWS

    metrics = sample_metrics()
    metrics["spam"]["top_offenders"] = [{"name": f"p{i}", "spam": 1} for i in range(MAX_ROWS + 1)]
    page = render(metrics, lang="en")
    assert "1 more row in metrics.json" in page and "1 more rows" not in page
    metrics["spam"]["top_offenders"].append({"name": "q", "spam": 1})
    assert "2 more rows in metrics.json" in render(metrics, lang="en")


def test_a_share_in_a_table_is_a_percentage() -> None:
    metrics = sample_metrics()
    metrics["spam"]["top_offenders"] = [
        {"name": "p1", "spam": 6, "share_of_their_messages": 0.0222}
    ]
    page = render(metrics, lang="en")
    assert "<td>2.2%</td>" in page and "0.0222" not in page


def test_first_seen_one_day_in_english_and_chinese(locale_dir: Path) -> None:
    metrics = sample_metrics()
    metrics["lifecycle"]["evidence"] = ["first seen 1 day ago", "1 message in the last 28 days"]
    assert "first seen 1 day ago" in render(metrics, lang="en")
    cn = zh(locale_dir, metrics)
    assert "1 天前首次出现" in cn and "最近 28 天 1 条消息" in cn


WHATSAPP = """\
31/03/2024, 23:55 - Alice: anyone around?
31/03/2024, 23:58 - Bob: yes
01/04/2024, 00:05 - Alice: good night
01/04/2024, 00:07 - Bob: night
"""


@pytest.fixture
def late_chat(tmp_path: Path) -> Path:
    path = tmp_path / "WhatsApp Chat with Night owls.txt"
    path.write_text(WHATSAPP, encoding="utf-8")
    return path


def test_tz_gives_local_days_and_hours_in_metrics_and_report(
    late_chat: Path, tmp_path: Path
) -> None:
    from tests.report.conftest import groupops_cli

    out = tmp_path / "out"
    run = groupops_cli("analyze", late_chat, "--tz", "Asia/Shanghai", "--out", out)
    assert run.returncode == 0, run.stderr
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    act = metrics["activity"]
    assert [(d["date"], d["messages"]) for d in act["per_day"]] == [
        ("2024-03-31", 2),
        ("2024-04-01", 2),
    ]
    heat = act["heatmap"]["counts"]
    assert heat[6][23] == 2 and heat[0][0] == 2  # Sunday 23h and Monday 0h, local
    assert act["heatmap"]["cols"] == "hour (Asia/Shanghai)"
    page = (out / "report.html").read_text(encoding="utf-8")
    heading = "When people talk: messages by weekday and hour (Asia/Shanghai time)"
    assert heading in [title(layout) for _d, layout, _c in charts(page)]


def test_a_pasted_blob_is_not_copied_whole_into_the_report(tmp_path: Path) -> None:
    from tests.report.conftest import groupops_cli

    chat = tmp_path / "blob.txt"
    blob = "Q" * 2_000_000
    chat.write_text(
        f"01/04/2024, 10:00 - Alice: {blob}?\n01/04/2024, 10:05 - Bob: deploy deploy\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    run = groupops_cli("analyze", chat, "--out", out)
    assert run.returncode == 0, run.stderr
    figures = (out / "metrics.json").read_text(encoding="utf-8")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "q" * 1000 not in figures and "Q" * 1000 not in figures
    assert len(page) - len(plotly.offline.get_plotlyjs()) < 300_000
    metrics = json.loads(figures)
    assert metrics["keywords"]["top"][0]["word"] == "deploy"
    assert metrics["qa"]["unanswered"][0]["text"].endswith("…")
