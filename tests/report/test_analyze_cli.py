"""``groupops analyze`` on real exports from ../shared/data, as an operator runs it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from groupops.domain.events import EventKind
from groupops.importers import read
from tests.report.conftest import groupops_cli

# nearly every test runs the real command in a subprocess on a real export: 4 to 10 s each
pytestmark = pytest.mark.slow

AREAS = {
    "activity",
    "lifecycle",
    "segments",
    "qa",
    "content",
    "spam",
    "sentiment",
    "keywords",
    "growth",
}


def imported_messages(*paths: Path) -> tuple[int, set[str]]:
    """What the importers themselves read: message count and authors."""
    n = 0
    authors: set[str] = set()
    for path in paths:
        for e in read(path):
            if e.kind is EventKind.MESSAGE:
                n += 1
                authors.add(e.user_id)
    return n, authors


def message_total(metrics: dict[str, Any]) -> int:
    """The messages the report counted: from the overview, else the sum of the daily series."""
    for key in ("overview", "summary", "totals"):
        if isinstance(metrics.get(key), dict) and "messages" in metrics[key]:
            return int(metrics[key]["messages"])
    raise AssertionError(f"no message total in {sorted(metrics)}")


def test_analyze_a_telegram_export(shared_data: Path, tmp_path: Path) -> None:
    export = shared_data / "telegram/BIG_20A_5475M.json"
    out = tmp_path / "report"
    run = groupops_cli("analyze", export, "--out", out)
    assert run.returncode == 0, run.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics) >= AREAS, sorted(metrics)
    messages, authors = imported_messages(export)
    assert message_total(metrics) == messages
    assert f"{messages:,}" in html  # the page says the same
    assert "<h1>Group health report</h1>" in html
    # the summary on the terminal: the stage, the counts, where the files are
    assert f"{messages:,}" in run.stdout
    assert str(out / "report.html") in run.stdout.replace("\n", "")
    assert len(authors) == 20


def test_several_files_are_one_history_and_chinese_headings(
    shared_data: Path, tmp_path: Path, locale_dir: Path
) -> None:
    files = [shared_data / "whatsapp/4A_11M.txt", shared_data / "whatsapp/2A_5M.txt"]
    out = tmp_path / "zh"
    run = groupops_cli(
        "analyze", *files, "--out", out, "--lang", "zh_CN", "--locale-dir", locale_dir
    )
    assert run.returncode == 0, run.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    assert "<h1>社群健康报告</h1>" in html and ">活跃度</h2>" in html
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert message_total(metrics) == imported_messages(*files)[0]
    assert "群健康度" in run.stdout


def test_names_made_of_html_are_escaped_end_to_end(tmp_path: Path) -> None:
    chat = tmp_path / "evil.txt"
    chat.write_text(
        "01/03/2024, 10:00 - <script>alert(1)</script>: hello, anyone here?\n"
        "01/03/2024, 10:01 - <img src=x onerror=alert(2)>: yes <b>me</b>\n"
        "02/03/2024, 11:00 - <script>alert(1)</script>: thanks\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    run = groupops_cli("analyze", chat, "--out", out)
    assert run.returncode == 0, run.stderr
    import plotly.offline

    html = (out / "report.html").read_text(encoding="utf-8")
    html = html.replace(plotly.offline.get_plotlyjs(), "")
    assert "<script>alert" not in html and "<img" not in html and "<b>me" not in html


def test_unknown_file_exits_2_and_writes_nothing(shared_data: Path, tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("just some notes\nnothing like a chat\n", encoding="utf-8")
    out = tmp_path / "out"
    run = groupops_cli("analyze", shared_data / "whatsapp/4A_11M.txt", bad, "--out", out)
    assert run.returncode == 2
    assert not out.exists()
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "notes.txt" in lines[0] and "import_unknown_format" in lines[0]
    assert "Traceback" not in run.stderr


def test_file_broken_half_way_exits_2_and_keeps_the_old_report(
    shared_data: Path, tmp_path: Path
) -> None:
    source = (shared_data / "telegram/BIG_20A_5475M.json").read_bytes()
    broken = tmp_path / "broken.json"
    broken.write_bytes(source[: len(source) * 2 // 3])  # cut off in the middle of a message
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("yesterday's report")
    run = groupops_cli("analyze", broken, "--out", out)
    assert run.returncode == 2, run.stdout
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "broken.json" in lines[0], run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]
    assert (out / "report.html").read_text() == "yesterday's report"


def test_missing_file_exits_2(tmp_path: Path) -> None:
    run = groupops_cli("analyze", tmp_path / "nope.txt", "--out", tmp_path / "out")
    assert run.returncode == 2
    assert "nope.txt" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["file", "under_file", "proc"])
def test_out_that_cannot_hold_the_report_exits_2_in_one_line(
    shared_data: Path, tmp_path: Path, where: str
) -> None:
    taken = tmp_path / "taken.txt"
    taken.write_text("not a folder")
    if where == "proc" and not Path("/proc/self").is_dir():
        pytest.skip("needs Linux /proc")
    out = {"file": taken, "under_file": taken / "report", "proc": Path("/proc/groupops-out")}[where]
    run = groupops_cli("analyze", shared_data / "whatsapp/4A_11M.txt", "--out", out)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(out) in lines[0], run.stderr
    assert "output_not_writable" in lines[0]
    assert taken.read_text() == "not a folder"


def test_out_unwritable_only_when_writing_is_a_typed_error(tmp_path: Path) -> None:
    from groupops.report import OutputNotWritable, write_report

    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        if os.access(out, os.W_OK):  # root: make writing fail another way
            out.chmod(0o700)
            (out / "metrics.json").mkdir()
            (out / "metrics.json" / "x").write_text("")  # a non-empty folder cannot be replaced
        with pytest.raises(OutputNotWritable) as caught:
            write_report({"overview": {"messages": 0}}, out)
        assert caught.value.path == out
        assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no scratch left
    finally:
        out.chmod(0o700)


def test_slack_integration_bots_are_no_members(shared_data: Path, tmp_path: Path) -> None:
    """testarchive.zip (two channels, analysed one at a time with --chat): 94 GitHub
    integration posts by three bot ids; the four people in users.json are the members, the
    top 3 and the leaders; the two channels' messages are all the export's."""
    people = {"Hamza Faran", "Hermione Granger", "Harry Potter", "heroeshannibal"}
    total = 0
    for channel in ("enrique", "traveling-sailor"):
        out = tmp_path / channel
        run = groupops_cli(
            "analyze", shared_data / "slack/testarchive.zip", "--chat", channel, "--out", out
        )
        assert run.returncode == 0, run.stderr
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        assert 0 < metrics["overview"]["members"] <= 4
        total += message_total(metrics)
        for top in metrics["top3"].values():
            assert {t["name"] for t in top} <= people
        assert {x["name"] for x in metrics["graph"]["opinion_leaders"]} <= people
        assert "B0JL6RASU" not in run.stdout and "github" not in run.stdout
    assert total == imported_messages(shared_data / "slack/testarchive.zip")[0]


def test_a_group_the_bot_runs_is_analysed_from_the_database(
    make_app: Any, database_url: str, tmp_path: Path
) -> None:
    """``analyze --group``: the same analytics on a live group's stored events, its report and
    summary; an unknown group, or files and --group together, are one refusal each."""
    from tests.analytics.helpers import T0, days, joined, msg

    app = make_app(features=())
    history = [joined("alice", T0), joined("bob", T0), joined("carol", T0 + days(1))]
    history += [msg("alice", T0 + days(k), "how does check-in work?") for k in range(5)]
    history += [msg("bob", T0 + days(k) + days(0.001), "alice: type 签到") for k in range(5)]
    app.handle(history)
    app.close()
    out = tmp_path / "live"
    run = groupops_cli("analyze", "--group", "1", "--database-url", database_url, "--out", out)
    assert run.returncode == 0, run.stderr
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert message_total(metrics) == 10
    assert metrics["overview"]["members"] == 3
    from sqlalchemy import select

    from groupops.storage.db import open_database
    from groupops.storage.tables import groups

    with open_database(database_url).connect() as conn:
        zone = conn.execute(select(groups.c.timezone).where(groups.c.id == 1)).scalar_one()
    assert metrics["overview"]["time_zone"] == zone  # the group's days, not UTC's
    assert (out / "report.html").exists() and "Group health" in run.stdout
    # as of now (the present): the group has been silent since its last message
    assert metrics["overview"]["now"] > metrics["overview"]["last"]
    missing = groupops_cli("analyze", "-g", "99", "--database-url", database_url, "--out", out)
    assert missing.returncode == 2 and "no group '99'" in missing.stderr
    both = groupops_cli("analyze", "x.txt", "-g", "1", "--database-url", database_url)
    assert both.returncode == 2 and "not both" in both.stderr
