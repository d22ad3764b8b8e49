"""groupops import: stored through the engine, one transaction per file, idempotent, no
feature run on history; --events-out as JSON lines. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from sqlalchemy import Table, func, select

from groupops.engine.app import App
from groupops.importers import ImportFormatError, read
from groupops.importers.store import import_file
from groupops.storage.tables import events, memberships, outbox, owner_tasks
from tests.cli import error_line, run

GROUP_CHAT = (
    '1/5/23, 10:00 - Ann created group "Runners"\n'
    "1/5/23, 10:01 - Ann added Bob\n"
    "1/5/23, 10:02 - Eve joined using this group's invite link\n"
    "1/5/23, 10:03 - Bob: hello\nsecond line\n"
    "1/5/23, 10:04 - Ann: welcome https://mp.weixin.qq.com/s/x\n"
    "1/5/23, 10:05 - Ann removed Eve\n"
)


def count(app: App, table: Table = events) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def chat(tmp_path: Path) -> Path:
    path = tmp_path / "WhatsApp Chat with Runners.txt"
    path.write_text(GROUP_CHAT, encoding="utf-8")
    return path


def test_import_is_idempotent_and_runs_no_feature(make_app: Callable[..., App], chat: Path) -> None:
    # with the welcome feature on: the import must not wake it
    app = make_app(features=("groupops.features.welcome:WelcomeFeature",))
    first = import_file(app.engine, chat)
    assert (first.stored, first.duplicates) == (5, 0)
    assert first.as_row()["messages"] == 2 and first.as_row()["joined"] == 2
    again = import_file(app.engine, chat)
    assert (again.stored, again.duplicates) == (0, 5)
    assert count(app) == 5
    assert count(app, outbox) + count(app, owner_tasks) == 0  # no welcome for a 2023 join
    with app.db.connect() as conn:
        rows = conn.execute(select(memberships.c.status, memberships.c.inviter_member_id)).all()
    # Bob (added by Ann) active with his inviter, Eve removed, Ann active (she wrote)
    assert sorted(r.status for r in rows) == ["active", "active", "left"]
    assert sum(1 for r in rows if r.inviter_member_id is not None) == 1
    # the control: the same kind of join handled live does wake the welcome feature
    live = chat.with_name("WhatsApp Chat with Walkers.txt")
    live.write_text("2/5/23, 09:00 - Zed added Yan\n", encoding="utf-8")
    app.handle(list(read(live)))
    assert count(app, outbox) + count(app, owner_tasks) > 0


def test_a_file_failing_half_way_leaves_nothing(
    make_app: Callable[..., App], chat: Path, tmp_path: Path
) -> None:
    app = make_app(features=())
    bad = tmp_path / "bad.txt"
    good_lines = "".join(f"1/5/23, 10:{i:02d} - Ann: message {i}\n" for i in range(60))
    bad.write_text(good_lines + "31/02/23, 10:00 - Ann: no such day\n", encoding="utf-8")
    import_file(app.engine, chat)
    with pytest.raises(ImportFormatError) as info:
        import_file(app.engine, bad)
    assert info.value.line == 60
    assert count(app) == 5  # the first file's events, none of the bad one's


def test_batches_larger_than_one_transaction_chunk(
    make_app: Callable[..., App], tmp_path: Path
) -> None:
    path = tmp_path / "big.txt"
    path.write_text(
        "".join(
            f"2/5/23, {i // 60 % 24:02d}:{i % 60:02d} - P{i % 37}: m {i}\n" for i in range(5000)
        ),
        encoding="utf-8",
    )
    app = make_app(features=())
    assert import_file(app.engine, path).stored == 5000
    assert import_file(app.engine, path).stored == 0
    assert count(app) == 5000


def test_cli_import_and_events_out(
    database_url: str, chat: Path, tmp_path: Path, cli: typer.Typer
) -> None:
    out = tmp_path / "events.jsonl"
    bad = tmp_path / "broken.json"
    bad.write_text('{"messages": [{"type": "message", "date_unixtime": "1", "from": "A"', "utf-8")
    result = run(
        cli, "import", str(chat), str(bad), "--events-out", str(out), "--database-url", database_url
    )
    line = error_line(result)
    assert "broken.json" in line and "import_format" in line, line
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5  # the broken file wrote nothing
    first_msg = next(r for r in rows if r["kind"] == "message")
    assert first_msg["id"] == 3 and first_msg["text"] == "hello\nsecond line"
    assert first_msg["time"] == "2023-05-01T10:03:00Z" and first_msg["author"] == "Bob"
    assert set(first_msg) >= {
        "id",
        "file",
        "kind",
        "time",
        "author",
        "text",
        "content_kind",
        "reply_to",
        "reply_inferred",
    }
    assert any(r["content_kind"] == "article_link" for r in rows)
    again = run(cli, "import", str(chat), "--database-url", database_url)
    assert again.exit_code == 0, again.output
    assert "0 new events stored, 5 already there" in again.output


def test_events_out_merges_inferred_replies(
    monkeypatch: pytest.MonkeyPatch, chat: Path, tmp_path: Path
) -> None:
    """The analytics' infer_replies(columns) gives, per row, the ids it answers; --events-out
    marks those links inferred and keeps recorded ones as they are."""
    import sys
    import types

    from groupops.importers import Columns
    from groupops.importers.store import AtomicText

    seen: list[int] = []

    def infer_replies(cols: Columns) -> list[list[str]]:
        seen.append(len(cols))
        out: list[list[str]] = []
        last = ""
        for kind, mid in zip(cols.kind, cols.message_id, strict=True):
            out.append([last] if kind == 0 and last else [])
            if kind == 0:
                last = mid
        return out

    fake = types.ModuleType("groupops.analytics.replies")
    fake.infer_replies = infer_replies  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "groupops.analytics.replies", fake)
    target = tmp_path / "out.jsonl"
    writer = AtomicText(target)
    part = writer.part()
    import_file(None, chat, events_out=part[0])
    writer.keep(*part)
    writer.commit()
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    msgs = [r for r in rows if r["kind"] == "message"]
    assert seen == [len(rows)]
    assert (msgs[0]["reply_to"], msgs[0]["reply_inferred"]) == ([], False)
    assert (msgs[1]["reply_to"], msgs[1]["reply_inferred"]) == ([msgs[0]["id"]], True)


@pytest.mark.parametrize("bom", [False, True])
def test_the_zip_whatsapp_shares_is_the_same_chat_as_its_txt(
    make_app: Callable[..., App], tmp_path: Path, bom: bool
) -> None:
    """WhatsApp saves ``Chat.txt`` with LF line ends and shares ``Chat.zip`` whose
    ``_chat.txt`` has CRLF (and may start with a byte-order mark): importing both adds the
    chat once. Over 64 KiB, so the key's prefix is cut after the line ends are made one."""
    import zipfile

    app = make_app(features=())
    lines = "".join(
        f"1/5/23, {10 + i // 60:02d}:{i % 60:02d} - Ann: message {i} {'x' * 60}\n"
        for i in range(800)
    )
    assert len(lines.encode()) > 70_000
    txt = tmp_path / "WhatsApp Chat with Runners.txt"
    txt.write_text(lines, encoding="utf-8")
    shared = tmp_path / "WhatsApp Chat with Runners.zip"
    body = lines.replace("\n", "\r\n").encode()
    with zipfile.ZipFile(shared, "w") as zf:
        zf.writestr("_chat.txt", (b"\xef\xbb\xbf" if bom else b"") + body)
    first = import_file(app.engine, txt)
    assert (first.stored, first.duplicates) == (800, 0)
    again = import_file(app.engine, shared)
    assert (again.stored, again.duplicates) == (0, 800)
    assert count(app) == 800


def test_an_imported_export_is_connected_when_imported_not_when_it_was_written(
    make_app: Callable[..., App], chat: Path
) -> None:
    """The import's connection (and workspace) date from the import, the clock's now; the
    group and its members keep the history's own times."""
    from groupops.storage.tables import connections, groups

    app = make_app(features=())
    import_file(app.engine, chat)
    with app.db.connect() as conn:
        connected = conn.execute(select(connections.c.created_at)).scalar_one()
        group_seen = conn.execute(select(groups.c.created_at)).scalar_one()
    assert connected == app.clock.now()
    assert group_seen.year == 2023  # the chat's first message (1/5/23)
