"""The bot as a real process the scenario can SIGKILL: `groupops serve` (Telegram, Matrix) or the
sandbox worker. Its output goes to a log file the test shows when something goes wrong."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.conftest import REPO
from tests.helpers import wait_until

GROUPOPS = Path(sys.executable).parent / "groupops"


#: how long the scenario waits for a real process to do something (seconds)
WAIT = 30.0


class BotProcess:
    """One bot process at a time; ``start`` waits until it says it is ready."""

    def __init__(self, argv: Sequence[str], log: Path, ready: str) -> None:
        self.argv = list(argv)
        self.log = log
        self.ready = re.compile(ready)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        #: called right after each SIGKILL (a driver notes where the platform stood)
        self.on_kill: list[Callable[[], None]] = []

    def start(self, timeout: float = 60.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "the bot is already running"
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8"}
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as out:
            out.write(f"\n===== start {self.starts + 1}: {' '.join(self.argv[:3])}\n".encode())
            self.proc = subprocess.Popen(
                self.argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the bot exited with {self.proc.returncode}:\n{self.output()}"
                )
            text = self.log.read_bytes()[offset:].decode(errors="replace")
            return bool(self.ready.search(text))

        wait_until(ready, timeout, what="the bot to start")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or an OOM kill."""
        assert self.proc is not None and self.proc.poll() is None, "the bot is not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.kills += 1
        for hook in self.on_kill:
            hook()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""


def serve_argv(database_url: str) -> list[str]:
    """`groupops serve` as an operator runs it, on a free port."""
    return [str(GROUPOPS), "serve", "--port", "0", "--database-url", database_url]


SERVE_READY = r"sandbox web chat is at http://"
