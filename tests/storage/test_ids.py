"""Ids are never handed out twice: on SQLite the tables whose rows get deleted (forget) use
AUTOINCREMENT, and migration 0010 rebuilds them in a database made before, keeping its data,
indexes and foreign keys (PostgreSQL's sequences never go back: nothing to do there)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Table, delete, insert, select, text

from groupops.features.checkin.tables import checkin_days
from groupops.features.moderation.tables import moderation_decisions
from groupops.platforms.sandbox.tables import sandbox_messages
from groupops.storage.db import make_engine
from groupops.storage.migrate import alembic_config, current, upgrade
from groupops.storage.schema import all_metadata
from groupops.storage.tables import (
    forgotten_members,
    groups,
    identities,
    members,
    memberships,
    owner_tasks,
    workspaces,
)
from tests.conftest import ON_POSTGRES, T0

KEPT = (members, identities, memberships, checkin_days, moderation_decisions, sandbox_messages)


def test_every_table_whose_ids_must_not_come_back_has_autoincrement_on_sqlite(
    database_url: str,
) -> None:
    if ON_POSTGRES:
        pytest.skip("SQLite only: PostgreSQL's sequences never hand out an id twice")
    db = make_engine(database_url)
    upgrade(db)
    declared = sorted(
        t.name for t in all_metadata().sorted_tables if t.dialect_options["sqlite"]["autoincrement"]
    )
    with db.connect() as conn:
        built = sorted(
            name
            for name, sql in conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            )
            if "AUTOINCREMENT" in sql
        )
    db.dispose()
    assert {"members", "memberships", "owner_tasks", "outbox"} <= set(declared)
    assert {"moderation_decisions", "gate_challenges", "sandbox_messages"} <= set(declared)
    assert built == declared


def _new_member(conn: Connection, name: str) -> int:
    return int(
        conn.execute(
            insert(members)
            .values(workspace_id=1, display_name=name, created_at=T0)
            .returning(members.c.id)
        ).scalar_one()
    )


def _rows(conn: Connection, table: Table) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in conn.execute(select(table)))


def test_upgrade_keeps_the_data_and_never_reuses_a_forgotten_id(database_url: str) -> None:
    """A database at 0009 with members, one of them (the highest id) already forgotten:
    after the upgrade every row is as it was, the schema is the declared one (indexes and
    foreign keys included), foreign keys are enforced again, and the next member's id is
    above every id handed out before, the forgotten one's too."""
    db = make_engine(database_url)
    upgrade(db)
    command.downgrade(alembic_config(db), "0009")
    with db.begin() as conn:
        conn.execute(insert(workspaces).values(slug="w", name="w", settings={}, created_at=T0))
        conn.execute(
            insert(groups).values(
                workspace_id=1, source="sandbox", chat_id="g", title="g",
                timezone="Asia/Shanghai", language="en", settings={}, created_at=T0,
            )
        )  # fmt: skip
        ann, bob, gone = (_new_member(conn, n) for n in ("Ann", "Bob", "Emily"))
        for mid, uid in ((ann, "u1"), (bob, "u2")):
            conn.execute(insert(identities).values(member_id=mid, source="sandbox", user_id=uid))
            conn.execute(
                insert(memberships).values(
                    group_id=1, member_id=mid, status="active", is_admin=False, via="",
                    inviter_member_id=ann if mid == bob else None,
                )
            )  # fmt: skip
        conn.execute(
            insert(checkin_days).values(
                group_id=1, member_id=bob, day=T0.date(), checked_at=T0, streak=1, goal="",
                made_up=False,
            )
        )  # fmt: skip
        conn.execute(
            insert(moderation_decisions).values(
                created_at=T0, workspace_id=1, group_id=1, member_id=bob, source="sandbox",
                chat_id="g", rule="link", step="warn", actions=[], counted=True, by="auto",
            )
        )  # fmt: skip
        conn.execute(
            insert(sandbox_messages).values(
                source="sandbox", chat_id="g", user_id="u1", user_name="Ann", kind="message",
                to_user_id="", text="hi", reply_to="", created_at=T0, deleted=False,
                pinned=False,
            )
        )  # fmt: skip
        conn.execute(delete(members).where(members.c.id == gone))  # forgotten before 0010
        conn.execute(insert(forgotten_members).values(member_id=gone, forgotten_at=T0))
        before = {t.name: _rows(conn, t) for t in KEPT}

    upgrade(db)
    assert current(db) == ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    with db.connect() as conn:
        assert {t.name: _rows(conn, t) for t in KEPT} == before
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), all_metadata()
        )
        assert diff == [], f"models and migrations differ: {diff}"
        if not ON_POSTGRES:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        conn.rollback()
    with db.begin() as conn:
        assert _new_member(conn, "Chen") > gone
        task = insert(owner_tasks).values(
            workspace_id=1, source="sandbox", chat_id="g", action={}, text="t", feature="",
            status="open", created_at=T0,
        )  # fmt: skip
        first = conn.execute(task.returning(owner_tasks.c.id)).scalar_one()
        conn.execute(delete(owner_tasks))
        assert conn.execute(task.returning(owner_tasks.c.id)).scalar_one() > first
    if not ON_POSTGRES:  # a member others refer to cannot be deleted under them
        with pytest.raises(Exception, match="FOREIGN KEY"), db.begin() as conn:
            conn.execute(delete(members).where(members.c.id == bob))
    db.dispose()
