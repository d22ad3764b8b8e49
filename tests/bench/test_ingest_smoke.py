"""bench/ingest.py --quick runs end to end and prints its figures (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES, REPO


@pytest.mark.slow  # the bench in a subprocess: about 5 s
@pytest.mark.skipif(ON_POSTGRES, reason="the bench measures SQLite by definition")
def test_ingest_quick_prints_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "ingest.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(scratch)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout
    for needle in (
        "batch pipeline",
        "events/s",
        "batch baseline",
        "rows/s",
        "ratio pipeline/base",
        "live input rate",
        "live latency median",
        "live latency p99",
    ):
        assert needle in lines, f"{needle!r} missing from:\n{lines}"
    figures = json.loads(out.read_text())
    batch, live = figures["batch"], figures["live"]
    assert batch["events"] == 3000
    assert batch["events_per_s"] > 0 and batch["baseline_rows_per_s"] > 0
    # the community really exercises the features, and nothing fails on the way
    assert batch["actions"] > 0
    assert batch["feature_errors"] == 0
    assert {"reply", "delete", "send"} <= set(batch["outbox_kinds"])
    assert live["actions_timed"] > 0
    assert live["dead"] == 0 and live["undelivered"] == 0
    # the temporary databases are gone
    assert not list(scratch.iterdir())
