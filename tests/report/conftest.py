"""Fixtures for the report: the CLI in a subprocess, catalogues with the fragments merged in,
and Debian's Chromium driven by pip playwright."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, need_service

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def groupops_cli(*args: str | Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run the real ``groupops`` command line (what an operator types) in a subprocess."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
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


@pytest.fixture
def browser() -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        need_service("Chromium", f"{CHROMIUM} is missing: install Debian's chromium package")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
