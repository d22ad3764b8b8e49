"""Health-report figures checked against values worked out by hand: the answer rate, the
engagement per post and the ranking measured from it, the agreement with the claimed ranking,
the articulation points of the reply graph, and the life-cycle ratios and ages.

Every history here links its replies explicitly and leaves a day between conversations, and
each test first asserts that the reply model inferred no link of its own (``meta``): the
figures then follow from the recorded links alone and can be counted by hand.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from groupops.analytics import analyze
from groupops.domain.events import ContentKind, Event
from tests.analytics.helpers import T0, days, joined, msg

S = timedelta(seconds=1)


def report(events: list[Event], recorded_links: int, **kw: Any) -> dict[str, Any]:
    """The report of ``events``, after checking the reply links are the recorded ones only."""
    r = analyze(sorted(events, key=lambda e: e.occurred_at), **kw)
    assert r["meta"]["reply_links_inferred"] == recorded_links, r["meta"]
    return r


# ---- questions and answers ---------------------------------------------------------------------


def test_answer_rate_counts_questions_answered_by_someone_else() -> None:
    events = [
        # answered after 30 s (a second, later answer does not change the first response)
        msg("ann", T0, "how do I install it?", mid="q1"),
        msg("bob", T0 + 30 * S, "use apt", mid="a1", reply_to="q1"),
        msg("cat", T0 + 300 * S, "or pip", mid="a1b", reply_to="q1"),
        # answered by its own author only: not answered
        msg("eve", T0 + days(1), "where is the manual?", mid="q2"),
        msg("eve", T0 + days(1) + 60 * S, "found it", mid="a2", reply_to="q2"),
        # nobody answers
        msg("cat", T0 + days(2), "怎么退款？", mid="q3"),
        # answered after 600 s
        msg("gus", T0 + days(3), "有人知道明天上课吗", mid="q4"),
        msg("ann", T0 + days(3) + 600 * S, "明天九点", mid="a4", reply_to="q4"),
        # a reply to a statement answers no question
        msg("gus", T0 + days(4), "just a statement", mid="s5"),
        msg("bob", T0 + days(4) + 60 * S, "agreed", mid="a5", reply_to="s5"),
        # nobody answers
        msg("hal", T0 + days(5), "can anyone help me?", mid="q6"),
    ]
    qa = report(events, recorded_links=5)["qa"]
    assert qa["questions"] == 5
    assert qa["answered"] == 2  # q1 and q4
    assert qa["answer_rate"] == 0.4  # 2 / 5
    # first responses 30 s and 600 s: median 315, p90 30 + 0.9 * 570 = 543, half within 1 min
    assert qa["first_response"] == {
        "median": 315.0,
        "p90": 543.0,
        "within_1min": 0.5,
        "resolution_s": 1,
    }
    # the latest unanswered first
    assert [(u["name"], u["text"]) for u in qa["unanswered"]] == [
        ("hal", "can anyone help me?"),
        ("cat", "怎么退款？"),
        ("eve", "where is the manual?"),
    ]


def test_answer_rate_of_a_history_without_questions_is_zero() -> None:
    events = [msg("ann", T0, "hello all", mid="1"), msg("bob", T0 + days(1), "morning", mid="2")]
    qa = report(events, recorded_links=0)["qa"]
    assert (qa["questions"], qa["answered"], qa["answer_rate"]) == (0, 0, 0.0)


# ---- content -----------------------------------------------------------------------------------


def _content_history() -> tuple[list[Event], int]:
    """Posts by ``ann``, each on its own day; the replies are stickers from ``rex`` (a kind
    outside the claimed ranking, so they do not disturb it).

    * text: 5 posts, one reply each, no reactions -> replies 1.0, reactions 0.0, engagement 1.0
    * picture: 5 posts, no reply, 2 reactions each -> 0.0, 2.0, 2.0
    * video: 5 posts, 2 replied to once, 1 reaction in all, and a reply by ann herself (which
      does not count) -> 0.4, 0.2, 0.6
    * voice: 2 posts, 3 reactions each -> 0.0, 3.0, 3.0, but under min_posts (5): not ranked
    * sticker: the 5 + 2 + 1 replies, nothing on them -> 0.0, 0.0, 0.0, not a claimed kind
    """
    events: list[Event] = []
    links = 0
    day = 0

    def post(kind: ContentKind, text: str = "", reactions: int = 0) -> str:
        nonlocal day
        day += 1
        mid = f"p{day}"
        events.append(msg("ann", T0 + days(day), text, mid=mid, content=kind, reactions=reactions))
        return mid

    def reply(to: str, who: str = "rex") -> None:
        nonlocal links
        links += 1
        at = events[-1].occurred_at + 40 * S
        events.append(msg(who, at, "", mid=f"r{links}", reply_to=to, content=ContentKind.STICKER))

    for k in range(5):
        reply(post(ContentKind.TEXT, f"plain text number {k}"))
    for _ in range(5):
        post(ContentKind.PICTURE, reactions=2)
    for k in range(5):
        p = post(ContentKind.VIDEO, reactions=1 if k == 4 else 0)
        if k < 2:
            reply(p)
        if k == 3:
            reply(p, who="ann")
    for _ in range(2):
        post(ContentKind.VOICE, reactions=3)
    return events, links


def test_engagement_per_post_is_replies_and_reactions_per_post() -> None:
    events, links = _content_history()
    c = report(events, recorded_links=links)["content"]
    kinds = {r["kind"]: r for r in c["by_kind"]}
    assert kinds == {
        "text": {
            "kind": "text",
            "posts": 5,
            "replies_per_post": 1.0,
            "reactions_per_post": 0.0,
            "engagement_per_post": 1.0,
        },
        "picture": {
            "kind": "picture",
            "posts": 5,
            "replies_per_post": 0.0,
            "reactions_per_post": 2.0,
            "engagement_per_post": 2.0,
        },
        "video": {
            "kind": "video",
            "posts": 5,
            "replies_per_post": 0.4,
            "reactions_per_post": 0.2,
            "engagement_per_post": 0.6,
        },
        "voice": {
            "kind": "voice",
            "posts": 2,
            "replies_per_post": 0.0,
            "reactions_per_post": 3.0,
            "engagement_per_post": 3.0,
        },
        "sticker": {
            "kind": "sticker",
            "posts": 8,
            "replies_per_post": 0.0,
            "reactions_per_post": 0.0,
            "engagement_per_post": 0.0,
        },
    }


def test_measured_ranking_and_pairwise_agreement_with_the_claimed_one() -> None:
    events, links = _content_history()
    c = report(events, recorded_links=links)["content"]
    assert c["min_posts"] == 5
    # by engagement: picture 2.0, text 1.0, video 0.6 (voice has too few posts, sticker is
    # not claimed); by replies alone it would be text, video, picture
    assert c["measured_ranking"] == ["picture", "text", "video"]
    assert c["claimed_ranking"] == ["text", "picture", "video"]
    assert c["claim_holds"] is False
    # claimed pairs: text<picture (measured: no), text<video (yes), picture<video (yes)
    assert c["pairwise_agreement"] == 0.6667


def test_pairwise_agreement_is_none_with_fewer_than_two_ranked_kinds() -> None:
    events = [msg("ann", T0 + days(k), f"note {k}", mid=f"n{k}") for k in range(6)]
    c = report(events, recorded_links=0)["content"]
    assert c["measured_ranking"] == ["text"]
    assert c["pairwise_agreement"] is None and c["claim_holds"] is None


# ---- the reply graph ---------------------------------------------------------------------------


def test_articulation_points_of_a_triangle_with_a_tail() -> None:
    """Reply links x-y, y-z, z-x (a triangle) and w-x, v-w (a tail): cutting x or w splits
    the conversation, cutting y, z or v does not."""
    events: list[Event] = []
    day = 0

    def answer(parent_author: str, child_author: str) -> None:
        nonlocal day
        day += 1
        events.append(msg(parent_author, T0 + days(day), "news", mid=f"p{day}"))
        events.append(msg(child_author, T0 + days(day) + 60 * S, "ok", reply_to=f"p{day}"))

    for parent, child in (("x", "y"), ("y", "z"), ("z", "x"), ("x", "w"), ("w", "v")):
        answer(parent, child)
    g = report(events, recorded_links=5)["graph"]
    assert (g["nodes"], g["edges"], g["links"]) == (5, 5, 5)
    assert g["largest_component"] == 5
    assert g["articulation_points"] == 2
    # without x the largest part is {y, z} or {w, v}: 2 of the 4 others, split 0.5; without w
    # it is {x, y, z}, split 0.25. Betweenness: x is on the 4 paths y|z to w|v, w on the 3
    # paths v to x|y|z, out of (5 - 1)(5 - 2) / 2 = 6 pairs
    assert g["soul_figures"] == [
        {"name": "x", "split": 0.5, "betweenness": 0.6667, "articulation_point": True},
        {"name": "w", "split": 0.25, "betweenness": 0.5, "articulation_point": True},
    ]


def test_a_graph_without_a_cut_member_has_no_articulation_point() -> None:
    events: list[Event] = []
    for k, (parent, child) in enumerate((("x", "y"), ("y", "z"), ("z", "x"))):
        events.append(msg(parent, T0 + days(k), "news", mid=f"p{k}"))
        events.append(msg(child, T0 + days(k) + 60 * S, "ok", reply_to=f"p{k}"))
    g = report(events, recorded_links=3)["graph"]
    assert g["nodes"] == 3 and g["articulation_points"] == 0
    assert g["soul_figures"] == []


# ---- life cycle --------------------------------------------------------------------------------


def _two_windows(prev: int, recent: int, recent_people: tuple[str, ...]) -> list[Event]:
    """``a`` joins at T0; ``prev`` messages by ``a`` in [T0, T0 + 28d), ``recent`` messages
    in [T0 + 28d, T0 + 56d), the last at T0 + 54.5d, by ``recent_people`` in turn."""
    events = [joined("a", T0)]
    events += [msg("a", T0 + days(2 + 2 * k), f"early {k}") for k in range(prev)]
    for k in range(recent):
        at = T0 + days(54.5) - days(2 * (recent - 1 - k))
        events.append(msg(recent_people[k % len(recent_people)], at, f"late {k}"))
    return events


def test_message_ratio_compares_the_last_28_days_with_the_28_before() -> None:
    events = _two_windows(prev=5, recent=10, recent_people=("a", "b"))
    lc = report(events, recorded_links=0, now=T0 + days(56))["lifecycle"]
    assert lc["figures"] == {
        "age_days": 56.0,  # a joined at T0
        "days_since_last_message": 1.5,  # the last message at T0 + 54.5d
        "messages_last_28d": 10,
        "messages_prev_28d": 5,
        "active_last_28d": 2,
        "active_prev_28d": 1,
        "message_ratio": 2.0,
        "active_ratio": 2.0,
    }
    assert lc["stage"] == "growing"


def test_a_falling_message_ratio_is_below_one() -> None:
    events = _two_windows(prev=8, recent=4, recent_people=("a",))
    lc = report(events, recorded_links=0, now=T0 + days(56))["lifecycle"]
    f = lc["figures"]
    assert (f["messages_prev_28d"], f["messages_last_28d"]) == (8, 4)
    assert f["message_ratio"] == 0.5 and f["active_ratio"] == 1.0
    assert lc["stage"] == "declining"


def test_message_ratio_is_none_when_the_window_before_was_empty() -> None:
    events = _two_windows(prev=0, recent=6, recent_people=("a", "b", "c"))
    lc = report(events, recorded_links=0, now=T0 + days(60))["lifecycle"]
    f = lc["figures"]
    assert f["age_days"] == 60.0 and f["days_since_last_message"] == 5.5
    assert (f["messages_prev_28d"], f["messages_last_28d"]) == (0, 6)
    assert f["message_ratio"] is None and f["active_ratio"] is None
