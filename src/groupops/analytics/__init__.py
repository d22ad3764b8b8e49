"""Group health analytics: the same functions for imported exports and live groups.

Public API:

* :func:`analyze` ``(events, *, now=None, progress=None) -> dict``: every metric area as
  JSON-serialisable data, one key per area: ``overview``, ``activity``, ``lifecycle``,
  ``segments``, ``top3``, ``graph``, ``qa``, ``content``, ``spam``, ``sentiment``,
  ``keywords``, ``growth`` (and ``meta``: timings and sample sizes). ``events`` is any
  iterable of :class:`~groupops.domain.events.Event` (one group's history, any order; kinds
  other than messages, joins and departures are ignored), or the importers' ``Columns``.
  ``now`` is the moment the figures are "as of" (default: the last event's time, so an old
  export is judged as of its end); ``progress`` is called with the number of events read so
  far (every 50,000) and once at the end; ``stage`` (if given) is called with the name of
  each analysis stage as it begins (:data:`STAGES`, in order); ``tz`` is the zone (name or
  tzinfo, default UTC) of the calendar figures: days, weeks, months, the hour x weekday map
  and the times shown.
* :func:`load_group_events` ``(conn, group_id) -> Iterator[Event]``: a live group's history
  from the engine's ``events`` table, in time order, for :func:`analyze`.
* :mod:`groupops.analytics.replies` (``infer_replies``), :mod:`groupops.analytics.textmodels`
  (spam and sentiment models), :mod:`groupops.analytics.keywords`,
  :mod:`groupops.analytics.metrics`, :mod:`groupops.analytics.conversation` and
  :mod:`groupops.analytics.text_metrics` (each area).

Everything is computed on columnar numpy arrays converted once from the events; the text
models run on a uniform sample of at most 20,000 text messages (see ``meta``).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import Any

import numpy as np

from groupops.analytics import conversation, text_metrics
from groupops.analytics import metrics as m
from groupops.analytics.context import Context
from groupops.analytics.frame import Frame, from_columns, from_events, text_features
from groupops.domain.events import Event, EventKind
from groupops.domain.time import utc

__all__ = ["STAGES", "analyze", "analyze_frame", "load_group_activity", "load_group_events"]

# the analysis' stages after reading, in the order they run (``stage`` callbacks, and the
# keys of ``meta.seconds``)
STAGES = ("activity", "replies", "graph", "qa_content_growth", "spam", "sentiment", "keywords")

# above this many messages the reply ranker skips the word-overlap feature and looks at fewer
# candidates, so a million messages stay within seconds
LARGE = 150_000


def analyze(
    events: Iterable[Event] | Any,
    *,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    tz: str | tzinfo | None = None,
    stage: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every metric of one group's history (see the module docstring for the keys)."""
    if hasattr(events, "time") and hasattr(events, "author_names"):
        frame = from_columns(events)
        if progress is not None:
            progress(len(frame))
    else:
        with gc_paused():
            frame = from_events(events, progress)
    return analyze_frame(frame, now=now, tz=tz, stage=stage)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off meanwhile (then as it was): a large history is
    millions of live objects that every full collection would walk again (a tenth of the
    analysis time on the bench), and the analytics make no cycles that must go early."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def analyze_frame(
    frame: Frame,
    *,
    now: datetime | None = None,
    tz: str | tzinfo | None = None,
    stage: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """:func:`analyze` on an already converted :class:`~groupops.analytics.frame.Frame`."""
    with gc_paused():
        return _analyze_frame(frame, now, tz, stage)


def _analyze_frame(
    frame: Frame,
    now: datetime | None,
    tz: str | tzinfo | None,
    stage: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    from groupops.analytics.replies import predict_parents

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    stages = iter(STAGES)

    def begin() -> None:
        """The next stage begins: tell ``stage``."""
        if stage is not None:
            stage(next(stages))

    def lap(name: str) -> None:
        nonlocal t0
        t1 = time.perf_counter()
        timings[name] = round(t1 - t0, 3)
        t0 = t1
        if name != STAGES[-1]:
            begin()

    begin()

    if now is not None:
        now_s = int(utc(now).timestamp())
    elif len(frame):
        now_s = int(frame.time.max())
    else:
        now_s = int(time.time())
    c = Context(frame, now_s, tz)
    out: dict[str, Any] = {"overview": m.overview(c)}
    out["activity"] = m.activity(c)
    out["lifecycle"] = m.lifecycle(c)
    out["segments"] = m.segments(c)
    out["top3"] = m.top3(c)
    lap("activity")
    big = int(c.msg.sum()) > LARGE
    addr, question = text_features(frame)
    parents = predict_parents(
        frame, overlap=not big, window=20 if big else None, texts=(addr, question)
    )
    lap("replies")
    out["graph"] = conversation.reply_graph(c, parents)
    lap("graph")
    out["qa"] = conversation.qa(c, parents, question)
    out["content"] = conversation.content(c, parents)
    out["growth"] = m.growth(c)
    lap("qa_content_growth")
    texts = text_metrics.text_rows(c)
    sample = text_metrics._sample(c, text_metrics.TEXT_SAMPLE, texts)
    out["spam"] = text_metrics.spam(c, sample, population=texts)
    lap("spam")
    out["sentiment"] = text_metrics.sentiment(c, sample)
    lap("sentiment")
    kw_sample = sample[:: max(1, sample.shape[0] // 30_000)]
    out["keywords"] = text_metrics.keywords(c, kw_sample)
    lap("keywords")
    out["meta"] = {
        "events": len(frame),
        "text_sample": int(sample.shape[0]),
        "reply_links_inferred": int(
            np.count_nonzero((parents >= 0) & (parents != np.arange(len(frame))))
        ),
        "seconds": timings,
    }
    return out


#: the stored kinds of a live group's events the analytics read, as they read them: a member
#: the bot removed (``member_kicked``: moderation or the join gate) counts as a departure, as
#: one who left
_LIVE_KIND: dict[str, EventKind] = {
    EventKind.MESSAGE.value: EventKind.MESSAGE,
    EventKind.MEMBER_JOINED.value: EventKind.MEMBER_JOINED,
    EventKind.MEMBER_LEFT.value: EventKind.MEMBER_LEFT,
    EventKind.MEMBER_KICKED.value: EventKind.MEMBER_LEFT,
}


def _group_rows(conn: Any, group_id: int, since: datetime | None, columns: list[Any]) -> Any:
    """The rows (``columns``) of a live group's events the analytics read (:data:`_LIVE_KIND`),
    in time order; with ``since``, those from that time on only."""
    import sqlalchemy as sa

    from groupops.storage.tables import events as t

    q = (
        sa.select(*columns)
        .where(t.c.group_id == group_id, t.c.kind.in_(list(_LIVE_KIND)))
        .order_by(t.c.occurred_at, t.c.seq)
    )
    if since is not None:
        q = q.where(t.c.occurred_at >= since)
    return conn.execute(q)


def load_group_events(conn: Any, group_id: int, since: datetime | None = None) -> Iterator[Event]:
    """A live group's events from the engine's ``events`` table (SQLAlchemy ``Connection``),
    in time order, as :class:`Event` objects for :func:`analyze`; with ``since``, those from
    that time on only. A member the bot removed (``member_kicked``) counts as a departure, as
    one who left."""
    from groupops.storage.tables import events as t

    for row in _group_rows(conn, group_id, since, [t]).mappings():
        payload = dict(row["payload"] or {})
        yield Event(
            source=row["source"],
            event_id=row["event_id"],
            kind=_LIVE_KIND[row["kind"]],
            occurred_at=row["occurred_at"],
            chat_id=row["chat_id"] or "-",
            user_id=row["user_id"] or "?",
            user_name=str(payload.get("user_name", "")),
            message_id=row["message_id"],
            text=row["text"] or "",
            content_kind=row["content_kind"],
            reply_to_message_id=row["reply_to_message_id"],
            reply_to_user_id=str(payload.get("reply_to_user_id", "")),
            is_admin=bool(payload.get("is_admin", False)),
            data=payload.get("data") or {},
        )


def load_group_activity(conn: Any, group_id: int, since: datetime | None = None) -> Frame:
    """Who did what when in a live group (the events of :func:`load_group_events`, with their
    times, kinds and authors only: no text, content or replies) as a frame: all that the
    life cycle reads, a tenth of the work of whole events (``groupops health`` on many
    groups)."""
    from groupops.analytics.frame import KIND_CODE, FrameBuilder
    from groupops.storage.tables import events as t

    builder = FrameBuilder()
    rows = _group_rows(conn, group_id, since, [t.c.occurred_at, t.c.kind, t.c.user_id])
    for at, kind, user in rows:
        builder.add(
            time=int(at.timestamp()),
            kind=KIND_CODE[_LIVE_KIND[kind]],
            uid=user or "?",
            name="",
            content=0,
            text="",
            message_id="",
            reply_to=[],
            reactions=0,
            inviter=-1,
            via="",
        )
    return builder.build()
