"""A Chinese operator's second round with the command line (QA findings 7, 8, 9, 12, 13):
the demo and serve speak GROUPOPS_LANG, settings mistakes are said in the operator's words
with the shape wanted, settings show tells a group's own values from the workspace's, dates
and titles read as Chinese, and refusals name the right form."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import typer

from tests.cli import run
from tests.conftest import REPO

GROUPOPS = Path(sys.executable).parent / "groupops"


# -- 7: demo and serve in the operator's language --------------------------------------------


def test_the_demo_summary_is_chinese_under_groupops_lang(cli: typer.Typer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    args = ("demo", "--days", "0.2", "--members", "12", "--database-url", url)
    done = run(cli, *args, lang="zh_CN", COLUMNS="200")
    assert done.exit_code == 0, done.output
    out = done.stdout
    assert out.startswith("groupops 演示：约 12 位模拟成员，3 个沙盒群"), out
    for said in ("模拟时间 ", "总计", "已存事件", "主动退群", "通过进群验证", "演示数据库保存在"):
        assert said in out, said
    for english in ("simulated people", "Simulated time", "Totals", "events stored", "wall time"):
        assert english not in out, english


def test_serve_says_where_the_web_chat_is_in_chinese(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "GROUPOPS_LANG": "zh_CN",
        "PYTHONUNBUFFERED": "1",
    }
    url = f"sqlite:///{tmp_path}/g.db"
    proc = subprocess.Popen(
        [str(GROUPOPS), "serve", "--port", "0", "--database-url", url],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "http://" in line:
                break
        said = "".join(lines)
        started = r"groupops：沙盒网页群聊地址 http://127\.0\.0\.1:\d+（按 Ctrl\+C 停止）"
        assert re.search(started, said), said
        assert "sandbox web chat" not in said
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
