"""Stored texts said again in an operator's language (groupops.stored_texts) are defined once,
away from the terminal: the web console can say an owner task, a moderation decision's
evidence or a connection's error without loading the command line (rich, typer), and the
names the CLI modules offered before are the very same functions."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from groupops import cli_output, stored_texts
from groupops.platforms import commands as platform_commands

SAID_WITHOUT_THE_CLI = textwrap.dedent(
    """
    import sys
    from groupops.i18n import Catalogs
    from groupops.stored_texts import error_said, evidence_text, task_text, who_undid

    t = Catalogs().gettext("zh_CN")
    action = {
        "kind": "mute",
        "user_id": "u42",
        "until": "2026-11-24T12:00:00+00:00",
        "reason": "moderation: flood (6 messages in 10 s)",
    }
    print(task_text({"action": action}, t))
    print(evidence_text({"evidence": "6 messages in 10 s"}, t))
    print(error_said("telegram:bot getUpdates: failed: boom", "telegram:bot", t))
    print(who_undid("operator", t))
    print(sorted(m for m in ("rich", "typer", "groupops.cli_output") if m in sys.modules))
    """
)


def test_stored_texts_are_said_without_loading_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SAID_WITHOUT_THE_CLI],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.splitlines() == [
        "禁言 u42，直到 2026-11-24 12:00 UTC（群管：刷屏（10 秒内发了 6 条消息））",
        "10 秒内发了 6 条消息",
        "getUpdates: 失败：boom",
        "运营者",
        "[]",
    ]


def test_the_names_the_cli_modules_offered_are_the_one_definition() -> None:
    for name in (
        "task_text",
        "reason_said",
        "evidence_said",
        "action_reasons",
        "who_undid",
        "UNNAMED_OPERATOR",
    ):
        assert getattr(cli_output, name) is getattr(stored_texts, name), name
    assert platform_commands.error_said is stored_texts.error_said
