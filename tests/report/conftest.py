"""Fixtures for the report: the CLI in a subprocess, catalogues with the fragments merged in,
and Debian's Chromium (the ``browser`` fixture of tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def groupops_cli(*args: str | Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run the real ``groupops`` command line (what an operator types) in a subprocess."""
    # in English whatever the worker's language: the terminal's (LC_ALL, LANG) as well as ours
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "LC_ALL": "C.UTF-8"}
    env.pop("GROUPOPS_LANG", None)
    return subprocess.run(
        [sys.executable, "-c", "from groupops.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
        check=False,
    )
