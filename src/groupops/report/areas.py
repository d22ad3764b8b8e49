"""The report's areas: one renderer per area of the metrics (life cycle, activity, segments,
monthly top 3, reply graph, questions and answers, content, spam, sentiment, keywords, growth),
each adding its cards, charts and tables to the :class:`~groupops.report.page.Page`, and the
overview at the top of the page."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from groupops.analytics.texts import translate
from groupops.report.figures import _name, fmt, label, num, pct, pick, records, seconds, series
from groupops.report.labels import (
    C_CONTENT,
    C_HEATMAP,
    C_HOUR,
    C_INVITEES,
    C_KEYWORDS,
    C_LEADERS,
    C_PER_DAY,
    C_PER_DAY_CUT,
    C_PER_MONTH,
    C_PER_WEEK,
    C_RETENTION,
    C_SEGMENTS,
    C_SENTIMENT,
    CONTENT_KINDS,
    DATE_FORMATS,
    KEYS,
    L_ACTIVE,
    L_COHORT,
    L_COUNT,
    L_DAY,
    L_EVIDENCE,
    L_INVITED,
    L_INVITEES,
    L_KEYWORD,
    L_LEADERS,
    L_MEANING,
    L_MEDIAN,
    L_MEMBER,
    L_MEMBERS,
    L_MESSAGES,
    L_MONTH,
    L_NO_WARNING,
    L_P90,
    L_QUESTIONS,
    L_REACTIONS_PER_POST,
    L_REPLIES_PER_POST,
    L_SEGMENT,
    L_SOULS,
    L_SPAM_SHARE,
    L_STAGE,
    L_UNANSWERED,
    L_WARNING,
    L_WEEK,
    L_WEEKDAY,
    L_WEEKS_AFTER,
    L_WITHIN_1M,
    SEGMENT_HELP,
    SEGMENTS,
    STAGES,
    T_ALL_FIGURES,
    T_GENERATION,
    T_NO_DATA,
    T_OVERVIEW,
    T_OVERVIEW_HELP,
    T_TREE,
    WEEKDAYS,
    Gettext,
    key_label,
)
from groupops.report.page import Page


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


# -- the areas ------------------------------------------------------------------------------


def _overview(page: Page, m: Mapping[str, Any], _: Gettext) -> None:
    page.section("overview", _(T_OVERVIEW), _(T_OVERVIEW_HELP))
    ov = pick(m, "overview", "summary", "totals") or {}
    lc = pick(m, "lifecycle") or {}
    stage = pick(lc, "stage")
    page.cards(
        [
            (_(L_STAGE), _(STAGES[stage]) if stage in STAGES else stage),
            (_(L_MEMBERS), fmt(pick(ov, "members", "authors", "member_count"))),
            (_(L_MESSAGES), fmt(pick(ov, "messages", "message_count"))),
            (_(L_ACTIVE), fmt(pick(ov, "active_members_30d", "active_members", "active"))),
        ]
    )
    warning = pick(lc, "warning", "early_warning")
    _warning(page, warning, _)
    if isinstance(ov, Mapping):
        page.figures(ov, _(T_ALL_FIGURES))


def _warning(page: Page, warning: Any, _: Gettext) -> None:
    if isinstance(warning, Mapping):
        active = pick(warning, "active", "warn", "raised", "level")
        text = pick(warning, "message", "text", "reason", "reasons")
        if active in (False, None, "none", "ok") and not text:
            page.note(_(L_NO_WARNING), "ok")
        else:
            page.note(f"{_(L_WARNING)}: {warning_text(warning, _)}", "warning")
    elif warning:
        page.note(f"{_(L_WARNING)}: {warning_text(warning, _)}", "warning")
    elif warning is not None:
        page.note(_(L_NO_WARNING), "ok")


def warning_text(warning: Any, _: Gettext) -> str:
    """The early warning's reasons (or its flag) in the reader's language."""
    if isinstance(warning, Mapping):
        text = pick(warning, "message", "text", "reason", "reasons")
        if text is None:
            text = pick(warning, "active", "warn", "raised", "level")
        warning = text
    if isinstance(warning, str):
        return translate(warning, _)
    if isinstance(warning, list):
        return fmt([translate(w, _) if isinstance(w, str) else w for w in warning], _)
    return fmt(warning, _)


def _lifecycle(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    stage = pick(a, "stage")
    page.cards([(_(L_STAGE), _(STAGES[stage]) if stage in STAGES else stage)])
    evidence = pick(a, "evidence")
    if isinstance(evidence, list):
        page.bullets(
            [translate(e, _) if isinstance(e, str) else e for e in evidence], _(L_EVIDENCE)
        )
    elif isinstance(evidence, Mapping):
        page.table([_(L_EVIDENCE), ""], [[key_label(k, _), fmt(v, _)] for k, v in evidence.items()])
    _warning(page, pick(a, "warning", "early_warning"), _)
    rest = {k: v for k, v in a.items() if k not in ("stage", "evidence", "warning")}
    if rest:
        page.figures(rest, _(T_ALL_FIGURES))


def _per_day_title(xs: Sequence[Any], page: Page, first: Any, _: Gettext) -> str:
    """The per-day chart's title: its days, and that they are the last ones with messages when
    the series starts after the group's first day (the weeks and months cover everything)."""
    start, end, zone = fmt(xs[0]), fmt(xs[-1]), page.zone
    if first is not None and str(first) < str(xs[0]):
        return _(C_PER_DAY_CUT).format(n=f"{len(xs):,}", start=start, end=end, zone=zone)
    return _(C_PER_DAY).format(start=start, end=end, zone=zone)


def _activity(page: Page, a: Mapping[str, Any], _: Gettext, first: Any = None) -> None:
    import plotly.graph_objects as go

    for keys, unit in (
        (("per_day", "daily", "day", "days"), L_DAY),
        (("per_week", "weekly", "week", "weeks"), L_WEEK),
        (("per_month", "monthly", "month", "months"), L_MONTH),
    ):
        rows = pick(a, *keys)
        xs, ys = series(rows)
        if not xs or not ys:
            continue
        if unit == L_WEEK:
            xs = week_starts(rows, xs)
        ys.pop("start", None)
        fig = go.Figure()
        # a few points each get a marker: a single day, week or month is a dot, not nothing
        mode = "lines+markers" if len(xs) <= 60 else "lines"
        for name, values in ys.items():
            fig.add_trace(go.Scatter(x=xs, y=values, mode=mode, name=label(key_label(name, _))))
        if unit == L_DAY:
            title = _per_day_title(xs, page, first, _)
        else:
            title = _(C_PER_WEEK if unit == L_WEEK else C_PER_MONTH).format(zone=page.zone)
        counts = [v for values in ys.values() for v in values if v is not None]
        page.chart(
            _layout(
                fig,
                title=label(title),
                xaxis={**time_axis(xs, UNITS[unit], page.lang), "title": {"text": _(unit)}},
                yaxis=count_axis(counts),
            )
        )
    heat = pick(a, "heatmap", "hour_weekday", "heatmap_hour_weekday")
    z = pick(heat, "counts", "z", "values", "matrix") if isinstance(heat, Mapping) else heat
    if isinstance(z, list) and z and isinstance(z[0], list):
        rows = len(z)
        days = [_(d) for d in WEEKDAYS]
        hour = _(C_HOUR).format(zone=page.zone)
        if rows == 7:  # weekday x hour
            fig = go.Figure(go.Heatmap(z=z, y=days, x=list(range(len(z[0]))), colorscale="Blues"))
            axes = {
                "xaxis_title": hour,
                "yaxis_title": _(L_WEEKDAY),
                "yaxis_autorange": "reversed",  # Monday on top, as a calendar reads
            }
        else:  # hour x weekday
            fig = go.Figure(
                go.Heatmap(z=z, x=days[: len(z[0])], y=list(range(rows)), colorscale="Blues")
            )
            axes = {"yaxis_title": hour, "xaxis_title": _(L_WEEKDAY)}
        fig.update_traces(colorbar_title_text=_(L_MESSAGES))
        title = _(C_HEATMAP).format(zone=page.zone)
        page.chart(_layout(fig, title=label(title), height=380, **axes))
    ret = pick(a, "retention", "cohorts", "retention_cohorts")
    cohorts = records(pick(ret, "cohorts") if isinstance(ret, Mapping) else ret)
    if cohorts:
        grid = [pick(c, "retained", "retention", "active_share", "shares") for c in cohorts]
        labels = [label(pick(c, "week", "cohort", "start", "name")) for c in cohorts]
        keep = [(lab, g) for lab, g in zip(labels, grid, strict=True) if isinstance(g, list)]
        if keep:
            keep = keep[-30:]
            width = max(len(g) for _lab, g in keep)
            fig = go.Figure(
                go.Heatmap(
                    x=list(range(width)),
                    z=[g for _lab, g in keep],
                    y=[lab for lab, _g in keep],
                    colorscale="Greens",
                    zmin=0,
                )
            )
            page.chart(
                _layout(
                    fig,
                    title=_(C_RETENTION),
                    # whole weeks: 0, 1, 2 ... (never half weeks)
                    xaxis={"title": {"text": _(L_WEEKS_AFTER)}, "dtick": 1, "tick0": 0},
                    yaxis={"title": {"text": _(L_COHORT)}, "type": "category"},
                    height=420,
                )
            )
    scalars = {k: v for k, v in a.items() if not isinstance(v, list | Mapping)}
    if scalars:
        page.figures(scalars, _(T_ALL_FIGURES))


def _segments(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    import plotly.graph_objects as go

    counts = pick(a, "counts", "sizes")
    if not isinstance(counts, Mapping):
        counts = {
            k: (len(v) if isinstance(v, list) else v)
            for k, v in a.items()
            if k in SEGMENTS and (isinstance(v, list) or num(v) is not None)
        }
    if counts:
        names = [_(SEGMENTS[k]) if k in SEGMENTS else label(key_label(k, _)) for k in counts]
        meanings = [_(SEGMENT_HELP[k]) if k in SEGMENT_HELP else "" for k in counts]
        fig = go.Figure(
            go.Bar(
                x=names,
                y=[num(v) for v in counts.values()],
                hovertext=meanings,
                hovertemplate="%{x}: %{y}<br>%{hovertext}<extra></extra>",
            )
        )
        page.chart(
            _layout(
                fig,
                title=_(C_SEGMENTS),
                yaxis={
                    **count_axis([num(v) for v in counts.values()]),
                    "title": {"text": _(L_MEMBERS)},
                },
            )
        )
        page.table(
            [_(L_SEGMENT), _(L_MEMBERS), _(L_MEANING)],
            [
                [name, num(v), meaning]
                for name, v, meaning in zip(names, counts.values(), meanings, strict=True)
            ],
        )
    members = pick(a, "members")
    if isinstance(members, Mapping):
        for k, v in members.items():
            if isinstance(v, list):
                title = _(SEGMENTS[k]) if k in SEGMENTS else key_label(k, _)
                page.bullets([_name(x) if isinstance(x, Mapping) else x for x in v][:60], title)
    rest = {k: v for k, v in a.items() if k not in ("counts", "sizes", "members")}
    if rest:
        page.figures(rest, _(T_ALL_FIGURES))


def _top3(page: Page, a: Any, _: Gettext) -> None:
    rows: list[list[Any]] = []
    months = (
        a.items()
        if isinstance(a, Mapping)
        else ((pick(r, "month", "period"), pick(r, "top", "members", "top3")) for r in records(a))
    )
    for month, top in months:
        if isinstance(top, list):
            for rank, who in enumerate(top, 1):
                if isinstance(who, Mapping):
                    rows.append(
                        [month, rank, _name(who), num(pick(who, "messages", "count", "score"))]
                    )
                else:
                    rows.append([month, rank, str(who), None])
    rows.sort(key=lambda r: (str(r[0]), -int(r[1])), reverse=True)
    page.table([_(L_MONTH), "#", _(L_MEMBER), _(L_MESSAGES)], rows)


def _ranked_bar(
    page: Page,
    recs: Sequence[Mapping[str, Any]],
    value_keys: tuple[str, ...],
    title: str,
    _: Gettext,
    counts: bool = False,
) -> None:
    """A horizontal bar per record (the first 15); ``counts``: the values are whole numbers
    (integer ticks)."""
    import plotly.graph_objects as go

    pairs = [(_name(r), num(pick(r, *value_keys))) for r in recs[:15]]
    shown = [(n, v) for n, v in pairs if v is not None]
    if shown:
        fig = go.Figure(
            go.Bar(
                x=[v for _n, v in shown][::-1],
                y=[label(n) for n, _v in shown][::-1],
                orientation="h",
            )
        )
        axes = {"xaxis": count_axis([v for _n, v in shown])} if counts else {}
        page.chart(_layout(fig, title=label(title), height=max(260, 24 * len(shown) + 80), **axes))


def _graph(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    leaders = records(pick(a, "opinion_leaders", "leaders"))
    if leaders:
        _ranked_bar(page, leaders, ("score", "centrality", "pagerank", "value"), _(C_LEADERS), _)
        page.records_table(leaders, _(L_LEADERS))
    souls = records(pick(a, "soul_figures", "souls"))
    if souls:
        page.records_table(souls, _(L_SOULS))
    rest = {
        k: v
        for k, v in a.items()
        if k not in ("opinion_leaders", "leaders", "soul_figures", "souls")
    }
    if rest:
        page.figures(rest, _(T_ALL_FIGURES))


def _qa(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    frt = pick(a, "first_response", "frt", "first_response_time") or a
    step = pick(frt, "resolution_s") or 1
    page.cards(
        [
            (_(L_QUESTIONS), fmt(pick(a, "questions", "question_count"))),
            (_(L_MEDIAN), seconds(pick(frt, "median", "median_s", "median_seconds"), _, step)),
            (_(L_P90), seconds(pick(frt, "p90", "p90_s", "p90_seconds"), _, step)),
            (_(L_WITHIN_1M), pct(pick(frt, "within_1min", "share_within_1min", "within_60s"))),
            (_(L_UNANSWERED), fmt(pick(a, "unanswered_count", "unanswered_total"))),
        ]
    )
    unanswered = records(pick(a, "unanswered", "unanswered_questions"))
    if unanswered:
        page.records_table(unanswered, _(L_UNANSWERED))
    page.figures({k: v for k, v in a.items() if k not in ("unanswered",)}, _(T_ALL_FIGURES))


def _content(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    import plotly.graph_objects as go

    kinds = pick(a, "by_kind", "kinds", "per_kind") or a
    recs = records(kinds)
    if recs:
        names = [
            _(CONTENT_KINDS[str(r.get("name", r.get("kind")))])
            if str(r.get("name", r.get("kind"))) in CONTENT_KINDS
            else label(r.get("name", r.get("kind")))
            for r in recs
        ]
        fig = go.Figure()
        for keys, title in (
            (("replies_per_post", "replies"), L_REPLIES_PER_POST),
            (("reactions_per_post", "reactions"), L_REACTIONS_PER_POST),
        ):
            values = [num(pick(r, *keys)) for r in recs]
            if any(v is not None for v in values):
                fig.add_trace(go.Bar(x=names, y=values, name=_(title)))
        if fig.data:
            page.chart(_layout(fig, title=_(C_CONTENT), barmode="group"))
        page.records_table(recs)
    rest = {k: v for k, v in a.items() if k not in ("by_kind", "kinds", "per_kind")}
    if rest and kinds is not a:
        page.figures(rest, _(T_ALL_FIGURES))


def _spam(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    page.cards(
        [
            (_(L_SPAM_SHARE), pct(pick(a, "share", "spam_share"))),
            (_(L_MESSAGES), fmt(pick(a, "messages", "spam_messages", "count"))),
        ]
    )
    offenders = records(pick(a, "top_offenders", "offenders"))
    if offenders:
        page.records_table(offenders)
    page.figures(
        {k: v for k, v in a.items() if k not in ("top_offenders", "offenders")}, _(T_ALL_FIGURES)
    )


def _sentiment(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    import plotly.graph_objects as go

    xs, ys = series(pick(a, "over_time", "series", "per_week", "per_day", "timeline"))
    if xs and ys:
        # shares (0-1) on the left axis; the messages scored each week, a count, as bars on
        # their own right axis: on one axis the shares would be flat lines under the count
        fig = go.Figure()
        counts = {k: v for k, v in ys.items() if k in ("scored", "count", "messages")}
        mode = "lines+markers" if len(xs) <= 30 else "lines"  # a single week is a point
        for name, values in counts.items():
            fig.add_trace(
                go.Bar(
                    x=xs,
                    y=values,
                    name=label(key_label(name, _)),
                    yaxis="y2",
                    marker_color="rgba(160,170,185,0.35)",
                )
            )
        for name, values in ys.items():
            if name not in counts:
                fig.add_trace(go.Scatter(x=xs, y=values, mode=mode, name=label(key_label(name, _))))
        axes: dict[str, Any] = {"yaxis": {"tickformat": ".0%", "rangemode": "tozero"}}
        if counts:
            scored_label = KEYS["scored"]
            axes["yaxis2"] = {
                "overlaying": "y",
                "side": "right",
                "showgrid": False,
                "rangemode": "tozero",
                "title": {"text": _(scored_label)},
            }
        title = _(C_SENTIMENT).format(zone=page.zone)
        page.chart(
            _layout(fig, title=label(title), margin={"l": 50, "r": 60, "t": 40, "b": 40}, **axes)
        )
    spikes = records(pick(a, "spikes", "negative_spikes"))
    if spikes:
        page.records_table(spikes)
    page.figures(
        {
            k: v
            for k, v in a.items()
            if k not in ("over_time", "series", "spikes", "negative_spikes")
        },
        _(T_ALL_FIGURES),
    )


def _keywords(page: Page, a: Any, _: Gettext) -> None:
    import plotly.graph_objects as go

    recs = records(pick(a, "top", "keywords", "overall") if isinstance(a, Mapping) else a)
    pairs = [
        (
            str(pick(r, "word", "keyword", "term", "name")),
            num(pick(r, "count", "score", "weight", "value")),
        )
        for r in recs
    ]
    shown = [(w, v) for w, v in pairs if v is not None][:30]
    if shown:
        fig = go.Figure(
            go.Bar(
                x=[v for _w, v in shown][::-1],
                y=[label(w) for w, _v in shown][::-1],
                orientation="h",
            )
        )
        page.chart(
            _layout(
                fig,
                title=_(C_KEYWORDS),
                height=max(300, 20 * len(shown) + 80),
                xaxis=count_axis([v for _w, v in shown]),
            )
        )
        page.table([_(L_KEYWORD), _(L_COUNT)], [[w, v] for w, v in shown])
    if isinstance(a, Mapping):
        rest = {k: v for k, v in a.items() if k not in ("top", "keywords", "overall")}
        if rest:
            page.figures(rest, _(T_ALL_FIGURES))


def _growth(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    inviters = records(pick(a, "inviters", "top_inviters", "invitees_per_inviter"))
    if not inviters and not a.get("tree") and not num(a.get("invited")):
        # the export records no invitations (IRC, Telegram): say so, not tiles of zeros;
        # how members joined, when known, is still shown
        page.note(_(T_NO_DATA))
        if a.get("joins_by_channel"):
            page.figures({"joins_by_channel": a["joins_by_channel"]}, _(T_ALL_FIGURES))
        return
    if inviters:
        _ranked_bar(page, inviters, ("invitees", "count", "value"), _(C_INVITEES), _, counts=True)
        page.records_table(inviters)
    tree = records(a.get("tree"))
    if tree:
        _tree(page, tree, num(a.get("invited")), _)
    page.figures(
        {
            k: v
            for k, v in a.items()
            if k not in ("inviters", "top_inviters", "invitees_per_inviter", "tree")
        },
        _(T_ALL_FIGURES),
    )


OPEN_TREE = 30  # invitations: up to this many, every generation is shown open


def _tree(page: Page, tree: Sequence[Mapping[str, Any]], invited: float | None, _: Gettext) -> None:
    """Who invited whom: one collapsible block per generation, a row per inviter with the
    people they invited; open when the tree is small, closed (a line each) when it holds
    hundreds."""
    by_gen: dict[int, dict[str, list[str]]] = {}
    for rec in tree:
        g = num(pick(rec, "generation"))
        who, whom = pick(rec, "inviter"), pick(rec, "invitee")
        if who is None or whom is None:
            continue
        by_gen.setdefault(int(g or 0), {}).setdefault(str(who), []).append(str(whom))
    if not by_gen:
        return
    sep = "、" if page.lang.startswith("zh") else ", "
    shown = sum(len(v) for gen in by_gen.values() for v in gen.values())
    groups = []
    for g in sorted(by_gen):
        inviters = by_gen[g]
        rows: list[list[Any]] = [
            [who, len(whom), sep.join(whom)]
            for who, whom in sorted(inviters.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ]
        groups.append(
            {
                "summary": _(T_GENERATION).format(
                    generation=g,
                    invitees=sum(len(w) for w in inviters.values()),
                    inviters=len(rows),
                ),
                "rows": rows,
            }
        )
    left = int(invited or 0) - shown
    page.groups(
        _(T_TREE),
        [_(KEYS["inviter"]), _(L_INVITEES), _(L_INVITED)],
        groups,
        open_all=shown <= OPEN_TREE,
        more=left,
    )


RENDERERS: dict[str, Callable[[Page, Any, Gettext], None]] = {
    "lifecycle": _lifecycle,
    "activity": _activity,
    "segments": _segments,
    "top3": _top3,
    "graph": _graph,
    "qa": _qa,
    "content": _content,
    "spam": _spam,
    "sentiment": _sentiment,
    "keywords": _keywords,
    "growth": _growth,
}
