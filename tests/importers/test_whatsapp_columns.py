"""The WhatsApp reader's column path (whole blocks at C speed) against its general path (one
line at a time): the same records, in the same order, whatever the clock, zone and digits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from groupops.importers import ImportFormatError, read, read_event_columns
from groupops.importers import whatsapp_reader as wr
from groupops.importers.base import EPOCH_ORDINAL, LocalClock, Options

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _stamp(layout: str, day: date, h: int, m: int) -> str:
    d = f"{day.day:02d}/{day.month:02d}/{day.year}"
    if layout == "ios12":
        return f"[{d}, {h % 12 or 12}:{m:02d}:07 {'PM' if h >= 12 else 'AM'}] "
    stamp = f"{d}, {h:02d}:{m:02d}"
    if layout == "arabic":
        return stamp.translate(ARABIC) + " - "
    return stamp + " - "


def _chat(layout: str) -> str:
    """A chat over both 2021 DST changes of Europe and the US, with what sends a line down the
    general path: authors new mid-file, "Bob:x" (no space) before and after Bob's first
    message, joins and departures, media, deleted messages, marked, empty and multi-line
    texts, texts ending in ")"."""
    bodies = [
        "Ann: hello",
        "Bob:x",  # Bob unknown yet: no message
        "Ann: see (this)",
        "Bob: first from Bob",
        "Bob:y",  # Bob known now: his message "y"
        "Cy joined using this group's invite link",
        "Ann added Dee and Eve",
        "Cy: <Media omitted>",
        "Dee: This message was deleted",
        "Eve: \u200eimage omitted",
        "Eve: two\nlines)\nthree",
        "Eve: IMG-20210301-WA0002.jpg (file attached)\nwith a caption",
        "Eve: ",
        "Cy: look https://pan.baidu.com/s/1x and http://example.com",
        "Ann: smile :)",
        "Ann: IMG-20210301-WA0001.jpg (file attached)",
        "Cy left",
        'Q"uote: not a name',
        "Dee: back https://pan.baidu.com/s/1x",
    ]
    first = _stamp(layout, date(2021, 3, 1), 9, 0)
    lines = [first + "Ann: hello", first + "Bob:x", first + "Bob: hi", first + "Bob:y"]
    for start in (date(2021, 3, 13), date(2021, 3, 27), date(2021, 10, 30), date(2021, 11, 6)):
        for k in range(3):  # three days around each change, every hour
            day = date.fromordinal(start.toordinal() + k)
            for h in range(24):
                for j, body in enumerate(bodies[(h + k) % 5 :: 3]):
                    lines.append(_stamp(layout, day, h, (7 * j + h) % 60) + body)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("layout", ["android", "ios12", "arabic"])
@pytest.mark.parametrize("tz", [None, "Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("block", [1 << 22, 3000])
def test_column_path_gives_the_general_paths_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str, tz: str | None, block: int
) -> None:
    path = tmp_path / "WhatsApp Chat with Club.txt"
    path.write_text(_chat(layout), encoding="utf-8")
    options = Options.make(tz)
    # one block for the whole file, or many (the later ones know every author)
    monkeypatch.setattr(wr, "_chunks", partial(wr._chunks, size=block))
    columns = [r for b in wr.WhatsAppReader(path, options).batches() for r in b.rows()]
    # blocks of one line each: every line is its block's last, read by the general path
    monkeypatch.undo()
    monkeypatch.setattr(wr, "_chunks", partial(wr._chunks, size=1))
    general = list(wr.WhatsAppReader(path, options).records())
    assert columns == general
    assert len(general) > 500
    # the line before Bob's first message is none; the one after it is his
    assert [(r[3], r[4]) for r in general[:3]] == [("Ann", "hello"), ("Bob", "hi"), ("Bob", "y")]
    assert {r[2] for r in general} == {wr.MESSAGE, wr.JOINED, wr.LEFT}
    # and the analytics' columns hold what the Events do
    monkeypatch.undo()
    cols = read_event_columns(path, tz)
    events = list(read(path, tz))
    assert cols is not None
    assert cols.epoch == [int(e.occurred_at.timestamp()) for e in events]
    assert cols.text == [e.text for e in events]
    assert cols.content == [e.content_kind for e in events]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_local_clock_epochs_are_its_epoch_across_dst(zone: str) -> None:
    """The per-hour offsets of many times at once are those of one time at a time, through
    the spring gap and the autumn repeat (Lord Howe moves by half an hour)."""
    days = [date(2021, 3, 27), date(2021, 3, 28), date(2021, 10, 31), date(2021, 11, 7)]
    days += [date(2021, 4, 4), date(2021, 10, 3)]
    moments = [
        (d.toordinal(), h * 3600 + m * 60 + s)
        for d in days
        for h in range(24)
        for m, s in ((0, 0), (30, 5), (59, 59))
    ]
    local = [(o - EPOCH_ORDINAL) * 86400 + secs for o, secs in moments]
    clock = LocalClock(ZoneInfo(zone))
    expected = [LocalClock(ZoneInfo(zone)).epoch(o, secs) for o, secs in moments]
    assert clock.epochs(local) == expected
    assert clock.epochs(local) == expected  # from its cache
    # away from the changes, what the zone says
    noon = (date(2021, 7, 1).toordinal(), 12 * 3600)
    aware = datetime(2021, 7, 1, 12, tzinfo=ZoneInfo(zone))
    assert clock.epochs([(noon[0] - EPOCH_ORDINAL) * 86400 + noon[1]]) == [int(aware.timestamp())]
    utc = LocalClock(UTC)
    assert utc.epochs(local) == local


def test_the_first_unreadable_stamp_in_file_order_is_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The column path reads a block's new dates before its new times: an impossible time
    before an impossible date is still the error, at its line, as line by line."""
    lines = [f"0{d}/03/2021, 10:00 - Ann: day {d}" for d in range(1, 8)]
    lines[3] = "04/03/2021, 25:00 - Ann: an impossible time"
    lines[5] = "30/02/2021, 10:00 - Ann: an impossible date"
    path = tmp_path / "chat.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as columns:
        list(wr.WhatsAppReader(path, Options.make(None)).batches())
    monkeypatch.setattr(wr, "_chunks", partial(wr._chunks, size=1))
    with pytest.raises(ImportFormatError) as general:
        list(wr.WhatsAppReader(path, Options.make(None)).records())
    assert str(columns.value) == str(general.value)
    assert "25:00" in str(columns.value) and "line 4" in str(columns.value)
