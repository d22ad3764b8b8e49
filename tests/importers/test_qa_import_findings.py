"""The importer findings of the operators' QA (docs/import.md): files in another encoding than
UTF-8, a WeChat CSV without its sender columns, WhatsApp iOS group notices in a renamed file,
Telegram joins through the group's link, the JSON parser's words, and ``--events-out`` ids.
Every input is made here, by hand, as small as the edge it tests."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer

from groupops.domain.events import EventKind
from groupops.i18n import Catalogs
from groupops.importers import ImportFormatError, Note, read
from groupops.importers.base import refusal_text
from groupops.importers.encoding import GB18030, UTF8, Transcoded
from groupops.importers.events import member_event, reaction_count
from groupops.importers.store import import_file
from tests.cli import run

MSG, JOIN, LEFT = EventKind.MESSAGE, EventKind.MEMBER_JOINED, EventKind.MEMBER_LEFT
HEADER = (
    "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,"
    "NickName,Sender"
)


@pytest.fixture(scope="module")
def zh() -> Callable[[str], str]:
    return Catalogs().gettext("zh_CN")


def wechat_rows() -> str:
    """A course group as Excel would keep it: two notices, a file, a link, texts."""
    rows = [
        '1,123@chatroom,10000,0,0,1709254500,2,"你邀请""张三、王五""加入了群聊",'
        "2024-03-01 08:55:00,,,",
        "2,123@chatroom,1,0,0,1709255100,2,大家好,2024-03-01 09:05:00,张三,张三,wxid_a",
        "3,123@chatroom,1,0,1,1709255160,2,欢迎,2024-03-01 09:06:00,我,我,wxid_me",
        "4,123@chatroom,49,6,0,1709255200,2,课件.pdf,2024-03-01 09:06:40,王五,王五,wxid_c",
        "5,123@chatroom,49,5,0,1709255300,2,https://example.com/h5/a,2024-03-01 09:08:20,"
        "老李,李四,wxid_b",
        '6,123@chatroom,10000,0,0,1709255400,2,"你将""王五""移出了群聊",2024-03-01 09:10:00,,,',
    ]
    return HEADER + "\r\n" + "\r\n".join(rows) + "\r\n"


# -- 1. encodings ------------------------------------------------------------------------------


def test_a_gbk_wechat_csv_is_read_as_gb18030_and_said_so(
    tmp_path: Path, zh: Callable[[str], str]
) -> None:
    path = tmp_path / "群.csv"
    path.write_bytes(wechat_rows().encode("gbk"))
    result = import_file(None, path)
    assert (result.kinds[MSG.value], result.kinds[JOIN.value], result.kinds[LEFT.value]) == (
        4,
        2,
        1,
    )
    events = list(read(path))
    assert [e.user_name for e in events if e.kind == MSG] == ["张三", "我", "王五", "老李"]
    assert not any("\ufffd" in e.text or "\ufffd" in e.user_name for e in events)
    removed = next(e for e in events if e.kind == LEFT)
    assert (removed.user_id, removed.data["removed_by"]) == ("wxid_c", "wxid_me")
    assert [str(n) for n in result.notes] == ["群.csv: not UTF-8; read as GB18030 (GBK)"]
    assert [n.localized(zh) for n in result.notes] == [
        "群.csv：不是 UTF-8 编码，已按 GB18030（GBK）读取"
    ]


def test_a_utf8_wechat_csv_with_or_without_a_bom_needs_no_note(tmp_path: Path) -> None:
    for name, data in (
        ("a.csv", wechat_rows().encode()),
        ("b.csv", b"\xef\xbb\xbf" + wechat_rows().encode()),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        notes: list[Note] = []
        events = list(read(path, notes=notes))
        assert notes == []
        assert next(e.user_name for e in events if e.kind == MSG) == "张三"


def test_bytes_neither_utf8_nor_gb18030_are_refused_at_their_offset(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    body = HEADER + "\n1,1@chatroom,1,0,0,1709255100,2,caf"
    path.write_bytes(body.encode() + b"\xff\xfe,2024-03-01 09:05:00,A,A,wxid_a\n")
    with pytest.raises(ImportFormatError) as info:
        list(read(path))
    assert info.value.offset == len(body.encode())
    assert str(info.value) == (
        f"x.csv, byte {len(body.encode())}: the file is neither UTF-8 nor GB18030 (GBK) text"
        " (bytes neither is made of); save it as UTF-8"
    )


@pytest.mark.parametrize("block", [1, 2, 3, 5, 64])
def test_a_break_after_the_choice_is_named_by_its_offset_across_blocks(block: int) -> None:
    good = "中文 text 汉字".encode("gb18030")
    data = b"abc" + good + b"\x81\x20" + b"tail"
    stream = Transcoded(io.BytesIO(data), "f.csv", (UTF8, GB18030), block=block)
    with pytest.raises(ImportFormatError) as info:
        stream.read()
    assert info.value.offset == 3 + len(good)  # where GB18030, read furthest, stopped
    assert "GB18030" in str(info.value)


def test_utf8_passes_through_unchanged_in_any_block_size() -> None:
    data = "\ufeffé中😀\r\nx".encode() * 3
    for block in (1, 2, 3, 7):
        assert Transcoded(io.BytesIO(data), "f", (UTF8, GB18030), block=block).read() == data


def test_irc_lines_in_latin1_are_read_as_windows_1252_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "chan.weechatlog"
    path.write_bytes(
        "2020-01-01 10:00:00\tann\tnaïve in utf-8\n".encode()
        + b"2020-01-01 10:01:00\tbob\tcaf\xe9 \x93quoted\x94 \x81\n"
        + b"2020-01-01 10:02:00\tann\tok\n"
    )
    notes: list[Note] = []
    texts = [e.text for e in read(path, notes=notes)]
    assert texts == ["naïve in utf-8", "café \u201cquoted\u201d \x81", "ok"]
    assert [str(n) for n in notes] == [
        "chan.weechatlog: 1 line(s) not in UTF-8, read as Windows-1252 (Latin-1)"
    ]


# -- 2. WeChat columns -------------------------------------------------------------------------


def test_a_wechat_csv_without_its_sender_columns_is_refused_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    cut = HEADER.rsplit(",", 2)[0]
    path.write_text(
        cut + "\n1,123@chatroom,1,0,0,1709255100,2,大家好,2024-03-01 09:05:00,\n", "utf-8"
    )
    with pytest.raises(ImportFormatError) as info:
        list(read(path))
    assert info.value.line == 0
    assert str(info.value).startswith(
        "cut.csv, line 1: missing columns NickName, Sender: a WeChatMsg CSV has the columns"
        " localId,"
    )


def test_a_chat_room_is_never_made_a_member(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text(
        HEADER + "\n1,123@chatroom,1,0,0,1709255100,2,hi,2024-03-01 09:05:00,,,\n", "utf-8"
    )
    with pytest.raises(ImportFormatError) as info:
        list(read(path))
    assert (info.value.line, info.value.reason) == (
        1,
        "a message in a group chat without its sender (Sender, NickName and Remark are empty)",
    )


def test_wechat_file_and_link_rows_keep_their_text(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text(wechat_rows(), "utf-8")
    kinds = {e.text: e.content_kind.value for e in read(path) if e.kind == MSG}
    assert kinds["课件.pdf"] == "file"
    assert kinds["https://example.com/h5/a"] == "h5_link"


# -- 3. WhatsApp iOS notices of a renamed file -------------------------------------------------

RUNNERS = (
    "[3/1/24, 9:00:00 AM] Runners: \u200eMessages and calls are end-to-end encrypted.\n"
    '[3/1/24, 9:00:01 AM] Runners: \u200eAnn created group "Runners"\n'
    "[3/1/24, 9:00:05 AM] Runners: \u200eAnn added Bob\n"
    "[3/1/24, 9:01:00 AM] Ann: Welcome!\n"
    "[3/1/24, 9:02:00 AM] Runners: \u200eAnn changed the group description\n"
    "[3/1/24, 9:03:00 AM] Runners: \u200eAnn turned on admin approval to join this group\n"
    "\u200e[3/1/24, 9:05:00 AM] Bob: \u200eimage omitted\n"
    "[3/1/24, 9:06:00 AM] Bob: hi\n"
)


@pytest.mark.parametrize("name", ["chat.txt", "Runners_crlf.txt", "WhatsApp Chat - Runners.txt"])
def test_ios_group_notices_are_no_member_whatever_the_file_is_called(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_text(RUNNERS, encoding="utf-8")
    events = list(read(path))
    assert {e.user_name for e in events} == {"Ann", "Bob"}
    assert [(e.kind, e.user_name) for e in events if e.kind != MSG] == [(JOIN, "Bob")]
    assert sum(e.kind == MSG for e in events) == 3


# -- 4. Telegram joins through the group's link -------------------------------------------------


def telegram(tmp_path: Path, inviter: str) -> Path:
    service: dict[str, Any] = {"type": "service", "actor_id": "user4", "text": ""}
    export = {
        "name": "打卡群",
        "type": "private_supergroup",
        "id": 1234567,
        "messages": [
            {
                **service,
                "id": 1,
                "date_unixtime": "1710032400",
                "actor": "张三",
                "actor_id": "user1",
                "action": "invite_members",
                "members": ["李四", "王五"],
            },
            {
                "id": 2,
                "type": "message",
                "date_unixtime": "1710032460",
                "from": "张三",
                "from_id": "user1",
                "text": "欢迎",
            },
            {
                **service,
                "id": 3,
                "date_unixtime": "1710036000",
                "actor": "赵六",
                "action": "join_group_by_link",
                "inviter": inviter,
            },
            {
                "id": 4,
                "type": "message",
                "date_unixtime": "1710036020",
                "from": "赵六",
                "from_id": "user4",
                "text": "hi",
                "reply_to_message_id": 2,
            },
        ],
    }
    path = tmp_path / "tg.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("inviter", ["Group", "打卡群"])
def test_a_join_by_the_groups_link_has_no_inviter(tmp_path: Path, inviter: str) -> None:
    joins = [e for e in read(telegram(tmp_path, inviter)) if e.kind == JOIN]
    link = joins[-1]
    assert (link.user_id, link.data["via"]) == ("user4", "invite_link")
    assert "inviter_user_id" not in link.data and "inviter_name" not in link.data
    assert [j.data.get("inviter_user_id") for j in joins[:-1]] == ["user1", "user1"]


def test_a_join_by_a_members_own_link_keeps_them_as_inviter(tmp_path: Path) -> None:
    link = [e for e in read(telegram(tmp_path, "张三")) if e.kind == JOIN][-1]
    assert (link.data["inviter_user_id"], link.data["inviter_name"]) == ("user1", "张三")


# -- 5. the JSON parser's words -----------------------------------------------------------------


def test_a_cut_json_export_is_said_in_the_operators_words_with_its_offset(
    tmp_path: Path, zh: Callable[[str], str]
) -> None:
    whole = telegram(tmp_path, "Group").read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(whole[: len(whole) - 40])
    with pytest.raises(ImportFormatError) as info:
        list(read(path))
    exc = info.value
    assert exc.offset is not None and exc.offset > 0
    said = refusal_text(exc, path, zh)
    assert said == (
        f"第 {exc.offset} 字节：JSON 格式错误：文件在 JSON 结束前就断了（不完整？请重新导出或下载）"
    )
    assert "premature" not in exc.localized(zh) and "EOF" not in exc.localized(zh)
    assert exc.localized(zh) == f"cut.json，{said}"


# -- 6. --events-out ids ------------------------------------------------------------------------


def events_out(path: Path) -> list[dict[str, Any]]:
    out = io.StringIO()
    import_file(None, path, events_out=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_telegram_ids_are_numbers_and_a_notices_events_share_its_id(tmp_path: Path) -> None:
    rows = events_out(telegram(tmp_path, "Group"))
    assert [(r["kind"], r["id"]) for r in rows] == [
        ("member_joined", 1),
        ("member_joined", 1),
        ("message", 2),
        ("member_joined", 3),
        ("message", 4),
    ]
    assert rows[-1]["reply_to"] == [2]


def test_whatsapp_placeholders_lose_the_direction_mark_in_events_out(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(RUNNERS, encoding="utf-8")
    rows = events_out(path)
    image = next(r for r in rows if r["content_kind"] == "picture")
    assert (image["text"], image["id"]) == ("image omitted", 6)
    assert all(isinstance(r["id"], int) for r in rows)


def test_slack_joins_are_named_by_their_ts_as_messages_are(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "ws.zip"
    day = [
        {
            "type": "message",
            "subtype": "channel_join",
            "user": "U1",
            "ts": "1452837318.000002",
            "text": "<@U1> has joined the channel",
        },
        {
            "type": "message",
            "user": "U1",
            "ts": "1452837352.000006",
            "text": "hi",
            "reactions": [{"name": "+1", "count": 2}, {"name": "x"}],
        },
    ]
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("channels.json", json.dumps([{"id": "C1", "name": "general"}]))
        zf.writestr("users.json", json.dumps([{"id": "U1", "name": "ann"}]))
        zf.writestr("general/2016-01-15.json", json.dumps(day))
    rows = events_out(path)
    assert [(r["kind"], r["id"]) for r in rows] == [
        ("member_joined", "1452837318.000002"),
        ("message", "1452837352.000006"),
    ]
    (message,) = [e for e in read(path) if e.kind == MSG]
    assert message.data["reactions"] == 3


# -- 7. the shared helpers ---------------------------------------------------------------------


def test_reaction_count_counts_what_each_platform_writes() -> None:
    assert reaction_count([{"count": 3}, {"emoji": "x"}, "junk", {"count": "2"}]) == 6
    assert reaction_count(None) == 0 and reaction_count({"count": 3}) == 0


def test_member_event_keeps_the_platform_message_and_refuses_a_message_kind() -> None:
    from datetime import UTC, datetime

    when = datetime(2024, 3, 1, tzinfo=UTC)
    e = member_event("import:x", "c:1", JOIN, when, "c", "u", "U", {"file": "f"}, message_id="9")
    assert (e.kind, e.message_id, dict(e.data)) == (JOIN, "", {"file": "f", "message_id": "9"})
    with pytest.raises(ValueError, match="no membership change"):
        member_event("import:x", "c:2", MSG, when, "c", "u", "U", {})


def test_the_import_summary_says_the_encoding_in_the_operators_language(
    cli: typer.Typer, tmp_path: Path
) -> None:
    path = tmp_path / "g.csv"
    path.write_bytes(wechat_rows().encode("gbk"))
    zh = run(cli, "import", str(path), "--no-store", "--lang", "zh_CN")
    assert zh.exit_code == 0, zh.output
    assert zh.stdout.splitlines()[-1] == "ℹ g.csv：不是 UTF-8 编码，已按 GB18030（GBK）读取"
    en = run(cli, "import", str(path), "--no-store", "--lang", "en")
    assert en.stdout.splitlines()[-1] == "ℹ g.csv: not UTF-8; read as GB18030 (GBK)"
