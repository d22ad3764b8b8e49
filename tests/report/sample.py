"""A small metrics dict in the documented areas, for rendering tests that must not depend on
the analytics' exact figures. Member names and keywords carry HTML to prove escaping."""

from __future__ import annotations

from typing import Any

EVIL = "<script>alert('x')</script>"
EVIL_IMG = '<img src=x onerror="window.__pwned=1">'


def sample_metrics() -> dict[str, Any]:
    days = [f"2024-03-{d:02d}" for d in range(1, 29)]
    return {
        "overview": {
            "messages": 1234,
            "members": 42,
            "active_members_30d": 17,
            "first": "2024-03-01",
            "last": "2024-03-28",
        },
        "activity": {
            "per_day": [
                {"date": d, "messages": 30 + i % 7 * 5, "active_members": 5 + i % 4}
                for i, d in enumerate(days)
            ],
            "per_week": [{"week": f"2024-W{w:02d}", "messages": 200 + w} for w in range(9, 13)],
            "heatmap": {"counts": [[(h * 7 + d) % 11 for h in range(24)] for d in range(7)]},
            "retention": {
                "cohorts": [
                    {"week": "2024-W09", "size": 10, "retained": [1.0, 0.6, 0.5, 0.4]},
                    {"week": "2024-W10", "size": 6, "retained": [1.0, 0.5, 0.33]},
                ]
            },
            "active_ratio": 0.405,
        },
        "lifecycle": {
            "stage": "declining",
            "evidence": ["messages per week fell 38% over the last 4 weeks", EVIL],
            "warning": {"active": True, "message": "activity halves every 3 weeks"},
        },
        "segments": {
            "counts": {"new_active": 3, "core": 5, "drifting": 4, "silent": 20, "churned": 10},
            "members": {"core": [{"name": EVIL}, {"name": "小明"}], "drifting": [{"name": "Bob"}]},
        },
        "top3": {
            "2024-02": [{"name": "Bob", "messages": 80}],
            "2024-03": [
                {"name": EVIL, "messages": 120},
                {"name": "小明", "messages": 90},
                {"name": "Alice", "messages": 60},
            ],
        },
        "graph": {
            "opinion_leaders": [
                {"name": EVIL_IMG, "score": 0.31},
                {"name": "小明", "score": 0.22},
            ],
            "soul_figures": [{"name": "小明", "split": 0.4}],
            "nodes": 42,
            "edges": 311,
        },
        "qa": {
            "questions": 88,
            "first_response": {"median": 45.0, "p90": 600.0, "within_1min": 0.55},
            "unanswered": [{"name": "Carol", "text": EVIL, "time": "2024-03-20T10:00:00+00:00"}],
        },
        "content": {
            "by_kind": [
                {"kind": "text", "posts": 1000, "replies_per_post": 0.8, "reactions_per_post": 0.1},
                {"kind": "picture", "posts": 100, "replies_per_post": 1.2},
            ]
        },
        "spam": {"share": 0.021, "messages": 26, "top_offenders": [{"name": EVIL, "spam": 9}]},
        "sentiment": {
            "over_time": [{"week": "2024-W09", "positive": 0.5, "negative": 0.2}],
            "spikes": [{"week": "2024-W11", "negative": 0.6, "started_by": EVIL}],
        },
        "keywords": {"top": [{"word": EVIL, "count": 12}, {"word": "安装", "count": 9}]},
        "growth": {
            "inviters": [{"name": "Alice", "invitees": 7}],
            "generations": 3,
            "active_after_7d": 0.6,
            "active_after_30d": 0.3,
        },
    }
