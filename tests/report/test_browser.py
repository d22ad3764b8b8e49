"""The report in a real Chromium with the network cut off: every chart draws, nothing is
fetched, no script error, and a name made of HTML stays text. A screenshot is kept."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from groupops.report import write_report
from tests.report.conftest import groupops_cli
from tests.report.sample import EVIL, sample_metrics

pytestmark = pytest.mark.browser
WAIT = 30_000  # ms: the page carries 4.8 MB of plotly.js, on a machine shared by many tests


def open_report(browser: Any, report: Path, shot: Path, locale: str = "en-US") -> dict[str, Any]:
    """Open ``report`` from disk with every non-file request aborted; return what happened."""
    from playwright.sync_api import Browser, Dialog, Route

    assert isinstance(browser, Browser)
    context = browser.new_context(
        locale=locale, viewport={"width": 1280, "height": 900}, service_workers="block"
    )
    attempted: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(report.as_uri())
    page.wait_for_function(
        """() => {
            const divs = document.querySelectorAll('.plotly-graph-div');
            return divs.length > 0 &&
                [...divs].every(d => d.querySelector('svg.main-svg'));
        }""",
        timeout=WAIT,
    )
    page.wait_for_timeout(300)  # let late async work (a stray fetch) show itself
    result = {
        "attempted": attempted,
        "errors": errors,
        "dialogs": dialogs,
        "charts": page.locator(".plotly-graph-div").count(),
        "drawn": page.evaluate(
            "[...document.querySelectorAll('.plotly-graph-div')]"
            ".filter(d => d.querySelector('svg.main-svg .trace, svg.main-svg .hm')).length"
        ),
        "pwned": page.evaluate("window.__pwned === undefined ? null : window.__pwned"),
        "h1": page.locator("h1").inner_text(),
        "evil_as_text": page.get_by_text(EVIL, exact=True).count(),
        "lang": page.locator("html").get_attribute("lang"),
        "x_ticks": page.evaluate(
            "[...document.querySelectorAll('.xtick text')].map(t => t.textContent)"
        ),
        "ticks": page.evaluate(
            """[...document.querySelectorAll('.plotly-graph-div')].map(d => ({
                title: (d.querySelector('.gtitle') || {}).textContent || '',
                x: [...d.querySelectorAll('.xtick text')].map(t => t.textContent),
                y: [...d.querySelectorAll('.ytick text')].map(t => t.textContent),
                points: d.querySelectorAll('.scatterlayer .point').length,
            }))"""
        ),
        "toolbar": page.evaluate(
            "[...new Set([...document.querySelectorAll('.modebar-btn')]"
            ".map(b => b.getAttribute('data-title')))]"
        ),
    }
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
    context.close()
    return result


def test_sample_report_draws_offline_and_keeps_html_names_as_text(
    browser: object, tmp_path: Path
) -> None:
    report, _metrics = write_report(sample_metrics(), tmp_path / "out", lang="en")
    seen = open_report(browser, report, tmp_path / "report-sample.png")
    assert seen["attempted"] == []
    assert seen["errors"] == []
    assert seen["dialogs"] == []  # the <script>alert(...)</script> names did not run
    assert seen["pwned"] is None  # nor the <img onerror=...> one
    assert seen["charts"] >= 8
    assert seen["drawn"] == seen["charts"]
    assert seen["h1"] == "Group health report"
    assert seen["evil_as_text"] >= 3  # shown, as text, in several tables
    assert (tmp_path / "report-sample.png").stat().st_size > 50_000


def test_chinese_report_of_a_real_export_in_chromium(
    browser: object, tmp_path: Path, shared_data: Path, locale_dir: Path
) -> None:
    out = tmp_path / "out"
    run = groupops_cli(
        "analyze",
        shared_data / "telegram/BIG_20A_5475M.json",
        "--out",
        out,
        "--lang",
        "zh_CN",
        "--locale-dir",
        locale_dir,
    )
    assert run.returncode == 0, run.stderr
    seen = open_report(browser, out / "report.html", tmp_path / "report-zh.png", "zh-CN")
    assert seen["attempted"] == [] and seen["errors"] == []
    # translated: the page's title comes from the zh_CN catalogue of --locale-dir
    assert seen["lang"] == "zh-CN" and seen["h1"] == "社群健康报告"
    assert seen["charts"] >= 3 and seen["drawn"] == seen["charts"]
    # plotly's own words are Chinese too: month ticks of the date axes, toolbar tooltips
    assert any(re.fullmatch(r"(\d{4}年)?\d{1,2}月", t) for t in seen["x_ticks"]), seen["x_ticks"]
    months = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
    assert not [t for t in seen["x_ticks"] if re.search(months, t)]
    english = [t for t in seen["toolbar"] if not re.search(r"[\u4e00-\u9fff]", t)]
    assert seen["toolbar"] and not english, seen["toolbar"]


def test_quiet_weeks_and_a_one_month_history_read_right_in_chromium(
    browser: object, tmp_path: Path, locale_dir: Path
) -> None:
    """The weekly chart is on a date axis with the silent weeks at zero; a history inside one
    month gets a month-labelled monthly axis with a visible point (no millisecond ticks), and
    count axes have whole-number ticks only."""
    from groupops.analytics import analyze
    from tests.analytics.helpers import T0, days, msg

    events = [msg("ann", T0 + days(d), f"hello {d}") for d in (0, 1, 2, 3)]
    events += [msg("bob", T0 + days(d) + days(0.01), "hi") for d in (0, 2)]
    report, _m = write_report(
        analyze(events), tmp_path / "out", lang="zh_CN", catalogs=_catalogs(locale_dir)
    )
    seen = open_report(browser, report, tmp_path / "one-month.png", "zh-CN")
    assert seen["errors"] == [] and seen["drawn"] == seen["charts"]
    by_title = {c["title"]: c for c in seen["ticks"]}
    month = next(c for t, c in by_title.items() if t.startswith("每月"))
    assert month["x"] == ["2024年3月"], month  # one month, labelled as such
    assert month["points"] >= 1  # the single month is drawn as a point
    for chart in seen["ticks"]:
        assert not [t for t in chart["x"] if re.search(r"\d:\d\d|\.\d{3}", t)], chart
        if "活跃成员" in chart["title"]:  # messages and active members: counts
            assert all(re.fullmatch(r"\d+", t) for t in chart["y"]), chart  # no 0.5 message
    day = next(c for t, c in by_title.items() if t.startswith("每日"))
    assert day["x"][:2] == ["3月4日", "3月5日"], day  # one tick a day


def _catalogs(locale_dir: Path) -> Any:
    from groupops.i18n import Catalogs

    return Catalogs(locale_dir)
