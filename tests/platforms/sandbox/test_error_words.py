"""The sandbox adapter's own words in its errors (a dead letter's last error) are defined once,
in engine.deadletters, as Telegram's are: each refusal is raised with that very object and its
values apart, stores the English it stored before (rows written by earlier versions read back
the same), and a zh_CN operator reads it in Chinese (``outbox list`` through error_words)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.engine import deadletters
from groupops.engine.app import App
from groupops.engine.deadletters import error_words, list_outbox
from groupops.engine.outbox import failure_text, queue_actions
from groupops.i18n import Catalogs
from groupops.platforms.sandbox import SandboxAdapter
from groupops.platforms.sandbox import adapter as sandbox_adapter

SOURCE = "sandbox"

#: the texts, as stored (the deliverer's failure_text, as earlier versions wrote them), the
#: definition each was made with, and the Chinese a zh_CN operator reads
TEXTS: dict[str, tuple[str, str, str]] = {
    "malformed buttons": (
        "PlatformError: malformed buttons: 'data'",
        deadletters.MALFORMED_BUTTONS,
        "按钮格式不对：'data'",
    ),
    "an action the connection has not": (
        "PlatformError: sandbox cannot owner_task",
        deadletters.CANNOT,
        "sandbox 不支持“人工任务”",
    ),
    "an action the platform has not": (
        "PlatformError: sandbox cannot owner_task",
        deadletters.CANNOT,
        "sandbox 不支持“人工任务”",
    ),
    "not in the chat": (
        "PlatformError: user u9 is not in chat g1",
        deadletters.NOT_IN_CHAT,
        "用户 u9 不在群 g1 里",
    ),
    "not started": (
        # unreachable as on Telegram (the deliverer posts it in the group); earlier versions
        # stored it as a PlatformError, which reads back the same
        "RecipientUnreachable: the member has not started the bot",
        deadletters.NOT_STARTED_BOT,
        "该成员没有启动过机器人",
    ),
    "bad message id to delete": (
        "PlatformError: bad message id 'x'",
        deadletters.BAD_MESSAGE_ID,
        "消息编号无效：'x'",
    ),
    "bad message id to pin": (
        "PlatformError: bad message id 'm7'",
        deadletters.BAD_MESSAGE_ID,
        "消息编号无效：'m7'",
    ),
    "a line of another chat": (
        "PlatformError: message '3' is not one of group g1",
        deadletters.NOT_OF_GROUP,
        "消息 '3' 不属于群 g1",
    ),
    "a pin of a line that is nowhere": (
        "PlatformError: message '99' to pin is not in group g1: deleted, or never posted there",
        deadletters.PIN_NOT_FOUND,
        "要置顶的消息 '99' 不在群 g1 里：已被删除，或从未发在那里",
    ),
}


@pytest.fixture
def zh(locale_dir: Path) -> Callable[[str], str]:
    return Catalogs(locale_dir).gettext("zh_CN")


def act(kind: ActionKind, **kw: Any) -> Action:
    return Action(kind, SOURCE, "g1", **kw)


def _refusal(adapter: SandboxAdapter, action: Action) -> PlatformError:
    with pytest.raises(PlatformError) as refused:
        asyncio.run(adapter.perform(action, idempotency_key=f"k{id(action)}"))
    return refused.value


def test_each_text_is_made_with_its_definition_stored_as_before_and_said_in_chinese(
    make_app: Callable[..., App], zh: Callable[[str], str]
) -> None:
    app = make_app(features=())
    app.sandbox.create_chat("g1", "Runners")
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    app.sandbox.create_chat("g2", "Cooks")
    app.handle([app.sandbox.join("g2", "u1", "Ann")])
    other = app.sandbox.post("g2", "u1", "hello cooks")
    assert other.message_id == "3"  # after the lines of the joins to g1 and g2
    adapter = SandboxAdapter(app.db, app.clock)
    # a platform that says it can do everything still has no owner tasks
    everything = dataclasses.replace(adapter.capabilities, actions=frozenset(ActionKind))
    made = {
        "malformed buttons": _refusal(
            adapter, act(ActionKind.SEND, text="hi", data={"buttons": [[{"text": "ok"}]]})
        ),
        "an action the connection has not": _refusal(adapter, act(ActionKind.OWNER_TASK, text="x")),
        "an action the platform has not": _refusal(
            SandboxAdapter(app.db, app.clock, capabilities=everything),
            act(ActionKind.OWNER_TASK, text="x"),
        ),
        "not in the chat": _refusal(adapter, act(ActionKind.MUTE, user_id="u9")),
        "not started": _refusal(adapter, act(ActionKind.DIRECT_MESSAGE, user_id="u9", text="x")),
        "bad message id to delete": _refusal(adapter, act(ActionKind.DELETE, message_id="x")),
        "bad message id to pin": _refusal(adapter, act(ActionKind.PIN, message_id="m7")),
        "a line of another chat": _refusal(adapter, act(ActionKind.DELETE, message_id="3")),
        "a pin of a line that is nowhere": _refusal(adapter, act(ActionKind.PIN, message_id="99")),
    }
    assert set(made) == set(TEXTS)
    for name, (stored, definition, chinese) in TEXTS.items():
        exc = made[name]
        assert failure_text(exc) == stored, name
        assert exc.template is definition, name
        assert exc.permanent, name
        assert error_words({"last_error": stored, "source": SOURCE}, zh) == chinese, name


def test_a_dead_letter_reads_back_in_chinese(
    make_app: Callable[..., App], zh: Callable[[str], str]
) -> None:
    """Through the deliverer: a mute of someone not in the chat is a dead letter that outbox
    list says in Chinese."""
    app = make_app(features=())
    app.sandbox.create_chat("g1", "Runners")
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    with app.db.begin() as conn:
        queue_actions(
            conn,
            [(act(ActionKind.MUTE, user_id="u9"), None)],
            workspace_id=1,
            now=app.clock.now(),
            feature="moderation",
            capabilities_of=app.platforms.capabilities,
        )
    asyncio.run(app.deliver())
    (dead,) = list_outbox(app.db, "dead")
    assert dead["last_error"] == TEXTS["not in the chat"][0]
    assert error_words(dead, zh) == TEXTS["not in the chat"][2]


def _fixed(template: str) -> str:
    """The longest run of a template's own words, with the brace of the value after it if
    there is one, its first 40 characters: what a copy written out would contain on one line
    (``f"bad message id {…}"``)."""
    words = max(re.split(r"\{\w+\}", template), key=len)
    return template[template.index(words) :][: len(words) + 1][:40]


def test_no_sandbox_module_writes_a_defined_text_out_again() -> None:
    """The sandbox adapter raises with the definitions: none of their words is written out in
    the sandbox's modules, so a rewording in engine.deadletters cannot leave an English copy
    that the reader no longer knows."""
    here = Path(sandbox_adapter.__file__).resolve().parent
    sources = {path.name: path.read_text(encoding="utf-8") for path in here.glob("*.py")}
    for _stored, definition, _chinese in TEXTS.values():
        written = re.compile(r"[\"'][^\"'\n]*" + re.escape(_fixed(definition)))
        copies = [name for name, text in sources.items() if written.search(text)]
        assert not copies, (definition, copies)
