"""What the core commands say when they succeed, in the command's language (GROUPOPS_LANG),
and in English exactly as before; the refusals of `settings set/profile` and `serve` that
were English after a Chinese prefix."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import insert

from groupops.domain.errors import GroupopsError
from groupops.i18n import Catalogs
from tests.cli import error_line, run

ZH = Catalogs().gettext("zh_CN")


def test_db_upgrade_says_the_revision_in_chinese(cli: typer.Typer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    zh = run(cli, "db", "upgrade", "--database-url", url, lang="zh_CN")
    assert zh.exit_code == 0, zh.output
    assert zh.stdout.startswith("数据库已在版本 "), zh.stdout
    en = run(cli, "db", "upgrade", "--database-url", url)
    assert en.stdout.startswith("database at revision "), en.stdout
    assert en.stdout.split()[-1] == zh.stdout.split()[-1]


def test_forget_asks_and_answers_in_chinese(cli: typer.Typer, imported: str) -> None:
    url = ("--database-url", imported)
    asked = run(cli, "forget", "1", *url, lang="zh_CN", input="n\n")
    assert "在所有地方忘记成员 1（Bob）？" in asked.stdout and "Forget" not in asked.stdout
    assert asked.exit_code != 0
    zh = run(cli, "forget", "1", "--yes", *url, lang="zh_CN")
    assert zh.exit_code == 0, zh.output
    assert zh.stdout.startswith("已忘记成员 1：清除了 "), zh.stdout
    assert "个群" in zh.stdout and "scrubbed" not in zh.stdout
    en = run(cli, "forget", "2", "--yes", *url)
    assert en.exit_code == 0, en.output
    assert en.stdout.startswith("member 2 forgotten: ") and " events scrubbed, " in en.stdout


def test_profile_and_outbox_retry_answer_in_chinese(cli: typer.Typer, imported: str) -> None:
    url = ("--database-url", imported)
    zh = run(
        cli, "settings", "profile", "-g", "1", "--timezone", "UTC", *url, lang="zh_CN"
    )  # an import's group lives in its export's zone: UTC without --tz
    assert zh.exit_code == 0, zh.output
    assert zh.stdout.strip() == "群 1：时区仍为 UTC"
    en = run(cli, "settings", "profile", "-g", "1", "--timezone", "Europe/Berlin", *url)
    assert en.stdout.strip() == "group 1: time zone UTC → Europe/Berlin"
    zh = run(cli, "outbox", "retry", "--all", *url, lang="zh_CN")
    assert zh.exit_code == 0, zh.output
    assert zh.stdout.strip() == "0 个动作已重新排队"
    assert run(cli, "outbox", "retry", "--all", *url).stdout.strip() == "0 actions queued again"


def test_undo_says_what_it_did_in_chinese(cli: typer.Typer, imported: str) -> None:
    from groupops.features.moderation.tables import moderation_decisions
    from groupops.storage.db import open_database

    db = open_database(imported)
    at = datetime(2026, 11, 1, 20, 44, tzinfo=UTC)
    row = {"created_at": at, "workspace_id": 1, "source": "sandbox", "chat_id": "runners"}
    with db.begin() as conn:
        for i in (5, 6):
            conn.execute(insert(moderation_decisions).values(**row, id=i, rule="link", step="warn"))
    db.dispose()
    url = ("--database-url", imported)
    zh = run(cli, "undo", "5", *url, lang="zh_CN")
    assert zh.exit_code == 0, zh.output
    said = " ".join(zh.stdout.split())
    assert said.startswith("已撤销处理 5（记录为处理 7）"), said
    assert said.endswith("已删除的消息无法恢复；其余均已撤回。"), said
    assert not any(w in said for w in ("undone", "decision", "Removed")), said
    en = " ".join(run(cli, "undo", "6", *url).stdout.split())
    assert en.startswith("decision 6 undone (logged as decision 8)"), en
    assert en.endswith(". Removed messages cannot be brought back; everything else is reverted.")


def test_undo_sentence_in_chinese_keeps_its_parts_and_values() -> None:
    from groupops.cli_output import undo_sentence

    result = {
        "decision_id": 211, "undo_id": 212, "undone": [211], "outbox_ids": [5, 6],
        "owner_task_ids": [9], "blacklist_removed": True,
        "note": "removed messages cannot be brought back; everything else is reverted",
    }  # fmt: skip
    assert undo_sentence(result, ZH, Catalogs().ngettext("zh_CN")) == (
        "已撤销处理 211（记录为处理 212）；2 个动作已排队以撤回；1 个人工任务（机器人做不到的事）；"
        "已解除黑名单。已删除的消息无法恢复；其余均已撤回。"
    )
    assert undo_sentence(result) == (
        "decision 211 undone (logged as decision 212); 2 actions queued to revert it;"
        " 1 owner task for what a bot cannot do; blacklist entry lifted. Removed messages"
        " cannot be brought back; everything else is reverted."
    )


def test_an_unknown_setting_is_refused_naming_the_features_settings(
    cli: typer.Typer, imported: str
) -> None:
    url = ("--database-url", imported)
    zh = error_line(
        run(cli, "settings", "set", "welcome.nonexistent", "1", "-g", "1", *url, lang="zh_CN")
    )
    assert zh.startswith(
        "错误 [invalid_settings] 群 1 welcome.nonexistent：welcome 没有设置 'nonexistent'"
        "（已有：enabled, template, rules, "
    ), zh
    assert "Extra inputs" not in zh
    en = error_line(run(cli, "settings", "set", "welcome.nonexistent", "1", "-g", "1", *url))
    assert en.startswith(
        "error [invalid_settings] group 1 welcome.nonexistent: no setting 'nonexistent' in"
        " welcome (known: enabled, template, rules, "
    ), en
    assert "burst_template" in en
    # on the workspace too, and nothing is written
    ws = error_line(run(cli, "settings", "set", "welcome.nope", "1", *url))
    assert "no setting 'nope' in welcome" in ws
    shown = run(cli, "settings", "show", "-g", "1", *url)
    assert "nonexistent" not in shown.stdout and "nope" not in shown.stdout


@pytest.mark.parametrize("title", ["", "   "])
def test_an_empty_title_is_refused_and_the_name_kept(
    cli: typer.Typer, imported: str, title: str
) -> None:
    url = ("--database-url", imported)
    zh = error_line(
        run(cli, "settings", "profile", "-g", "1", "--title", title, *url, lang="zh_CN")
    )
    assert zh == "错误 [invalid_option] --title：群名称不能为空：请给出群名", zh
    en = error_line(run(cli, "settings", "profile", "-g", "1", "--title", title, *url))
    assert en == "error [invalid_option] --title: a group's title cannot be empty: give its name"
    groups = run(cli, "groups", "--json", *url)
    assert '"title": "chat"' in groups.stdout, groups.stdout


def test_an_unknown_language_is_refused_as_the_option(cli: typer.Typer, imported: str) -> None:
    """The profile's options are refused alike: --language as --timezone and --title."""
    url = ("--database-url", imported)
    args = ("settings", "profile", "-g", "1", "--language", "fr", *url)
    assert error_line(run(cli, *args)) == (
        "error [invalid_option] --language: 'fr' is not a language groupops speaks: use zh_CN or en"
    )
    zh = error_line(run(cli, *args, lang="zh_CN"))
    assert zh.startswith("错误 [invalid_option] --language："), zh


def test_serve_refuses_a_busy_port_in_chinese(cli: typer.Typer, imported: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        args = ("serve", "--port", str(port), "--database-url", imported)
        zh = error_line(run(cli, *args, lang="zh_CN"))
        en = error_line(run(cli, *args))
    assert zh == (
        f"错误 [address_in_use] --port：127.0.0.1:{port} 已被占用（groupops 是否已在运行？）；"
        "请换一个 --port"
    ), zh
    assert en == (
        f"error [address_in_use] --port: 127.0.0.1:{port} is in use (is groupops already"
        " running?); choose another --port"
    )


def test_serve_cannot_listen_on_an_unknown_host_in_chinese() -> None:
    from groupops.web.server import bind

    with pytest.raises(GroupopsError) as caught:
        bind("no-such-host.invalid", 0)
    exc = caught.value
    reason = exc.params["reason"]
    assert exc.code == "invalid_option"  # an option that does not fit, named (operations.md)
    assert str(exc) == f"--host: cannot listen on 'no-such-host.invalid': {reason}"
    assert exc.localized(ZH) == f"--host：无法在 'no-such-host.invalid' 上监听：{reason}"


def test_listings_show_times_to_the_minute_statuses_in_words_and_say_when_empty(
    cli: typer.Typer, imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import groupops.cli_output

    monkeypatch.setattr(groupops.cli_output.out, "width", 200)
    url = ("--database-url", imported)
    zh = run(cli, "members", *url, "--lang", "zh_CN")
    assert zh.exit_code == 0, zh.output
    assert "在群" in zh.stdout and "active" not in zh.stdout
    assert "2023-05-01 10:01" in zh.stdout, zh.stdout
    assert ".000000" not in zh.stdout and "+00:00" not in zh.stdout
    en = run(cli, "members", *url)
    assert "in the group" in en.stdout
    as_json = run(cli, "members", *url, "--json")
    assert '"status": "active"' in as_json.stdout  # --json keeps what is stored
    empty = run(cli, "outbox", "list", *url, "--lang", "zh_CN")
    assert empty.exit_code == 0, empty.output
    assert empty.stdout.strip() == "发件队列（死信）：暂无记录", empty.stdout
    assert "nothing to list" in run(cli, "tasks", "list", *url).stdout


def test_the_moderation_log_reads_in_the_operators_language() -> None:
    from groupops.cli_output import log_line
    from groupops.i18n import Catalogs

    row = {
        "id": 6, "created_at": "2026-11-01T20:44:00+00:00", "group": "Runners",
        "member": "Linh", "rule": "contact", "evidence": "加我微信", "step": "mute",
        "actions": ["delete", "mute", "send"], "undone_at": "2026-11-02T08:00:00+00:00",
        "undone_by": "alice",
    }  # fmt: skip
    zh = log_line(row, Catalogs().gettext("zh_CN"))
    assert zh["decision"] == "禁言（删除消息，禁言，发送）", zh["decision"]
    assert zh["reason"] == "私加好友" and zh["undone"] == "2026-11-02 08:00，由 alice"
    en = log_line(row)
    assert en["decision"] == "mute (delete, mute, send)" and en["reason"] == "contact"
    assert en["undone"] == "2026-11-02 08:00 by alice"
    # a word the log does not know (a rule of an extension) is shown as stored
    assert log_line({**row, "rule": "vendor_rule"}, Catalogs().gettext("zh_CN"))["reason"] == (
        "vendor_rule"
    )


def test_settings_set_says_what_it_saved_where(cli: typer.Typer, imported: str) -> None:
    url = ("--database-url", imported)
    en = run(cli, "settings", "set", "welcome.rules", "Be kind.", "-g", "1", *url)
    assert en.exit_code == 0, en.output
    assert en.stdout.startswith(
        "welcome.rules saved for group 1.\ngroup 1's own welcome settings (the others follow"
    )
    assert '"rules": "Be kind."' in en.stdout
    zh = run(cli, "settings", "set", "welcome.rules", "友善", *url, lang="zh_CN")
    assert zh.stdout.startswith("已将 welcome.rules 保存为工作区 'default' 的默认设置。"), zh.stdout


def test_a_leaderboard_names_its_days(cli: typer.Typer, imported: str) -> None:
    url = ("--database-url", imported)
    week = run(cli, "leaderboard", "-g", "1", "--period", "week", "--at", "2026-11-20", *url)
    assert week.stdout.strip() == "nobody on chat: week 2026-11-16 – 2026-11-22 yet"
    day = run(cli, "leaderboard", "-g", "1", "--period", "day", "--at", "2026-11-20", *url)
    assert day.stdout.strip() == "nobody on chat: day 2026-11-20 yet"
    zh = run(cli, "leaderboard", "-g", "1", "--at", "2026-11-20", *url, "--lang", "zh_CN")
    assert zh.stdout.strip() == "chat：月榜 2026-11-01 – 2026-11-30 暂无人上榜"


def test_a_listing_follows_the_terminals_language_when_nothing_else_says(
    cli: typer.Typer, imported: str
) -> None:
    """--lang, else GROUPOPS_LANG, else LANG: the same rule as the commands without --lang."""
    url = ("--database-url", imported)
    terminal = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "zh_CN.UTF-8"}
    zh = run(cli, "groups", *url, **terminal)
    assert zh.exit_code == 0, zh.output
    assert "群列表" in zh.stdout
    assert "groups" in run(cli, "groups", *url, "--lang", "en", **terminal).stdout
    assert "群列表" not in run(cli, "groups", *url, GROUPOPS_LANG="en", **terminal).stdout
