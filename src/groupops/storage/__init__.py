"""Storage: SQLAlchemy engine, shared tables, Alembic migrations."""
