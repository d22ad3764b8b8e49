"""Reading the metrics tolerantly and writing their figures for people.

The metrics may name a figure in several ways (``pick``), hold a series in several shapes
(``series``, ``records``); ``fmt``, ``pct`` and ``seconds`` write a figure as a reader sees it,
and ``label`` makes a chat string safe for a plotly label.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from typing import Any

from groupops.i18n import english
from groupops.report.labels import (
    DATA_KEYS,
    DAYS,
    DURATION_KEYS,
    HOURS,
    MINUTES,
    NOT_SHARES,
    SECONDS,
    SHARE_COLUMNS,
    UNDER_A_MINUTE,
    Gettext,
    key_label,
)


def label(value: Any) -> str:
    """A chat string made safe for a plotly label (plotly renders a subset of HTML there)."""
    return html.escape(str(value), quote=True)


# -- reading the metrics tolerantly ----------------------------------------------------------


def pick(obj: Any, *names: str) -> Any:
    """The first of ``names`` present in the mapping ``obj`` (None when none is)."""
    if isinstance(obj, Mapping):
        for name in names:
            if name in obj and obj[name] is not None:
                return obj[name]
    return None


def num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if isinstance(value, float) and not math.isfinite(value) else float(value)


def fmt(value: Any, _: Gettext | None = None) -> str:
    """A figure for people: thousands separated, floats to 3 significant places. With ``_``,
    the keys of a mapping are shown as :func:`key_label`."""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v, _) for v in value[:20]) + (" …" if len(value) > 20 else "")
    if isinstance(value, Mapping):
        items = list(value.items())[:12]
        if _ is None:
            return "; ".join(f"{k}: {fmt(v)}" for k, v in items)
        return "; ".join(f"{key_label(k, _)}: {fmt(v, _)}" for k, v in items)
    return str(value)


def pct(value: Any) -> str:
    v = num(value)
    return "–" if v is None else f"{v * 100:.1f}%"


def seconds(value: Any, _: Gettext = english, resolution: Any = 1) -> str:
    """A duration in the unit that suits it (s, min, h, d), units through ``_``; under a minute
    said as such when the times were written to the minute (``resolution`` 60 s)."""
    v = num(value)
    if v is None:
        return "–"
    if (num(resolution) or 1) >= 60 and v < 5400:  # whole minutes: no seconds to show
        return _(UNDER_A_MINUTE) if v < 60 else _(MINUTES).format(n=f"{v / 60:.0f}")
    if v < 90:
        return _(SECONDS).format(n=f"{v:.0f}")
    if v < 5400:
        return _(MINUTES).format(n=f"{v / 60:.1f}")
    if v < 172800:
        return _(HOURS).format(n=f"{v / 3600:.1f}")
    return _(DAYS).format(n=f"{v / 86400:.1f}")


_ISO_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def readable_time(value: Any) -> Any:
    """An ISO 8601 time as people write it (``2024-03-04 09:12``: already in the report's
    zone, which the page names); anything else as it is."""
    if isinstance(value, str):
        m = _ISO_TIME.fullmatch(value)
        if m:
            return f"{m.group(1)} {m.group(2)}"
    return value


def precision(value: Any, _: Gettext = english) -> str:
    """``resolution_s`` in words: "1 min" for exports that write minutes only, else seconds."""
    v = num(value)
    if v is None:
        return "–"
    if v >= 60 and v % 60 == 0:
        return _(MINUTES).format(n=f"{v / 60:.0f}")
    return _(SECONDS).format(n=f"{v:g}")


def figure_text(
    key: Any, value: Any, _: Gettext = english, area: str = "", within: Any = None
) -> str:
    """One figure of an area for people, by what its key says it is: shares as percentages,
    durations with their unit, times as date and clock, a mapping as "name: value" pairs
    (each said the same way). ``within``: the mapping that holds it."""
    k = str(key)
    if isinstance(value, Mapping):
        data_key = DATA_KEYS.get(k)
        return "; ".join(
            f"{_(data_key).format(n=sub) if data_key else key_label(sub, _, area)}: "
            f"{figure_text(sub, v, _, area, value)}"
            for sub, v in list(value.items())[:12]
        )
    if k == "resolution_s":
        return precision(value, _)
    if k in DURATION_KEYS and num(value) is not None:
        step = pick(within, "resolution_s") or 1
        return seconds(value, _, step)
    if k in SHARE_COLUMNS and (area, k) not in NOT_SHARES and num(value) is not None:
        return pct(value)
    if isinstance(value, list):
        return fmt([readable_time(v) for v in value], _)
    return fmt(readable_time(value), _)


def series(obj: Any) -> tuple[list[Any], dict[str, list[float | None]]]:
    """A time series in any of the usual shapes -> (x, {name: y}).

    Accepts a list of records (``[{"date": ..., "messages": ...}]``), a mapping of x to a
    number or to a record, or column lists (``{"x"/"dates": [...], "messages": [...]}``)."""
    xs: list[Any] = []
    ys: dict[str, list[float | None]] = {}
    xkeys = ("date", "day", "week", "month", "period", "start", "time", "x", "bucket")
    if isinstance(obj, Mapping):
        xcol = pick(obj, "dates", "days", "weeks", "months", "periods", "x", "index", "labels")
        if isinstance(xcol, list):
            xs = list(xcol)
            for k, v in obj.items():
                if (
                    isinstance(v, list)
                    and v is not xcol
                    and len(v) == len(xs)
                    and all(num(i) is not None or i is None for i in v)
                ):
                    ys[str(k)] = [num(i) for i in v]
            return xs, ys
        records: list[Any] = [
            {"x": k, **v} if isinstance(v, Mapping) else {"x": k, "value": v}
            for k, v in obj.items()
        ]
    elif isinstance(obj, list):
        records = list(obj)
    else:
        return xs, ys
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            if isinstance(rec, list | tuple) and len(rec) >= 2:
                xs.append(rec[0])
                ys.setdefault("value", [None] * i).append(num(rec[1]))
            continue
        x = pick(rec, *xkeys)
        xs.append(x)
        for k, v in rec.items():
            if k in xkeys:
                continue
            n = num(v)
            if n is not None or k in ys:
                ys.setdefault(str(k), [None] * (len(xs) - 1)).append(n)
        for values in ys.values():
            while len(values) < len(xs):
                values.append(None)
    return xs, ys


def records(obj: Any) -> list[Mapping[str, Any]]:
    """A list of records from a list of mappings, or from a mapping of name -> record/number."""
    if isinstance(obj, list):
        return [r for r in obj if isinstance(r, Mapping)]
    if isinstance(obj, Mapping):
        out: list[Mapping[str, Any]] = []
        for k, v in obj.items():
            out.append({"name": k, **v} if isinstance(v, Mapping) else {"name": k, "value": v})
        return out
    return []


def _name(rec: Mapping[str, Any]) -> str:
    value = pick(rec, "name", "author_name", "user_name", "member", "author", "user", "user_id")
    return "" if value is None else str(value)
