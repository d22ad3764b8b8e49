"""Values starting with "-" (a negative number, a rules list "- No ads") are values, not
options: they reach the setting's own check or are stored; a mistyped option is still refused
as one, naming it."""

from __future__ import annotations

import json

import pytest
import typer

from tests.cli import error_line, run


def shown(cli: typer.Typer, url: str) -> dict[str, dict[str, object]]:
    res = run(cli, "settings", "show", "-g", "1", "--database-url", url)
    assert res.exit_code == 0, res.output
    settings: dict[str, dict[str, object]] = json.loads(res.stdout)
    return settings


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_negative_number_reaches_the_settings_check(
    cli: typer.Typer, imported: str, where: str
) -> None:
    args = ["welcome.intro_min_chars", "-5"]
    group = ["--group", "1"]
    line = error_line(
        run(cli, "settings", "set", *(group + args if where == "before" else args + group),
            "--database-url", imported)
    )  # fmt: skip
    assert line == "error [invalid_settings] group 1 welcome.intro_min_chars: from 1 to 2000", line


@pytest.mark.parametrize("rules", ["- No ads", "-不要发广告", "-1", "--> be kind", "-"])
def test_text_starting_with_a_dash_is_stored(cli: typer.Typer, imported: str, rules: str) -> None:
    res = run(cli, "settings", "set", "welcome.rules", rules, "-g", "1", "--database-url", imported)
    assert res.exit_code == 0, res.output
    assert shown(cli, imported)["welcome"]["rules"] == rules


def test_a_text_starting_with_dash_and_a_letter_takes_double_dash(
    cli: typer.Typer, imported: str
) -> None:
    """ "-No ads" is shaped like an option: refused as one, and stored after ``--``."""
    res = run(cli, "settings", "set", "welcome.rules", "-No ads", "-g", "1",
              "--database-url", imported)  # fmt: skip
    assert res.exit_code == 2 and "No such option: -N" in res.output, res.output
    res = run(cli, "settings", "set", "-g", "1", "--database-url", imported,
              "--", "welcome.rules", "-No ads")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert shown(cli, imported)["welcome"]["rules"] == "-No ads"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["settings", "set", "welcome.rules", "x", "--grup", "1"], "No such option: --grup"),
        (["settings", "set", "welcome.rules", "x", "-x"], "No such option: -x"),
        (["undo", "1", "--bye", "me"], "No such option: --bye"),
        (["forget", "1", "--yse"], "No such option: --yse"),
    ],
)
def test_a_mistyped_option_is_still_refused_naming_it(
    cli: typer.Typer, imported: str, args: list[str], says: str
) -> None:
    res = run(cli, *args, "--database-url", imported)
    assert res.exit_code == 2 and says in res.output, res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["undo", "-1"], "error [not_found] moderation undo: no moderation decision #-1"),
        (["forget", "-1", "--yes"], "error [not_found] member: no member -1"),
        (["tasks", "done", "-1"], "error [not_found] owner task: no open owner task -1"),
        (["outbox", "retry", "-1"], "error [not_found] outbox: no dead action with id -1"),
    ],
)
def test_a_negative_id_is_a_typed_error(
    cli: typer.Typer, imported: str, args: list[str], line: str
) -> None:
    assert error_line(run(cli, *args, "--database-url", imported)) == line
