"""Alembic environment: the engine comes from groupops (``config.attributes['engine']``)."""

from __future__ import annotations

from alembic import context

from groupops.storage.schema import all_metadata

config = context.config
target_metadata = all_metadata()


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from groupops.storage.db import make_engine

        engine = make_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
