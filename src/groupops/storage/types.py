"""Column types shared by all tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

JSONType = JSON().with_variant(JSONB(), "postgresql")


#: the text of the UTC timestamps written lately, by value: the rows of a batch share a few
#: (the batch's ``now``, an event's time written into several tables), ~60% of those written
#: in a batch run. Only exact ``datetime`` values in ``UTC`` are kept: two of them that are
#: equal are the same instant, whereas two equal datetimes of one other zone may not be (the
#: repeated hour at a clock change compares equal whatever its ``fold``).
_UTC_TEXTS: dict[datetime, str] = {}
_UTC_TEXTS_MAX = 4096


def sqlite_text(value: datetime) -> str:
    """How UTCDateTime stores ``value`` on SQLite (UTC, fixed width: it sorts and compares as
    text), for the few statements run on the driver's own cursor and the bulk writes."""
    if type(value) is datetime and value.tzinfo is UTC:
        text = _UTC_TEXTS.get(value)
        if text is None:
            if len(_UTC_TEXTS) >= _UTC_TEXTS_MAX:
                _UTC_TEXTS.clear()
            # in UTC the text is the isoformat without its "+00:00"
            text = _UTC_TEXTS[value] = value.isoformat(" ", "microseconds")[:-6]
        return text
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always tz-aware UTC going in and coming out, on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} (tz-aware UTC required)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # stored as fixed-width UTC text, which sorts and compares correctly
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]
