"""``settings set --help`` names every built-in feature, in both languages: an operator reads
there which ``feature.`` prefixes there are (a feature added without it was missing)."""

from __future__ import annotations

import pytest
import typer
from sqlalchemy import insert, select

from groupops.features.notify import reach
from groupops.features.registry import DEFAULT_FEATURES, FeatureRegistry
from groupops.i18n import Catalogs
from groupops.storage.db import make_engine
from groupops.storage.tables import connections, groups, workspaces
from tests.cli import run
from tests.conftest import T0


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_help_of_settings_set_names_every_feature(cli: typer.Typer, lang: str) -> None:
    shown = run(cli, "settings", "set", "--help", lang=lang, COLUMNS="400")
    assert shown.exit_code == 0
    text = " ".join(shown.output.split())
    names = FeatureRegistry.load(DEFAULT_FEATURES, extensions=False).by_name
    assert names and all(name in text for name in names), sorted(names)


def _with_telegram(url: str) -> None:
    """A Telegram connection ``telegram:ops_bot`` in the default workspace, to which person
    501 has sent /start (as its updates record it) and 502 never has; its group -100."""
    db = make_engine(url)
    with db.begin() as conn:
        ws = conn.execute(select(workspaces.c.id).where(workspaces.c.slug == "default")).scalar()
        state = {"started": ["501"]}
        conn.execute(
            insert(connections).values(
                id=BOT, workspace_id=ws, platform="telegram", config={}, state=state, created_at=T0
            )
        )
        conn.execute(
            insert(groups).values(
                workspace_id=ws, source=BOT, chat_id="-100", title="Ops", created_at=T0
            )
        )
    db.dispose()


BOT = "telegram:ops_bot"


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_naming_someone_the_telegram_bot_cannot_write_to_yet_says_so(
    cli: typer.Typer, imported: str, lang: str
) -> None:
    _with_telegram(imported)
    to = "telegram:501, 502, matrix:@li:example.org"
    done = run(cli, "settings", "set", "notify.to", to, "--database-url", imported, lang=lang)
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    t = Catalogs().gettext(lang)

    def note(user: str) -> str:
        return t(reach.NOT_STARTED).format(bot="@ops_bot", user=user)

    # 501 has started the bot; Li is on Matrix, where the bot opens the chat itself
    assert [u for u in ("501", "502", "@li:example.org") if note(u) in text] == ["502"]

    # for one group: its own connection's people only; a setting that names nobody says nothing
    group = run(
        cli,
        "settings",
        "set",
        "notify.to",
        "501",
        "-g",
        f"{BOT}:-100",
        "--database-url",
        imported,
        lang=lang,
    )
    assert group.exit_code == 0 and "501" in group.output
    assert note("501") not in " ".join(group.output.split())
    again = run(
        cli,
        "settings",
        "set",
        "notify.to",
        "7",
        "-g",
        f"{BOT}:-100",
        "--database-url",
        imported,
        lang=lang,
    )
    assert note("7") in " ".join(again.output.split())
