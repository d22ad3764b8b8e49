"""What the report's charts share: the layout, a time axis at the series' own periods, a count
axis of whole numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from groupops.report.figures import pick, records
from groupops.report.labels import DATE_FORMATS, L_DAY, L_MONTH, L_WEEK


def _layout(fig: Any, **kw: Any) -> Any:
    layout: dict[str, Any] = {
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "height": 340,
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "legend": {"orientation": "h", "y": -0.2},
    }
    layout.update(kw)
    fig.update_layout(**layout)
    return fig


# -- axes -----------------------------------------------------------------------------------

DAY_MS = 86_400_000
UNITS = {L_DAY: "day", L_WEEK: "week", L_MONTH: "month"}
# half a period of each unit, in days: the margin around the first and last point, so that a
# single point sits in the middle of a readable axis (never a millisecond-wide one)
_HALF = {"day": 0.5, "week": 3.5, "month": 15.0}


def _as_date(x: Any) -> date | None:
    """A day (``2024-03-01``), a month (``2024-03``: its first day) or an ISO week
    (``2024-W10``: its Monday) as a date; None for anything else."""
    text = str(x)
    try:
        if re.fullmatch(r"\d{4}-W\d{2}", text):
            return date.fromisocalendar(int(text[:4]), int(text[6:]), 1)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            return date(int(text[:4]), int(text[5:]), 1)
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def week_starts(rows: Any, xs: list[Any]) -> list[Any]:
    """The weeks of a weekly series as their Mondays (``start``, else from the ISO week label),
    so that they sit on a date axis where a silent week takes its place."""
    recs = records(rows)
    starts = [pick(r, "start") for r in recs] if len(recs) == len(xs) else []
    if starts and all(isinstance(s, str) for s in starts):
        return starts
    found = [_as_date(x) for x in xs]
    return [d.isoformat() if d is not None else x for d, x in zip(found, xs, strict=True)]


def time_axis(xs: Sequence[Any], unit: str, lang: str) -> dict[str, Any]:
    """A date axis for a series of days, weeks or months: ticks never finer than the unit,
    months labelled by month, and a margin of half a period so that one point is readable."""
    found = [d for d in (_as_date(x) for x in xs) if d is not None]
    axis: dict[str, Any] = {"type": "date"}
    if not found:
        return axis
    first, last = min(found), max(found)
    half = timedelta(days=_HALF[unit])
    axis["range"] = [
        (datetime.combine(first, time()) - half).isoformat(),
        (datetime.combine(last, time()) + half).isoformat(),
    ]
    formats = DATE_FORMATS.get(lang, DATE_FORMATS["en"])
    span = (last - first).days
    if unit == "month":
        months = span // 30 + 1
        step = next(n for n in (1, 2, 3, 6, 12, 24, 60) if months / n <= 12)
        axis.update(
            dtick=f"M{step}",
            tick0=first.replace(day=1).isoformat(),
            tickformat=formats["month"],
            hoverformat=formats["month"],
        )
    elif unit == "week":
        axis["hoverformat"] = formats["week"]
        if span <= 12 * 7:
            axis.update(dtick=7 * DAY_MS, tick0=first.isoformat(), tickformat=formats["day"])
    elif span <= 14:
        axis.update(dtick=DAY_MS, tick0=first.isoformat(), tickformat=formats["day"])
    return axis


def count_axis(values: Sequence[float | None]) -> dict[str, Any]:
    """An axis of counts: from zero, and whole-number ticks (never 0.5 of a message)."""
    top = max((v for v in values if v is not None), default=0.0)
    axis: dict[str, Any] = {"rangemode": "tozero", "tickformat": ",d"}
    if top < 10:
        axis.update(dtick=1, tick0=0)
    return axis
