"""Stored texts said again in an operator's language (groupops.stored_texts) are defined once,
away from the terminal: the web console can say an owner task, a moderation decision's
evidence or a connection's error without loading the command line (rich, typer), and the
names the CLI modules offered before are the very same functions."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

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


def _read(pattern: re.Pattern[str], text: str) -> dict[str, str] | None:
    found = pattern.fullmatch(text)
    return found.groupdict() if found else None


def test_one_reader_reads_a_stored_text_back_with_the_value_patterns_given() -> None:
    """template_reader: each value by its pattern by name, any other as little (retold's
    default) or as much (error_words') text as fits; what is not the template does not match."""
    reader = stored_texts.template_reader
    two = "{user} left {room} or {room2}"
    text = "a left b left c or d or e"
    assert _read(reader(two, {}), text) == {"user": "a", "room": "b left c", "room2": "d or e"}
    assert _read(reader(two, {}, ".+"), text) == {
        "user": "a left b",
        "room": "c or d",
        "room2": "e",
    }
    words = reader("{platform} cannot {kind}", {"kind": r"\w+"}, ".+")
    assert _read(words, "sandbox: x cannot mute") == {"platform": "sandbox: x", "kind": "mute"}
    assert _read(words, "sandbox cannot mute them") is None
    assert _read(reader("{n} (a.b)\n", {"n": r"\d+"}), "12 (a.b)\n") == {"n": "12"}
    assert _read(reader("{n} (a.b)", {"n": r"\d+"}), "x (a.b)") is None
    assert _read(reader("{n} (a.b)", {}), "1 (aXb)") is None


def test_the_outbox_and_the_stored_texts_read_with_the_one_reader() -> None:
    """error_words' readers (engine.deadletters) are template_reader's, with kind and
    platform one word and other values as much as fits; retold's, numbers and words as
    stored_texts says and other values as little as fits: no second way to read a template."""
    from groupops.engine import deadletters

    for template in (deadletters.CANNOT, deadletters.LEFT_PRIVATE_CHAT, deadletters.REROUTED):
        made = stored_texts.template_reader(template, {"kind": r"\w+", "platform": r"\w+"}, ".+")
        assert deadletters._reader(template).pattern == made.pattern, template
    evidence = "{count} messages in {seconds} s ({rule}: {why})"
    made = stored_texts.template_reader(
        evidence, {"count": r"\d+", "seconds": r"\d+", "rule": r"\w+"}, ".+?"
    )
    assert stored_texts._reader(evidence).pattern == made.pattern
    src = Path(stored_texts.__file__).resolve().parent
    splitters = [
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if 'split(r"\\{(\\w+)\\}"' in path.read_text(encoding="utf-8")
    ]
    assert splitters == ["stored_texts.py"]
