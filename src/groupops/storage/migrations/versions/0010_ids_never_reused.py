"""SQLite never hands an id out twice: AUTOINCREMENT on the tables whose rows get deleted

A table whose integer primary key is a plain rowid gets max(id) + 1 for a new row: once the
row with the highest id is deleted, the next row gets that id again. ``forget`` deletes a
member, and the next person to join got the forgotten member's id; when the forgotten person
came back, derived event ids such as ``checkin:{group}:{member}:{day}`` matched the old
(scrubbed) events, so their check-in was dropped as a duplicate and paid no points. The same
holds for every table whose rows forget (or anything else) deletes while their id lives on
elsewhere: members, memberships, owner tasks, moderation decisions, join gate challenges and
the sandbox's messages (whose ids are platform message ids). SQLite can only add AUTOINCREMENT
by rebuilding a table (data, indexes and foreign keys kept). PostgreSQL's sequences never go
back: nothing to do there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 04:00:00
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = (
    "members",
    "memberships",
    "owner_tasks",
    "moderation_decisions",
    "gate_challenges",
    "sandbox_messages",
)


@contextmanager
def _foreign_keys_off(driver: Any) -> Iterator[None]:
    """SQLite checks foreign keys when a table is dropped, and a rebuild drops the old table:
    members, which other tables refer to, can only be rebuilt with the checks off. That pragma
    is ignored inside a transaction, so the migrations before this one are committed first,
    the rebuild runs in a transaction of its own, checked as a whole before it commits, and a
    new transaction is open again for Alembic afterwards."""
    if driver.in_transaction:
        driver.execute("COMMIT")
    driver.execute("PRAGMA foreign_keys=OFF")
    driver.execute("BEGIN IMMEDIATE")
    try:
        yield
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"rebuilding tables broke foreign keys: {broken[:5]}")
        driver.execute("COMMIT")
    except BaseException:
        driver.execute("ROLLBACK")
        raise
    finally:
        driver.execute("PRAGMA foreign_keys=ON")
        driver.execute("BEGIN IMMEDIATE")


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    existing = set(bind.dialect.get_table_names(bind))
    with _foreign_keys_off(bind.connection.driver_connection):
        for name in TABLES:
            if name not in existing:
                continue
            with op.batch_alter_table(
                name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
            ):
                pass
        if autoincrement:
            _skip_forgotten_members(bind.connection.driver_connection)


def _skip_forgotten_members(driver: Any) -> None:
    """A member forgotten before this upgrade may have had the highest id: start the members'
    sequence after the highest id ever forgotten too (``forgotten_members`` keeps them)."""
    top = driver.execute(
        "SELECT max(coalesce((SELECT max(id) FROM members), 0),"
        " coalesce((SELECT max(member_id) FROM forgotten_members), 0))"
    ).fetchone()[0]
    if top:
        driver.execute("DELETE FROM sqlite_sequence WHERE name = 'members'")
        driver.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('members', ?)", (top,))


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
