"""``groupops.report.pipeline.analyze_files``: the files -> metrics path of ``groupops analyze``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    assert seen[-1] == ("import", 50_001, 50_001)
    assert ("import", 40_000, None) in seen
