"""``groupops analyze`` counts what ``groupops import`` would store: each event once however
many files hold it, and one chat of an export that holds several."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import typer

from groupops.importers import ImportFormatError, detect
from groupops.report.pipeline import SeveralChats, analyze_files
from groupops.storage.db import open_database
from tests.cli import error_line, run


def stored_messages(cli: typer.Typer, tmp_path: Path, *files: Path) -> int:
    """How many messages ``groupops import`` stores from ``files``."""
    from sqlalchemy import func, select

    from groupops.storage.tables import events

    url = f"sqlite:///{tmp_path}/import.sqlite"
    res = run(cli, "import", *map(str, files), "--database-url", url)
    assert res.exit_code == 0, res.output
    with open_database(url).connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(events).where(events.c.kind == "message")
            ).scalar_one()
        )


def test_a_chat_given_as_txt_and_zip_is_counted_once(
    cli: typer.Typer, shared_data: Path, tmp_path: Path
) -> None:
    txt, zipped = shared_data / "whatsapp/4A_11M.txt", shared_data / "whatsapp/4A_11M.zip"
    both = analyze_files([txt, zipped])
    assert both.messages == analyze_files([txt]).messages == 11
    assert both.metrics["overview"]["messages"] == 11
    assert stored_messages(cli, tmp_path, txt, zipped) == 11


def _export(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return path


CHAT = [
    f"01/03/2024, {9 + i // 60:02d}:{i % 60:02d} - p{i % 5}: message {i % 7}\n" for i in range(300)
] + ["01/03/2024, 15:00 - p1: ok\n", "01/03/2024, 15:00 - p1: ok\n"]  # said twice, kept twice


def test_an_older_export_beside_a_newer_one_adds_only_what_is_new(
    cli: typer.Typer, tmp_path: Path
) -> None:
    """Last month's export, this month's (longer), and one WhatsApp cut to its latest
    messages, under any names: each message once, in analyze as in import."""
    name = "WhatsApp Chat with Club.txt"
    older = _export(tmp_path / "october" / name, CHAT[:120])
    newer = _export(tmp_path / "november" / name, CHAT)
    latest = _export(tmp_path / "cut" / name, CHAT[200:])
    renamed = _export(tmp_path / "club-part1.txt", CHAT[:50])
    result = analyze_files([older, newer, latest, renamed])
    assert result.messages == len(CHAT) == result.metrics["overview"]["messages"]
    assert stored_messages(cli, tmp_path, older, newer, latest) == len(CHAT)


def test_a_message_an_export_repeats_is_counted_once(
    cli: typer.Typer, shared_data: Path, tmp_path: Path
) -> None:
    """SV_5A_5M.json holds one Discord message (its id) twice: 4 messages, as import stores."""
    path = shared_data / "discord/SV_5A_5M.json"
    result = analyze_files([path])
    assert result.messages == 4 == stored_messages(cli, tmp_path, path)


def _account_export(path: Path) -> Path:
    """A Telegram account export (``chats.list``): a group and a private chat."""

    def chat(cid: int, name: str, kind: str, n: int) -> dict[str, object]:
        return {
            "id": cid,
            "name": name,
            "type": kind,
            "messages": [
                {
                    "id": i + 1,
                    "type": "message",
                    "date": f"2024-05-0{1 + i % 5}T10:0{i % 10}:00",
                    "date_unixtime": str(1714557600 + i * 3600),
                    "from": f"member {i % 3}",
                    "from_id": f"user{i % 3}",
                    "text": f"hello {i}",
                }
                for i in range(n)
            ],
        }

    export = {
        "chats": {
            "list": [
                chat(1111, "Book club", "private_supergroup", 6),
                chat(2222, "Bob", "personal_chat", 3),
            ]
        }
    }
    path.write_text(json.dumps(export), encoding="utf-8")
    return path


def test_an_export_of_several_chats_is_refused_naming_them(tmp_path: Path) -> None:
    path = _account_export(tmp_path / "result.json")
    with pytest.raises(SeveralChats) as caught:
        analyze_files([path])
    assert caught.value.where == "--chat"
    assert "2 chats: 1111 (Book club), 2222 (Bob); pick one with --chat" in str(caught.value)
    with pytest.raises(SeveralChats, match=r"no chat 'Alice' in this export"):
        analyze_files([path], chat="Alice")


def test_chats_are_told_before_what_other_files_held_is_dropped(tmp_path: Path) -> None:
    """The same account export twice, or beside a chat's own export: still several chats,
    refused naming that export; --chat picks one however many files repeat it."""
    path = _account_export(tmp_path / "result.json")
    with pytest.raises(SeveralChats) as caught:
        analyze_files([path, path])
    assert caught.value.export == path and "2222 (Bob)" in str(caught.value)
    assert analyze_files([path, path], chat="Bob").messages == 3
    assert analyze_files([path, path], chat="1111").messages == 6


def test_chat_must_name_the_chat_of_a_whatsapp_file(shared_data: Path) -> None:
    path = shared_data / "whatsapp/4A_11M.txt"
    with pytest.raises(SeveralChats, match=r"no chat 'foo' in this export; its chats: 4A_11M"):
        analyze_files([path], chat="foo")
    assert analyze_files([path], chat="4A_11M").messages == 11


def test_chat_picks_one_chat_by_title_or_id(tmp_path: Path) -> None:
    path = _account_export(tmp_path / "result.json")
    assert analyze_files([path], chat="Book club").messages == 6
    assert analyze_files([path], chat="2222").messages == 3


def test_several_chats_on_the_command_line(cli: typer.Typer, tmp_path: Path) -> None:
    path = _account_export(tmp_path / "result.json")
    out = tmp_path / "report"
    res = run(cli, "analyze", str(path), "--out", str(out), lang="zh_CN")
    assert res.exit_code == 2 and not out.exists()
    assert "several_chats" in res.stderr and "1111 (Book club)" in res.stderr
    assert "--chat" in res.stderr and "包含 2 个聊天" in res.stderr
    res = run(cli, "analyze", str(path), "--chat", "Book club", "--out", str(out))
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["overview"]["messages"] == 6


def test_a_zip_cut_short_is_said_to_be_damaged(shared_data: Path, tmp_path: Path) -> None:
    """A download cut short has no zip directory: said so, not "no known chat export"."""
    whole = (shared_data / "whatsapp/4A_11M.zip").read_bytes()
    for size in (300, len(whole) // 2, len(whole) - 10):
        cut = tmp_path / f"cut{size}.zip"
        cut.write_bytes(whole[:size])
        with pytest.raises(ImportFormatError, match="damaged or incomplete zip"):
            detect(cut)
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("chat.txt", "01/03/2024, 09:00 - Ann: hi\n")
    assert detect(good) == "whatsapp"


def test_a_damaged_zip_on_the_command_line(
    cli: typer.Typer, shared_data: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.zip"
    cut.write_bytes((shared_data / "whatsapp/4A_11M.zip").read_bytes()[:300])
    line = error_line(run(cli, "analyze", str(cut), "--out", str(tmp_path / "r")))
    assert "damaged or incomplete zip" in line and "download the export again" in line


def test_a_bad_file_is_named_by_its_path_when_files_share_a_name(
    cli: typer.Typer, tmp_path: Path
) -> None:
    """Exports of one chat share its name: the refusal names the one that is bad."""
    name = "WhatsApp Chat with Club.txt"
    good = _export(tmp_path / "old" / name, CHAT[:50])
    bad = _export(tmp_path / "cut" / name, ["no date here, a message's last line\n", *CHAT[50:60]])
    line = error_line(run(cli, "analyze", str(good), str(bad), "--out", str(tmp_path / "r")))
    assert line.startswith(f"✗ {bad}: not analysed"), line


def test_an_imported_group_lives_in_the_zone_of_its_export(
    cli: typer.Typer, shared_data: Path, tmp_path: Path
) -> None:
    """import --tz gives the groups it makes that zone (else UTC), so analyze --group counts
    the days and hours analyze FILE --tz counts; a group that was there keeps its own."""
    from sqlalchemy import select

    from groupops.storage.tables import groups

    chat = shared_data / "whatsapp/4A_11M.txt"  # 11 messages at 23:55 on 2020-09-12
    url = f"sqlite:///{tmp_path}/db.sqlite"
    res = run(cli, "import", str(chat), "--tz", "Europe/Berlin", "--database-url", url)
    assert res.exit_code == 0, res.output
    by_file = analyze_files([chat], tz="Europe/Berlin").metrics["activity"]
    by_group = run(
        cli, "analyze", "--group", "1", "--database-url", url, "--out", str(tmp_path / "g")
    )
    assert by_group.exit_code == 0, by_group.output
    metrics = json.loads((tmp_path / "g" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["activity"]["per_day"] == by_file["per_day"]
    assert metrics["activity"]["heatmap"] == by_file["heatmap"]
    res = run(cli, "import", str(chat), "--tz", "America/New_York", "--database-url", url)
    with open_database(url).connect() as conn:
        assert conn.execute(select(groups.c.timezone)).scalars().all() == ["Europe/Berlin"]


def test_a_second_download_of_an_export_is_the_same_chat(cli: typer.Typer, tmp_path: Path) -> None:
    """A browser saves a second download as "… (1).txt": the same chat, imported once."""
    first = _export(tmp_path / "WhatsApp Chat with Club.txt", CHAT)
    again = _export(tmp_path / "WhatsApp Chat with Club (1).txt", CHAT)
    assert stored_messages(cli, tmp_path, first, again) == len(CHAT)
    assert analyze_files([first, again]).messages == len(CHAT)
