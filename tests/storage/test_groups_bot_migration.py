"""Migration 0013 (groups.bot_*): groups made before it keep their rows and start with the bot
in the chat, nothing said about it; it goes down and up again with groups that others refer
to (memberships), on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import insert, inspect, select, text

from groupops.storage.db import make_engine
from groupops.storage.migrate import alembic_config, current, upgrade
from groupops.storage.tables import groups, members, memberships, workspaces
from tests.conftest import T0

BOT_COLUMNS = {"bot_in_chat", "bot_status", "bot_rights", "bot_changed_at"}


def _columns(db: object) -> set[str]:
    return {c["name"] for c in inspect(db).get_columns("groups")}


def test_groups_made_before_start_with_the_bot_there_and_nothing_said(database_url: str) -> None:
    db = make_engine(database_url)
    try:
        upgrade(db)
        command.downgrade(alembic_config(db), "0012")
        assert not BOT_COLUMNS & _columns(db)
        with db.begin() as conn:
            conn.execute(insert(workspaces).values(slug="w", name="w", settings={}, created_at=T0))
            conn.execute(
                text(
                    "INSERT INTO groups (workspace_id, source, chat_id, title, timezone, language,"
                    " settings, created_at, platform_title) VALUES (1, 'telegram:b', '-1', 'G',"
                    " 'Asia/Shanghai', 'en', '{}', '2026-11-01 00:00:00+00:00', '')"
                )
            )
            conn.execute(insert(members).values(workspace_id=1, display_name="Ann", created_at=T0))
            conn.execute(
                insert(memberships).values(group_id=1, member_id=1, status="active", via="")
            )
        upgrade(db, "0013")
        assert current(db) == "0013"
        with db.connect() as conn:
            row = conn.execute(select(groups)).one()
            conn.rollback()
        assert (row.title, row.bot_in_chat, row.bot_status, row.bot_rights) == ("G", True, "", None)
        assert row.bot_changed_at is None
        # down again with the membership referring to the group, and up
        command.downgrade(alembic_config(db), "0012")
        assert not BOT_COLUMNS & _columns(db)
        upgrade(db)
        assert _columns(db) >= BOT_COLUMNS
        with db.connect() as conn:
            assert conn.execute(select(memberships.c.group_id)).scalars().all() == [1]
            conn.rollback()
    finally:
        db.dispose()
