"""Export files (or a live group) -> metrics: the work ``groupops analyze`` does before it
renders anything.

The importers' events go straight into the analytics' frame (nothing is stored): as columns
for the formats with a fast path (WhatsApp, no Event objects), else streamed one by one. A
malformed file raises the importers' typed error before any output exists.

The figures are those of ``groupops import`` then ``analyze --group``: an event is counted once
however many of the files hold it (the store's key, source and event id: a WhatsApp ``.txt``
and the ``.zip`` of the same chat, an older export beside a newer one, a message an export
repeats). An export that holds several chats (a Telegram account export, a Slack workspace) is
one group only with ``chat``: which one to analyse; without it such an export is refused,
naming its chats.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from groupops.domain.errors import GroupopsError
from groupops.domain.events import Event, EventKind
from groupops.i18n import N_

if TYPE_CHECKING:
    from groupops.importers.base import Note

# progress(what, done, total): ``what`` is "import" (done = events read so far, total None
# until the end), or the name of the analysis stage that begins (one of
# ``groupops.analytics.STAGES``; done = stages finished, total = how many there are), and at
# the very end "analysed" (done = total).
Progress = Callable[[str, int, int | None], None]
ANALYSED = "analysed"


class SeveralChats(GroupopsError):
    """An export holds several chats and ``--chat`` did not pick one of them, or ``--chat``
    names a chat the export does not hold."""

    code = "several_chats"


T_SEVERAL = N_("this export holds {count} chats: {chats}; pick one with --chat (its id or title)")
T_NO_SUCH_CHAT = N_("no chat {chat!r} in this export; its chats: {chats}")


@dataclass
class AnalysisResult:
    metrics: dict[str, Any]
    files: list[str] = field(default_factory=list)
    events: int = 0
    messages: int = 0
    seconds: float = 0.0  # import and analysis together: they run interleaved, streaming
    #: what the importers told about reading the files (e.g. one read as GB18030), each once
    notes: list[Note] = field(default_factory=list)


def check_files(paths: Sequence[Path]) -> list[str]:
    """Detect every file's format first, so an unknown file fails before any work is done."""
    from groupops.importers import detect

    return [detect(path) for path in paths]


def _import_progress(progress: Progress | None, before: int) -> Callable[[int], None] | None:
    """A file's running count as the import's progress over all files."""
    if progress is None:
        return None
    return lambda n: progress("import", before + n, None)


def analyze_files(
    paths: Sequence[Path],
    *,
    tz: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    chat: str | None = None,
) -> AnalysisResult:
    """Import and analyse ``paths`` as one group's history; raises the importers' typed error
    (``ImportFormatError``) for any bad file, :class:`SeveralChats` for an export of several
    chats unless ``chat`` (an id or a title) picks one."""
    paths = [Path(p) for p in paths]
    formats = check_files(paths)
    from groupops.analytics import (  # type: ignore[import-untyped,unused-ignore]
        analyze_frame,
        gc_paused,
    )

    t0 = time.perf_counter()
    notes: list[Note] = []
    with gc_paused():
        frame, events, messages = _build(paths, formats, tz, progress, chat, notes)
    # days and hours in the export's zone
    metrics = analyze_frame(frame, now=now, tz=tz, stage=_stage_progress(progress))
    if progress is not None:
        from groupops.analytics import STAGES  # type: ignore[import-untyped,unused-ignore]

        progress(ANALYSED, len(STAGES), len(STAGES))
    return AnalysisResult(
        metrics=dict(metrics),
        files=[p.name for p in paths],
        events=events,
        messages=messages,
        seconds=time.perf_counter() - t0,
        notes=notes,
    )


def _stage_progress(progress: Progress | None) -> Callable[[str], None] | None:
    """The analytics' stage names as ``progress`` calls: which stage begins, and how many of
    the stages are done before it."""
    if progress is None:
        return None
    from groupops.analytics import STAGES  # type: ignore[import-untyped,unused-ignore]

    order = {name: i for i, name in enumerate(STAGES)}

    def stage(name: str) -> None:
        progress(name, order.get(name, 0), len(STAGES))

    return stage


def analyze_group(db: Engine, ref: str, *, now: datetime | None = None) -> AnalysisResult:
    """Analyse a group the bot runs (by id or ``source:chat_id``, as the other commands take
    it) from the engine's ``events`` table: the same analytics as for an export, in the group's
    time zone, as of ``now`` (default: the present, so a group that went quiet shows its
    silence). Raises ``NotFound`` for an unknown group."""
    from groupops.analytics import (  # type: ignore[import-untyped,unused-ignore]
        analyze_frame,
        gc_paused,
        load_group_events,
    )
    from groupops.analytics.frame import FrameBuilder
    from groupops.engine.admin import group_in

    t0 = time.perf_counter()
    builder = FrameBuilder()
    with db.connect() as conn:
        group = group_in(conn, ref)
        with gc_paused():
            events, messages = _add_events(builder, load_group_events(conn, group.id), 0, None)
            frame = builder.build()
        conn.rollback()
    if now is None:  # the present; or the latest event, if the clock is behind it
        latest = int(frame.time.max()) if events else 0
        now = max(datetime.now(UTC), datetime.fromtimestamp(latest, UTC))
    metrics = analyze_frame(frame, now=now, tz=group.timezone)  # the group's own zone
    return AnalysisResult(
        metrics=dict(metrics),
        files=[f"{group.title} ({group.source}:{group.chat_id})"],
        events=events,
        messages=messages,
        seconds=time.perf_counter() - t0,
    )


def _build(
    paths: Sequence[Path],
    formats: Sequence[str],
    tz: str | None,
    progress: Progress | None,
    chat: str | None = None,
    notes: list[Note] | None = None,
) -> tuple[Any, int, int]:
    """The analytics' frame of all files, and how many distinct events and messages they
    hold; what the importers tell about the reading is added to ``notes``."""
    from groupops.analytics.frame import FrameBuilder

    builder = FrameBuilder()
    events = messages = 0
    seen: set[tuple[str, str]] = set()  # (source, event id), as the store keys events
    for path, fmt in zip(paths, formats, strict=True):
        try:
            events, messages = _add_file(
                builder,
                path,
                fmt,
                tz,
                progress,
                chat,
                seen,
                events,
                messages,
                len(paths) > 1,
                notes,
            )
        except GroupopsError as exc:
            exc.export = path  # which of several files, which may share a name
            raise
    if progress is not None:
        progress("import", events, events)
    return builder.build(), events, messages


def _add_file(
    builder: Any,
    path: Path,
    fmt: str,
    tz: str | None,
    progress: Progress | None,
    chat: str | None,
    seen: set[tuple[str, str]],
    events: int,
    messages: int,
    several: bool,
    notes: list[Note] | None = None,
) -> tuple[int, int]:
    """Add one file's events that no earlier file held to ``builder``; the running counts of
    events and messages. ``several``: other files are read too. The importers' notes about
    the reading go to ``notes``."""
    from groupops.importers import read, read_event_columns

    cols = read_event_columns(path, tz, fmt, _import_progress(progress, events), notes)
    if cols is None:
        # a file's chats are told from all it holds, then what other files held is dropped
        stream = _new_events(_one_chat(read(path, tz, fmt, notes), chat), seen)
        events, added = _add_events(builder, stream, events, progress)
        return events, messages + added
    # the fast path (WhatsApp, one chat a file): columns, no Event objects
    if chat is not None and chat != cols.chat:
        _refuse_chat(chat, {cols.chat: ""})
    if several:
        # ids are made only when another file could hold the same events, and name no chat
        # (the files are one group's, whatever their names)
        source = f"import:{fmt}"
        rows = []
        for i, event_id in enumerate(cols.event_ids(chat="")):
            if (source, event_id) not in seen:
                seen.add((source, event_id))
                rows.append(i)
        if len(rows) < len(cols):
            cols = cols.only(rows)
    builder.add_columns(cols)
    return events + len(cols), messages + cols.messages


def _new_events(stream: Iterable[Event], seen: set[tuple[str, str]]) -> Iterator[Event]:
    """The events of ``stream`` not ``seen`` before (by the store's key), remembered."""
    for e in stream:
        key = (e.source, e.event_id)
        if key not in seen:
            seen.add(key)
            yield e


def _one_chat(stream: Iterable[Event], chat: str | None) -> Iterator[Event]:
    """One export's events, if they are of one chat; of several, those of ``chat`` (an id or
    a title). Refuses (:class:`SeveralChats`, once the file is read, so that it names them
    all) an export of several chats without ``chat``, and a ``chat`` the export does not
    hold."""
    titles: dict[str, str] = {}
    matched = False
    for e in stream:
        cid = e.chat_id
        if cid not in titles:
            titles[cid] = str(e.data.get("chat_title") or "")
        if chat is not None:
            if chat in (cid, titles[cid]):
                matched = True
                yield e
        elif len(titles) == 1:
            yield e
    if (chat is None and len(titles) <= 1) or matched:
        return
    _refuse_chat(chat, titles)


def _refuse_chat(chat: str | None, titles: dict[str, str]) -> None:
    """Raise :class:`SeveralChats` about an export holding the chats ``titles`` (id ->
    title): ``chat`` is not one of them, or none was picked (``None``)."""
    listed = ", ".join(f"{cid} ({title})" if title else cid for cid, title in titles.items())
    if chat is None:
        raise SeveralChats(T_SEVERAL, where="--chat", count=len(titles), chats=listed)
    raise SeveralChats(T_NO_SUCH_CHAT, where="--chat", chat=chat, chats=listed)


def _add_events(
    builder: Any, stream: Iterable[Event], before: int, progress: Progress | None
) -> tuple[int, int]:
    """Feed ``stream`` into the frame ``builder``: the running event count (``before`` plus
    these, reported to ``progress`` now and then) and how many of these were messages."""
    events, messages = before, 0
    add, message = builder.add_event, EventKind.MESSAGE
    for e in stream:
        events += 1
        if e.kind is message:
            messages += 1
        if progress is not None and not events % 20000:
            progress("import", events, None)
        add(e)
    return events, messages
