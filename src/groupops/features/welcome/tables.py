"""Welcome's own state: joins held back during a burst, welcomed together once it calms."""

from __future__ import annotations

from sqlalchemy import Column, Integer, Table

from groupops.storage.tables import ID, metadata
from groupops.storage.types import JSONType, UTCDateTime

welcome_bursts = Table(
    "welcome_bursts",
    metadata,
    Column("group_id", ID, primary_key=True),
    Column("names", JSONType, nullable=False),  # the first names held back, for the message
    Column("count", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("last_join_at", UTCDateTime, nullable=False),
)
