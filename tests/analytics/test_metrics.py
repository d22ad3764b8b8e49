"""Every metric area on small hand-built histories with known answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from groupops.analytics import analyze
from groupops.domain.events import ContentKind, Event
from tests.analytics.helpers import T0, days, joined, left, msg

S = timedelta(seconds=1)


def steady(weeks: int, users: list[str], per_day: int = 3, start: datetime = T0) -> list[Event]:
    out = []
    for d in range(weeks * 7):
        for k in range(per_day):
            out.append(
                msg(users[(d + k) % len(users)], start + days(d) + k * 37 * S, f"message {d} {k}")
            )
    return out


def test_activity_counts_days_weeks_heatmap_and_ratio() -> None:
    events = [joined("a", T0), joined("b", T0), joined("c", T0)]
    events += [msg("a", T0 + 1 * S), msg("b", T0 + 2 * S), msg("a", T0 + days(1))]
    r = analyze(events, now=T0 + days(2))
    act = r["activity"]
    assert act["per_day"] == [
        {"date": "2024-03-04", "messages": 2, "active_members": 2},
        {"date": "2024-03-05", "messages": 1, "active_members": 1},
    ]
    assert act["per_week"][0]["week"] == "2024-W10" and act["per_week"][0]["messages"] == 3
    # Monday 09:00 UTC twice, Tuesday 09:00 once
    assert act["heatmap"]["counts"][0][9] == 2 and act["heatmap"]["counts"][1][9] == 1
    assert act["active_ratio"] == pytest.approx(2 / 3, abs=1e-3)
    assert r["overview"]["messages"] == 3 and r["overview"]["members"] == 3


def test_retention_by_join_week() -> None:
    events = [joined("a", T0), joined("b", T0 + days(1)), joined("c", T0 + days(8))]
    events += [msg("a", T0 + days(2)), msg("a", T0 + days(9)), msg("b", T0 + days(3))]
    events += [msg("c", T0 + days(9))]
    r = analyze(events, now=T0 + days(15))
    cohorts = r["activity"]["retention"]["cohorts"]
    assert cohorts[0] == {"week": "2024-W10", "size": 2, "retained": [1.0, 0.5, 0.0]}
    assert cohorts[1]["size"] == 1 and cohorts[1]["retained"][0] == 1.0


def test_a_group_that_stopped_talking_is_dead() -> None:
    events = steady(8, ["a", "b", "c"])
    r = analyze(events, now=T0 + days(8 * 7 + 30))
    assert r["lifecycle"]["stage"] == "dead"
    assert "21 days" in r["lifecycle"]["rule"]


def test_a_fading_group_is_declining_with_an_early_warning() -> None:
    events = []
    users = [f"u{i}" for i in range(12)]
    for w in range(10):
        per_week = max(1, int(120 * 0.55 ** max(w - 4, 0)))
        active = users if w < 5 else users[: max(2, 12 - 3 * (w - 4))]
        for k in range(per_week):
            events.append(msg(active[k % len(active)], T0 + days(w * 7) + k * 300 * S))
    r = analyze(events, now=T0 + days(70) - S)
    lc = r["lifecycle"]
    assert lc["stage"] == "declining", lc
    assert lc["warning"]["active"] is True and lc["warning"]["weekly_change"] < -0.3
    assert lc["figures"]["messages_last_28d"] < lc["figures"]["messages_prev_28d"]


def test_early_warning_counts_distinct_active_members_over_two_weeks() -> None:
    """Active members in the warning are distinct people over each 2-week window: one who
    posts in both weeks counts once (weekly counts added up said 8 -> 4 for 4 -> 4)."""

    def group(last_two: list[list[str]]) -> dict[str, Any]:
        events = []
        weeks = [["a", "b", "c", "d"]] * 4 + last_two
        for w, users in enumerate(weeks):  # 8 messages every week, shared by that week's users
            for k in range(8):
                events.append(msg(users[k % len(users)], T0 + days(w * 7) + k * 600 * S))
        warning: dict[str, Any] = analyze(events, now=T0 + days(42) - S)["lifecycle"]["warning"]
        return warning

    same_people = group([["a", "b"], ["c", "d"]])  # 4 distinct before, 4 distinct after
    assert same_people["active"] is False, same_people
    assert "fell" not in same_people["message"]
    halved = group([["a", "b"], ["a", "b"]])  # 4 distinct before, 2 after
    assert halved["active"] is True
    assert halved["message"] == "active members fell from 4 to 2 (last 2 weeks)"


def test_new_growing_and_mature_stages() -> None:
    young = steady(2, ["a", "b"])
    assert analyze(young, now=T0 + days(14))["lifecycle"]["stage"] == "new"
    flat = steady(10, ["a", "b", "c"])
    assert analyze(flat, now=T0 + days(70))["lifecycle"]["stage"] == "mature"
    grow = steady(6, ["a", "b"], per_day=1) + steady(
        4, ["a", "b", "c", "d"], per_day=4, start=T0 + days(42)
    )
    lc = analyze(grow, now=T0 + days(70))["lifecycle"]
    assert lc["stage"] == "growing" and lc["warning"]["active"] is False


def test_member_segments() -> None:
    now = T0 + days(60)
    events = [joined(u, T0) for u in ("core1", "drift", "quiet", "gone", "old")]
    for d in range(60):  # core1 talks daily, a lot
        events += [msg("core1", T0 + days(d) + k * S) for k in range(3)]
    for d in range(40):  # drift was a top poster, silent the last 12 days
        if d < 48 - 0:
            events += [msg("drift", T0 + days(d + 8) + k * S) for k in range(4)]
    events += [msg("old", T0 + days(1))]  # spoke once, long ago
    events += [msg("gone", T0 + days(2)), left("gone", T0 + days(3))]
    events += [joined("newbie", now - days(3)), msg("newbie", now - days(2))]
    r = analyze(events, now=now)
    seg = r["segments"]
    names = {s: {m["name"] for m in seg["members"][s]} for s in seg["members"]}
    assert names["core"] == {"core1"}
    assert names["drifting"] == {"drift"}
    assert names["silent"] == {"quiet"}
    assert names["churned"] == {"gone", "old"}
    assert names["new_active"] == {"newbie"}
    assert seg["counts"]["core"] == 1


def test_monthly_top3() -> None:
    events = []
    for who, n in (("a", 5), ("b", 3), ("c", 4), ("d", 1)):
        events += [msg(who, T0 + k * 60 * S) for k in range(n)]
    events += [msg("d", T0 + days(30) + k * S) for k in range(2)]
    top = analyze(events)["top3"]
    assert [x["name"] for x in top["2024-03"]] == ["a", "c", "b"]
    assert top["2024-04"] == [{"name": "d", "messages": 2}]


def test_soul_figure_bridging_two_cliques() -> None:
    events = []
    t = T0
    mid = 0

    def say(user: str, text: str, reply_to: str = "", gap: int = 30) -> str:
        nonlocal t, mid
        mid += 1
        t += gap * S
        events.append(msg(user, t, text, mid=str(mid), reply_to=reply_to))
        return str(mid)

    for _ in range(5):
        for clique in (("a1", "a2", "a3"), ("b1", "b2", "b3")):
            first = say(clique[0], "topic", gap=3 * 3600)  # a new conversation
            for other in clique[1:]:
                say(other, "answer", first)
        x = say("bridge", "news", gap=3 * 3600)
        say("a1", "thanks", x)
        y = say("bridge", "more news", gap=3 * 3600)
        say("b1", "thanks", y)
    g = analyze(events)["graph"]
    assert g["soul_figures"][0]["name"] == "bridge"
    assert g["soul_figures"][0]["articulation_point"] is True
    assert g["soul_figures"][0]["split"] >= 0.5
    assert "bridge" in [x["name"] for x in g["opinion_leaders"][:3]]


def test_questions_first_response_times_and_unanswered() -> None:
    events = [
        msg("a", T0, "how do I install it?", mid="1"),
        msg("b", T0 + 30 * S, "a: use apt", mid="2", reply_to="1"),
        msg("c", T0 + days(1), "怎么退款？", mid="3"),
        msg("d", T0 + days(1) + 120 * S, "找客服", mid="4", reply_to="3"),
        msg("e", T0 + days(2), "where is the manual?", mid="5"),
        msg("f", T0 + days(2) + 600 * S, "e: here", mid="6", reply_to="5"),
        msg("g", T0 + days(3), "有人知道明天上课吗", mid="7"),
        msg("g", T0 + days(6), "just a statement", mid="8"),
    ]
    qa = analyze(events)["qa"]
    assert qa["questions"] == 4 and qa["answered"] == 3
    assert qa["first_response"]["median"] == 120.0
    assert qa["first_response"]["within_1min"] == pytest.approx(1 / 3, abs=1e-3)
    assert [u["text"] for u in qa["unanswered"]] == ["有人知道明天上课吗"]


def test_content_ranking_is_measured() -> None:
    events = []
    n = 0
    for k in range(10):
        n += 1
        pic = str(n)
        events.append(msg("a", T0 + days(k), "", mid=pic, content=ContentKind.PICTURE))
        for r in range(3):
            n += 1
            events.append(msg(f"r{r}", T0 + days(k) + (r + 1) * S, "wow", mid=str(n), reply_to=pic))
        n += 1
        events.append(msg("a", T0 + days(k) + 3600 * S, "plain text", mid=str(n), reactions=1))
    c = analyze(events)["content"]
    kinds = {r["kind"]: r for r in c["by_kind"]}
    assert kinds["picture"]["replies_per_post"] == 3.0
    assert kinds["text"]["reactions_per_post"] == pytest.approx(0.25, abs=1e-3)
    assert c["measured_ranking"][0] == "picture"
    assert c["claim_holds"] is False


def test_invitation_tree_generations_and_retention() -> None:
    events = [joined("root", T0)]
    events += [joined("c1", T0 + days(1), "root"), joined("c2", T0 + days(1), "root")]
    events += [joined("g1", T0 + days(2), "c1"), joined("gg1", T0 + days(3), "g1")]
    events += [msg("c1", T0 + days(20)), msg("c2", T0 + days(2)), msg("g1", T0 + days(40))]
    gr = analyze(events, now=T0 + days(45))["growth"]
    assert gr["generations"] == 3
    assert gr["by_generation"] == {"1": 2, "2": 1, "3": 1}
    assert gr["inviters"][0] == {"name": "root", "invitees": 2}
    # after 7 days: c1 (day 20 >= 8) and g1 (day 40 >= 9) yes, c2 and gg1 no
    assert gr["active_after_7d"] == 0.5
    # after 30 days: only g1 (40 >= 32)
    assert gr["active_after_30d"] == 0.25


def test_spam_sentiment_keywords_in_chinese_and_english() -> None:
    events = []
    for k in range(30):
        events.append(
            msg(
                "spammer",
                T0 + days(k // 3) + k * S,
                "加微信 vx123 日赚千元 免费领取 点击链接 http://x.cn",
            )
        )
        events.append(
            msg(
                "alice",
                T0 + days(k // 3) + (k + 100) * S,
                "今天的课程讲得很好，老师讲解清楚，学到很多",
            )
        )
        events.append(
            msg(
                "bob",
                T0 + days(k // 3) + (k + 200) * S,
                "the python course is great, thanks for the python examples",
            )
        )
    for k in range(12):  # a burst of complaints in week 3
        events.append(
            msg(
                "carol" if k == 0 else f"x{k}",
                T0 + days(14) + k * 60 * S,
                "太差了，退款！服务很差，失望透顶"
                if k % 2 == 0
                else "terrible, broken again, worst service, refund",
            )
        )
    r = analyze(events)
    assert r["spam"]["top_offenders"][0]["name"] == "spammer"
    assert 0.2 < r["spam"]["share"] < 0.5
    words = [w["word"] for w in r["keywords"]["top"]]
    assert "python" in words and "课程" in words
    assert r["sentiment"]["spikes"], r["sentiment"]["over_time"]
    assert r["sentiment"]["spikes"][0]["started_by"] == "carol"


def test_result_is_json_and_same_from_columns(shared_data: Path) -> None:
    import json

    from groupops.importers import read, read_columns

    path = shared_data / "whatsapp" / "4A_11M.txt"
    a = analyze(read(path))
    b = analyze(read_columns(path))
    json.dumps(a)
    assert a["overview"]["messages"] == b["overview"]["messages"] > 0
    assert a["top3"] == b["top3"]


def test_progress_is_reported() -> None:
    seen: list[int] = []
    analyze(steady(1, ["a"]), progress=seen.append)
    assert seen and seen[-1] == 21


def test_empty_history() -> None:
    r = analyze([], now=T0)
    assert r["overview"]["messages"] == 0
    assert r["lifecycle"]["stage"] == "dead"


SPAM_TEXT = "加微信 vx123 日赚千元 免费领取 点击链接 http://x.cn"


def _spam_history() -> list[Event]:
    """A spammer with 3 text messages among many pictures (no text), and talkers."""
    events = []
    for k in range(3):
        events.append(msg("spammer", T0 + days(k), SPAM_TEXT))
    for k in range(40):
        events.append(msg("poster", T0 + days(k % 5) + k * S, "", content=ContentKind.PICTURE))
        events.append(msg("alice", T0 + days(k % 5) + (k + 50) * S, "今天的课程讲得很好"))
    return sorted(events, key=lambda e: e.occurred_at)


def test_spam_counts_are_what_was_read_when_everything_was_read() -> None:
    r = analyze(_spam_history())["spam"]
    assert r["sampled"] == r["text_messages"] == 43  # the pictures have no text to read
    assert r["messages"] <= r["sampled"]
    spammer = next(o for o in r["top_offenders"] if o["name"] == "spammer")
    assert spammer["spam"] == 3  # not scaled by all messages / text messages
    assert spammer["share_of_their_messages"] == 1.0
    for o in r["top_offenders"]:
        assert 0 <= o["share_of_their_messages"] <= 1


def test_sampled_spam_estimates_never_exceed_what_a_member_posted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from groupops.analytics import text_metrics

    monkeypatch.setattr(text_metrics, "TEXT_SAMPLE", 10)
    r = analyze(_spam_history())["spam"]
    assert r["sampled"] == 10 and r["text_messages"] == 43
    assert r["messages"] <= r["text_messages"]
    for o in r["top_offenders"]:
        assert 0 <= o["share_of_their_messages"] <= 1
        if o["name"] == "spammer":
            assert o["spam"] <= 3


def _bot_post(at: datetime, text: str, reply_to: str = "") -> Event:
    from dataclasses import replace

    e = msg("B1", at, text, reply_to=reply_to)
    return replace(e, user_name="github", data={"bot": True, "bot_id": "B1"})


def test_bots_post_messages_but_are_no_members() -> None:
    """A busy integration (CI/GitHub notices, answered by people) is counted in the messages
    but not among members, posters, active members, segments, the top 3 or the leaders."""
    events: list[Event] = []
    for d in range(35):
        at = T0 + days(d)
        for k in range(6):
            bot = _bot_post(at + k * S, f"[repo:main] {d}-{k} new commit by ann")
            events.append(bot)
            events.append(msg("ann", at + (k + 30) * S, "looks good", reply_to=bot.message_id))
        events.append(msg("bob", at + 100 * S, "ann: thanks for that commit"))
    r = analyze(sorted(events, key=lambda e: e.occurred_at))
    assert r["overview"]["messages"] == 35 * 13  # the bot's posts are messages
    assert r["overview"]["members"] == r["overview"]["posters"] == 2
    assert r["overview"]["active_members_30d"] == 2
    assert r["activity"]["per_day"][-1]["active_members"] == 2
    assert sum(r["segments"]["counts"].values()) == 2
    listed = {m["name"] for ms in r["segments"]["members"].values() for m in ms}
    assert listed == {"ann", "bob"}
    for top in r["top3"].values():
        assert "github" not in {t["name"] for t in top}
    assert "github" not in {x["name"] for x in r["graph"]["opinion_leaders"]}
    assert "github" not in {x["name"] for x in r["graph"]["soul_figures"]}
    assert r["spam"]["text_messages"] == 35 * 7  # the text models read people only
    assert r["lifecycle"]["figures"]["active_last_28d"] == 2


def test_silent_days_weeks_and_months_are_rows_of_zeros() -> None:
    """A group that talks on 4 March, falls silent for five weeks and talks again on 15 April:
    every day, week and month in between is in the series, with 0 messages, so a chart shows
    the silence instead of a line across it."""
    events = [msg("a", T0), msg("b", T0 + 60 * S), msg("a", T0 + days(42))]
    act = analyze(events, now=T0 + days(42))["activity"]
    per_day = act["per_day"]
    assert len(per_day) == 43  # 4 March to 15 April
    assert per_day[0] == {"date": "2024-03-04", "messages": 2, "active_members": 2}
    assert per_day[1] == {"date": "2024-03-05", "messages": 0, "active_members": 0}
    assert per_day[-1] == {"date": "2024-04-15", "messages": 1, "active_members": 1}
    assert sum(d["messages"] for d in per_day) == 3
    weeks = act["per_week"]
    assert [w["week"] for w in weeks] == [f"2024-W{w}" for w in range(10, 17)]
    assert [w["messages"] for w in weeks] == [2, 0, 0, 0, 0, 0, 1]
    assert weeks[1]["start"] == "2024-03-11"  # the week's Monday, for a date axis
    assert [(m["month"], m["messages"]) for m in act["per_month"]] == [
        ("2024-03", 2),
        ("2024-04", 1),
    ]


def test_a_long_history_with_a_few_messages_stays_small() -> None:
    """Ten years between the first and last message: the daily series keeps the last 400
    days, the weekly and monthly ones every week and month, quickly."""
    import time

    events = [msg("a", T0), msg("b", T0 + days(3652))]
    t0 = time.perf_counter()
    act = analyze(events, now=T0 + days(3652))["activity"]
    assert time.perf_counter() - t0 < 5
    assert len(act["per_day"]) == 400 and act["per_day"][-1]["messages"] == 1
    assert len(act["per_week"]) == 3652 // 7 + 1 and len(act["per_month"]) == 121
    assert sum(w["messages"] for w in act["per_week"]) == 2


def test_active_members_are_members_who_posted_in_the_last_30_days() -> None:
    """Someone who posted this week and then left is no member, so no active member either:
    the overview's figure is the activity's, never above the members."""
    events = [joined(u, T0) for u in ("a", "b", "c", "d")]
    events += [msg("a", T0 + days(1)), msg("b", T0 + days(2)), msg("c", T0 + days(3))]
    events += [left("c", T0 + days(4)), left("d", T0 + days(4))]
    r = analyze(events, now=T0 + days(5))
    assert r["overview"]["members"] == 2
    assert r["overview"]["active_members_30d"] == 2  # a and b; c left
    assert r["activity"]["active_members_30d"] == 2
    assert r["activity"]["active_ratio"] == 1.0
    assert "active_members" not in r["overview"]  # one figure, one name
