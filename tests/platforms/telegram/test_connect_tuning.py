"""`connect telegram` tunes what the Telegram page names (poll and request time-outs, the
rates, the administrators' cache) without editing the connection's JSON, and a later connect
that leaves an option out keeps what was stored instead of going back to the default."""

from __future__ import annotations

from typer.testing import CliRunner

from groupops.cli import _register_all
from groupops.cli import app as cli
from groupops.platforms.telegram.config import ConnectionStore, TelegramConfig
from groupops.storage.db import make_engine
from tests.platforms.telegram.conftest import TOKEN, fake_in_thread

SOURCE = "telegram:groupops_test_bot"


def stored(database_url: str) -> TelegramConfig:
    db = make_engine(database_url)
    try:
        return ConnectionStore(db, SOURCE).load()[0]
    finally:
        db.dispose()


def test_tuning_options_are_stored_and_kept_when_left_out(database_url: str) -> None:
    _register_all()
    runner = CliRunner()
    with fake_in_thread() as fake:
        args = ["--token", TOKEN, "--api-url", fake.base_url, "--database-url", database_url]
        tuned = [
            "--per-group-per-minute", "10", "--burst", "3", "--per-second", "5",
            "--poll-timeout", "50", "--request-timeout", "12", "--admin-cache-seconds", "60",
        ]  # fmt: skip
        first = runner.invoke(cli, ["connect", "telegram", *args, *tuned])
        assert first.exit_code == 0, first.output
        assert "warning" not in first.output
        config = stored(database_url)
        wanted = (10.0, 3, 5.0, 50, 12.0, 60.0)
        assert (
            config.per_chat_per_minute,
            config.burst,
            config.per_second,
            config.poll_timeout,
            config.request_timeout,
            config.admin_cache_seconds,
        ) == wanted
        # connected again (a new token, say) without the options: nothing goes back to 18 and 2
        again = runner.invoke(cli, ["connect", "telegram", *args])
        assert again.exit_code == 0, again.output
        config = stored(database_url)
        assert (
            config.per_chat_per_minute,
            config.burst,
            config.per_second,
            config.poll_timeout,
            config.request_timeout,
            config.admin_cache_seconds,
        ) == wanted
        # one option given: that one changes, the others stay
        one = runner.invoke(cli, ["connect", "telegram", *args, "--burst", "1"])
        assert one.exit_code == 0, one.output
        config = stored(database_url)
        assert (config.burst, config.per_chat_per_minute, config.poll_timeout) == (1, 10.0, 50)


def test_a_new_connection_starts_with_the_defaults(database_url: str) -> None:
    _register_all()
    with fake_in_thread() as fake:
        args = ["--token", TOKEN, "--api-url", fake.base_url, "--database-url", database_url]
        done = CliRunner().invoke(cli, ["connect", "telegram", *args])
        assert done.exit_code == 0, done.output
    config = stored(database_url)
    assert (config.per_chat_per_minute, config.burst, config.poll_timeout) == (18.0, 2, 30)


def test_more_than_telegrams_twenty_a_minute_in_a_group_is_warned_not_refused(
    database_url: str,
) -> None:
    _register_all()
    runner = CliRunner()
    with fake_in_thread() as fake:
        args = ["--token", TOKEN, "--api-url", fake.base_url, "--database-url", database_url]
        done = runner.invoke(cli, ["connect", "telegram", *args, "--burst", "5"])
        assert done.exit_code == 0, done.output
        assert "18 + --burst 5 lets 23 messages a minute" in done.output, done.output
        assert "Telegram's 20" in done.output
        # a later connect giving only the rate: 15 + the stored 5 is within the limit
        later = runner.invoke(cli, ["connect", "telegram", *args, "--per-group-per-minute", "15"])
        assert later.exit_code == 0 and "warning" not in later.output, later.output
        zh = runner.invoke(cli, ["connect", "telegram", *args, "--burst", "9", "--lang", "zh_CN"])
        assert zh.exit_code == 0
        assert "24" in zh.output and "warning" not in zh.output, zh.output
    assert stored(database_url).burst == 9


def test_added_by_is_stored_kept_when_left_out_and_cleared_with_nothing(
    database_url: str,
) -> None:
    _register_all()
    runner = CliRunner()
    with fake_in_thread() as fake:
        args = ["--token", TOKEN, "--api-url", fake.base_url, "--database-url", database_url]
        first = runner.invoke(cli, ["connect", "telegram", *args, "--added-by", "501, 777,501"])
        assert first.exit_code == 0, first.output
        assert stored(database_url).added_by == ("501", "777")
        again = runner.invoke(cli, ["connect", "telegram", *args, "--burst", "1"])
        assert again.exit_code == 0, again.output
        assert stored(database_url).added_by == ("501", "777")
        bad = runner.invoke(cli, ["connect", "telegram", *args, "--added-by", "501,@olga"])
        assert bad.exit_code != 0 and "'@olga' is not a Telegram user id" in bad.output
        assert stored(database_url).added_by == ("501", "777")  # nothing half-written
        cleared = runner.invoke(cli, ["connect", "telegram", *args, "--added-by", ""])
        assert cleared.exit_code == 0, cleared.output
        assert stored(database_url).added_by == ()
