"""The page itself: self-contained, every chat string escaped, every figure kept, in Chinese
and English."""

from __future__ import annotations

import json
import re
from pathlib import Path

import plotly.offline
import pytest

from groupops.i18n import Catalogs
from groupops.report import METRICS, REPORT, write_report
from groupops.report.html import AREAS, render
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
    assert "Other figures: brand_new_area" in page
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
    assert rows["median first response"] == (
        "first response: median 45 s, 90% within 10.0 min, 55.0% within 1 minute"
    )
    assert rows["spam share"] == "2.1%"
