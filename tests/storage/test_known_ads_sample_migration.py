"""Migration 0019 (moderation_known_ads.sample): the texts kept before it stay known, with no
sample (the listing shows their evidence); it goes down and up again keeping the rows and the
table's indexes, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select, text

from groupops.features.moderation.tables import moderation_known_ads
from groupops.storage.db import make_engine
from groupops.storage.migrate import alembic_config, current, upgrade

FP = "ab" * 32
INDEXES = {"ix_moderation_known_ads_expires_at", "ix_moderation_known_ads_decision_id"}


def _columns(db: object) -> set[str]:
    return {c["name"] for c in inspect(db).get_columns("moderation_known_ads")}


def _indexes(db: object) -> set[str]:
    return {str(i["name"]) for i in inspect(db).get_indexes("moderation_known_ads")}


def test_texts_kept_before_have_no_sample_and_stay_known(database_url: str) -> None:
    db = make_engine(database_url)
    try:
        upgrade(db)
        command.downgrade(alembic_config(db), "0018")
        assert "sample" not in _columns(db)
        with db.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO moderation_known_ads (workspace_id, fingerprint, decision_id,"
                    " created_at, expires_at) VALUES (1, :fp, 7, '2026-11-01 00:00:00+00:00',"
                    " '2026-12-01 00:00:00+00:00')"
                ),
                {"fp": FP},
            )
        upgrade(db, "0019")
        assert current(db) == "0019"
        assert _indexes(db) >= INDEXES
        with db.connect() as conn:
            row = conn.execute(select(moderation_known_ads)).one()
            conn.rollback()
        assert (row.fingerprint, row.decision_id, row.sample) == (FP, 7, None)
        # down again (SQLite copies the table to drop the column): the row and indexes stay
        command.downgrade(alembic_config(db), "0018")
        assert "sample" not in _columns(db) and _indexes(db) >= INDEXES
        upgrade(db)
        with db.connect() as conn:
            assert conn.execute(select(moderation_known_ads.c.fingerprint)).scalars().all() == [FP]
            conn.rollback()
    finally:
        db.dispose()
