"""Time helpers: tz-aware UTC everywhere, day boundaries in the group's own zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from groupops.domain.errors import InvalidSettings
from groupops.i18n import N_


def utc(dt: datetime) -> datetime:
    """Return ``dt`` in UTC; a naive datetime is refused, never guessed."""
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueError(f"naive datetime {dt.isoformat()} (tz-aware UTC required)")
    return dt.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidSettings(
            N_("unknown time zone {name!r}"), where=N_("time zone"), name=name
        ) from exc


def local_day(dt: datetime, tz: str | ZoneInfo) -> date:
    """The calendar day of ``dt`` in the group's zone (streaks and 'daily' use this)."""
    z = tz if isinstance(tz, ZoneInfo) else zone(tz)
    return utc(dt).astimezone(z).date()


def minute(value: object, timezone: str = "UTC") -> str:
    """A stored time as ``2026-11-01 20:44`` (UTC, or in ``timezone``), whether the driver
    gave a datetime or text."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return ""
    if value.tzinfo is None:  # SQLite gives stored UTC times back without their zone
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M")
