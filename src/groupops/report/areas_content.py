"""The report's areas about what is said: content kinds, spam, sentiment, keywords."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from groupops.report.charts import _layout, count_axis
from groupops.report.figures import fmt, label, num, pct, pick, records, series
from groupops.report.labels import (
    C_CONTENT,
    C_KEYWORDS,
    C_SENTIMENT,
    CONTENT_KINDS,
    KEYS,
    L_COUNT,
    L_KEYWORD,
    L_MESSAGES,
    L_REACTIONS_PER_POST,
    L_REPLIES_PER_POST,
    L_SPAM_SHARE,
    T_ALL_FIGURES,
    Gettext,
    key_label,
)
from groupops.report.page import Page


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
