"""A command's own options refused in the command's language and with the option's code:
``--status``, ``--lang`` and analyze's files-or-group check in Chinese; an unknown zone of
``--tz``/``--timezone`` is ``invalid_option``; a value like "-No ads" is told to go after --."""

from __future__ import annotations

from pathlib import Path

import typer

from tests.cli import RUNNERS, error_line, run


def said(res: object) -> str:
    """A usage box's text on one line (a wide terminal, the frame taken out)."""
    text = getattr(res, "output", "")
    return " ".join(text.replace("│", " ").split())


def test_status_lang_and_analyze_refusals_are_chinese(cli: typer.Typer, imported: str) -> None:
    wide = {"COLUMNS": "200"}
    res = run(cli, "members", "--status", "foo", "--database-url", imported, lang="zh_CN", **wide)
    assert res.exit_code == 2
    assert "'foo' 不是可选值之一：active, left, kicked, banned" in said(res), said(res)
    res = run(cli, "members", "--status", "foo", "--database-url", imported, **wide)
    assert "'foo' is not one of active, left, kicked, banned" in said(res), said(res)
    ok = run(cli, "members", "--status", "active", "--database-url", imported, "--json")
    assert ok.exit_code == 0 and '"status": "active"' in ok.stdout, ok.output
    res = run(cli, "members", "--lang", "fr", "--database-url", imported, lang="zh_CN", **wide)
    assert "'fr'：请用 en 或 zh_CN" in said(res), said(res)
    res = run(cli, "analyze", lang="zh_CN", **wide)
    assert "请给出导出文件，或用 --group 指定机器人管理的群" in said(
        res
    ) and "不能同时" not in said(res), said(res)
    assert "give export files" not in said(res)


WRITE_A_ZONE = ": write its name, e.g. Asia/Shanghai (Beijing time), Europe/Berlin or UTC"


def test_an_unknown_zone_is_an_invalid_option(
    cli: typer.Typer, imported: str, tmp_path: Path
) -> None:
    url = ("--database-url", imported)
    res = run(cli, "settings", "profile", "-g", "1", "--timezone", "Mars/Base", *url)
    assert error_line(res) == (
        "error [invalid_option] --timezone: unknown time zone 'Mars/Base'" + WRITE_A_ZONE
    )
    chat = tmp_path / "export.txt"
    chat.write_text(RUNNERS, encoding="utf-8")
    res = run(cli, "analyze", str(chat), "--tz", "Mars/Base", "--out", str(tmp_path / "r"))
    assert error_line(res) == (
        "error [invalid_option] --tz: unknown time zone 'Mars/Base'" + WRITE_A_ZONE
    )
    res = run(
        cli, "analyze", str(chat), "--tz", "Mars/Base", "--out", str(tmp_path / "r"), lang="zh_CN"
    )
    assert error_line(res) == (
        "错误 [invalid_option] --tz：未知时区 'Mars/Base'"
        "：请写时区名称，例如 Asia/Shanghai（北京时间）、Europe/Berlin 或 UTC"
    )


def test_a_value_with_a_dash_and_a_letter_is_told_to_go_after_dashes(
    cli: typer.Typer, imported: str
) -> None:
    url = (
        "--database-url",
        imported,
    )
    res = run(cli, "settings", "set", "welcome.rules", "-No ads", "-g", "1", *url, COLUMNS="200")
    assert res.exit_code == 2
    assert (
        "No such option: -N. A value that starts with - and a letter goes after -- (settings set"
        f' -g 1 --database-url {imported} welcome.rules -- "-No ads")'
    ) in said(res), said(res)
    res = run(cli, "settings", "set", "-No ads", COLUMNS="200")  # the name is still to come
    assert '(settings set NAME -- "-No ads")' in said(res), said(res)
    res = run(
        cli,
        "settings",
        "set",
        "welcome.rules",
        "-No ads",
        "-g",
        "1",
        *url,
        lang="zh_CN",
        COLUMNS="200",
    )
    assert "没有选项 -N。以 - 加字母开头的值要写在 -- 之后" in said(res), said(res)
    assert f'（settings set -g 1 --database-url {imported} welcome.rules -- "-No ads"）' in said(
        res
    ), said(res)
    res = run(cli, "settings", "set", "welcome.rulez", "x", "--grup", "1", *url, COLUMNS="200")
    assert "(did you mean: --group)" in said(res) or "--group" in said(res), said(res)
    res = run(cli, "settings", "set", *url, "-g", "1", "welcome.rules", "--", "-No ads")
    assert res.exit_code == 0 and '"rules": "-No ads"' in res.stdout, res.output


def test_an_unknown_option_is_refused_plainly_where_no_free_text_is_taken(
    cli: typer.Typer, imported: str
) -> None:
    """Only a command's free text still to come (`settings set`'s value) gets the hint about
    `--`; elsewhere, or once the value is given, an unknown option is click's "No such option"
    (with its suggestion), not a hint about another command's text."""
    url = ("--database-url", imported)
    for args in (
        ("undo", "1", "--bogus"),
        ("forget", "1", "--bogus"),
        ("outbox", "retry", "1", "--bogus"),
        ("tasks", "done", "1", "--bogus"),
        ("settings", "set", "welcome.rules", "x", "--bogus"),
    ):
        for lang in ("en", "zh_CN"):
            res = run(cli, *args, *url, lang=lang, COLUMNS="200")
            assert res.exit_code == 2, res.output
            assert "--bogus" in said(res), said(res)
            assert "welcome.rules" not in said(res) and " -- " not in said(res), said(res)
    res = run(cli, "undo", "1", "--bx", *url, COLUMNS="200")
    assert "No such option: --bx (Possible options: --by)" in said(res), said(res)
