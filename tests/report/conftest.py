"""Fixtures for the report: the CLI in a subprocess, catalogues with the fragments merged in,
and Debian's Chromium driven by pip playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from groupops.i18n import LOCALE_DIR
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


@pytest.fixture(scope="session")
def locale_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real catalogues with every ``zh_CN.po-fragment`` merged in and compiled, as the
    lead's merge will ship them."""
    root = tmp_path_factory.mktemp("locale")
    with (LOCALE_DIR / "zh_CN/LC_MESSAGES/groupops.po").open("rb") as f:
        catalogue = read_po(f, locale="zh_CN")
    for path in sorted((REPO / "src/groupops").glob("**/zh_CN.po-fragment")):
        with path.open("rb") as f:
            for message in read_po(f, locale="zh_CN"):
                if not message.id or not message.string:
                    continue
                known = catalogue.get(message.id)
                if known is None:
                    catalogue.add(message.id, message.string)
                elif not known.string:
                    known.string = message.string
    out = root / "zh_CN/LC_MESSAGES"
    out.mkdir(parents=True)
    with (out / "groupops.mo").open("wb") as f:
        write_mo(f, catalogue)
    shutil.copytree(LOCALE_DIR / "en", root / "en")
    return root


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
