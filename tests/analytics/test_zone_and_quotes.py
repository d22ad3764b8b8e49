"""The calendar figures follow the zone the analysis runs in (--tz); quoted texts and
keywords are capped; the evidence's English has its singulars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from groupops.analytics import analyze
from groupops.analytics.context import quote, utc_offsets
from groupops.analytics.keywords import keywords
from groupops.domain.events import Event
from tests.analytics.helpers import joined, msg

# Sunday 2024-03-31 23:30 in Shanghai, then Monday 2024-04-01 00:30 and 01:00 there
LATE = datetime(2024, 3, 31, 15, 30, tzinfo=UTC)
NEAR_MIDNIGHT = [
    joined("a", LATE - timedelta(days=1)),
    joined("b", LATE - timedelta(days=1)),
    msg("a", LATE, "how do I join?"),
    msg("b", LATE + timedelta(hours=1), "hello"),
    msg("a", LATE + timedelta(hours=1, minutes=30), "bye"),
]


def _history() -> list[Event]:
    return list(NEAR_MIDNIGHT)


def test_days_months_and_hours_are_in_the_zone_of_the_analysis() -> None:
    r = analyze(_history(), tz="Asia/Shanghai")
    act = r["activity"]
    assert [(d["date"], d["messages"]) for d in act["per_day"]] == [
        ("2024-03-31", 1),
        ("2024-04-01", 2),
    ]
    assert [(m["month"], m["messages"]) for m in act["per_month"]] == [
        ("2024-03", 1),
        ("2024-04", 2),
    ]
    assert [(w["week"], w["messages"]) for w in act["per_week"]] == [
        ("2024-W13", 1),
        ("2024-W14", 2),
    ]
    heat = np.asarray(act["heatmap"]["counts"])
    assert heat[6, 23] == 1 and heat[0, 0] == 1 and heat[0, 1] == 1  # Sun 23h, Mon 0h and 1h
    assert heat.sum() == 3
    assert act["heatmap"]["cols"] == "hour (Asia/Shanghai)"
    assert act["time_zone"] == r["overview"]["time_zone"] == "Asia/Shanghai"
    assert (r["overview"]["first"], r["overview"]["last"]) == ("2024-03-31", "2024-04-01")
    assert set(r["top3"]) == {"2024-03", "2024-04"}
    assert r["overview"]["now"] == "2024-04-01T01:00:00+08:00"
    assert r["qa"]["unanswered"][0]["time"] == "2024-03-31T23:30:00+08:00"


def test_without_a_zone_everything_stays_utc() -> None:
    r = analyze(_history())
    act = r["activity"]
    assert [(d["date"], d["messages"]) for d in act["per_day"]] == [("2024-03-31", 3)]
    heat = np.asarray(act["heatmap"]["counts"])
    assert heat[6, 15] == 1 and heat[6, 16] == 1 and heat[6, 17] == 1
    assert act["heatmap"]["cols"] == "hour (UTC)" and r["overview"]["time_zone"] == "UTC"
    assert r["overview"]["now"] == "2024-03-31T17:00:00+00:00"


def test_offsets_follow_daylight_saving_within_a_day() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 2024-03-31: clocks go from 02:00 CET to 03:00 CEST (01:00 UTC)
    t = np.asarray(
        [
            datetime(2024, 3, 31, 0, 30, tzinfo=UTC).timestamp(),
            datetime(2024, 3, 31, 1, 30, tzinfo=UTC).timestamp(),
            datetime(2024, 10, 27, 0, 30, tzinfo=UTC).timestamp(),
            datetime(2024, 10, 27, 1, 30, tzinfo=UTC).timestamp(),
        ],
        dtype=np.int64,
    )
    assert utc_offsets(t, berlin).tolist() == [3600, 7200, 7200, 3600]
    rng = np.random.default_rng(1)
    sample = rng.integers(946_684_800, 1_893_456_000, size=2000)  # 2000-2030
    expected = [
        int(datetime.fromtimestamp(int(s), berlin).utcoffset().total_seconds())  # type: ignore[union-attr]
        for s in sample.tolist()
    ]
    assert utc_offsets(sample, berlin).tolist() == expected


def test_a_giant_token_is_no_keyword_and_quoted_texts_are_capped() -> None:
    """docs/analytics.md: "words" over 30 characters are no keywords; a quoted message is
    cut to 200 characters, the last an ellipsis (the documented figures, not the module's
    constants: a changed constant must fail here until the docs say so too)."""
    blob = "x" * 1_000_000
    texts = [blob, "deploy the server", "deploy again", "a" * 31 + " deploy", "b" * 30 + " ok"]
    assert keywords(texts) == [
        {"word": "deploy", "count": 3},
        {"word": "server", "count": 1},
        {"word": "b" * 30, "count": 1},  # 30 characters is still a word
    ]
    r = analyze([msg("a", LATE, blob + "?"), msg("b", LATE + timedelta(hours=3), "ok")])
    assert all(len(w["word"]) <= 30 for w in r["keywords"]["top"])
    text = r["qa"]["unanswered"][0]["text"]
    assert text == "x" * 199 + "…"


def test_quote_keeps_short_texts_and_cuts_long_ones_with_an_ellipsis() -> None:
    assert quote("short") == "short"
    assert quote("y" * 200) == "y" * 200  # the documented 200
    assert quote("y" * 201) == "y" * 199 + "…"


@pytest.mark.parametrize(
    ("hours", "line"), [(24, "first seen 1 day ago"), (48, "first seen 2 days ago")]
)
def test_first_seen_says_day_for_one_day(hours: int, line: str) -> None:
    start = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    events = [msg(u, start + timedelta(minutes=k), "hi") for k, u in enumerate("abcabc")]
    r = analyze(events, now=start + timedelta(hours=hours))
    assert r["lifecycle"]["stage"] == "new"
    assert r["lifecycle"]["evidence"] == [line]


def test_one_recent_message_is_one_message() -> None:
    start = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    r = analyze([msg("a", start, "hi")], now=start + timedelta(days=22))
    assert r["lifecycle"]["stage"] == "dead"
    assert r["lifecycle"]["evidence"][0] == "1 message in the last 28 days"


def test_a_group_of_days_where_little_was_said_is_new_not_dead() -> None:
    """The bot added to a group yesterday, one message so far: new. Three weeks on with no
    more: dead. Nothing at all: dead."""
    start = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    for age, stage in ((1, "new"), (20, "new"), (21, "dead")):
        r = analyze([msg("a", start, "hi")], now=start + timedelta(days=age))
        assert r["lifecycle"]["stage"] == stage, age
    assert analyze([], now=start)["lifecycle"]["stage"] == "dead"
