"""Bad input on the command line: one typed line on stderr, exit code 2, never a traceback,
nothing half-written; user data printed as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from tests.cli import RUNNERS, error_line, run


def one_clear_line(res: Result, *words: str) -> None:
    line = error_line(res)
    for word in words:
        assert word in line, (word, line)


BAD_URLS = [
    ("foo://bar", "unknown kind of database 'foo'"),
    ("notaurl", "'notaurl' is not a database URL"),
    ("postgresql://nobody:s3cret@127.0.0.1:1/x", "cannot open postgresql://nobody:***@"),
    ("sqlite:////proc/groupops-qa/x.db", "cannot open sqlite:////proc/groupops-qa/x.db"),
]


@pytest.mark.parametrize(("url", "says"), BAD_URLS)
@pytest.mark.parametrize(
    "command",
    [["groups"], ["db", "upgrade"], ["moderation", "log"], ["import", "x.txt"], ["demo"]],
)
def test_a_bad_database_url_is_one_line_naming_it(
    cli: typer.Typer, command: list[str], url: str, says: str
) -> None:
    if command in (["groups"], ["moderation", "log"]) and url.startswith("sqlite:"):
        says = "no database file /proc/groupops-qa/x.db"
    res = run(cli, *command, "--database-url", url)
    one_clear_line(res, "database_unavailable", says)
    assert "s3cret" not in res.output


def test_a_mistyped_sqlite_path_is_refused_by_reading_commands(
    cli: typer.Typer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/typo/never.db"
    for command in (["groups"], ["members"], ["moderation", "log"], ["outbox", "list"]):
        one_clear_line(run(cli, *command, "--database-url", url), "no database file", "db upgrade")
    assert not (tmp_path / "typo").exists()
    res = run(cli, "db", "upgrade", "--database-url", url)
    assert res.exit_code == 0, res.output
    assert run(cli, "groups", "--database-url", url).exit_code == 0


@pytest.mark.parametrize("where", ["a folder", "under a file"])
def test_an_unwritable_events_out_is_refused_before_anything_is_imported(
    cli: typer.Typer, tmp_path: Path, where: str
) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_text(RUNNERS, encoding="utf-8")
    target = tmp_path / "out"
    if where == "a folder":
        target.mkdir()
    else:
        target.write_text("not a folder", encoding="utf-8")
        target = target / "events.jsonl"
    url = f"sqlite:///{tmp_path}/db.sqlite"
    res = run(cli, "import", str(chat), "--events-out", str(target), "--database-url", url)
    one_clear_line(res, "--events-out", str(target))
    assert not (tmp_path / "db.sqlite").exists()  # nothing stored, no database made
    res = run(cli, "import", str(chat), "--database-url", url)
    assert res.exit_code == 0 and "2 new events stored" in res.stdout, res.output


def test_demo_refuses_a_used_database_before_printing_anything(
    cli: typer.Typer, tmp_path: Path
) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_text(RUNNERS, encoding="utf-8")
    url = f"sqlite:///{tmp_path}/used.db"
    assert run(cli, "import", str(chat), "--database-url", url).exit_code == 0
    res = run(cli, "demo", "--days", "3", "--database-url", url)
    one_clear_line(res, "already holds events")
    assert res.stdout == ""


def squeezed(text: str) -> str:
    """Table text without spaces or line breaks: a narrow terminal wraps cells."""
    return "".join(line.strip() for line in text.replace(" ", "").splitlines())


def test_user_data_in_brackets_is_printed_as_written(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import groupops.cli_output
    import groupops.importers.commands

    for console in (groupops.cli_output.out, groupops.importers.commands.out):
        monkeypatch.setattr(console, "width", 200)  # wide enough for whole cells
    chat = tmp_path / "chat [v2].txt"
    chat.write_text(
        "1/5/23, 10:01 - Ann added [bold]Eve[/bold]\n1/5/23, 10:03 - [bold]Eve[/bold]: hi\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path}/db.sqlite"
    res = CliRunner().invoke(
        cli, ["import", str(chat), "--database-url", url], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 0, res.output
    assert "chat[v2].txt" in squeezed(res.stdout)
    res = CliRunner().invoke(cli, ["members", "--database-url", url], env={"COLUMNS": "200"})
    assert "[bold]Eve[/bold]" in squeezed(res.stdout), res.stdout
    groups = CliRunner().invoke(cli, ["groups", "--database-url", url], env={"COLUMNS": "200"})
    assert "│chat[v2]│" in squeezed(groups.stdout).replace("\n", ""), groups.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["outbox", "list", "--status", "bogus"], "'dead', 'rerouted'"),
        (["tasks", "list", "--status", "bogus"], "'open', 'done', 'dismissed'"),
        (["members", "--limit", "-1"], "--limit"),
        (["moderation", "log", "--limit", "0"], "--limit"),
        (["leaderboard", "-g", "1", "--limit", "-5"], "--limit"),
        (["import", "x.txt", "--lang", "fr"], "en or zh_CN"),
        (["connections", "--lang", "fr"], "en or zh_CN"),
    ],
)
def test_bad_choices_are_refused_naming_the_valid_ones(
    cli: typer.Typer, imported: str, args: list[str], says: str
) -> None:
    res = CliRunner().invoke(cli, [*args, "--database-url", imported], env={"COLUMNS": "200"})
    assert res.exit_code == 2, res.output
    assert says in res.output and "Traceback" not in res.output
    assert "┏" not in res.output  # no empty table before the refusal


def test_settings_refuse_nothing_to_change_and_an_unknown_workspace(
    cli: typer.Typer, imported: str
) -> None:
    res = run(cli, "settings", "profile", "--group", "1", "--database-url", imported)
    one_clear_line(res, "nothing to change", "--timezone")
    res = run(
        cli, "settings", "set", "welcome.rules", "hi", "-w", "nope", "-g", "1",
        "--database-url", imported,
    )  # fmt: skip
    one_clear_line(res, "not_found", "no workspace 'nope'")
    shown = run(cli, "settings", "show", "-g", "1", "--database-url", imported)
    assert '"rules": "hi"' not in shown.stdout
    res = run(
        cli, "settings", "set", "welcome.rules", "hi", "-w", "default", "-g", "1",
        "--database-url", imported,
    )  # fmt: skip
    assert res.exit_code == 0, res.output


def test_operator_output_is_sentences_and_the_columns_they_need(
    cli: typer.Typer, imported: str
) -> None:
    from groupops.cli_output import LOG_COLUMNS, log_line, undo_sentence

    res = run(cli, "forget", "1", "--yes", "--database-url", imported)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("member 1 forgotten: ") and "{" not in res.stdout
    row = {
        "id": 6, "created_at": "2026-11-01T20:44:00+00:00", "workspace_id": 1, "group_id": 3,
        "group": "Runners", "source": "sandbox", "chat_id": "runners", "member_id": 19,
        "member": "Linh", "user_id": "u19", "rule": "newcomer_link", "evidence": "x" * 300,
        "step": "warn", "step_index": 2, "actions": ["delete", "send"], "message_id": "385",
        "by": "auto", "parent_id": None, "undo_of": None,
        "undone_at": "2026-11-02T08:00:00+00:00", "undone_by": "operator",
    }  # fmt: skip
    line = log_line(row)
    assert tuple(line) == LOG_COLUMNS
    assert line["time (UTC)"] == "2026-11-01 20:44" and line["decision"] == "warn (delete, send)"
    assert len(line["evidence"]) == 40 and line["undone"] == "2026-11-02 08:00 by an operator"
    said = undo_sentence(
        {"decision_id": 211, "undo_id": 212, "undone": [211], "outbox_ids": [5, 6],
         "owner_task_ids": [], "blacklist_removed": True, "note": "removed messages stay gone"}
    )  # fmt: skip
    assert said == (
        "decision 211 undone (logged as decision 212); 2 actions queued to revert it;"
        " blacklist entry lifted. Removed messages stay gone."
    )
    res = run(cli, "moderation", "--help")
    assert "groupops undo" in res.stdout


def test_a_short_telegram_token_is_refused_saying_what_a_token_is(
    cli: typer.Typer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    res = run(cli, "connect", "telegram", "--token", "123:abc", "--database-url", url)
    one_clear_line(res, "a colon, then 20 to 100 letters, digits, _ or -")
    assert "123:abc" not in res.output  # a secret, even when malformed


def test_listings_speak_the_operators_language(
    cli: typer.Typer, imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--lang zh_CN (or GROUPOPS_LANG) titles and heads the tables in Chinese; --json keeps
    the keys."""
    import groupops.cli_output

    monkeypatch.setattr(groupops.cli_output.out, "width", 200)
    zh = run(cli, "groups", "--database-url", imported, "--lang", "zh_CN")
    assert zh.exit_code == 0, zh.output
    assert "群列表" in zh.stdout and "时区" in zh.stdout and "timezone" not in zh.stdout
    members = CliRunner().invoke(
        cli, ["members", "--database-url", imported], env={"GROUPOPS_LANG": "zh_CN"}
    )
    assert "状态" in members.stdout and "joined_at" not in members.stdout
    en = run(cli, "groups", "--database-url", imported)
    assert "time zone" in en.stdout and "群列表" not in en.stdout
    as_json = run(cli, "groups", "--database-url", imported, "--lang", "zh_CN", "--json")
    assert '"timezone"' in as_json.stdout


def test_errors_speak_the_operators_language(cli: typer.Typer, imported: str) -> None:
    """A typed error is one line in the command's --lang, or GROUPOPS_LANG for commands
    without one; the code stays as it is, the values (a group, a workspace) as written."""
    zh = run(
        cli, "members", "--group", "sandbox:nope", "--database-url", imported, "--lang", "zh_CN"
    )
    one_clear_line(zh, "错误", "[not_found]", "群：没有群 'sandbox:nope'")
    res = CliRunner().invoke(
        cli,
        ["settings", "set", "welcome.rules", "hi", "-w", "nope", "-g", "1", "--database-url",
         imported],
        env={"COLUMNS": "80", "GROUPOPS_LANG": "zh_CN"},
    )  # fmt: skip
    one_clear_line(res, "错误", "[not_found]", "没有工作区 'nope'")
    en = run(cli, "members", "--group", "sandbox:nope", "--database-url", imported)
    one_clear_line(en, "error", "[not_found] group: no group 'sandbox:nope'")
    assert "没有" not in en.stderr
