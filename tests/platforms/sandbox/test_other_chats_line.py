"""A delete or pin on the sandbox acts on a line of the action's own chat only: a line of
another chat (or of another sandbox connection) is refused for good, as Telegram refuses a
message of another chat (NOT_OF_GROUP), and that line is left as it is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.engine import deadletters
from groupops.engine.app import App
from groupops.engine.deadletters import error_words, list_outbox
from groupops.engine.outbox import failure_text, queue_actions
from groupops.i18n import Catalogs
from groupops.platforms.sandbox import SandboxAdapter
from groupops.platforms.sandbox.tables import sandbox_messages

SOURCE = "sandbox"


@pytest.fixture
def zh(locale_dir: Path) -> Callable[[str], str]:
    return Catalogs(locale_dir).gettext("zh_CN")


def two_chats(make_app: Callable[..., App]) -> tuple[App, int, int]:
    """Chats g1 and g2, Ann in both; her line in each (ids returned: g1's, g2's)."""
    app = make_app(features=())
    for chat, title in (("g1", "Runners"), ("g2", "Cooks")):
        app.sandbox.create_chat(chat, title)
        app.handle([app.sandbox.join(chat, "u1", "Ann")])
    first = app.sandbox.post("g1", "u1", "hello runners")
    second = app.sandbox.post("g2", "u1", "hello cooks")
    app.handle([first, second])
    return app, int(first.message_id), int(second.message_id)


def line(app: App, line_id: int) -> Any:
    m = sandbox_messages.c
    with app.db.connect() as conn:
        return conn.execute(select(m.deleted, m.pinned).where(m.id == line_id)).one()


def perform(app: App, action: Action, key: str = "k1", source: str = SOURCE) -> Any:
    return asyncio.run(
        SandboxAdapter(app.db, app.clock, source).perform(action, idempotency_key=key)
    )


def queue(app: App, action: Action) -> None:
    with app.db.begin() as conn:
        queue_actions(
            conn,
            [(action, None)],
            workspace_id=1,
            now=app.clock.now(),
            feature="welcome",
            capabilities_of=app.platforms.capabilities,
        )


@pytest.mark.parametrize("kind", [ActionKind.DELETE, ActionKind.PIN])
def test_a_line_of_another_chat_is_refused_and_left_as_it_is(
    make_app: Callable[..., App], zh: Callable[[str], str], kind: ActionKind
) -> None:
    app, _ours, theirs = two_chats(make_app)
    action = Action(kind, SOURCE, "g1", message_id=str(theirs))
    with pytest.raises(PlatformError) as refused:
        perform(app, action)
    exc = refused.value
    assert exc.template is deadletters.NOT_OF_GROUP
    assert exc.permanent
    stored = failure_text(exc)
    assert stored == f"PlatformError: message '{theirs}' is not one of group g1"
    assert error_words({"last_error": stored, "source": SOURCE}, zh) == (
        f"消息 '{theirs}' 不属于群 g1"
    )
    assert tuple(line(app, theirs)) == (False, False)  # g2's line untouched


def test_a_line_of_another_sandbox_source_is_refused(make_app: Callable[..., App]) -> None:
    """Two sandbox connections number their lines in one table: a chat of the same name on
    the other is another chat."""
    app, ours, _theirs = two_chats(make_app)
    with pytest.raises(PlatformError) as refused:
        perform(
            app,
            Action(ActionKind.DELETE, "sandbox2", "g1", message_id=str(ours)),
            source="sandbox2",
        )
    assert refused.value.template is deadletters.NOT_OF_GROUP
    assert tuple(line(app, ours)) == (False, False)


def test_the_chats_own_line_is_deleted_and_pinned_and_one_gone_is_done(
    make_app: Callable[..., App],
) -> None:
    app, ours, theirs = two_chats(make_app)
    assert perform(app, Action(ActionKind.PIN, SOURCE, "g1", message_id=str(ours)), "k1").data == {}
    assert (
        perform(app, Action(ActionKind.DELETE, SOURCE, "g1", message_id=str(ours)), "k2").data == {}
    )
    assert tuple(line(app, ours)) == (True, True)
    assert tuple(line(app, theirs)) == (False, False)
    # a line that is nowhere (forget removed it): nothing to delete, done as on Telegram
    gone = Action(ActionKind.DELETE, SOURCE, "g1", message_id=str(theirs + 1000))
    assert perform(app, gone, "k3").data == {"already_gone": True}


def test_a_delete_of_another_chats_line_is_a_dead_letter(
    make_app: Callable[..., App], zh: Callable[[str], str]
) -> None:
    app, _ours, theirs = two_chats(make_app)
    queue(app, Action(ActionKind.DELETE, SOURCE, "g1", message_id=str(theirs)))
    asyncio.run(app.deliver())
    (dead,) = list_outbox(app.db, "dead")
    assert dead["attempts"] == 1
    assert error_words(dead, zh) == f"消息 '{theirs}' 不属于群 g1"
    assert tuple(line(app, theirs)) == (False, False)
