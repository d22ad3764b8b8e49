"""An action on a line the group does not show, as Telegram answers it: a pin of a line that is
nowhere, or removed, is refused for good ("Bad Request: message to pin not found"; the
deliverer makes it a dead letter that says why), a delete of one is done (Telegram's "message to
delete not found", which the Telegram adapter takes as done: ``already_gone``). A member's
private line is not the group's; a reaction (the simulator's) names a line of its own chat."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import NotFound, PlatformError
from groupops.engine import deadletters
from groupops.engine.app import App
from groupops.engine.deadletters import error_words, list_outbox
from groupops.engine.outbox import failure_text
from groupops.i18n import Catalogs
from tests.platforms.sandbox.test_other_chats_line import SOURCE, line, perform, queue, two_chats


@pytest.fixture
def zh(locale_dir: Path) -> Callable[[str], str]:
    return Catalogs(locale_dir).gettext("zh_CN")


def refusal(app: App, action: Action, key: str = "k1") -> PlatformError:
    with pytest.raises(PlatformError) as refused:
        perform(app, action, key)
    return refused.value


def removed(app: App, line_id: int) -> None:
    perform(app, Action(ActionKind.DELETE, SOURCE, "g1", message_id=str(line_id)), "removal")


def test_a_pin_of_a_line_that_is_nowhere_is_refused_for_good(
    make_app: Callable[..., App], zh: Callable[[str], str]
) -> None:
    app, ours, theirs = two_chats(make_app)
    nowhere = str(theirs + 1000)
    exc = refusal(app, Action(ActionKind.PIN, SOURCE, "g1", message_id=nowhere))
    assert exc.template is deadletters.PIN_NOT_FOUND
    assert exc.permanent
    stored = failure_text(exc)
    assert stored == (
        f"PlatformError: message '{nowhere}' to pin is not in group g1: deleted, or never"
        " posted there"
    )
    assert error_words({"last_error": stored, "source": SOURCE}, zh) == (
        f"要置顶的消息 '{nowhere}' 不在群 g1 里：已被删除，或从未发在那里"
    )
    assert tuple(line(app, ours)) == (False, False)


def test_a_pin_of_a_removed_line_is_refused_and_it_stays_unpinned(
    make_app: Callable[..., App],
) -> None:
    app, ours, _theirs = two_chats(make_app)
    removed(app, ours)
    exc = refusal(app, Action(ActionKind.PIN, SOURCE, "g1", message_id=str(ours)))
    assert exc.template is deadletters.PIN_NOT_FOUND
    assert tuple(line(app, ours)) == (True, False)


@pytest.mark.parametrize("kind", [ActionKind.DELETE, ActionKind.PIN])
def test_a_members_private_line_is_not_the_groups(
    make_app: Callable[..., App], kind: ActionKind
) -> None:
    """The bot's private message to Ann is kept under the group's chat id, but it is in her
    private chat with the bot: a pin or delete in the group does not reach it."""
    app, _ours, _theirs = two_chats(make_app)
    dm = perform(app, Action(ActionKind.DIRECT_MESSAGE, SOURCE, "g1", user_id="u1", text="hi"))
    private = int(dm.platform_message_id)
    exc = refusal(app, Action(kind, SOURCE, "g1", message_id=str(private)), "k2")
    assert exc.template is deadletters.NOT_OF_GROUP
    assert tuple(line(app, private)) == (False, False)


def test_a_pin_of_a_line_that_is_nowhere_is_a_dead_letter_that_says_why(
    make_app: Callable[..., App], zh: Callable[[str], str]
) -> None:
    app, _ours, theirs = two_chats(make_app)
    nowhere = str(theirs + 1000)
    queue(app, Action(ActionKind.PIN, SOURCE, "g1", message_id=nowhere))
    asyncio.run(app.deliver())
    (dead,) = list_outbox(app.db, "dead")
    assert dead["attempts"] == 1
    assert (
        error_words(dead, zh) == f"要置顶的消息 '{nowhere}' 不在群 g1 里：已被删除，或从未发在那里"
    )
    assert list_outbox(app.db, "delivered") == []


def test_a_delete_of_a_line_gone_or_nowhere_is_done_as_on_telegram(
    make_app: Callable[..., App],
) -> None:
    app, ours, theirs = two_chats(make_app)

    def delete(message_id: int, key: str) -> Any:
        return perform(
            app, Action(ActionKind.DELETE, SOURCE, "g1", message_id=str(message_id)), key
        )

    assert delete(ours, "k1").data == {}
    assert tuple(line(app, ours)) == (True, False)
    assert delete(ours, "k2").data == {"already_gone": True}  # removed already
    assert delete(theirs + 1000, "k3").data == {"already_gone": True}  # never there
    assert tuple(line(app, theirs)) == (False, False)


def test_a_simulated_reaction_names_a_line_of_its_own_chat(make_app: Callable[..., App]) -> None:
    """The simulator's reaction (no membership checks) to g2's line in g1 is to no line of g1,
    as on Telegram; to g1's own line it is a reaction to its author."""
    app, ours, theirs = two_chats(make_app)
    with pytest.raises(NotFound):
        app.sandbox.react("g1", "u1", str(theirs))
    assert app.sandbox.react("g1", "u1", str(ours)).reply_to_user_id == "u1"
