"""`python -m groupops.storage.pgcheck`: exit 0 when PostgreSQL answers on 127.0.0.1:5432."""

from __future__ import annotations

import os
import sys

import psycopg

PG_ADMIN_URL = os.environ.get(
    "GROUPOPS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def reachable(url: str = PG_ADMIN_URL) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


if __name__ == "__main__":
    sys.exit(0 if reachable() else 1)
