"""An operator's first steps and day-to-day listings (QA platforms findings 9, 13, 16): the
default workspace's settings right after `db upgrade`, outbox and groups tables that keep what
an operator types or reads whole in 80 columns, and the Chinese and English they are told in."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import typer
from rich.cells import cell_len

from tests.cli import RUNNERS, run


def test_defaults_can_be_set_right_after_db_upgrade(cli: typer.Typer, tmp_path: Path) -> None:
    """The workspace every group joins exists for `settings` before the first connect, serve
    or import: an operator prepares the rules first, and the first group inherits them."""
    url = ("--database-url", f"sqlite:///{tmp_path}/db.sqlite")
    assert run(cli, "db", "upgrade", *url).exit_code == 0
    shown = run(cli, "settings", "show", "--own", *url)
    assert shown.exit_code == 0 and json.loads(shown.stdout) == {}, shown.output
    res = run(cli, "settings", "set", "welcome.rules", "No ads", *url)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("welcome.rules saved as the default of workspace 'default'.")
    own = run(cli, "settings", "show", "--own", *url)
    assert json.loads(own.stdout) == {"welcome": {"rules": "No ads"}}
    chat = tmp_path / "chat.txt"
    chat.write_text(RUNNERS, encoding="utf-8")
    assert run(cli, "import", str(chat), *url).exit_code == 0
    group = run(cli, "settings", "show", "--group", "1", *url)
    assert json.loads(group.stdout)["welcome"]["rules"] == "No ads"
    # only the default one is made on demand: another name is still a typo to refuse
    other = run(cli, "settings", "set", "welcome.rules", "x", "-w", "brandA", *url)
    assert other.exit_code == 2 and "no workspace 'brandA'" in other.stderr


def outbox_db(tmp_path: Path) -> str:
    """A database holding the QA's outbox: a Telegram group, a private message posted in the
    group instead, a mute the platform refused, its notice held back, and delivered actions."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from groupops.storage.db import open_database
    from groupops.storage.tables import groups, outbox, workspaces

    url = f"sqlite:///{tmp_path}/outbox.sqlite"
    db = open_database(url, create=True)
    now = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
    source, chat = "telegram:groupops_test_bot", "-1001234567890"
    with db.begin() as conn:
        ws = conn.execute(
            insert(workspaces)
            .values(slug="brandA", name="brandA", settings={}, created_at=now)
            .returning(workspaces.c.id)
        ).scalar_one()
        conn.execute(
            insert(groups).values(
                workspace_id=ws,
                source=source,
                chat_id=chat,
                title="学习群 Study group",
                created_at=now,
            )
        )

        def action(kind: str, status: str, error: str = "", **payload: str) -> None:
            conn.execute(
                insert(outbox).values(
                    created_at=now,
                    source=source,
                    chat_id=chat,
                    group_id=1,
                    kind=kind,
                    payload={"kind": kind, "source": source, "chat_id": chat, **payload},
                    status=status,
                    attempts=1,
                    next_attempt_at=now,
                    last_error=error,
                )
            )

        for n in range(1, 5):
            action("send", "delivered", text=f"delivered number {n}")
        action(
            "direct_message",
            "rerouted",
            "RecipientUnreachable: telegram:groupops_test_bot direct_message in -1001234567890:"
            " the member has not started a private chat with the bot; posted in the group instead",
            user_id="501",
            text="「学习群」群规：1. 不要发广告 2. 友善交流",
        )
        action(
            "mute",
            "dead",
            "PlatformError: telegram:groupops_test_bot mute in -1001234567890: refused: Not"
            " enough rights to restrict/unrestrict chat member",
            user_id="502",
        )
        action(
            "send",
            "dead",
            "not posted: it announces outbox 6 (mute), which failed",
            text="🔇 Bob 已被禁言 1 小时：禁止引导私下联系（加微信、私聊等）。",
        )
    db.dispose()
    return url


def terminal(monkeypatch: pytest.MonkeyPatch, width: int) -> io.StringIO:
    """The commands' tables go to a console this many cells wide, whatever COLUMNS says."""
    from rich.console import Console

    from groupops import cli_output

    printed = io.StringIO()
    monkeypatch.setattr(cli_output, "out", Console(file=printed, width=width))
    return printed


def body_lines(output: str) -> list[list[str]]:
    """The rows of a rich table as printed: each line between the heading rule and the bottom
    rule, split into its cells."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    end = next(i for i, line in enumerate(lines) if line.startswith("└"))
    return [
        [cell.strip() for cell in line.strip("│").split("│")] for line in lines[start + 1 : end]
    ]


def shown(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch, width: int, *args: str, lang: str = "en"
) -> str:
    """What a listing prints on a terminal ``width`` cells wide."""
    with monkeypatch.context() as patched:
        printed = terminal(patched, width)
        res = run(cli, *args, lang=lang)
        assert res.exit_code == 0, res.output
    output = printed.getvalue()
    assert max(cell_len(line) for line in output.splitlines()) <= width, output
    return output


def test_outbox_list_keeps_each_action_on_one_line_in_80_columns(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long last error is cut on its line (the full text is in --json), not wrapped word by
    word down 20 lines; the id to retry is whole."""
    url = ("--database-url", outbox_db(tmp_path))
    for status, ids in (("rerouted", ["5"]), ("dead", ["6", "7"])):
        for lang in ("en", "zh_CN"):
            output = shown(
                cli, monkeypatch, 80, "outbox", "list", "--status", status, *url, lang=lang
            )
            rows = body_lines(output)
            assert [row[0] for row in rows] == ids, output  # one line each, id whole
            assert all(row[-1].endswith("…") for row in rows), output  # the error, cut
    whole = json.loads(run(cli, "outbox", "list", "--json", *url).stdout)
    assert whole[0]["last_error"].endswith("restrict/unrestrict chat member")


def test_delivered_actions_are_listed_newest_first(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--limit 3` of what was delivered shows the latest three, not the first ever; dead
    letters stay oldest first, the order `outbox retry --all` sends them in."""
    url = ("--database-url", outbox_db(tmp_path))
    latest = run(cli, "outbox", "list", "--status", "delivered", "--limit", "3", "--json", *url)
    assert [r["id"] for r in json.loads(latest.stdout)] == [4, 3, 2]
    table = shown(
        cli, monkeypatch, 80, "outbox", "list", "--status", "delivered", "--limit", "3", *url
    )
    assert [row[0] for row in body_lines(table)] == ["4", "3", "2"]
    dead = run(cli, "outbox", "list", "--json", *url)
    assert [r["id"] for r in json.loads(dead.stdout)] == [6, 7]


def test_groups_never_cut_the_id_or_the_group_reference(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The id and source:chat_id are what an operator types: never cut with "…". In 80
    columns the columns holding one value on every row (time zone, workspace, language) give
    way first, said once under the table, so the reference and the title are whole; in 130
    columns everything is in the table."""
    url = ("--database-url", outbox_db(tmp_path))
    for lang in ("en", "zh_CN"):
        output = shown(cli, monkeypatch, 80, "groups", *url, lang=lang)
        lines = body_lines(output)  # one group: all its lines
        assert lines[0][0] == "1" and all(line[0] == "" for line in lines[1:])
        source, chat = ("".join(line[i] for line in lines) for i in (1, 2))
        assert (source, chat) == ("telegram:groupops_test_bot", "-1001234567890"), output
        assert "Asia/Shanghai" in output.splitlines()[-1], output
        assert "…" not in output, output
    first = body_lines(shown(cli, monkeypatch, 130, "groups", *url))[0]
    assert first[:4] == ["1", "brandA", "telegram:groupops_test_bot", "-1001234567890"]


def test_outbox_list_tells_kinds_and_groupops_errors_in_the_operators_words(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kind is a word (私信, not direct_message); groupops' own sentences in a last error
    are in the operator's language, the platform's own text as it is; without the class name
    and the connection the row shows already. --json keeps what is stored."""
    url = ("--database-url", outbox_db(tmp_path))
    wide = 200  # whole lines: what each cell says, not where it is cut
    rerouted = body_lines(
        shown(cli, monkeypatch, wide, "outbox", "list", "--status", "rerouted", *url, lang="zh_CN")
    )
    assert rerouted[0][3] == "私信"
    assert rerouted[0][-1] == "该成员没有和机器人开始过私聊；已改为发在群里"
    dead = body_lines(shown(cli, monkeypatch, wide, "outbox", "list", *url, lang="zh_CN"))
    assert [row[3] for row in dead] == ["禁言", "群消息"]
    assert dead[0][-1] == "被拒绝：Not enough rights to restrict/unrestrict chat member"
    assert dead[1][-1] == "未发出：它通告的动作 6（禁言）已失败"
    english = body_lines(shown(cli, monkeypatch, wide, "outbox", "list", *url))
    assert [row[3] for row in english] == ["mute", "group message"]
    assert english[0][-1] == "refused: Not enough rights to restrict/unrestrict chat member"
    assert english[1][-1] == "not posted: it announces outbox 6 (mute), which failed"
    stored = json.loads(run(cli, "outbox", "list", "--json", *url, lang="zh_CN").stdout)
    assert [r["kind"] for r in stored] == ["mute", "send"]
    assert stored[0]["last_error"].startswith("PlatformError: telegram:groupops_test_bot mute")


def test_outbox_retry_counts_in_words_and_asks_in_chinese(cli: typer.Typer, tmp_path: Path) -> None:
    url = ("--database-url", outbox_db(tmp_path))
    asked = run(cli, "outbox", "retry", *url, lang="zh_CN")
    assert asked.exit_code == 2 and "请给出要重试的动作编号，或用 --all" in asked.stderr
    assert "give" not in asked.stderr
    assert run(cli, "outbox", "retry", "6", *url).stdout.strip() == "1 action queued again"
    assert run(cli, "outbox", "retry", "--all", *url).stdout.strip() == "1 action queued again"
    assert run(cli, "outbox", "retry", "--all", *url).stdout.strip() == "0 actions queued again"


def test_one_chinese_term_for_a_decision_and_for_owner_tasks(
    cli: typer.Typer, tmp_path: Path
) -> None:
    """A moderation decision is 管理处理 in help and errors alike, an owner task 人工任务 in
    the listing and its errors; the log's step and actions in full-width parentheses."""
    from groupops.cli_output import log_line
    from groupops.i18n import Catalogs

    undo_help = run(cli, "undo", "--help", lang="zh_CN").stdout
    assert "管理处理" in undo_help and "管理决定" not in undo_help
    url = ("--database-url", outbox_db(tmp_path))
    assert run(cli, "undo", "99", *url, lang="zh_CN").stderr.count("管理处理") == 2
    empty = run(cli, "tasks", "list", *url, lang="zh_CN").stdout.strip()
    assert empty == "人工任务（待办）：暂无记录", empty
    assert "人工任务" in run(cli, "tasks", "done", "1", *url, lang="zh_CN").stderr
    row = {"step": "undo", "actions": ["unmute"], "created_at": "2026-11-24T05:00:00+00:00"}
    assert log_line(row, Catalogs().gettext("zh_CN"))["decision"] == "撤销（解除禁言）"
    assert log_line(row)["decision"] == "undo (unmute)"
