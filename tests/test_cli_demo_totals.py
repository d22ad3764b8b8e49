"""The demo's totals table has no empty heading row (two blank cells over the names and the
numbers): each row's name says what it counts."""

from __future__ import annotations

import io

from rich.console import Console

from groupops.i18n import Catalogs
from groupops.simulator.commands import _totals_table


def test_the_totals_have_no_blank_heading_row() -> None:
    page = io.StringIO()
    Console(file=page, width=80).print(
        _totals_table(Catalogs().gettext("en"), {"events": 12050, "joins": 378})
    )
    lines = page.getvalue().splitlines()
    assert lines[0].strip() == "Totals"
    assert not any(line.strip("┃ ") == "" for line in lines[1:]), page.getvalue()
    assert "events stored" in page.getvalue() and "12050" in page.getvalue()
