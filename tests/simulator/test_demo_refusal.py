"""A used database refused by `groupops demo` is answered with another file name to give, not
the very one refused (QA docs #10)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from groupops.simulator.demo import another_database, refuse_used, run_demo
from groupops.simulator.world import DemoError, DemoOptions


def test_the_refusal_suggests_a_file_that_is_not_the_refused_one(tmp_path: Path) -> None:
    used = tmp_path / "demo.db"
    url = f"sqlite:///{used}"
    asyncio.run(run_demo(DemoOptions(days=0.2, members=10), database_url=url))
    (tmp_path / "demo-2.db").touch()  # taken as well: the next number is suggested
    with pytest.raises(DemoError) as refused:
        refuse_used(url)
    said = refused.value.message
    assert f"--database-url sqlite:///{tmp_path / 'demo-3.db'}" in said, said
    assert f"sqlite:///{used}" not in said


def test_a_postgresql_url_gets_another_database_name_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the relative file is looked for here
    suggested = another_database("postgresql+psycopg://ops:secret@db.example/groupops")
    assert suggested == "postgresql+psycopg://ops:***@db.example/groupops_2"
    assert another_database("sqlite:///var/demo.db") == "sqlite:///var/demo-2.db"
