"""`groupops demo` as an operator runs it: a real process, its own temporary database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from tests.cli import error_line, run
from tests.conftest import REPO

GROUPOPS = Path(sys.executable).parent / "groupops"
ENV = {**os.environ, "LANG": "C.UTF-8", "COLUMNS": "120"}


def demo(
    *args: str, cwd: Path = REPO, env: dict[str, str] = ENV
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GROUPOPS), "demo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow  # two whole simulated months: about 5 s
def test_json_is_one_object_of_totals_and_the_same_for_the_same_seed(tmp_path: Path) -> None:
    # an operator's database in the environment is not the demo's to touch
    operator_db = tmp_path / "var" / "groupops.db"
    env = {**ENV, "GROUPOPS_DATABASE_URL": f"sqlite:///{operator_db}"}
    args = ("--days", "0.5", "--members", "15", "--seed", "4", "--json")
    first = demo(*args, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    totals = json.loads(first.stdout)  # exactly one JSON document on stdout
    assert first.stdout.count("\n") == 1
    for key in (
        "events",
        "joins",
        "leaves",
        "messages",
        "checkins",
        "warnings",
        "mutes",
        "kicks",
        "actions_delivered",
    ):
        assert isinstance(totals[key], int), key
    assert totals["events"] > totals["messages"] > 0
    assert set(totals["groups"]) == {"course", "brand", "creators"}
    again = demo(*args)
    assert again.stdout == first.stdout  # byte for byte, on a fresh temporary database
    assert not operator_db.exists() and not (tmp_path / "var").exists()


def test_the_terminal_summary_names_each_group_and_the_totals(
    cli: typer.Typer, tmp_path: Path
) -> None:
    kept = tmp_path / "demo.db"
    args = ["demo", "--days", "0.5", "--members", "20", "--database-url", f"sqlite:///{kept}"]
    done = run(cli, *args, COLUMNS="200")
    assert done.exit_code == 0, done.output
    out = done.stdout
    for title in ("Python 入门训练营", "小鹿咖啡会员群", "摄影创作者交流群"):
        assert title in out
    assert "Totals" in out and "check-ins" in out and "wall time" in out
    assert str(kept) in out  # where the kept database is
    assert kept.exists()
    # a second run into the same database is refused with one clear line
    assert "already holds events" in error_line(run(cli, *args))


def test_bad_options_are_one_clear_line(cli: typer.Typer) -> None:
    for args, word in (
        (["--days", "0"], "--days"),
        (["--members", "2"], "--members"),
        (["--start", "next week"], "--start"),
    ):
        done = run(cli, "demo", *args, "--json")
        assert word in error_line(done), args
        assert done.stdout == ""
