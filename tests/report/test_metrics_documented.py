"""Every key metrics.json holds is explained in docs/analytics.md ("Every figure"): a figure
added without a word there fails here. Keys are written as paths: ``area.key``,
``area.key.sub`` inside a mapping, ``area.key[].field`` for the rows of a list."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from groupops.analytics import analyze
from tests.analytics.helpers import T0, days, joined, left, msg

DOC = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"
# mappings whose keys are data (months, generations, channels, segments, stages), not names:
# the mapping itself has a row, its keys need none
DATA = {"top3", "growth.by_generation", "growth.joins_by_channel", "meta.seconds"}
DATA |= {"segments.counts", "segments.members"}


def paths(obj: Any, at: str = "") -> Iterator[str]:
    if at:
        yield at
    if at in DATA:
        return
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from paths(v, f"{at}.{k}" if at else str(k))
    elif isinstance(obj, list):
        for row in obj:
            if isinstance(row, Mapping):
                for k, v in row.items():
                    yield from paths(v, f"{at}[].{k}")


def _history() -> dict[str, Any]:
    """Every area filled: invitations, a departure, questions (one unanswered), a declining
    group with an early warning, and a week of negative messages."""
    events = [joined("boss", T0), joined("ann", T0, "boss"), joined("bob", T0, "ann")]
    events += [joined("cat", T0 + days(1))]
    for d in range(60):
        at = T0 + days(d)
        for k, who in enumerate(("ann", "bob", "cat", "boss")[: 4 if d < 40 else 1]):
            events.append(msg(who, at + days(0.01 * k), f"talking about the course {d}"))
    events += [
        msg("ann", T0 + days(3), "how do I submit?", mid="q"),
        msg("bob", T0 + days(3.001), "in the app", reply_to="q"),
        msg("cat", T0 + days(4), "anyone know the room?"),
    ]
    events += [msg("cat", T0 + days(20) + days(0.01 * i), "terrible awful bad") for i in range(8)]
    events.append(left("cat", T0 + days(45)))
    return analyze(sorted(events, key=lambda e: e.occurred_at))


def documented() -> set[str]:
    rows = set()
    for line in DOC.read_text(encoding="utf-8").splitlines():
        found = (
            re.fullmatch(r"`([a-z0-9_.\[\]]+)`", line.split("|")[1].strip())
            if "|" in line
            else None
        )
        if found:
            rows.add(found.group(1))
    return rows


def test_every_key_metrics_json_holds_has_a_row_in_docs_analytics() -> None:
    metrics = _history()
    assert metrics["growth"]["tree"] and metrics["qa"]["unanswered"]
    assert metrics["lifecycle"]["warning"].get("weekly_change") is not None
    found = set(paths(metrics))
    missing = sorted(found - documented())
    assert missing == [], f"docs/analytics.md has no row for {missing}"


def test_the_rows_name_only_keys_that_exist() -> None:
    """A documented key that metrics.json no longer holds is a stale row (spike and example
    rows are filled only by some histories: checked by name)."""
    found = set(paths(_history()))
    optional = {p for p in documented() if p.startswith(("sentiment.spikes", "spam.top_offenders"))}
    stale = sorted(documented() - found - optional)
    assert stale == [], stale
