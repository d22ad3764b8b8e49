"""metrics -> one self-contained HTML page.

Everything the page needs is inside it: the CSS, the figures as JSON, and plotly.js itself
(inlined once from the installed ``plotly`` package, never a CDN; no web fonts). Every string
that comes from a chat (names, texts, keywords) is escaped: the page text by Jinja2's
autoescape, chart labels by :func:`groupops.report.figures.label` (plotly draws a small HTML
subset in labels), and the figure JSON by plotly, which writes ``<``, ``>`` and ``/`` as ``\\u``
escapes.

The renderer reads the metrics the analytics produce (``groupops.analytics.analyze``) area by
area; an area it has no chart for is still shown as tables, so every figure is on the page. Its
words are in :mod:`groupops.report.labels`, the reading and formatting of figures in
:mod:`groupops.report.figures`, the page's blocks in :mod:`groupops.report.page`, the
renderer of each area in :mod:`groupops.report.areas`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from groupops.i18n import Catalogs
from groupops.report.areas import RENDERERS
from groupops.report.areas_activity import _activity, _overview
from groupops.report.figures import fmt, pick, records
from groupops.report.labels import (
    ALIASES,
    AREA_HELP,
    AREAS,
    PLOTLY_LOCALES,
    T_ALL_FIGURES,
    T_FOOTER,
    T_NO_DATA,
    T_OTHER,
    T_SUBTITLE,
    T_TITLE,
    key_label,
)
from groupops.report.page import Page

SKIP = {"overview", "summary", "totals", "meta", "files", "generated_at", "version"}


def render(
    metrics: Mapping[str, Any],
    *,
    lang: str = "en",
    catalogs: Catalogs | None = None,
    files: Sequence[str] = (),
    generated: datetime | None = None,
) -> str:
    """The report page for ``metrics``, in ``lang`` (``zh_CN`` or ``en``)."""
    import plotly
    import plotly.offline

    from groupops import __version__

    _ = (catalogs or Catalogs()).gettext(lang)
    ov = pick(metrics, "overview", "summary", "totals") or {}
    page = Page(_, lang, time_zone(metrics))
    _overview(page, metrics, _)
    titles = dict(AREAS)
    for area, title in AREAS:
        key = next((k for k in metrics if ALIASES.get(k, k) == area), None)
        if key is None:
            continue
        page.section(area, _(title), _(AREA_HELP[area]))
        value = metrics[key]
        if value in (None, {}, []):
            page.note(_(T_NO_DATA))
            continue
        if area == "activity" and isinstance(value, Mapping):
            _activity(page, value, _, pick(ov, "first", "start"))
        else:
            RENDERERS[area](page, value, _)
    for key, value in metrics.items():
        area = ALIASES.get(key, key)
        if area in titles or key in SKIP or area in SKIP:
            continue
        page.section(f"x-{len(page.sections)}", f"{_(T_OTHER)}: {key_label(key, _)}")
        if isinstance(value, Mapping):
            page.figures(value, _(T_ALL_FIGURES))
        elif isinstance(value, list):
            page.records_table(records(value))
        else:
            page.cards([(key_label(key, _), fmt(value, _))])
    when = generated or datetime.now(UTC)
    env = Environment(autoescape=True, keep_trailing_newline=True)
    template = env.from_string(
        resources.files("groupops.report").joinpath("template.html.j2").read_text(encoding="utf-8")
    )
    return template.render(
        html_lang="zh-CN" if lang == "zh_CN" else "en",
        version=__version__,
        title=_(T_TITLE),
        subtitle=_(T_SUBTITLE).format(
            messages=fmt(pick(ov, "messages", "message_count")),
            members=fmt(pick(ov, "members", "authors", "member_count")),
            start=fmt(pick(ov, "first", "start", "first_message", "from")),
            end=fmt(pick(ov, "last", "end", "last_message", "to")),
            files=", ".join(files) or "–",
        ),
        sections=page.sections,
        footer=_(T_FOOTER).format(date=made_at(when, page.zone)),
        plotly_js=Markup(plotly.offline.get_plotlyjs()),
        plotly_locale=_script_json(PLOTLY_LOCALES.get(lang)),
    )


def made_at(when: datetime, zone: str) -> str:
    """When the report was made, in the report's zone (the zone of its days and hours)."""
    from groupops.analytics.context import zone_of
    from groupops.domain.errors import GroupopsError

    try:
        local = when.astimezone(zone_of(zone))
    except GroupopsError:  # a zone this machine does not know
        local, zone = when.astimezone(UTC), "UTC"
    return f"{local:%Y-%m-%d %H:%M} {zone}"


def time_zone(metrics: Mapping[str, Any]) -> str:
    """The zone of the metrics' days and hours (metrics made before they said one: UTC)."""
    for area in ("activity", "overview"):
        found = pick(pick(metrics, area), "time_zone")
        if isinstance(found, str) and found:
            return found
    return "UTC"


def _script_json(value: Any) -> Markup | None:
    """``value`` as JSON safe inside a <script> (no "<", ">", "&" a parser could read)."""
    if value is None:
        return None
    import json

    text = json.dumps(value, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    return Markup(text)
