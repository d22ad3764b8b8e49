"""Property tests: no input crashes an importer with anything but its typed error."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groupops.importers import ImportFormatError, read
from tests.conftest import SHARED_DATA

EXTENSIONS = [".txt", ".json", ".csv", ".zip", ".log"]
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# fragments that steer random text towards every importer's grammar
FRAGMENTS = [
    "1/2/23, 10:00 - ",
    "[1/2/23, 10:00:00] ",
    "Ann: ",
    "\u200e",
    "\u200f",
    "<Media omitted>",
    "\n",
    "\r\n",
    "٢:٥٦ م",
    "31/02/22, 99:99 - ",
    "[10:00] <nick> ",
    "=== x [h]  has joined #c",
    '{"messages": [',
    '{"guild": {}, "channel": {}, "messages": [',
    '{"type": "message"',
    '"date_unixtime": "x"',
    "]}",
    "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,"
    "StrContent,StrTime,Remark,NickName,Sender\n",
    "1,2,3",
    '"',
    "2020-01-01 10:00:00\tn\tt",
    "--- Day changed Tue Nov 16 2004",
    "\ufeff",
    "\x00",
    "added",
    " left",
    "R4/",
    "下午",
]


def consume(path: Path, *, input_ids_may_clash: bool = False) -> None:
    """Read ``path`` whole: either events, or the typed error naming this file and the
    reason. Storing keeps one event per id, so an id given twice must be the same message
    twice (an export can repeat one: a Discord export in the shared data does), never two
    different ones, of which one would be lost; unless the input itself gives two different
    messages one id (``input_ids_may_clash``: a byte changed in one of a repeated pair)."""
    seen: dict[tuple[str, str], tuple[object, ...]] = {}
    try:
        for e in read(path):
            what = (e.kind, e.occurred_at, e.chat_id, e.user_id, e.message_id, e.text)
            first = seen.setdefault((e.source, e.event_id), what)
            if not input_ids_may_clash:
                assert first == what, f"{path.name}: id {e.event_id!r} for {first} and {what}"
    except ImportFormatError as exc:
        assert exc.file and exc.file.startswith(path.name), (exc.file, path.name)
        assert str(exc)  # and the reason


@SETTINGS
@given(data=st.binary(max_size=2000), ext=st.sampled_from(EXTENSIONS))
def test_random_bytes(tmp_path: Path, data: bytes, ext: str) -> None:
    path = tmp_path / f"random{ext}"
    path.write_bytes(data)
    consume(path)


@SETTINGS
@given(
    parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=40),
    ext=st.sampled_from(EXTENSIONS),
)
def test_random_chat_like_text(tmp_path: Path, parts: list[str], ext: str) -> None:
    path = tmp_path / f"2020-01-01 chat{ext}"
    path.write_text("".join(parts), encoding="utf-8", errors="surrogatepass")
    consume(path)


@SETTINGS
@given(parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=30))
def test_random_zip(tmp_path: Path, parts: list[str]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("_chat.txt", "".join(parts).encode("utf-8", "surrogatepass"))
        zf.writestr("channels.json", "".join(reversed(parts)).encode("utf-8", "surrogatepass"))
        zf.writestr("general/2020-01-01.json", "".join(parts).encode("utf-8", "surrogatepass"))
    path = tmp_path / "export.zip"
    path.write_bytes(buf.getvalue())
    consume(path)


REAL_PATTERNS = (
    "whatsapp/**/*.*",
    "telegram/*.json",
    "discord/*.json",
    "slack/*.zip",
    "irc-ubuntu/dev/2004*.raw.txt",
)
REAL = (
    sorted(p for pattern in REAL_PATTERNS for p in SHARED_DATA.glob(pattern))
    if SHARED_DATA.is_dir()
    else []
)


@pytest.mark.parametrize("pattern", REAL_PATTERNS)
def test_every_real_export_pattern_matches(pattern: str, shared_data: Path) -> None:
    """The exports below are drawn from these globs: one that matches nothing (a renamed
    folder) would quietly drop an importer from the property tests."""
    assert list(shared_data.glob(pattern)), f"nothing in {shared_data} matches {pattern!r}"


@SETTINGS
@given(index=st.integers(min_value=0, max_value=10_000), cut=st.floats(0, 1))
def test_truncated_real_exports(tmp_path: Path, shared_data: Path, index: int, cut: float) -> None:
    source = REAL[index % len(REAL)]
    data = source.read_bytes()
    path = tmp_path / source.name
    path.write_bytes(data[: int(len(data) * cut)])
    consume(path)


@SETTINGS
@given(
    index=st.integers(min_value=0, max_value=10_000),
    pos=st.floats(0, 1),
    junk=st.binary(min_size=1, max_size=20),
)
def test_corrupted_real_exports(
    tmp_path: Path, shared_data: Path, index: int, pos: float, junk: bytes
) -> None:
    source = REAL[index % len(REAL)]
    data = source.read_bytes()
    at = int(len(data) * pos)
    path = tmp_path / source.name
    path.write_bytes(data[:at] + junk + data[at + len(junk) :])
    consume(path, input_ids_may_clash=True)
