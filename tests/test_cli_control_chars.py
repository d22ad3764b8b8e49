"""What members typed reaches the operator's terminal as text, never as terminal commands: a
name holding an escape sequence (set the window title, clear the screen, recolour) is shown
with visible signs (QA security)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from groupops.cli_output import literal
from tests.cli import run

#: an OSC title change ended by BEL, a clear-screen CSI, and the one-byte C1 CSI
EVIL = "Eve\x1b]0;pwned\x07\x1b[2J\x9b31m"


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_an_escape_sequence_in_a_name_is_shown_not_obeyed(
    cli: typer.Typer, tmp_path: Path, lang: str
) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_text(f"24/11/2026, 10:00 - {EVIL}: hello\n24/11/2026, 10:01 - Bob: hi\n")
    url = f"sqlite:///{tmp_path}/db.sqlite"
    assert run(cli, "import", str(chat), "--database-url", url).exit_code == 0
    res = run(cli, "members", "--database-url", url, lang=lang)
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "\x07" not in res.output and "\x9b" not in res.output
    assert "Eve␛]0;pwned␇␛[2J�" in res.output  # (its '31m' wraps to the next line)


def test_literal_keeps_tabs_line_feeds_and_markup_as_written() -> None:
    assert literal("a\tb\nc [bold]x") == "a\tb\nc \\[bold]x"
    assert literal("\x00\x1f\x7f") == "␀␟␡"
