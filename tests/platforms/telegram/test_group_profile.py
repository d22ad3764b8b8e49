"""A bot's connection says what language and time zone its new groups start in
(`connect … --group-language en --group-timezone Europe/Berlin`): an English community's
first newcomers are not welcomed in Chinese."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from typer.testing import CliRunner

from groupops.cli import _register_all
from groupops.cli import app as cli
from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.storage.db import make_engine
from groupops.storage.tables import groups
from tests.platforms.telegram.conftest import TOKEN, fake_in_thread

SOURCE = "telegram:groupops_test_bot"


def join(app: App, chat: str) -> None:
    at = datetime(2026, 11, 2, 1, tzinfo=UTC)
    app.handle([Event(SOURCE, f"j{chat}", EventKind.MEMBER_JOINED, at, chat_id=chat, user_id="7")])


def profiles(database_url: str) -> dict[str, tuple[str, str]]:
    db = make_engine(database_url)
    try:
        with db.connect() as conn:
            rows = conn.execute(select(groups.c.chat_id, groups.c.language, groups.c.timezone))
            return {r.chat_id: (r.language, r.timezone) for r in rows}
    finally:
        db.dispose()


def test_new_groups_start_in_the_connections_language_and_zone(database_url: str) -> None:
    _register_all()
    runner = CliRunner()
    with fake_in_thread() as fake:
        args = ["--token", TOKEN, "--api-url", fake.base_url, "--database-url", database_url]
        done = runner.invoke(
            cli,
            ["connect", "telegram", *args, "--group-language", "en-US",
             "--group-timezone", "Europe/Berlin"],
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        app = App.create(db=make_engine(database_url), features=(), extensions=False)
        try:
            join(app, "-100")
            # connected again without the options (a new token, say): what was stored stays
            again = runner.invoke(cli, ["connect", "telegram", *args])
            assert again.exit_code == 0, again.output
            join(app, "-200")
        finally:
            app.close()
        bad = runner.invoke(cli, ["connect", "telegram", *args, "--group-timezone", "北京"])
        assert bad.exit_code == 2
        assert "[invalid_option] --group-timezone" in bad.output, bad.output
        wrong = runner.invoke(cli, ["connect", "telegram", *args, "--group-language", "fr"])
        assert "[invalid_option] --group-language" in wrong.output, wrong.output
    assert profiles(database_url) == {
        "-100": ("en", "Europe/Berlin"),
        "-200": ("en", "Europe/Berlin"),
    }


def test_without_them_new_groups_start_in_chinese_and_shanghai(database_url: str) -> None:
    _register_all()
    with fake_in_thread() as fake:
        args = ["--token", TOKEN, "--api-url", fake.base_url, "--database-url", database_url]
        assert CliRunner().invoke(cli, ["connect", "telegram", *args]).exit_code == 0
    app = App.create(db=make_engine(database_url), features=(), extensions=False)
    try:
        join(app, "-300")
    finally:
        app.close()
    assert profiles(database_url) == {"-300": ("zh_CN", "Asia/Shanghai")}
