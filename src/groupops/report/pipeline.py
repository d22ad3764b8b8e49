"""Export files -> metrics: the work ``groupops analyze`` does before it renders anything.

The importers stream the files' events straight into the analytics (nothing is stored); a
malformed file raises the importers' typed error before any output exists.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from groupops.domain.events import Event, EventKind

# progress(what, done, total): ``what`` is "import" (done = events read so far, total None)
# or an analytics stage name passed through from the analytics.
Progress = Callable[[str, int, int | None], None]


@dataclass
class AnalysisResult:
    metrics: dict[str, Any]
    files: list[str] = field(default_factory=list)
    events: int = 0
    messages: int = 0
    seconds: float = 0.0  # import and analysis together: they run interleaved, streaming


class _Counted:
    """Wraps the chained event streams: counts events and messages and reports progress.
    Cheap on purpose (no clock per event): it sits on the path of every event."""

    def __init__(self, streams: Iterable[Iterator[Event]], progress: Progress | None) -> None:
        self.streams = streams
        self.progress = progress
        self.events = 0
        self.messages = 0

    def __iter__(self) -> Iterator[Event]:
        message = EventKind.MESSAGE
        report = self.progress
        n = 0
        m = 0
        for stream in self.streams:
            for e in stream:
                n += 1
                if e.kind is message:
                    m += 1
                if report is not None and not n % 20000:
                    report("import", n, None)
                yield e
        self.events, self.messages = n, m
        if report is not None:
            report("import", n, n)


def read_all(paths: Sequence[Path], tz: str | None = None) -> Iterator[Iterator[Event]]:
    """One stream per file; each file's format is detected when its turn comes."""
    from groupops.importers import read

    for path in paths:
        yield read(path, tz)


def check_files(paths: Sequence[Path]) -> None:
    """Detect every file's format first, so an unknown file fails before any work is done."""
    from groupops.importers import detect

    for path in paths:
        detect(path)


def analyze_files(
    paths: Sequence[Path],
    *,
    tz: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> AnalysisResult:
    """Import and analyse ``paths`` as one group's history; raises the importers' typed error
    (``ImportFormatError``) for any bad file."""
    paths = [Path(p) for p in paths]
    check_files(paths)
    from groupops.analytics import analyze  # type: ignore[import-untyped,unused-ignore]

    counted = _Counted(read_all(paths, tz), progress)
    t0 = time.perf_counter()
    # the import's progress is reported by ``counted``: the analytics' own callback takes a
    # bare count (passing ``progress`` on broke every progress bar at the 50,000th event)
    metrics = analyze(counted, now=now)
    return AnalysisResult(
        metrics=dict(metrics),
        files=[p.name for p in paths],
        events=counted.events,
        messages=counted.messages,
        seconds=time.perf_counter() - t0,
    )
