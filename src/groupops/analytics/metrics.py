"""The metric areas of activity and membership, each a function of a
:class:`~groupops.analytics.context.Context` (one :class:`~groupops.analytics.frame.Frame`'s
derived arrays): the overview, activity per day, week and month with retention, the life cycle
and its early warning, member segments, the monthly top 3, and growth by invitation. The areas
read from reply links are in :mod:`groupops.analytics.conversation`, the text areas in
:mod:`groupops.analytics.text_metrics`.

All work is on numpy arrays; the expensive text parts (spam, sentiment, keywords) run on a
uniform sample of at most ``text_metrics.TEXT_SAMPLE`` messages (the metrics say how many were
read).

Calendar figures (days, weeks, months, the hour x weekday map, the times shown) are in the zone
the analysis runs in (``Context.zone``, UTC by default); durations ("the last 28 days") are
counted back from "now" and need no zone.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import numpy.typing as npt

from groupops.analytics import texts as tx
from groupops.analytics.context import (
    DAY,
    WEEK,
    Context,
    IntArray,
    _date,
    _month_key,
    _month_label,
    _week_label,
    _week_start,
    zone_name,
)
from groupops.analytics.frame import JOINED, LEFT, distinct

# ---- overview and activity -------------------------------------------------------------------


def active_members_30d(c: Context) -> int:
    """The one "active members" figure: members (joined or seen, not gone, no bots) who
    posted in the 30 days before "now". Someone who posted and then left is no longer a
    member, so not active either: this never exceeds ``members``."""
    return int(np.count_nonzero(c.member & (c.last_msg >= c.now - 30 * DAY)))


def overview(c: Context) -> dict[str, Any]:
    out: dict[str, Any] = {
        "messages": int(c.mt.shape[0]),
        "members": int(np.count_nonzero(c.member)),
        "people_seen": int(np.count_nonzero(c.seen)),
        "posters": int(np.count_nonzero((c.msg_count > 0) & ~c.bot)),
        "active_members_30d": active_members_30d(c),
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
    pair = distinct(inv.astype(np.int64) * (int(authors.max()) + 1) + authors)
    active = np.bincount(pair // (int(authors.max()) + 1), minlength=uk.shape[0])
    return uk, counts.astype(np.int64), active.astype(np.int64)


def _filled(
    found: tuple[IntArray, IntArray, IntArray], first: int, last: int, step: int = 1
) -> tuple[IntArray, IntArray, IntArray]:
    """The periods ``first``, ``first + step`` ... ``last`` with their messages and active
    members, zero where ``found`` (keys, messages, active) has none: a silent day, week or
    month is a row of zeros, not a gap a chart draws a line across."""
    keys, msgs, act = found
    every = np.arange(first, last + 1, step, dtype=np.int64)
    m = np.zeros(every.shape[0], dtype=np.int64)
    a = np.zeros(every.shape[0], dtype=np.int64)
    inside = (keys >= first) & (keys <= last)
    at = (keys[inside] - first) // step
    m[at] = msgs[inside]
    a[at] = act[inside]
    return every, m, a


def activity(c: Context, max_days: int = 400) -> dict[str, Any]:
    """Messages and active members per day (every day of the last ``max_days`` up to the last
    message's), week and month, from the first message's to the last message's, silent ones
    as zeros; active ratio (members who posted in the last 30 days / members); the hour x
    weekday heatmap (in the zone, Monday first); retention by join week."""
    bots = c.pa is not c.ma
    days, dm, da = _per_period(c.mday, c.ma, (c.pday, c.pa) if bots else None)
    weeks, wm, wa = _per_period(
        _week_start(c.mday), c.ma, (_week_start(c.pday), c.pa) if bots else None
    )
    months, mm, ma = _per_period(
        _month_key(c.mday), c.ma, (_month_key(c.pday), c.pa) if bots else None
    )
    if days.shape[0]:
        last = int(days[-1])
        days, dm, da = _filled((days, dm, da), max(int(days[0]), last - max_days + 1), last)
        weeks, wm, wa = _filled((weeks, wm, wa), int(weeks[0]), int(weeks[-1]), 7)
        months, mm, ma = _filled((months, mm, ma), int(months[0]), int(months[-1]))
    hour = np.floor_divide(np.mod(c.mlocal, DAY), 3600)
    weekday = np.mod(c.mday + 3, 7)
    heat = np.bincount(weekday * 24 + hour, minlength=7 * 24).reshape(7, 24)
    members = int(np.count_nonzero(c.member))
    active = active_members_30d(c)
    return {
        "per_day": [
            {"date": _date(int(d)).isoformat(), "messages": int(m), "active_members": int(a)}
            for d, m, a in zip(days, dm, da, strict=True)
        ],
        "per_week": [
            {
                "week": _week_label(int(w)),
                "start": _date(int(w)).isoformat(),
                "messages": int(m),
                "active_members": int(a),
            }
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
    key = distinct(c.ma[ok] * horizon + rel[ok])
    posted = np.zeros((c.n_people, horizon), dtype=np.bool_)
    posted[key // horizon, key % horizon] = True
    now_week = int(_week_start(c.local_day(c.now)))
    out = []
    for w in distinct(cweek)[-cohorts:]:
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
    first = int(c.mt.min()) if c.mt.shape[0] else None
    if c.earlier is not None and c.earlier.first_message is not None:  # a window's frame
        first = c.earlier.first_message if first is None else min(first, c.earlier.first_message)
    nweeks = 1 if first is None else int((c.now - first) // WEEK) + 1
    back = (c.now - c.mt) // WEEK
    ok = (back >= 0) & (back < nweeks)
    idx = nweeks - 1 - back[ok]
    msgs = np.bincount(idx, minlength=nweeks).astype(np.int64)
    if c.pa is not c.ma:  # active members are people, not bots
        back = (c.now - c.pt) // WEEK
        ok = (back >= 0) & (back < nweeks)
        idx = nweeks - 1 - back[ok]
    pair = distinct(idx * max(c.n_people, 1) + c.pa[ok])
    act = np.bincount(pair // max(c.n_people, 1), minlength=nweeks).astype(np.int64)
    starts = c.local_day(c.now - (nweeks - np.arange(nweeks)) * WEEK + 1)
    return np.asarray(starts, dtype=np.int64), msgs, act


def lifecycle(c: Context) -> dict[str, Any]:
    """Stage by the first rule that fires, in this order:

    * dead: no message in the last 21 days, or fewer than 3 messages in the last 28 days, in
      a group at least 3 weeks old (or with nobody in it at all);
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
    if c.earlier is not None:  # a frame of the last weeks: what came before (Earlier)
        if c.earlier.last_message is not None:
            last_msg = max(last_msg, c.earlier.last_message)
        if c.earlier.born is not None:
            born = min(born, c.earlier.born)
    age_days = (c.now - born) / DAY
    since_last = (c.now - last_msg) / DAY if last_msg >= 0 else float("inf")
    recent = int(np.count_nonzero(c.mt >= c.now - 28 * DAY))
    prev = int(np.count_nonzero((c.mt >= c.now - 56 * DAY) & (c.mt < c.now - 28 * DAY)))
    act_recent = int(distinct(c.pa[c.pt >= c.now - 28 * DAY]).shape[0])
    act_prev = int(distinct(c.pa[(c.pt >= c.now - 56 * DAY) & (c.pt < c.now - 28 * DAY)]).shape[0])
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
    # a group of under 3 weeks where little was said yet is new, not dead (the bot added to a
    # group today); a history with nobody in it at all is dead
    known = bool(c.seen.any()) or (c.earlier is not None and c.earlier.born is not None)
    if (since_last > 21 or recent < 3) and (age_days >= 21 or not known):
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
        a2 = int(distinct(c.pa[(back >= 0) & (back < 2)]).shape[0])
        a_prev2 = int(distinct(c.pa[(back >= 2) & (back < 4)]).shape[0])
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
    for m in distinct(month)[-months:]:
        sel = np.flatnonzero(month == m)
        best = sel[np.lexsort((who[sel], -counts[sel]))][:3]
        out[_month_label(int(m))] = [
            {"name": c.name(int(who[b])), "messages": int(counts[b])} for b in best
        ]
    return out


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
