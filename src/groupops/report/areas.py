"""The report's areas: one renderer per area of the metrics (life cycle, activity, segments,
monthly top 3, reply graph, questions and answers, content, spam, sentiment, keywords, growth),
each adding its cards, charts and tables to the :class:`~groupops.report.page.Page`. The
renderers live by theme: ``areas_activity`` (the overview at the top of the page, life cycle,
activity), ``areas_people`` (segments, top 3, graph, questions, growth), ``areas_content``
(content, spam, sentiment, keywords); ``charts`` holds what their charts share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from groupops.report.areas_activity import _activity, _lifecycle
from groupops.report.areas_content import _content, _keywords, _sentiment, _spam
from groupops.report.areas_people import _graph, _growth, _qa, _segments, _top3
from groupops.report.labels import Gettext
from groupops.report.page import Page

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
