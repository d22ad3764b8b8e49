"""`groupops connect matrix` and `groupops connections` against a real Synapse."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from groupops.cli import _register_all
from groupops.cli import app as cli
from groupops.platforms.matrix import ConnectionStore
from groupops.storage.db import make_engine
from tests.platforms.matrix.conftest import new_account
from tests.platforms.matrix.synapse import Synapse


def test_connect_matrix_keeps_the_token_not_the_password(
    synapse: Synapse, database_url: str
) -> None:
    _register_all()
    runner = CliRunner()
    bot = new_account(synapse, "bot")
    args = ["--homeserver", synapse.url, "--user", bot.user_id, "--database-url", database_url]
    done = runner.invoke(cli, ["connect", "matrix", *args, "--password", bot.password])
    assert done.exit_code == 0, done.output
    assert f"matrix:{bot.user_id}" in done.output
    assert bot.password not in done.output

    db = make_engine(database_url)
    config, state = ConnectionStore(db, f"matrix:{bot.user_id}").load()
    assert config.password == "" and config.access_token and config.device_id
    assert state == {}
    listed = runner.invoke(cli, ["connections", "--json", "--database-url", database_url])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["id"], r["platform"], r["workspace"]) for r in rows] == [
        (f"matrix:{bot.user_id}", "matrix", "default")
    ]
    assert config.access_token not in listed.output

    wrong = runner.invoke(cli, ["connect", "matrix", *args, "--password", "wrong-" + bot.password])
    assert wrong.exit_code == 2
    assert "M_FORBIDDEN" in wrong.output
    assert bot.password not in wrong.output
    bad = ["connect", "matrix", "--homeserver", synapse.url, "--user", "bot", "--password", "x"]
    bad_user = runner.invoke(cli, [*bad, "--database-url", database_url])
    assert bad_user.exit_code == 2 and "@bot:example.org" in bad_user.output
    db.dispose()
