"""The report's areas about people: segments, the monthly top 3, the reply graph (opinion
leaders and souls), questions and answers, and growth (who invited whom)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from groupops.report.charts import _layout, count_axis
from groupops.report.figures import _name, fmt, label, num, pct, pick, records, seconds
from groupops.report.labels import (
    C_INVITEES,
    C_LEADERS,
    C_SEGMENTS,
    KEYS,
    L_INVITED,
    L_INVITEES,
    L_LEADERS,
    L_MEANING,
    L_MEDIAN,
    L_MEMBER,
    L_MEMBERS,
    L_MESSAGES,
    L_MONTH,
    L_P90,
    L_QUESTIONS,
    L_SEGMENT,
    L_SOULS,
    L_UNANSWERED,
    L_WITHIN_1M,
    SEGMENT_HELP,
    SEGMENTS,
    T_ALL_FIGURES,
    T_GENERATION,
    T_NO_DATA,
    T_TREE,
    Gettext,
    key_label,
)
from groupops.report.page import Page


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
