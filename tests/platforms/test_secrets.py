"""One SecretFilter for both live platforms (QA code review finding 5): a connection's token,
password or access token is masked in a log line's message, its arguments and its traceback,
on the libraries' loggers and on groupops' own, the deliverer's included (its
``log.exception`` for an action that failed unexpectedly prints the error, and matrix-nio puts
the access token in every request's URL)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from groupops.platforms.matrix import homeserver
from groupops.platforms.secrets import SecretFilter
from groupops.platforms.telegram import config as telegram_config

TG_TOKEN = "7000001:AAHsecretTOKENneverShown_abcdefghij012"
MX_TOKEN = "syt_Ym90_secretACCESStoken_0123"
MX_PASSWORD = "correct horse battery staple"

Install = Callable[[SecretFilter], SecretFilter]


@pytest.fixture
def install() -> Iterator[Install]:
    installed: list[SecretFilter] = []

    def put(f: SecretFilter) -> SecretFilter:
        f.install()
        installed.append(f)
        return f

    yield put
    for f in installed:
        f.remove()


def _log_failure(logger: str, url: str) -> None:
    try:
        raise RuntimeError(f"request to {url} failed")
    except RuntimeError:
        logging.getLogger(logger).exception("delivering outbox %s failed: %s", 7, url)


@pytest.mark.parametrize(
    ("platform", "url", "secret"),
    [
        ("telegram", f"https://api.telegram.org/bot{TG_TOKEN}/sendMessage", TG_TOKEN),
        (
            "matrix",
            f"https://m.org/_matrix/client/v3/rooms/!r/send?access_token={MX_TOKEN}",
            MX_TOKEN,
        ),
    ],
)
@pytest.mark.parametrize("logger", ["groupops.engine.deliverer", "groupops.engine.app"])
def test_a_logged_exception_holding_the_secret_is_masked_traceback_kept(
    platform: str,
    url: str,
    secret: str,
    logger: str,
    install: Install,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if platform == "telegram":
        install(telegram_config.secret_filter([TG_TOKEN]))
    else:
        install(homeserver.secret_filter([MX_PASSWORD, MX_TOKEN]))
    with caplog.at_level(logging.ERROR):
        _log_failure(logger, url)
    assert secret not in caplog.text
    assert "delivering outbox 7 failed" in caplog.text
    assert "Traceback" in caplog.text and "RuntimeError: request to" in caplog.text
    assert "***" in caplog.text


def test_an_access_token_not_known_yet_is_masked_by_its_name(
    install: Install, caplog: pytest.LogCaptureFixture
) -> None:
    """The login answer nio logs at DEBUG, before the adapter knows the new token."""
    install(homeserver.secret_filter([MX_PASSWORD]))
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("nio.responses").debug(
            "answer %s", {"access_token": MX_TOKEN, "device_id": "D"}
        )
        logging.getLogger("nio.http").debug("GET /sync?since=s1&access_token=%s", MX_TOKEN)
    assert MX_TOKEN not in caplog.text
    assert "device_id" in caplog.text and "since=s1" in caplog.text


def test_the_token_on_the_libraries_loggers_and_removed_with_the_connection(
    install: Install, caplog: pytest.LogCaptureFixture
) -> None:
    guard = install(telegram_config.secret_filter([TG_TOKEN]))
    with caplog.at_level(logging.INFO):
        logging.getLogger("httpx").info("HTTP Request: POST %s", f"/bot{TG_TOKEN}/getMe")
    assert TG_TOKEN not in caplog.text
    guard.remove()
    assert all(guard not in logging.getLogger(n).filters for n in guard.names())


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_a_logger_made_after_the_filter_is_masked_at_the_root_handlers(install: Install) -> None:
    """A library module imported after the connection started logs through a new logger, no
    ancestor's filter sees its records: the root logger's handlers (serve's console) mask it."""
    kept = _Kept()
    logging.root.addHandler(kept)
    try:
        install(telegram_config.secret_filter([TG_TOKEN]))
        late = logging.getLogger("somelibrary.made.later")
        late.propagate, late.level = True, logging.INFO
        late.warning("retrying https://api.telegram.org/bot%s/getUpdates", TG_TOKEN)
    finally:
        logging.root.removeHandler(kept)
    assert kept.lines == ["retrying https://api.telegram.org/bot***/getUpdates"]
