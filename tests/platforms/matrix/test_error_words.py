"""The Matrix adapter's own words in its errors (a dead letter's last error, a connection's
health) are defined once, in engine.deadletters, as the Telegram adapter's are
(tests/platforms/telegram/test_error_words.py): each error is raised with that very object and
its values apart, stores the English it stored before (rows written by earlier versions read
back the same), and a zh_CN operator reads it in Chinese, the homeserver's own words after it
as they are. Real Synapse on 127.0.0.1; the error answers come from a stand-in at the HTTP
boundary (helpers.error_front) so that their words are fixed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.engine import deadletters
from groupops.engine.deadletters import error_words
from groupops.engine.outbox import failure_text
from groupops.i18n import Catalogs
from groupops.platforms.matrix import homeserver
from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    bot_room,
    divert,
    error_front,
    make_adapter,
)
from tests.platforms.matrix.synapse import Synapse
from tests.platforms.telegram.test_error_words import _fixed

#: what the stand-in answers, by case: (status, Matrix error body)
ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "rate limited": (
        429,
        {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 2000},
    ),
    "homeserver error": (502, {"errcode": "M_UNKNOWN", "error": "Bad gateway"}),
    "refused": (403, {"errcode": "M_FORBIDDEN", "error": "You are not allowed to send here"}),
    "login refused": (401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"}),
}


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def zh(locale_dir: Path) -> Callable[[str], str]:
    return Catalogs(locale_dir).gettext("zh_CN")


def texts(source: str, room: str) -> dict[str, tuple[str, str | None, str]]:
    """The texts as stored (the deliverer's failure_text), the definition each is made with
    (None: engine.deadletters has no name for it yet, only the reader's template), and the
    Chinese a zh_CN operator reads."""
    where = f"{source} send in {room}"
    login = "M_UNKNOWN_TOKEN Invalid access token"
    return {
        "rate limited": (
            f"PlatformError: {where}: rate limited: M_LIMIT_EXCEEDED Too Many Requests",
            deadletters.RATE_LIMITED,
            "被限流：M_LIMIT_EXCEEDED Too Many Requests",
        ),
        "homeserver error": (
            f"PlatformError: {where}: homeserver error 502: M_UNKNOWN Bad gateway",
            None,
            "服务器错误 502：M_UNKNOWN Bad gateway",
        ),
        "refused": (
            f"PlatformError: {where}: refused (403): M_FORBIDDEN You are not allowed to send here",
            None,
            "被拒绝（403）：M_FORBIDDEN You are not allowed to send here",
        ),
        "login refused": (
            f"AccessRefused: {where}: the homeserver refused the bot's login ({login}): logged"
            " out, or its password changed? Run `groupops connect matrix --homeserver … --user"
            " … ` again; the running serve picks it up",
            deadletters.ACCESS_REFUSED,
            f"服务器拒绝了机器人的登录（{login}）",
        ),
        "no such action": (
            f"PlatformError: {source}: matrix cannot owner_task",
            deadletters.CANNOT,
            "matrix 不支持“人工任务”",
        ),
        "not connected": (
            f"PlatformError: {source}: not connected",
            deadletters.NOT_CONNECTED,
            "未连接",
        ),
    }


def test_each_text_is_made_with_its_definition_stored_as_before_and_said_in_chinese(
    synapse: Synapse, db: Engine, zh: Callable[[str], str]
) -> None:
    """Each refusal the adapter words itself, made against a real homeserver: stored as
    earlier versions stored it, its template the definition's very object, in Chinese for
    zh_CN."""

    async def go() -> tuple[str, str, dict[str, PlatformError]]:
        adapter = make_adapter(db, bot_config(synapse, new_account(synapse, "bot")), Collected())
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        made: dict[str, PlatformError] = {}

        async def refusal(action: Action) -> PlatformError:
            with pytest.raises(PlatformError) as refused:
                await adapter.perform(action, idempotency_key=f"k{len(made)}")
            return refused.value

        send = Action(ActionKind.SEND, adapter.source, room, text="hello")
        for name, (status, body) in ANSWERS.items():
            with error_front(status, body) as front:
                divert(adapter, front, "PUT", "/send/m.room.message/", times=1)
                made[name] = await refusal(send)
        made["no such action"] = await refusal(
            Action(ActionKind.OWNER_TASK, adapter.source, room, text="call them")
        )
        await adapter.close()
        made["not connected"] = await refusal(send)
        return adapter.source, room, made

    source, room, made = run(go())
    wanted = texts(source, room)
    assert set(made) == set(wanted)
    for name, (stored, definition, chinese) in wanted.items():
        exc = made[name]
        assert failure_text(exc) == stored, name
        if definition is not None:
            assert exc.template is definition, name
        said = error_words({"last_error": stored, "source": source}, zh)
        assert said.startswith(chinese) if name == "login refused" else said == chinese, (
            name,
            said,
        )


MATRIX = Path(homeserver.__file__).resolve().parent


def _named(template: str) -> bool:
    """Whether engine.deadletters gives ``template`` a name (an adapter can import it)."""
    return any(value is template for name, value in vars(deadletters).items() if name.isupper())


def _copy(template: str) -> re.Pattern[str]:
    """What a copy of ``template`` written out in a module looks like: its fixed words in a
    string on one line (``f"rate limited: {message}"``). Words that begin the template are a
    copy where a text begins: at the string's start, or after a value and a colon
    (``f"{what}: refused: {message}"``); within a longer phrase of the module's own (``"sync
    failed: …"``) they are not. A string that is a msgid itself (``N_("…")``) is a definition
    of its own."""
    fixed = _fixed(template)
    before = r"(?:[^\"'\n]*\}: )?" if template.startswith(fixed) else r"[^\"'\n]*"
    return re.compile(r"(?<!N_\()[\"']" + before + re.escape(fixed))


def test_no_matrix_module_writes_a_defined_text_out_again() -> None:
    """The Matrix adapter raises with the definitions: none of groupops' words in the
    platforms' errors that engine.deadletters names (engine.deadletters.PLATFORM_WORDS) is
    written out in its modules, so a rewording there cannot leave an English copy that the
    reader no longer knows. A template it has no name for yet cannot be imported, and is
    checked once it has one."""
    sources = {path.name: path.read_text(encoding="utf-8") for path in MATRIX.glob("*.py")}
    assert {"homeserver.py", "deliver.py", "sync.py", "adapter.py"} <= set(sources)
    checked = [t for t in deadletters.PLATFORM_WORDS if _named(t)]
    assert {deadletters.CANNOT, deadletters.RATE_LIMITED, deadletters.NOT_CONNECTED} <= set(checked)
    for template in checked:
        copies = [name for name, text in sources.items() if _copy(template).search(text)]
        assert not copies, (template, copies)


def test_the_copy_check_finds_a_copy_and_leaves_the_modules_own_words() -> None:
    """What the check above takes for a copy, and what not."""
    assert _copy(deadletters.RATE_LIMITED).search('x = f"rate limited: {message}"')
    assert _copy(deadletters.REFUSED).search('f"{what}: refused: {message}"')
    assert _copy(deadletters.CANNOT).search('f"matrix cannot {kind}"')
    assert _copy(deadletters.NOT_CONNECTED).search('raise PlatformError("not connected")')
    assert not _copy(deadletters.FAILED).search('f"sync failed: {network_reason(exc)}"')
    assert not _copy(deadletters.REFUSED).search('N_("matrix login of {user}: refused: {answer}")')
