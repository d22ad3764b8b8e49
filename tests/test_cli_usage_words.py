"""A refused command line names what is wrong: settings set's malformed name is the value of
'name' (it said "Invalid value:" naming nothing), and outbox retry given nothing says what to
give (not "Invalid value" for a value never given); in both languages."""

from __future__ import annotations

import typer

from tests.cli import run
from tests.test_help_zh import shows


def test_a_malformed_setting_name_is_said_as_the_value_of_name(
    cli: typer.Typer, imported: str
) -> None:
    url = ("--database-url", imported)
    en = run(cli, "settings", "set", "welcomerules", "x", *url)
    assert en.exit_code == 2
    assert shows(en.output, "Invalid value for 'name': write it as feature.setting"), en.output
    zh = run(cli, "settings", "set", "welcomerules", "x", *url, lang="zh_CN")
    assert shows(zh.output, "'name' 的值无效：请写成 功能.设置 的形式"), zh.output


def test_outbox_retry_without_ids_says_what_to_give(cli: typer.Typer, imported: str) -> None:
    url = ("--database-url", imported)
    en = run(cli, "outbox", "retry", *url)
    assert en.exit_code == 2 and "Invalid value" not in en.output, en.output
    assert shows(en.output, "give the ids of the actions to retry, or --all"), en.output
    zh = run(cli, "outbox", "retry", *url, lang="zh_CN")
    assert zh.exit_code == 2 and "值无效" not in zh.output, zh.output
    assert shows(zh.output, "请给出要重试的动作编号，或用 --all"), zh.output
