"""Alembic, driven from code: `groupops db upgrade` and App start-up call :func:`upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db
    return cfg


def upgrade(db: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(db), revision)


def current(db: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.connect() as conn:
        rev = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
    return rev
