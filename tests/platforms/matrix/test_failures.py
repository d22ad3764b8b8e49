"""A homeserver that cannot be reached, hangs, or sits behind a proxy answering 5xx: every such
failure is a retryable PlatformError (the deliverer tries again later), never a permanent one,
and never shows the access token. Real sockets on 127.0.0.1; no Synapse needed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.platforms.matrix import MatrixConfig
from tests.platforms.matrix.conftest import run
from tests.platforms.matrix.helpers import Collected, make_adapter, served
from tests.platforms.matrix.synapse import free_port

TOKEN = "syt_secret_token_never_shown"


class _Proxy(BaseHTTPRequestHandler):
    """What a reverse proxy says when the homeserver behind it is down or overloaded."""

    status = 502

    def _answer(self) -> None:
        body = b"<html><body>Bad Gateway</body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def proxy() -> Iterator[str]:
    with served(_Proxy) as url:
        yield url


@pytest.fixture
def silent() -> Iterator[str]:
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def _attempt(database_url: str, homeserver: str, action: Action | None = None) -> PlatformError:
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)
    config = MatrixConfig(
        homeserver, "@bot:example.org", access_token=TOKEN, device_id="D", request_timeout=0.5
    )

    async def go() -> PlatformError:
        adapter = make_adapter(db, config, Collected())
        await adapter.connect()
        try:
            await adapter.perform(
                action or Action(ActionKind.SEND, adapter.source, "!r:example.org", text="hi"),
                idempotency_key="outbox:1",
            )
        except PlatformError as exc:
            return exc
        finally:
            await adapter.close()
        raise AssertionError("the action did not fail")

    try:
        return run(go())
    finally:
        db.dispose()


@pytest.mark.parametrize("where", ["refused", "silent", "proxy_502", "proxy_503"])
def test_failures_are_retryable(
    where: str,
    database_url: str,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    if where == "refused":
        url = f"http://127.0.0.1:{free_port()}"
    elif where == "silent":
        url = request.getfixturevalue("silent")
    else:
        _Proxy.status = int(where[-3:])
        url = request.getfixturevalue("proxy")
    error = _attempt(database_url, url)
    assert not error.permanent
    assert error.retry_after is None
    assert TOKEN not in str(error) and TOKEN not in caplog.text
    if where.startswith("proxy"):
        assert where[-3:] in str(error)


def test_config_is_checked() -> None:
    from groupops.domain.errors import InvalidSettings

    with pytest.raises(InvalidSettings, match="http"):
        MatrixConfig("matrix.example.org", "@bot:example.org", password="x")
    with pytest.raises(InvalidSettings, match="full Matrix id"):
        MatrixConfig("https://matrix.example.org", "bot", password="x")
    with pytest.raises(InvalidSettings, match="password or an access token"):
        MatrixConfig("https://matrix.example.org", "@bot:example.org")
    with pytest.raises(InvalidSettings, match="unknown settings"):
        MatrixConfig.from_json({"homeserver": "https://m.org", "user_id": "@b:m", "pasword": "x"})
    config = MatrixConfig("https://m.org/", "@b:m.org", password="pw-123", access_token=TOKEN)
    assert config.homeserver == "https://m.org"
    assert "pw-123" not in repr(config) and TOKEN not in repr(config)


@pytest.mark.parametrize(
    "kind",
    [ActionKind.KICK, ActionKind.BAN, ActionKind.UNBAN, ActionKind.APPROVE_JOIN],
)
def test_a_proxys_error_page_is_no_success(kind: ActionKind, database_url: str, proxy: str) -> None:
    """A kick, ban, unban or invite succeeds with an empty answer, and matrix-nio took a
    proxy's 502 page (no JSON, read as {}) for that: the outbox counted it done while nothing
    happened (a spammer kicked while the homeserver restarted stayed). It is a passing
    failure, tried again."""
    _Proxy.status = 502
    action = Action(kind, "matrix:@bot:example.org", "!r:example.org", user_id="@spam:x.org")
    error = _attempt(database_url, proxy, action)
    assert not error.permanent
    assert "502" in str(error)
