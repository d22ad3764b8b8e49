"""`groupops serve` as an operator runs it: a real process that prints its address, serves the
web chat with the demo groups, answers live, and stops cleanly on Ctrl+C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import REPO
from tests.helpers import wait_until

GROUPOPS = Path(sys.executable).parent / "groupops"
# English whatever the worker's locale: the tests read serve's own words
ENGLISH = {**os.environ, "GROUPOPS_LANG": "en", "LC_ALL": "C.UTF-8"}


def answers(url: str) -> bool:
    """The web chat at ``url`` serves its groups."""
    try:
        return httpx.get(url + "/api/groups", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def serving(database_url: str, *extra: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    env = {**ENGLISH, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(GROUPOPS), "serve", "--port", "0", "--database-url", database_url, *extra],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found:
                url = found.group(0)
        assert url is not None, "".join(lines)
        # the port is bound before the message; the App starts right after it
        wait_until(lambda: answers(url), timeout=60, what=f"{url} to answer")
        proc.lines = lines  # type: ignore[attr-defined]
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_serve_runs_the_web_chat_live_and_stops_on_ctrl_c(database_url: str) -> None:
    with serving(database_url) as (url, proc):
        groups = httpx.get(url + "/api/groups").json()["groups"]
        assert [g["title"] for g in groups] == [
            "Python 入门训练营",
            "小鹿咖啡会员群",
            "摄影创作者交流群",
        ]
        with httpx.Client(base_url=url) as browser:
            page = browser.get("/")
            assert page.status_code == 200 and "groupops" in page.text
            token = browser.cookies["csrftoken"]
            joined = browser.post(
                "/api/groups/brand/join", json={"name": "Ana"}, headers={"X-CSRFToken": token}
            )
            assert joined.status_code == 200, joined.text
            lines: list[dict[str, object]] = []

            def answered() -> bool:
                lines[:] = browser.get("/api/groups/brand/messages").json()["messages"]
                return any(m["bot"] for m in lines)

            wait_until(answered, timeout=30, what="the bot to answer Ana")
        welcome = [m for m in lines if m["bot"]]
        assert welcome and "Ana" in str(welcome[0]["text"])  # the live engine answered
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    output = "".join(proc.lines)  # type: ignore[attr-defined]
    assert "Traceback" not in output


def test_serve_keeps_existing_groups_and_says_whether_the_demo_runs(database_url: str) -> None:
    with serving(database_url, "--demo") as (url, proc):
        first = httpx.get(url + "/api/groups").json()["groups"]
    output = "".join(proc.lines)  # type: ignore[attr-defined]
    assert "simulated members are chatting" in output
    assert "sandbox web chat is at http://127.0.0.1:" in output
    # a second start finds the groups there and does not add them again
    with serving(database_url) as (url, proc):
        again = httpx.get(url + "/api/groups").json()["groups"]
    assert [g["chat_id"] for g in again] == [g["chat_id"] for g in first]
    assert proc.returncode == 0


def test_serve_refuses_a_busy_port_with_one_clear_line(database_url: str) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = subprocess.run(
            [str(GROUPOPS), "serve", "--port", str(port), "--database-url", database_url],
            cwd=REPO,
            env=ENGLISH,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"127.0.0.1:{port}" in done.stderr and "in use" in done.stderr
