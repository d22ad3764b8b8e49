"""Every metric area, each a function of a :class:`~groupops.analytics.frame.Frame`.

All work is on numpy arrays; the expensive text parts (spam, sentiment, keywords) run on a
uniform sample of at most ``TEXT_SAMPLE`` messages (the metrics say how many were read).

Calendar figures (days, weeks, months, the hour x weekday map, the times shown) are in the zone
the analysis runs in (``Context.zone``, UTC by default); durations ("the last 28 days") are
counted back from "now" and need no zone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt

from groupops.analytics import texts as tx
from groupops.analytics.frame import CONTENT_KINDS, JOINED, LEFT, MESSAGE, Frame
from groupops.domain.text import clip

DAY = 86400
WEEK = 7 * DAY
TEXT_SAMPLE = 20_000
# a message text quoted in the figures (examples, unanswered questions) is cut to this many
# characters, with an ellipsis: a pasted blob must not be copied whole into the report
QUOTE_CHARS = 200
CLAIMED_RANKING = (
    "text",
    "picture",
    "video",
    "voice",
    "h5_link",
    "article_link",
    "file",
    "netdisk_link",
)

IntArray = npt.NDArray[np.int64]


def _day(t: IntArray | int) -> Any:
    return np.floor_divide(t, DAY)


def _date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day))


def _week_start(day: IntArray | int) -> Any:
    """The Monday (as a day number) of each day's ISO week (1970-01-01 was a Thursday)."""
    return day - np.mod(np.asarray(day) + 3, 7)


def _week_label(monday: int) -> str:
    y, w, _ = _date(monday).isocalendar()
    return f"{y}-W{w:02d}"


def _iso(t: int, zone: tzinfo = UTC) -> str:
    return datetime.fromtimestamp(int(t), tz=zone).isoformat()


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` as the figures quote it: at most ``limit`` characters, the last an ellipsis
    when it was cut."""
    return clip(text, limit)


def zone_of(tz: str | tzinfo | None) -> tzinfo:
    """The zone named ``tz`` (a name, a tzinfo, or None for UTC)."""
    if tz is None:
        return UTC
    if isinstance(tz, tzinfo):
        return tz
    from groupops.domain.time import zone

    return UTC if tz.upper() == "UTC" else zone(tz)


def zone_name(z: tzinfo) -> str:
    return "UTC" if z is UTC else str(getattr(z, "key", None) or z.tzname(None) or z)


def utc_offsets(t: IntArray, z: tzinfo) -> IntArray:
    """The zone's offset from UTC (seconds) at each time of ``t``. One look-up per UTC day the
    times fall on (the offset at its start and at the next day's start); only on a day whose
    offset changes (daylight saving) is each time looked up on its own."""
    t = np.asarray(t, dtype=np.int64)
    if z is UTC or t.shape[0] == 0:
        return np.zeros(t.shape, dtype=np.int64)

    def offset(s: int) -> int:
        off = datetime.fromtimestamp(s, tz=z).utcoffset()
        return int(off.total_seconds()) if off is not None else 0

    days, inv = np.unique(np.floor_divide(t, DAY), return_inverse=True)
    inv = inv.reshape(t.shape)
    edges: dict[int, int] = {}
    for d in days.tolist():
        for e in (d, d + 1):
            if e not in edges:
                edges[e] = offset(e * DAY)
    start = np.asarray([edges[d] for d in days.tolist()], dtype=np.int64)
    end = np.asarray([edges[d + 1] for d in days.tolist()], dtype=np.int64)
    out = start[inv]
    changing = np.flatnonzero(start != end)
    if changing.shape[0]:
        rows = np.flatnonzero(np.isin(inv, changing))
        out[rows] = [offset(s) for s in t[rows].tolist()]
    return np.asarray(out, dtype=np.int64)


def _month_key(days: IntArray) -> IntArray:
    """Months since 1970-01 for each day number."""
    d64 = days.astype("datetime64[D]")
    return np.asarray(d64.astype("datetime64[M]").astype(np.int64), dtype=np.int64)


def _month_label(m: int) -> str:
    return f"{1970 + m // 12:04d}-{m % 12 + 1:02d}"


class Context:
    """Shared derived arrays, computed once."""

    def __init__(self, frame: Frame, now: int, tz: str | tzinfo | None = None) -> None:
        self.f = frame
        self.now = now
        self.zone = zone_of(tz)
        self.msg = frame.kind == MESSAGE
        self.n_people = len(frame.names)
        self.mt = frame.time[self.msg]
        self.ma = frame.author[self.msg]
        # the messages' times in the zone's wall-clock seconds: their days and hours
        self.mlocal = self.mt + utc_offsets(self.mt, self.zone)
        self.mday = _day(self.mlocal)
        n = self.n_people
        big = np.iinfo(np.int64).max
        self.first_msg = np.full(n, big, dtype=np.int64)
        np.minimum.at(self.first_msg, self.ma, self.mt)
        self.last_msg = np.full(n, -1, dtype=np.int64)
        np.maximum.at(self.last_msg, self.ma, self.mt)
        self.msg_count = np.bincount(self.ma, minlength=n).astype(np.int64)
        joined = frame.kind == JOINED
        self.first_join = np.full(n, big, dtype=np.int64)
        np.minimum.at(self.first_join, frame.author[joined], frame.time[joined])
        left = frame.kind == LEFT
        self.last_left = np.full(n, -1, dtype=np.int64)
        np.maximum.at(self.last_left, frame.author[left], frame.time[left])
        last_join = np.full(n, -1, dtype=np.int64)
        np.maximum.at(last_join, frame.author[joined], frame.time[joined])
        self.joined_at = np.minimum(self.first_join, self.first_msg)
        # bots (posts flagged by the importer) post messages but are no members: the figures
        # that count or rank people read ``pt``/``pa``/``pday``, the messages of people
        self.bot = np.zeros(n, dtype=np.bool_)
        if frame.bots:
            self.bot[np.fromiter(frame.bots, dtype=np.int64, count=len(frame.bots))] = True
            human = ~self.bot[self.ma]
            self.pt, self.pa, self.pday = self.mt[human], self.ma[human], self.mday[human]
        else:
            self.pt, self.pa, self.pday = self.mt, self.ma, self.mday
        seen = (self.joined_at < big) & ~self.bot
        # someone whose latest membership change is a departure (and who said nothing after)
        self.gone = (
            (self.last_left >= 0)
            & (self.last_left >= last_join)
            & (self.last_left >= self.last_msg)
        )
        self.seen = seen
        # authors that are system placeholders (no join, no message) are not members
        self.member = seen & ~self.gone

    def name(self, i: int) -> str:
        return self.f.names[i] if 0 <= i < len(self.f.names) else "?"

    def local_day(self, t: IntArray | int) -> Any:
        """The day number (days since 1970-01-01) of each time of ``t`` in the zone."""
        arr = np.asarray(t, dtype=np.int64)
        return _day(arr + utc_offsets(arr.reshape(-1), self.zone).reshape(arr.shape))

    def iso(self, t: int) -> str:
        """A time as ISO 8601 in the zone (with its offset)."""
        return _iso(t, self.zone)


# ---- overview and activity -------------------------------------------------------------------


def overview(c: Context) -> dict[str, Any]:
    active = int(np.count_nonzero((c.last_msg >= c.now - 30 * DAY) & ~c.bot))
    out: dict[str, Any] = {
        "messages": int(c.mt.shape[0]),
        "members": int(np.count_nonzero(c.member)),
        "people_seen": int(np.count_nonzero(c.seen)),
        "posters": int(np.count_nonzero((c.msg_count > 0) & ~c.bot)),
        "active_members": active,
        "joins": int(np.count_nonzero(c.f.kind == JOINED)),
        "departures": int(np.count_nonzero(c.f.kind == LEFT)),
        "now": c.iso(c.now),
        "time_zone": zone_name(c.zone),
    }
    if c.mt.shape[0]:
        out["first"] = _date(int(c.mday.min())).isoformat()
        out["last"] = _date(int(c.mday.max())).isoformat()
        out["days"] = int(c.mday.max() - c.mday.min() + 1)
    return out


def _per_period(
    keys: IntArray,
    authors: IntArray,
    people: tuple[IntArray, IntArray] | None = None,
) -> tuple[IntArray, IntArray, IntArray]:
    """Unique period keys, messages per key, distinct authors per key (among ``people``, the
    (keys, authors) of the messages whose authors count, when not all of them do)."""
    if keys.shape[0] == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    uk, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
    if people is not None:
        pk, authors = people
        inv = np.searchsorted(uk, pk)
    if authors.shape[0] == 0:
        return uk, counts.astype(np.int64), np.zeros(uk.shape[0], dtype=np.int64)
    pair = np.unique(inv.astype(np.int64) * (int(authors.max()) + 1) + authors)
    active = np.bincount(pair // (int(authors.max()) + 1), minlength=uk.shape[0])
    return uk, counts.astype(np.int64), active.astype(np.int64)


def activity(c: Context, max_days: int = 400) -> dict[str, Any]:
    """Messages and active members per day (the last ``max_days`` days with messages), week and
    month; active ratio (members who posted in the last 30 days / members); the hour x weekday
    heatmap (in the zone, Monday first); retention by join week."""
    bots = c.pa is not c.ma
    days, dm, da = _per_period(c.mday, c.ma, (c.pday, c.pa) if bots else None)
    weeks, wm, wa = _per_period(
        _week_start(c.mday), c.ma, (_week_start(c.pday), c.pa) if bots else None
    )
    months, mm, ma = _per_period(
        _month_key(c.mday), c.ma, (_month_key(c.pday), c.pa) if bots else None
    )
    hour = np.floor_divide(np.mod(c.mlocal, DAY), 3600)
    weekday = np.mod(c.mday + 3, 7)
    heat = np.bincount(weekday * 24 + hour, minlength=7 * 24).reshape(7, 24)
    members = int(np.count_nonzero(c.member))
    active = int(np.count_nonzero(c.member & (c.last_msg >= c.now - 30 * DAY)))
    return {
        "per_day": [
            {"date": _date(int(d)).isoformat(), "messages": int(m), "active_members": int(a)}
            for d, m, a in zip(days[-max_days:], dm[-max_days:], da[-max_days:], strict=True)
        ],
        "per_week": [
            {"week": _week_label(int(w)), "messages": int(m), "active_members": int(a)}
            for w, m, a in zip(weeks, wm, wa, strict=True)
        ],
        "per_month": [
            {"month": _month_label(int(m)), "messages": int(n), "active_members": int(a)}
            for m, n, a in zip(months, mm, ma, strict=True)
        ],
        "active_ratio": round(active / members, 4) if members else 0.0,
        "active_members_30d": active,
        "time_zone": zone_name(c.zone),
        "heatmap": {
            "counts": heat.tolist(),
            "rows": "weekday (Mon=0)",
            "cols": f"hour ({zone_name(c.zone)})",
            "time_zone": zone_name(c.zone),
        },
        "retention": retention(c),
    }


def retention(c: Context, cohorts: int = 12, horizon: int = 8) -> dict[str, Any]:
    """Join = first MEMBER_JOINED or first message. For each of the last ``cohorts`` join
    weeks, the share of its members who posted in week 0, 1, ... after joining."""
    people = np.flatnonzero(c.seen)
    if people.shape[0] == 0:
        return {"cohorts": []}
    cweek = _week_start(c.local_day(c.joined_at[people]))
    mweek = _week_start(c.mday)
    # weeks (relative to own cohort) in which each author posted
    author_cohort = np.full(c.n_people, -1, dtype=np.int64)
    author_cohort[people] = cweek
    rel = (mweek - author_cohort[c.ma]) // 7
    ok = (rel >= 0) & (rel < horizon)
    key = np.unique(c.ma[ok] * horizon + rel[ok])
    posted = np.zeros((c.n_people, horizon), dtype=np.bool_)
    posted[key // horizon, key % horizon] = True
    now_week = int(_week_start(c.local_day(c.now)))
    out = []
    for w in np.unique(cweek)[-cohorts:]:
        mem = people[cweek == w]
        weeks_seen = min(horizon, (now_week - int(w)) // 7 + 1)
        out.append(
            {
                "week": _week_label(int(w)),
                "size": int(mem.shape[0]),
                "retained": [round(float(posted[mem, k].mean()), 4) for k in range(weeks_seen)],
            }
        )
    return {"cohorts": out, "horizon_weeks": horizon}


# ---- life cycle ------------------------------------------------------------------------------


def _weekly(c: Context) -> tuple[IntArray, IntArray, IntArray]:
    """Messages and active members in 7-day windows ending at ``now`` (oldest first), from
    the first message on: the last window is always a full week, never a week just begun."""
    nweeks = 1 if c.mt.shape[0] == 0 else int((c.now - int(c.mt.min())) // WEEK) + 1
    back = (c.now - c.mt) // WEEK
    ok = (back >= 0) & (back < nweeks)
    idx = nweeks - 1 - back[ok]
    msgs = np.bincount(idx, minlength=nweeks).astype(np.int64)
    if c.pa is not c.ma:  # active members are people, not bots
        back = (c.now - c.pt) // WEEK
        ok = (back >= 0) & (back < nweeks)
        idx = nweeks - 1 - back[ok]
    pair = np.unique(idx * max(c.n_people, 1) + c.pa[ok])
    act = np.bincount(pair // max(c.n_people, 1), minlength=nweeks).astype(np.int64)
    starts = c.local_day(c.now - (nweeks - np.arange(nweeks)) * WEEK + 1)
    return np.asarray(starts, dtype=np.int64), msgs, act


def lifecycle(c: Context) -> dict[str, Any]:
    """Stage by the first rule that fires, in this order:

    * dead: no message in the last 21 days, or fewer than 3 messages in the last 28 days;
    * new: the first message or join is less than 4 weeks old;
    * growing: the last 4 weeks had >= 1.25x the messages of the 4 before, or >= 1.25x the
      active members;
    * declining: the last 4 weeks had <= 0.6x the messages of the 4 before;
    * mature: otherwise.

    Warning (before death): the log-linear trend of messages per 7 days (windows ending now)
    over the last 6 windows
    halves activity in under 4 weeks, or projects fewer than 1 message a week within 8 weeks,
    or the distinct active members of the last 2 weeks are half or fewer of those of the 2
    weeks before (the same 7-day windows)."""
    weeks, msgs, act = _weekly(c)
    last_msg = int(c.mt.max()) if c.mt.shape[0] else -1
    born = int(min(c.joined_at[c.seen].min(), c.now)) if c.seen.any() else c.now
    age_days = (c.now - born) / DAY
    since_last = (c.now - last_msg) / DAY if last_msg >= 0 else float("inf")
    recent = int(np.count_nonzero(c.mt >= c.now - 28 * DAY))
    prev = int(np.count_nonzero((c.mt >= c.now - 56 * DAY) & (c.mt < c.now - 28 * DAY)))
    act_recent = int(np.unique(c.pa[c.pt >= c.now - 28 * DAY]).shape[0])
    act_prev = int(np.unique(c.pa[(c.pt >= c.now - 56 * DAY) & (c.pt < c.now - 28 * DAY)]).shape[0])
    ratio = recent / prev if prev else (float("inf") if recent else 0.0)
    act_ratio = act_recent / act_prev if act_prev else (float("inf") if act_recent else 0.0)
    figures: dict[str, Any] = {
        "age_days": round(age_days, 1),
        "days_since_last_message": round(since_last, 1) if last_msg >= 0 else None,
        "messages_last_28d": recent,
        "messages_prev_28d": prev,
        "active_last_28d": act_recent,
        "active_prev_28d": act_prev,
        "message_ratio": round(ratio, 3) if ratio != float("inf") else None,
        "active_ratio": round(act_ratio, 3) if act_ratio != float("inf") else None,
    }
    if since_last > 21 or recent < 3:
        stage = "dead"
        rule = tx.R_DEAD
        evidence = [
            tx.E_RECENT_ONE if recent == 1 else tx.E_RECENT.format(recent=recent),
            tx.E_LAST.format(days=figures["days_since_last_message"]),
        ]
    elif age_days < 28:
        stage, rule = "new", tx.R_NEW
        first_seen = tx.E_FIRST_SEEN_ONE if round(age_days) == 1 else tx.E_FIRST_SEEN
        evidence = [first_seen.format(days=age_days)]
    elif ratio >= 1.25 or act_ratio >= 1.25:
        stage = "growing"
        rule = tx.R_GROWING
        evidence = [
            tx.E_MESSAGES.format(before=prev, after=recent),
            tx.E_ACTIVE.format(before=act_prev, after=act_recent),
        ]
    elif ratio <= 0.6:
        stage, rule = "declining", tx.R_DECLINING
        evidence = [
            tx.E_MESSAGES_CHANGE.format(before=prev, after=recent, change=(ratio - 1) * 100),
            tx.E_ACTIVE.format(before=act_prev, after=act_recent),
        ]
    else:
        stage, rule = "mature", tx.R_MATURE
        evidence = [
            tx.E_MESSAGES.format(before=prev, after=recent),
            tx.E_ACTIVE.format(before=act_prev, after=act_recent),
        ]
    # early warning
    tail = msgs[-6:].astype(np.float64)
    warning: dict[str, Any] = {"active": False, "message": ""}
    if stage != "dead" and tail.shape[0] >= 4 and tail.sum() > 0:
        x = np.arange(tail.shape[0], dtype=np.float64)
        slope, intercept = np.polyfit(x, np.log(tail + 1.0), 1)
        weekly_change = float(np.exp(slope) - 1)
        projected = float(np.exp(intercept + slope * (x[-1] + 8)) - 1)
        half_life = float(np.log(0.5) / slope) if slope < 0 else None
        # distinct members over each 2-week window (one active in both weeks counts once)
        back = (c.now - c.pt) // WEEK
        a2 = int(np.unique(c.pa[(back >= 0) & (back < 2)]).shape[0])
        a_prev2 = int(np.unique(c.pa[(back >= 2) & (back < 4)]).shape[0])
        reasons = []
        if half_life is not None and half_life < 4:
            reasons.append(tx.W_HALVES.format(weeks=half_life))
        if projected < 1 and slope < 0:
            reasons.append(tx.W_PROJECTED)
        if a_prev2 >= 4 and a2 <= a_prev2 / 2:
            reasons.append(tx.W_FELL.format(before=a_prev2, after=a2))
        warning = {
            "active": bool(reasons),
            "message": tx.SEPARATOR.join(reasons),
            "weekly_change": round(weekly_change, 4),
            "projected_weekly_messages_in_8_weeks": round(max(projected, 0.0), 2),
        }
    return {
        "stage": stage,
        "rule": rule,
        "evidence": evidence,
        "figures": figures,
        "warning": warning,
        "weekly_messages_last_12": [
            {"from": _date(int(w)).isoformat(), "messages": int(m), "active_members": int(a)}
            for w, m, a in zip(weeks[-12:], msgs[-12:], act[-12:], strict=True)
        ],
    }


# ---- segments and top 3 ----------------------------------------------------------------------

SEGMENTS = ("new_active", "core", "drifting", "occasional", "silent", "churned")


def segments(c: Context, list_size: int = 20) -> dict[str, Any]:
    """Each member in one segment, first match wins:

    * churned: left the group, or posted before but nothing in the last 28 days;
    * silent: never posted;
    * new_active: joined in the last 14 days and posted in them;
    * core: in the top quarter of posters of the last 28 days and posted in the last 7;
    * drifting: in the top quarter of posters of the 28 days before that (or of all time), and
      quiet for 7-28 days;
    * occasional: everyone else."""
    n = c.n_people
    now = c.now
    last28 = np.bincount(c.pa[c.pt >= now - 28 * DAY], minlength=n)
    prev28 = np.bincount(c.pa[(c.pt >= now - 56 * DAY) & (c.pt < now - 28 * DAY)], minlength=n)
    overall = np.where(c.bot, 0, c.msg_count)

    def top_quarter(counts: IntArray) -> npt.NDArray[np.bool_]:
        pos = counts[counts > 0]
        if pos.shape[0] == 0:
            return np.zeros(n, dtype=np.bool_)
        cut = np.quantile(pos, 0.75)
        return np.asarray((counts >= cut) & (counts > 0))

    quiet = (now - c.last_msg) / DAY
    seg = np.full(n, "", dtype=object)
    people = c.seen
    posted = c.msg_count > 0
    rules = [
        ("churned", people & (c.gone | (posted & (quiet > 28)))),
        ("silent", people & ~posted),
        (
            "new_active",
            people
            & (c.joined_at >= now - 14 * DAY)
            & (last28 > 0)
            & (c.last_msg >= now - 14 * DAY),
        ),
        ("core", people & top_quarter(last28) & (quiet <= 7)),
        (
            "drifting",
            people & (top_quarter(prev28) | top_quarter(overall)) & (quiet > 7) & (quiet <= 28),
        ),
        ("occasional", people),
    ]
    for name, mask in rules:
        seg[(seg == "") & mask] = name
    counts = {s: int(np.count_nonzero(seg == s)) for s in SEGMENTS}
    members: dict[str, list[dict[str, Any]]] = {}
    for s in SEGMENTS:
        idx = np.flatnonzero(seg == s)
        idx = idx[np.argsort(-c.msg_count[idx], kind="stable")][:list_size]
        members[s] = [
            {
                "name": c.name(int(i)),
                "messages": int(c.msg_count[i]),
                "messages_28d": int(last28[i]),
                "last_message": c.iso(int(c.last_msg[i])) if c.last_msg[i] >= 0 else None,
            }
            for i in idx
        ]
    return {"counts": counts, "members": members}


def top3(c: Context, months: int = 12) -> dict[str, list[dict[str, Any]]]:
    """The three most active members (messages) of each of the last ``months`` months."""
    if c.pt.shape[0] == 0:
        return {}
    mk = _month_key(c.pday)
    n = max(c.n_people, 1)
    keys, counts = np.unique(mk * n + c.pa, return_counts=True)
    month = keys // n
    who = keys % n
    out: dict[str, list[dict[str, Any]]] = {}
    for m in np.unique(month)[-months:]:
        sel = np.flatnonzero(month == m)
        best = sel[np.lexsort((who[sel], -counts[sel]))][:3]
        out[_month_label(int(m))] = [
            {"name": c.name(int(who[b])), "messages": int(counts[b])} for b in best
        ]
    return out


# ---- the reply graph -------------------------------------------------------------------------


def reply_graph(c: Context, parents: IntArray, top: int = 10) -> dict[str, Any]:
    """Directed author graph from reply links (child author -> parent author, weighted).
    Opinion leaders: PageRank (replies received, weighted). Soul figures: members whose
    removal shrinks the largest connected component of the conversation graph most (the
    ``split`` is the share of the other members cut off from it), articulation points
    flagged; betweenness (sampled on large graphs) as a tie-breaker."""
    import networkx as nx

    f = c.f
    rows = np.flatnonzero((parents >= 0) & (parents != np.arange(len(f))) & c.msg)
    src = f.author[rows]
    dst = f.author[parents[rows]]
    keep = src != dst
    src, dst = src[keep], dst[keep]
    n = max(c.n_people, 1)
    keys, weight = np.unique(src * n + dst, return_counts=True)
    g = nx.DiGraph()
    for k, w in zip(keys.tolist(), weight.tolist(), strict=True):
        g.add_edge(k // n, k % n, weight=w)
    out: dict[str, Any] = {
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "links": int(rows.shape[0]),
        "opinion_leaders": [],
        "soul_figures": [],
        "articulation_points": 0,
    }
    if g.number_of_nodes() < 2:
        return out
    pr = nx.pagerank(g, weight="weight")
    in_w = dict(g.in_degree(weight="weight"))
    leaders = sorted((v for v in pr if not c.bot[v]), key=lambda v: -pr[v])[:top]
    out["opinion_leaders"] = [
        {"name": c.name(v), "score": round(pr[v], 4), "replies_received": int(in_w.get(v, 0))}
        for v in leaders
    ]
    # g.to_undirected() with the same nodes and adjacency order, without deep-copying every
    # edge's attributes (nothing below reads them)
    u = nx.Graph()
    u.add_nodes_from(g)
    u.add_edges_from(g.edges())
    size = u.number_of_nodes()
    base = max((len(x) for x in nx.connected_components(u)), default=0)
    arts = set(nx.articulation_points(u))
    k = None if size <= 300 else 24
    btw = betweenness(u, k=k, seed=0)
    # removing a node that is no articulation point leaves everyone else connected (split 0):
    # only articulation points are tried, the most central first, with scipy's components
    from scipy.sparse import coo_matrix  # type: ignore[import-untyped]
    from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]

    nodes = list(u.nodes())
    pos = {v: i for i, v in enumerate(nodes)}
    e = np.asarray([(pos[a], pos[b]) for a, b in u.edges()], dtype=np.int64).reshape(-1, 2)
    deg = dict(u.degree())
    tried = sorted(arts, key=lambda v: (-btw.get(v, 0.0), -deg[v]))[: top * 3]
    scored = []
    for v in tried:
        keep_e = (e[:, 0] != pos[v]) & (e[:, 1] != pos[v])
        ee = e[keep_e]
        adj = coo_matrix((np.ones(ee.shape[0]), (ee[:, 0], ee[:, 1])), shape=(size, size))
        _, labels = connected_components(adj, directed=False)
        labels = np.delete(labels, pos[v])
        largest = int(np.bincount(labels).max()) if labels.shape[0] else 0
        split = 1.0 - largest / max(base - 1, 1)
        scored.append((split, btw.get(v, 0.0), v))
    for v in sorted(btw, key=lambda v: -btw[v])[:top]:
        if v not in arts:
            scored.append((0.0, btw[v], v))
    scored.sort(key=lambda x: (-x[0], -x[1]))
    out["soul_figures"] = [
        {
            "name": c.name(v),
            "split": round(s, 4),
            "betweenness": round(b, 4),
            "articulation_point": v in arts,
        }
        for s, b, v in [x for x in scored if not c.bot[x[2]]][:top]
        if s > 0 or b > 0
    ]
    out["articulation_points"] = len(arts)
    out["largest_component"] = base
    return out


def betweenness(u: Any, k: int | None = None, seed: int = 0) -> dict[Any, float]:
    """``networkx.betweenness_centrality(u, k=k, seed=seed)`` (normalised, no endpoints) of an
    undirected graph, bit for bit, with numpy: Brandes' algorithm one BFS level at a time
    instead of one node at a time. The same sources (``random.Random(seed).sample``), the same
    discovery order (a node's first neighbour in BFS order finds it), and every sum taken in
    the order networkx takes it (``np.bincount`` adds in array order)."""
    import random

    nodes = list(u)
    n = len(nodes)
    btw = np.zeros(n, dtype=np.float64)
    if n == 0:
        return {}
    pos = {v: i for i, v in enumerate(nodes)}
    adj = u._adj
    deg = np.fromiter((len(adj[v]) for v in nodes), dtype=np.int64, count=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(deg, out=indptr[1:])
    indices = np.fromiter(
        (pos[w] for v in nodes for w in adj[v]), dtype=np.int64, count=int(indptr[-1])
    )
    if k == n:
        k = None
    sources = nodes if k is None else random.Random(seed).sample(nodes, k)
    for s in sources:
        si = pos[s]
        dist = np.full(n, -1, dtype=np.int64)
        sigma = np.zeros(n, dtype=np.float64)
        spos = np.zeros(n, dtype=np.int64)  # place in the BFS order
        dist[si] = 0
        sigma[si] = 1.0
        frontier = np.asarray([si], dtype=np.int64)
        placed = 1
        levels: list[tuple[IntArray, IntArray]] = []  # shortest-path edges into each level
        depth = 0
        while frontier.shape[0]:
            starts = indptr[frontier]
            counts = indptr[frontier + 1] - starts
            total = int(counts.sum())
            if total == 0:
                break
            # the frontier's edges in BFS order: by the frontier's order, then adjacency order
            first = np.cumsum(counts) - counts
            e = np.repeat(starts - first, counts) + np.arange(total, dtype=np.int64)
            w = indices[e]
            v = np.repeat(frontier, counts)
            fresh = w[dist[w] < 0]
            if fresh.shape[0] == 0:
                break
            found, at = np.unique(fresh, return_index=True)
            new = found[np.argsort(at, kind="stable")]
            depth += 1
            dist[new] = depth
            spos[new] = np.arange(placed, placed + new.shape[0])
            placed += new.shape[0]
            on_path = dist[w] == depth
            ev, ew = v[on_path], w[on_path]
            # sigma[w] += sigma[v] over w's predecessors in BFS order (v ascends here)
            sigma += np.bincount(ew, weights=sigma[ev], minlength=n)
            levels.append((ev, ew))
            frontier = new
        delta = np.zeros(n, dtype=np.float64)
        for ev, ew in reversed(levels):
            # networkx pops w in reverse BFS order: each v sums its successors' shares in
            # that order
            o = np.argsort(-spos[ew], kind="stable")
            ev, ew = ev[o], ew[o]
            coeff = (1.0 + delta[ew]) / sigma[ew]
            delta += np.bincount(ev, weights=sigma[ev] * coeff, minlength=n)
        delta[si] = 0.0
        btw += delta
    scale_n = n - 1  # endpoints excluded
    if scale_n >= 2:
        if k is None:
            btw *= 1 / (scale_n * (scale_n - 1))
        else:
            src = np.asarray([pos[s] for s in sources], dtype=np.int64)
            scale = np.full(n, 1 / (k * (scale_n - 1)))
            scale[src] = 1 / ((k - 1) * (scale_n - 1)) if k > 1 else math.nan
            btw *= scale
    return dict(zip(nodes, btw.tolist(), strict=True))


# ---- questions and answers -------------------------------------------------------------------


def qa(
    c: Context, parents: IntArray, question: npt.NDArray[np.bool_], list_size: int = 20
) -> dict[str, Any]:
    """A question is answered by the first later message of another member that replies to it
    (recorded or inferred link). First-response time: median, p90, share within 1 minute (of
    answered questions); answer rate; the latest unanswered questions."""
    f = c.f
    n = len(f)
    q = question & c.msg
    if c.pa is not c.ma:  # bots neither ask nor answer
        person = ~c.bot[f.author]
        q = q & person
    rows = np.flatnonzero((parents >= 0) & (parents != np.arange(n)) & c.msg)
    if c.pa is not c.ma:
        rows = rows[person[rows]]
    par = parents[rows]
    ok = q[par] & (f.author[rows] != f.author[par])
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, par[ok], f.time[rows[ok]])
    qi = np.flatnonzero(q)
    answered = first[qi] < np.iinfo(np.int64).max
    frt = (first[qi[answered]] - f.time[qi[answered]]).astype(np.float64)
    # an export that writes minutes only (WhatsApp, IRC) cannot tell 0 s from 59 s
    resolution = 60 if not np.any(f.time[q | c.msg] % 60) else 1
    out: dict[str, Any] = {
        "questions": int(qi.shape[0]),
        "answered": int(answered.sum()),
        "answer_rate": round(float(answered.mean()), 4) if qi.shape[0] else 0.0,
        "first_response": {
            "median": round(float(np.median(frt)), 1) if frt.shape[0] else None,
            "p90": round(float(np.quantile(frt, 0.9)), 1) if frt.shape[0] else None,
            "within_1min": round(float(np.mean(frt <= 60)), 4) if frt.shape[0] else None,
            "resolution_s": resolution,
        },
    }
    un = qi[~answered][-list_size:][::-1]
    out["unanswered"] = [
        {"name": c.name(int(f.author[i])), "text": quote(f.text[i]), "time": c.iso(int(f.time[i]))}
        for i in un
    ]
    return out


# ---- content ---------------------------------------------------------------------------------


def content(c: Context, parents: IntArray, min_posts: int = 5) -> dict[str, Any]:
    """Replies (from other members) and reactions per post by content kind, and the measured
    ranking by engagement (replies + reactions per post) next to the claimed one."""
    f = c.f
    n = len(f)
    rows = np.flatnonzero((parents >= 0) & (parents != np.arange(n)) & c.msg)
    par = parents[rows]
    par = par[f.author[rows] != f.author[par]]
    replies = np.bincount(par, minlength=n)
    mi = np.flatnonzero(c.msg)
    kinds = f.content[mi]
    posts = np.bincount(kinds, minlength=len(CONTENT_KINDS))
    rep = np.bincount(kinds, weights=replies[mi], minlength=len(CONTENT_KINDS))
    rea = np.bincount(kinds, weights=f.reactions[mi], minlength=len(CONTENT_KINDS))
    by_kind: list[dict[str, Any]] = []
    for k, kind in enumerate(CONTENT_KINDS):
        if posts[k] == 0:
            continue
        by_kind.append(
            {
                "kind": kind.value,
                "posts": int(posts[k]),
                "replies_per_post": round(float(rep[k] / posts[k]), 4),
                "reactions_per_post": round(float(rea[k] / posts[k]), 4),
                "engagement_per_post": round(float((rep[k] + rea[k]) / posts[k]), 4),
            }
        )
    ranked = sorted(
        (r for r in by_kind if r["posts"] >= min_posts and r["kind"] in CLAIMED_RANKING),
        key=lambda r: -float(r["engagement_per_post"]),
    )
    measured = [str(r["kind"]) for r in ranked]
    claimed = [k for k in CLAIMED_RANKING if k in measured]
    agreement = None
    if len(measured) >= 2:
        pos = {k: i for i, k in enumerate(measured)}
        pairs = [(a, b) for i, a in enumerate(claimed) for b in claimed[i + 1 :]]
        agreement = round(sum(pos[a] < pos[b] for a, b in pairs) / len(pairs), 4)
    return {
        "by_kind": by_kind,
        "measured_ranking": measured,
        "claimed_ranking": claimed,
        "claim_holds": measured == claimed if len(measured) >= 2 else None,
        "pairwise_agreement": agreement,
        "min_posts": min_posts,
    }


# ---- growth ----------------------------------------------------------------------------------


def growth(c: Context, top: int = 20) -> dict[str, Any]:
    """Who added whom (joins with an inviter): the invitation tree (generation 1 = invited by
    someone nobody invited), invitees per inviter, and the share of invitees who posted at
    least 7 (30) days after joining, among those who joined at least that long ago."""
    f = c.f
    j = np.flatnonzero((f.kind == JOINED) & (f.inviter >= 0))
    parent: dict[int, int] = {}
    joined: dict[int, int] = {}
    for i in j.tolist():
        child = int(f.author[i])
        if child not in parent and int(f.inviter[i]) != child:
            parent[child] = int(f.inviter[i])
            joined[child] = int(f.time[i])
    via: dict[str, int] = defaultdict(int)
    for i in np.flatnonzero(f.kind == JOINED).tolist():
        via[f.via[i] or ("added" if f.inviter[i] >= 0 else "unknown")] += 1
    gen: dict[int, int] = {}

    def generation(v: int) -> int:
        path: list[int] = []
        while v in parent and v not in gen and len(path) <= len(parent):
            path.append(v)
            v = parent[v]
        g = gen.get(v, 0)
        for u in reversed(path):
            g += 1
            gen[u] = g
        return g

    for child in parent:
        generation(child)
    per: dict[int, int] = defaultdict(int)
    for p in parent.values():
        per[p] += 1
    out: dict[str, Any] = {
        "invited": len(parent),
        "inviters_count": len(per),
        "generations": max(gen.values(), default=0),
        "by_generation": {
            str(g): sum(1 for x in gen.values() if x == g) for g in sorted(set(gen.values()))
        },
        "inviters": [
            {"name": c.name(p), "invitees": k}
            for p, k in sorted(per.items(), key=lambda x: (-x[1], x[0]))[:top]
        ],
        "joins_by_channel": dict(via),
        "tree": [
            {"inviter": c.name(p), "invitee": c.name(v), "generation": gen[v]}
            for v, p in list(parent.items())[:500]
        ],
    }
    for days in (7, 30):
        eligible = [v for v, t in joined.items() if t <= c.now - days * DAY]
        if not eligible:
            out[f"active_after_{days}d"] = None
            continue
        # posted at or after join + days
        ev = np.asarray(eligible, dtype=np.int64)
        jt = np.asarray([joined[v] for v in eligible], dtype=np.int64)
        out[f"active_after_{days}d"] = round(float(np.mean(c.last_msg[ev] >= jt + days * DAY)), 4)
    return out


# ---- spam, sentiment, keywords ---------------------------------------------------------------


def text_rows(c: Context) -> IntArray:
    """The rows of messages with text, bots' posts left out: the population the text models
    (spam, sentiment, keywords) sample from."""
    has_text = np.fromiter(map(bool, c.f.text), dtype=np.bool_, count=len(c.f))
    if c.pa is not c.ma:
        has_text &= ~c.bot[c.f.author]
    return np.flatnonzero(c.msg & has_text)


def _sample(c: Context, size: int, population: IntArray | None = None) -> IntArray:
    """A uniform sample (in row order) of at most ``size`` of the text messages
    (``population``, :func:`text_rows` when not given); all of them when there are fewer."""
    mi = text_rows(c) if population is None else population
    if mi.shape[0] <= size:
        return mi
    return np.sort(np.random.default_rng(0).choice(mi, size=size, replace=False))


def spam(
    c: Context, rows: IntArray, top: int = 10, population: IntArray | None = None
) -> dict[str, Any]:
    """Share of the text messages the classifier calls spam/ads, and the top offenders.

    ``rows`` are the messages read (the sample), ``population`` all text messages they were
    drawn from (``rows`` itself when not given: everything was read). Counts are what was read
    when everything was; when sampled they are estimates, per member their share of their own
    read messages times their own text messages, so never above what they posted."""
    from groupops.analytics.textmodels import load_spam

    model = load_spam()
    if population is None:
        population = rows
    total = int(population.shape[0])
    read = int(rows.shape[0])
    if model is None or read == 0:
        return {
            "share": 0.0,
            "messages": 0,
            "sampled": read,
            "text_messages": total,
            "top_offenders": [],
        }
    flags = np.asarray(model.predict([c.f.text[i][:1000] for i in rows.tolist()]), dtype=bool)
    counts = np.bincount(c.f.author[rows[flags]], minlength=c.n_people)
    if read < total:  # sampled: each member's own spam rate, applied to their own messages
        read_by = np.bincount(c.f.author[rows], minlength=c.n_people)
        posted = np.bincount(c.f.author[population], minlength=c.n_people)
        estimate = np.rint(counts * posted / np.maximum(read_by, 1)).astype(np.int64)
        estimate = np.minimum(estimate, posted)
        messages = min(round(float(flags.mean()) * total), total)
    else:
        estimate = counts.astype(np.int64)
        messages = int(flags.sum())
    order = np.argsort(-estimate, kind="stable")[:top]
    return {
        "share": round(float(flags.mean()), 4),
        "messages": messages,
        "sampled": read,
        "text_messages": total,
        "top_offenders": [
            {
                "name": c.name(int(i)),
                "spam": int(estimate[i]),
                "share_of_their_messages": round(
                    min(float(estimate[i] / max(c.msg_count[i], 1)), 1.0), 4
                ),
            }
            for i in order
            if estimate[i] > 0
        ],
        "examples": [quote(c.f.text[i]) for i in rows[flags][:5].tolist()],
    }


def sentiment(c: Context, rows: IntArray) -> dict[str, Any]:
    """Weekly positive/negative shares (score > 0.2 / < -0.2) over the sampled messages;
    negative spikes = weeks (with at least 5 scored messages) whose negative share is at least
    0.25 above, and twice, the median of the other weeks; who started a spike = the author of that
    week's first negative message."""
    from groupops.analytics.textmodels import load_sentiment, sentiment_scores

    if rows.shape[0] == 0:
        return {"over_time": [], "spikes": [], "sampled": 0}
    scores = sentiment_scores([c.f.text[i][:500] for i in rows.tolist()], load_sentiment())
    weeks = _week_start(c.local_day(c.f.time[rows]))
    uw, inv = np.unique(weeks, return_inverse=True)
    scored = scores != 0
    cnt = np.bincount(inv, weights=scored, minlength=uw.shape[0])
    pos = np.bincount(inv, weights=scores > 0.2, minlength=uw.shape[0])
    neg = np.bincount(inv, weights=scores < -0.2, minlength=uw.shape[0])
    negshare = np.where(cnt > 0, neg / np.maximum(cnt, 1), 0.0)
    over = [
        {
            "week": _week_label(int(w)),
            "scored": int(k),
            "positive": round(float(p / k), 4) if k else 0.0,
            "negative": round(float(q / k), 4) if k else 0.0,
        }
        for w, k, p, q in zip(uw, cnt, pos, neg, strict=True)
    ]
    spikes = []
    valid = cnt >= 5
    if valid.sum() >= 2:
        for k in np.flatnonzero(valid):
            others = valid.copy()
            others[k] = False
            base = float(np.median(negshare[others]))
            if negshare[k] < base + 0.25 or negshare[k] < 2 * base:
                continue
            first = rows[(inv == k) & (scores < -0.2)][0]
            spikes.append(
                {
                    "week": _week_label(int(uw[k])),
                    "negative": round(float(negshare[k]), 4),
                    "baseline": round(base, 4),
                    "started_by": c.name(int(c.f.author[first])),
                    "first_message": quote(c.f.text[first]),
                    "time": c.iso(int(c.f.time[first])),
                }
            )
    return {
        "over_time": over,
        "spikes": spikes,
        "sampled": int(rows.shape[0]),
        "average": round(float(scores[scored].mean()), 4) if scored.any() else 0.0,
    }


def keywords(c: Context, rows: IntArray, top: int = 30) -> dict[str, Any]:
    from groupops.analytics.textmodels import keywords as kw

    return {"top": kw([c.f.text[i] for i in rows.tolist()], top), "sampled": int(rows.shape[0])}
