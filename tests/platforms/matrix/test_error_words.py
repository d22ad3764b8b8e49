"""The Matrix adapter's own words in its errors (a dead letter's last error, a connection's
health) are defined once, in engine.deadletters, as the Telegram adapter's are
(tests/platforms/telegram/test_error_words.py): each error is raised with that very object and
its values apart, stores the English it stored before (rows written by earlier versions read
back the same), and a zh_CN operator reads it in Chinese, the homeserver's own words after it
as they are. Real Synapse on 127.0.0.1; the error answers come from a stand-in at the HTTP
boundary (helpers.error_front) so that their words are fixed."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from nio import RoomGetStateEventResponse, RoomPutStateResponse, RoomSendResponse
from sqlalchemy import Engine

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.engine import deadletters
from groupops.engine.deadletters import error_words
from groupops.engine.outbox import failure_text
from groupops.i18n import Catalogs
from groupops.platforms.matrix import MatrixConfig, homeserver
from groupops.platforms.supervise import short
from groupops.stored_texts import error_said
from tests.helpers import until
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    answer_lost,
    bot_config,
    bot_room,
    divert,
    error_front,
    make_adapter,
    owners_room,
    people,
    served,
    settle,
    upgrade_room,
)
from tests.platforms.matrix.synapse import Synapse, free_port
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
def zh(locale_dir: Path) -> Callable[[str], str]:
    return Catalogs(locale_dir).gettext("zh_CN")


def texts(source: str, room: str) -> dict[str, tuple[str, str, str]]:
    """The texts as stored (the deliverer's failure_text), the definition each is made with,
    and the Chinese a zh_CN operator reads."""
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
            deadletters.HOMESERVER_ERROR,
            "服务器错误 502：M_UNKNOWN Bad gateway",
        ),
        "refused": (
            f"PlatformError: {where}: refused (403): M_FORBIDDEN You are not allowed to send here",
            deadletters.REFUSED_STATUS,
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
        "unexpected answer": (
            f"PlatformError: {where}: unexpected answer RoomSendResponse",
            deadletters.UNEXPECTED_ANSWER,
            "意外的应答：RoomSendResponse",
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
        # an answer of another kind than asked for (matrix-nio parsed something else)
        made["unexpected answer"] = adapter._error(RoomSendResponse("$e", room), f"send in {room}")
        await adapter.close()
        made["not connected"] = await refusal(send)
        return adapter.source, room, made

    source, room, made = run(go())
    wanted = texts(source, room)
    assert set(made) == set(wanted)
    for name, (stored, definition, chinese) in wanted.items():
        exc = made[name]
        assert failure_text(exc) == stored, name
        assert exc.template is definition, name
        said = error_words({"last_error": stored, "source": source}, zh)
        assert said.startswith(chinese) if name == "login refused" else said == chinese, (
            name,
            said,
        )


def test_a_mute_and_a_pin_matrix_refuses_are_made_with_their_definitions(
    synapse: Synapse, db: Engine, zh: Callable[[str], str]
) -> None:
    """Refused before asking: a mute of someone at the bot's power level, a pin of a message
    left in the room before its upgrade (stored after the action and its room, as before)."""

    async def go() -> tuple[str, dict[str, str], dict[str, PlatformError]]:
        adapter = make_adapter(db, bot_config(synapse, new_account(synapse, "bot")), Collected())
        await adapter.connect()
        await adapter.sync_once()
        alice, bob = await people(synapse, 2)
        old = await owners_room(alice, adapter.config.user_id, 50)
        await settle(adapter, 2)  # the bot accepts the invitation
        await bob.join(old)
        levels = await alice.client.room_get_state_event(old, "m.room.power_levels")
        assert isinstance(levels, RoomGetStateEventResponse), levels
        content = dict(levels.content)
        content["users"] = {**content["users"], bob.user_id: 50}  # as high as the bot
        put = await alice.client.room_put_state(old, "m.room.power_levels", content)
        assert isinstance(put, RoomPutStateResponse), put
        rules = await alice.say(old, "the rules")
        await settle(adapter, 2)
        made: dict[str, PlatformError] = {}
        with pytest.raises(PlatformError) as refused:
            await adapter.perform(
                Action(ActionKind.MUTE, adapter.source, old, user_id=bob.user_id),
                idempotency_key="m1",
            )
        made["mute"] = refused.value
        new = await upgrade_room(alice, old)
        await settle(adapter, 2)  # the tombstone; the bot joins the new room
        with pytest.raises(PlatformError) as refused:
            await adapter.perform(
                Action(ActionKind.PIN, adapter.source, old, message_id=rules),
                idempotency_key="p1",
            )
        made["pin"] = refused.value
        await adapter.close()
        for p in (alice, bob):
            await p.close()
        return adapter.source, {"old": old, "new": new, "bob": bob.user_id}, made

    source, ids, made = run(go())
    old, new, bob = ids["old"], ids["new"], ids["bob"]
    wanted = {
        "mute": (
            f"PlatformError: {source}: cannot mute {bob} in {old}: their power level 50 is not"
            " below the bot's 50",
            deadletters.MUTE_NOT_BELOW,
            f"无法在 {old} 禁言 {bob}：其权限等级 50 不低于机器人的 50",
        ),
        "pin": (
            f"PlatformError: {source}: pin in {old}: the message was posted before the room was"
            f" upgraded to {new}; pinned there it would show nothing",
            deadletters.PINNED_BEFORE_UPGRADE,
            f"pin in {old}：这条消息发在房间升级为 {new} 之前；置顶到那里将什么也显示不出来",
        ),
    }
    for name, (stored, definition, chinese) in wanted.items():
        exc = made[name]
        assert failure_text(exc) == stored, name
        assert exc.template is definition and exc.permanent, name
        assert error_words({"last_error": stored, "source": source}, zh) == chinese, name


@contextmanager
def silent() -> Iterator[str]:
    """A stand-in that takes connections and never answers: its URL."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(8)
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"


@contextmanager
def self_signed(tmp_path: Path) -> Iterator[str]:
    """A stand-in speaking TLS with a certificate nobody vouches for: its https URL."""
    if shutil.which("openssl") is None:  # pragma: no cover - the test hosts have it
        pytest.skip("openssl makes the test's certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    class Hello(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return None

    with served(Hello, context) as url:
        yield url


def test_why_a_request_did_not_reach_the_homeserver_is_made_with_its_definition(
    synapse: Synapse, db: Engine, zh: Callable[[str], str], tmp_path: Path
) -> None:
    """A send that does not reach the homeserver, for each reason network_words names:
    stored as before (after the connection's id and the call), the error's template the
    definition's very object, its values apart (the system's words among them), said in
    Chinese by the error itself."""
    closed = free_port()
    fronts: dict[str, Callable[[], AbstractContextManager[str]]] = {
        "cannot connect": lambda: nullcontext(f"http://127.0.0.1:{closed}"),
        "no such name": lambda: nullcontext("http://groupops-test.invalid"),
        "not TLS": lambda: error_front(200, {}),
        "certificate": lambda: self_signed(tmp_path),
        "no answer": silent,
        "closed": lambda: answer_lost(synapse.url),
    }

    async def go() -> tuple[str, str, dict[str, PlatformError]]:
        adapter = make_adapter(db, bot_config(synapse, new_account(synapse, "bot")), Collected())
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        client = adapter.client
        assert client is not None
        made: dict[str, PlatformError] = {}
        for name, front in fronts.items():
            with front() as url:
                if name == "not TLS":
                    url = url.replace("http:", "https:")  # TLS to a plain HTTP server
                divert(adapter, url, "PUT", "/send/m.room.message/", times=1)
                patient = client.config
                if name == "no answer":
                    client.config = dataclasses.replace(patient, request_timeout=0.5)
                with pytest.raises(PlatformError) as failed:
                    await adapter.perform(
                        Action(ActionKind.SEND, adapter.source, room, text="hello"),
                        idempotency_key=f"k{len(made)}",
                    )
                client.config = patient
                made[name] = failed.value
        await adapter.close()
        return adapter.source, room, made

    source, room, made = run(go())
    system = r"\[SSL: \w+\] [^()]+ \(_ssl\.c:\d+\)"  # OpenSSL's words and place
    wanted = {
        "cannot connect": (
            re.escape(f"cannot connect to 127.0.0.1:{closed}: Connection refused"),
            deadletters.CANNOT_CONNECT,
            f"无法连接 127.0.0.1:{closed}：Connection refused",
        ),
        "no such name": (
            re.escape("DNS: the name groupops-test.invalid was not found"),
            deadletters.NAME_NOT_FOUND,
            "DNS：找不到域名 groupops-test.invalid",
        ),
        "not TLS": (
            r"TLS with 127\.0\.0\.1 failed: " + system,
            deadletters.TLS_FAILED,
            "与 127.0.0.1 的 TLS 连接失败：[SSL:",
        ),
        "certificate": (
            r"TLS certificate of 127\.0\.0\.1 not accepted: " + system,
            deadletters.TLS_NOT_ACCEPTED,
            "127.0.0.1 的 TLS 证书未被接受：[SSL: CERTIFICATE_VERIFY_FAILED]",
        ),
        "no answer": (
            re.escape("no answer in time (timed out)"),
            deadletters.NO_ANSWER,
            "没有及时应答（超时）",
        ),
        "closed": (
            re.escape("the homeserver closed the connection"),
            deadletters.CONNECTION_CLOSED,
            "主服务器关闭了连接",
        ),
    }
    assert set(wanted) == set(made)
    assert {d for _, d, _ in wanted.values()} == set(deadletters.NETWORK)
    for name, (words, definition, chinese) in wanted.items():
        exc = made[name]
        stored = re.escape(f"PlatformError: {source}: send in {room}: ") + words
        assert re.fullmatch(stored, failure_text(exc)), (name, failure_text(exc))
        assert exc.template is definition and not exc.permanent, name
        assert exc.localized_message(zh).startswith(chinese), (name, exc.localized_message(zh))


def test_a_connections_login_and_sync_failures_are_made_with_their_definitions(
    synapse: Synapse, db: Engine, zh: Callable[[str], str]
) -> None:
    """A connection's health: a login or a sync that did not reach the homeserver, a sync
    whose events the engine could not take (through the sync loop), each stored as before
    and said in Chinese by groupops connections (the words after the colon are a value)."""
    closed = free_port()
    handed = Collected()

    async def go() -> tuple[str, dict[str, str]]:
        health: dict[str, str] = {}
        account = new_account(synapse, "bot")
        away = MatrixConfig(f"http://127.0.0.1:{closed}", account.user_id, password="x")
        with pytest.raises(PlatformError) as failed:
            await make_adapter(db, away, Collected()).connect()
        assert failed.value.template is deadletters.LOGIN_FAILED
        health["login failed"] = short(away.source, failed.value)
        adapter = make_adapter(db, bot_config(synapse, account), handed)
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        divert(adapter, f"http://127.0.0.1:{closed}", "GET", "/sync", times=1)
        with pytest.raises(PlatformError) as failed:
            await adapter.sync_once()
        assert failed.value.template is deadletters.SYNC_FAILED
        health["sync failed"] = short(adapter.source, failed.value)
        (alice,) = await people(synapse, 1)
        await alice.join(room)
        await alice.say(room, "hello")
        handed.fail = True  # the engine cannot take the sync's events
        stop = asyncio.Event()
        loop = asyncio.create_task(adapter.run(stop, timeout_ms=200))
        await until(lambda: adapter.store.state().get("health", {}).get("error"))
        stop.set()
        await asyncio.wait_for(loop, 10)
        await adapter.close()
        await alice.close()
        health["sync not handled"] = adapter.store.state()["health"]["error"]
        return adapter.source, health

    source, health = run(go())
    assert health == {
        "login failed": f"login failed: cannot connect to 127.0.0.1:{closed}: Connection refused",
        "sync failed": f"sync failed: cannot connect to 127.0.0.1:{closed}: Connection refused",
        "sync not handled": "sync not handled: RuntimeError: the database is down",
    }
    said = {name: error_said(text, source, zh) for name, text in health.items()}
    # the network reason inside them is said in Chinese too; the system's words stay
    assert said["login failed"] == f"登录失败：无法连接 127.0.0.1:{closed}：Connection refused"
    assert said["sync failed"] == f"同步失败：无法连接 127.0.0.1:{closed}：Connection refused"
    assert said["sync not handled"] == "同步未能处理：RuntimeError: the database is down"


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
