"""The report's overview and its areas of a group's life: life cycle (stage, evidence, early
warning) and activity (messages per day, week and month, by hour and weekday)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from groupops.analytics.texts import translate
from groupops.report.charts import UNITS, _layout, count_axis, time_axis, week_starts
from groupops.report.figures import fmt, label, pick, records, series
from groupops.report.labels import (
    C_HEATMAP,
    C_HOUR,
    C_PER_DAY,
    C_PER_DAY_CUT,
    C_PER_MONTH,
    C_PER_WEEK,
    C_RETENTION,
    L_ACTIVE,
    L_COHORT,
    L_DAY,
    L_EVIDENCE,
    L_MEMBERS,
    L_MESSAGES,
    L_MONTH,
    L_NO_WARNING,
    L_RULE,
    L_STAGE,
    L_WARNING,
    L_WEEK,
    L_WEEKDAY,
    L_WEEKS_AFTER,
    STAGES,
    T_ALL_FIGURES,
    T_OVERVIEW,
    T_OVERVIEW_HELP,
    WEEKDAYS,
    Gettext,
    key_label,
)
from groupops.report.page import Page


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
    rule = pick(a, "rule")
    if isinstance(evidence, list):
        lines = [translate(e, _) if isinstance(e, str) else e for e in evidence]
        if isinstance(rule, str):  # "messages 141 -> 132" says little without it
            lines.append(_(L_RULE).format(rule=translate(rule, _)))
        page.bullets(lines, _(L_EVIDENCE))
    elif isinstance(evidence, Mapping):
        page.table([_(L_EVIDENCE), ""], [[key_label(k, _), fmt(v, _)] for k, v in evidence.items()])
    _warning(page, pick(a, "warning", "early_warning"), _)
    shown = {"stage", "evidence", "warning"}
    if isinstance(evidence, list) and isinstance(rule, str):
        shown.add("rule")
    rest = {k: v for k, v in a.items() if k not in shown}
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
