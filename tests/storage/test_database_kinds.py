"""Only SQLite and PostgreSQL are databases groupops runs on: any other kind is refused by name
with the kinds it takes, even one SQLAlchemy knows but whose driver is not installed."""

from __future__ import annotations

import pytest

from groupops.domain.errors import DatabaseUnavailable
from groupops.storage.db import open_database


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("mysql://a/b", "mysql"),
        ("mysql+pymysql://root:s3cret@db/b", "mysql+pymysql"),
        ("mssql://a/b", "mssql"),
        ("postgresql+nope://a/b", "postgresql+nope"),
        ("foo://x", "foo"),
    ],
)
def test_an_unsupported_kind_of_database_is_named_with_the_kinds_groupops_takes(
    url: str, kind: str
) -> None:
    with pytest.raises(DatabaseUnavailable) as refused:
        open_database(url)
    said = str(refused.value)
    assert f"unknown kind of database {kind!r}" in said
    assert "sqlite:///" in said and "postgresql://" in said
    assert "MySQLdb" not in said and "s3cret" not in said
