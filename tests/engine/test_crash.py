"""SIGKILL the bot mid-batch, restart it: no event lost, none processed twice, every action
reaches the sandbox exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from groupops.platforms.sandbox.tables import sandbox_deliveries, sandbox_messages
from groupops.storage.db import make_engine
from groupops.storage.tables import events, outbox
from tests.conftest import REPO

N, BATCH = 1200, 20


def start(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.crash_worker", url, str(N), str(BATCH)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow  # a worker process killed mid-batch and started again: about 15 s
def test_sigkill_mid_batch_loses_nothing_and_duplicates_nothing(database_url: str) -> None:
    kills = 0
    for kill_after in (3, 17, 29, 41):  # batches seen before the kill, each run re-feeds all
        proc = start(database_url)
        assert proc.stdout is not None
        seen = 0
        for line in proc.stdout:
            if line.startswith("batch"):
                seen += 1
            if seen >= kill_after:
                proc.send_signal(signal.SIGKILL)  # no clean-up of any kind
                kills += 1
                break
        proc.wait(timeout=60)
    proc = start(database_url)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and out.rstrip().endswith("DONE")
    assert kills == 4

    db = make_engine(database_url)
    with db.connect() as conn:

        def scalar(q: object) -> int:
            return int(conn.execute(q).scalar_one())  # type: ignore[call-overload]

        assert scalar(select(func.count()).select_from(events)) == N  # none lost
        # one action per event: a welcome per join, an echo per message - never two
        assert scalar(select(func.count()).select_from(outbox)) == N
        assert scalar(select(func.count(func.distinct(outbox.c.cause_seq)))) == N
        assert (
            scalar(select(func.count()).select_from(outbox).where(outbox.c.status != "delivered"))
            == 0
        )
        # the sandbox saw each action exactly once
        assert scalar(select(func.count()).select_from(sandbox_deliveries)) == N
        bot_lines = scalar(
            select(func.count())
            .select_from(sandbox_messages)
            .where(sandbox_messages.c.user_id == "bot")
        )
        assert bot_lines == N
    db.dispose()
    assert Path(REPO).is_dir()
