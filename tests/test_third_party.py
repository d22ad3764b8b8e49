"""Licences at run time: none GPL or AGPL, and THIRD_PARTY.md lists what is really installed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "third_party.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("third_party", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["third_party"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_runtime_tree_has_no_gpl_and_the_list_is_current() -> None:
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_tree_follows_the_extras_asked_for() -> None:
    names = {d.name for d in _script().runtime_tree()}
    assert {"psycopg", "psycopg-binary", "python-telegram-bot", "jieba"} <= names
    assert "pytest" not in names and "whatstk" not in names  # test and bench tools are not shipped


@pytest.mark.parametrize(
    ("licence", "strong"),
    [
        ("AGPL-3.0-only", True),
        ("GPL-2.0-or-later", True),
        ("GNU General Public License v3 (GPLv3)", True),
        ("GNU Affero General Public License v3", True),
        ("LGPL-3.0-only", False),
        ("GNU Lesser General Public License v3 (LGPLv3)", False),
        ("MPL-2.0", False),
        ("MIT", False),
    ],
)
def test_gpl_and_agpl_are_told_from_lgpl(licence: str, strong: bool) -> None:
    third_party = _script()
    found = third_party.strong_copyleft([third_party.Dist("x", "1", licence)])
    assert bool(found) is strong
