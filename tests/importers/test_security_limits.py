"""Exports sent by others cannot exhaust the importing machine, and what an import writes is
readable by whom the operator's umask says (QA security W2-W4)."""

from __future__ import annotations

import json
import os
import stat
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from groupops.importers import ImportFormatError, read
from groupops.importers.slack import MAX_MEMBER
from groupops.importers.store import AtomicText
from groupops.importers.whatsapp_reader import MAX_TEXT

HEAD = "12/01/2024, 09:00 - Ann: hello\n"


def _whatsapp_zip(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "WhatsApp Chat with Study group.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("_chat.txt", body)
    return path


@pytest.mark.parametrize(
    ("body", "line"),
    [
        # a zip bomb's member: one endless line (held whole and copied at every 4 MiB block)
        (HEAD + "x" * (6 * 1024 * 1024), 2),
        # an endless message: lines without any message header, over several blocks
        (HEAD + ("y" * 1000 + "\n") * 6000, 1),
    ],
    ids=["one line", "one message"],
)
def test_a_whatsapp_text_without_end_is_refused_at_its_line(
    tmp_path: Path, body: str, line: int
) -> None:
    path = _whatsapp_zip(tmp_path, body)
    assert path.stat().st_size < 100_000  # a small attachment, megabytes unpacked
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ImportFormatError) as info:
            list(read(path, "UTC"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    said = str(info.value)
    assert said.startswith(f"{path.name}!_chat.txt, line {line}: a line or message longer than")
    assert f"{MAX_TEXT} characters" in said
    assert time.monotonic() - started < 30
    assert peak < 200_000_000, peak


def test_a_long_but_real_message_still_reads(tmp_path: Path) -> None:
    text = "z" * 65_536  # WhatsApp's longest message
    path = _whatsapp_zip(tmp_path, HEAD + f"12/01/2024, 09:01 - Bob: {text}\n")
    texts = [e.text for e in read(path, "UTC") if e.text]
    assert texts == ["hello", text]


def test_a_slack_file_too_large_to_read_whole_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "slack.zip"
    day = [{"type": "message", "user": "U1", "text": "hi", "ts": "1700000000.000100"}]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("channels.json", json.dumps([{"id": "C1", "name": "general"}]))
        zf.writestr("users.json", json.dumps([{"id": "U1", "name": "ann"}]))
        zf.writestr("general/2023-11-14.json", json.dumps(day) + " " * 300_000)
    assert len(list(read(path, "UTC"))) >= 1  # under the limit: read
    monkeypatch.setattr("groupops.importers.slack.MAX_MEMBER", 200_000)
    with pytest.raises(ImportFormatError) as info:
        list(read(path, "UTC"))
    said = str(info.value)
    assert said.startswith("slack.zip: general/2023-11-14.json is 300")
    assert "over the 200000 a Slack export's file can be read with" in said
    assert MAX_MEMBER == 256 * 1024 * 1024


@pytest.fixture
def umask() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.usefixtures("umask")
@pytest.mark.parametrize(("mask", "mode"), [(0o077, 0o600), (0o022, 0o644), (0o027, 0o640)])
def test_events_out_is_readable_as_the_umask_says(tmp_path: Path, mask: int, mode: int) -> None:
    os.umask(mask)
    target = tmp_path / "events.jsonl"
    out = AtomicText(target)
    out.handle.write('{"member": "小明"}\n')
    out.commit()
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert target.read_text(encoding="utf-8") == '{"member": "小明"}\n'
