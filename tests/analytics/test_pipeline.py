"""``groupops.report.pipeline.analyze_files``: the files -> metrics path of ``groupops analyze``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from groupops.analytics.frame import Frame, FrameBuilder, from_events
from groupops.domain.events import ContentKind, EventKind
from groupops.report.pipeline import analyze_files


def _whatsapp(path: Path, n: int) -> Path:
    t0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    lines = []
    for i in range(n):
        t = t0 + timedelta(minutes=i)
        lines.append(f"{t:%d/%m/%Y, %H:%M} - user{i % 7}: message number {i}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_progress_reaches_the_end_of_a_large_import(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []
    result = analyze_files(
        [_whatsapp(tmp_path / "chat.txt", 50_001)],
        progress=lambda what, done, total: seen.append((what, done, total)),
    )
    assert result.messages == 50_001
    assert [s for s in seen if s[0] == "import"][-1] == ("import", 50_001, 50_001)
    assert ("import", 40_000, None) in seen


def _frames_equal(a: Frame, b: Frame) -> None:
    for name in ("time", "kind", "author", "content", "reactions", "inviter"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in ("text", "message_id", "reply_to", "via", "authors", "names"):
        assert getattr(a, name) == getattr(b, name), name


def _chats(shared: Path) -> list[Path]:
    found = sorted((shared / "whatsapp").rglob("*.txt")) + sorted(
        (shared / "whatsapp").rglob("*.zip")
    )
    assert found
    return found


def test_the_columns_fast_path_builds_the_frame_the_events_build(shared_data: Path) -> None:
    """Every shared WhatsApp export (joins with inviters, media, notices): the same frame
    from the columns as from the events, alone and after another file."""
    from groupops.importers import read, read_event_columns

    chats = _chats(shared_data)
    for path in chats:
        cols = read_event_columns(path)
        assert cols is not None
        b = FrameBuilder()
        b.add_columns(cols)
        _frames_equal(b.build(), from_events(read(path)))
    # several files in one frame: people carry over between the files
    b = FrameBuilder()
    for path in chats:
        b.add_columns(read_event_columns(path))
    _frames_equal(b.build(), from_events(chain.from_iterable(read(p) for p in chats)))


def test_inviters_come_before_the_people_they_add() -> None:
    """add_columns numbers people in add_event's order (a join's inviter just before the
    joiner); names: the first one that is not the id."""
    m, j, x = EventKind.MESSAGE, EventKind.MEMBER_JOINED, EventKind.MEMBER_LEFT
    cols = SimpleNamespace(
        epoch=[1, 2, 3, 4, 5],
        kind=[m, j, m, x, m],
        user_id=["a", "b", "c", "b", "c"],
        user_name=["a", "b", "c", "", "Cee"],
        message_id=["0", "", "2", "", "4"],
        text=["x", "", "y", "", "z"],
        content=[ContentKind.TEXT] * 5,
        data={1: {"inviter_user_id": "z", "inviter_name": "Zed"}, 3: {"removed_by": "a"}},
    )
    b = FrameBuilder()
    b.add_columns(cols)
    f = b.build()
    assert f.authors == ["a", "z", "b", "c"]
    assert f.names == ["a", "Zed", "b", "Cee"]
    assert f.inviter.tolist() == [-1, 1, -1, -1, -1]
    assert f.author.tolist() == [0, 2, 3, 2, 3]


def test_progress_names_every_analysis_stage_after_reading(tmp_path: Path) -> None:
    """After the import, the analysis reports each stage as it begins (reply links, the
    graph, spam ...), in order, counting the stages done, and its end."""
    from groupops.analytics import STAGES
    from groupops.report.pipeline import ANALYSED

    seen: list[tuple[str, int, int | None]] = []
    analyze_files(
        [_whatsapp(tmp_path / "chat.txt", 200)],
        progress=lambda what, done, total: seen.append((what, done, total)),
    )
    after = [s for s in seen if s[0] != "import"]
    n = len(STAGES)
    assert after == [(name, i, n) for i, name in enumerate(STAGES)] + [(ANALYSED, n, n)]
    assert "replies" in STAGES and "graph" in STAGES and "spam" in STAGES
    assert seen.index(after[0]) > max(i for i, s in enumerate(seen) if s[0] == "import")
