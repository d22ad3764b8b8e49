"""An import's refusals in the operator's language: every reason an importer gives for a file
it cannot read is a template whose values (the file, the line, the offending text, a parser's
own words) stay as they are, the English exactly as before and the Chinese filled alike."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer

from groupops.i18n import Catalogs
from groupops.importers import ImportFormatError, read, read_event_columns
from tests.cli import run

WECHAT_HEADER = (
    "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,"
    "Remark,NickName,Sender\n"
)
WA_OK = "1/5/23, 10:00 - Ann: hi\n"
TG_MSG = {"id": 1, "type": "message", "date_unixtime": "1700000000", "from": "A", "text": "hi"}
DISCORD_META = {"guild": {"id": "1", "name": "G"}, "channel": {"id": "2", "name": "c"}}
DISCORD_MSG = {
    "id": "1",
    "type": "Default",
    "timestamp": "2020-01-01T10:00:00+00:00",
    "content": "hi",
    "author": {"id": "9", "name": "ann"},
}

Make = Callable[[Path], tuple[Path, dict[str, Any]]]


def text_file(name: str, text: str, **kw: Any) -> Make:
    def make(tmp: Path) -> tuple[Path, dict[str, Any]]:
        path = tmp / name
        path.write_text(text, encoding="utf-8")
        return path, kw

    return make


def json_file(name: str, doc: Any, **kw: Any) -> Make:
    return text_file(name, json.dumps(doc), **kw)


def zip_file(name: str, members: dict[str, str], **kw: Any) -> Make:
    def make(tmp: Path) -> tuple[Path, dict[str, Any]]:
        path = tmp / name
        with zipfile.ZipFile(path, "w") as zf:
            for member, text in members.items():
                zf.writestr(member, text)
        return path, kw

    return make


def damaged_zip(name: str, how: str, **kw: Any) -> Make:
    """A WhatsApp zip damaged ``how``: a byte of the chat changed (its CRC fails while read),
    the central directory's signature broken (unreadable at once), or its member marked
    encrypted (listed, but not opened)."""

    def make(tmp: Path) -> tuple[Path, dict[str, Any]]:
        path = tmp / name
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("_chat.txt", WA_OK * 3)
        data = bytearray(path.read_bytes())
        if how == "crc":
            data[data.find(b"Ann: hi", 60)] = ord("B")
        elif how == "directory":
            data[data.find(b"PK\x01\x02") + 2] = 9
        else:  # the "encrypted" bit of the central and the local header
            data[data.find(b"PK\x01\x02") + 8] |= 1
            data[data.find(b"PK\x03\x04") + 6] |= 1
        path.write_bytes(bytes(data))
        return path, kw

    return make


def folder(name: str, members: dict[str, str], **kw: Any) -> Make:
    def make(tmp: Path) -> tuple[Path, dict[str, Any]]:
        path = tmp / name
        for member, text in members.items():
            (path / member).parent.mkdir(parents=True, exist_ok=True)
            (path / member).write_text(text, encoding="utf-8")
        return path, kw

    return make


def slack(day: str, **extra: str) -> Make:
    return folder(
        "ws",
        {
            "channels.json": '[{"id": "C1", "name": "general"}]',
            **extra,
            "general/2020-01-01.json": day,
        },
    )


# (id, the file, str(exc) exactly, its Chinese exactly)
CASES: list[tuple[str, Make, str, str]] = [
    # -- detection ---------------------------------------------------------------------------
    (
        "folder",
        folder("stuff", {"a.json": "{}"}),
        "stuff: a folder that is no Slack export",
        "stuff：不是 Slack 导出的文件夹",
    ),
    ("empty", text_file("x.txt", "  \n"), "x.txt: the file is empty", "x.txt：文件是空的"),
    (
        "zip of nothing known",
        zip_file("x.zip", {"a.csv": "1,2\n"}),
        "x.zip: a zip with neither a Slack export nor a chat .txt",
        "x.zip：zip 中既没有 Slack 导出，也没有聊天记录 .txt",
    ),
    (
        "other JSON",
        json_file("x.json", {"foo": 1}),
        "x.json: JSON, but neither Telegram nor DiscordChatExporter",
        "x.json：是 JSON，但既不是 Telegram 导出，也不是 DiscordChatExporter 导出",
    ),
    (
        "prose",
        text_file("x.txt", "just some prose\n"),
        "x.txt: no known chat export (WhatsApp, Telegram, Discord, Slack, IRC, WeChat CSV)",
        "x.txt：不是已知的聊天导出格式（WhatsApp、Telegram、Discord、Slack、IRC、微信 CSV）",
    ),
    (
        "unknown --format",
        text_file("x.txt", WA_OK, fmt="nope"),
        "x.txt: unknown format 'nope'; one of whatsapp, telegram, discord, slack, irc, wechat",
        "x.txt：未知格式 'nope'；可选：whatsapp, telegram, discord, slack, irc, wechat",
    ),
    # -- WhatsApp ----------------------------------------------------------------------------
    (
        "whatsapp forced on prose",
        text_file("x.txt", "just some prose\n", fmt="whatsapp"),
        "x.txt: no WhatsApp message line in the first lines",
        "x.txt：开头几行中没有 WhatsApp 消息行",
    ),
    (
        "whatsapp zip without a chat",
        zip_file("x.zip", {"a.csv": "1,2\n"}, fmt="whatsapp"),
        "x.zip: the zip holds no chat .txt",
        "x.zip：zip 中没有聊天记录 .txt",
    ),
    (
        "whatsapp impossible date",
        text_file("bad.txt", "31/02/2022, 10:00 - A: no such day\n"),
        "bad.txt, line 1: impossible date '31/02/2022' read as dmy",
        "bad.txt，第 1 行：无效的日期 '31/02/2022'（按 dmy 顺序读取）",
    ),
    (
        "whatsapp impossible time",
        text_file("bad.txt", WA_OK + "1/5/23, 25:61 - A: bad clock\n"),
        "bad.txt, line 2: impossible time '25:61'",
        "bad.txt，第 2 行：无效的时间 '25:61'",
    ),
    (
        "whatsapp text before the first message",
        text_file("bad.txt", "hello there\n" + WA_OK),
        "bad.txt, line 1: a line that is no message before the first message",
        "bad.txt，第 1 行：第一条消息之前有一行不是消息",
    ),
    (
        "whatsapp AM/PM",
        text_file("w.txt", WA_OK + "1/5/23, 10:00 xx - A: hi\n"),
        "w.txt, line 2: unknown AM/PM marker 'xx'",
        "w.txt，第 2 行：未知的上午/下午标记 'xx'",
    ),
    (
        "zip with a bad CRC",
        damaged_zip("crc.zip", "crc"),
        "crc.zip: a damaged zip (Bad CRC-32 for file '_chat.txt'): download the export again",
        "crc.zip：zip 文件已损坏（Bad CRC-32 for file '_chat.txt'）：请重新下载这份导出",
    ),
    (
        "zip without a directory",
        damaged_zip("cd.zip", "directory"),
        "cd.zip: unreadable zip: Bad magic number for central directory",
        "cd.zip：无法读取 zip：Bad magic number for central directory",
    ),
    (
        "zip with an encrypted chat",
        damaged_zip("enc.zip", "encrypted"),
        "enc.zip: cannot open _chat.txt in the zip: File '_chat.txt' is encrypted, password"
        " required for extraction",
        "enc.zip：无法打开 zip 中的 _chat.txt：File '_chat.txt' is encrypted, password required"
        " for extraction",
    ),
    (
        "slack zip without a directory",
        damaged_zip("cd.zip", "directory", fmt="slack"),
        "cd.zip: unreadable Slack export: Bad magic number for central directory",
        "cd.zip：无法读取 Slack 导出：Bad magic number for central directory",
    ),
    (
        "whatsapp time beyond the calendar in UTC",
        text_file("w.txt", WA_OK + "1/1/0001, 00:01 - A: early\n", tz="Asia/Tokyo"),
        "w.txt, line 2: a time out of range: in UTC it falls before year 1 or after year 9999",
        "w.txt，第 2 行：时间超出范围：换算成 UTC 后早于公元 1 年或晚于 9999 年",
    ),
    # -- IRC ---------------------------------------------------------------------------------
    (
        "irc forced on prose",
        text_file("x.txt", "just some prose\n", fmt="irc"),
        "x.txt: no IRC log line in the first lines",
        "x.txt：开头几行中没有 IRC 日志行",
    ),
    (
        "ubuntu without a date",
        text_file("log.txt", "[10:00] <ann> hi\n"),
        "log.txt: this IRC layout keeps no date: name the file with its date (YYYY-MM-DD)",
        "log.txt：这种 IRC 日志格式不记录日期：请在文件名中写上日期（YYYY-MM-DD）",
    ),
    (
        "ubuntu impossible time",
        text_file("2010-05-06.txt", "[10:00] <ann> hi\n[24:00] <bob> late\n"),
        "2010-05-06.txt, line 2: impossible time in '[24:00] <bob'",
        "2010-05-06.txt，第 2 行：'[24:00] <bob' 中的时间无效",
    ),
    (
        "ubuntu garbage",
        text_file("2010-05-06.txt", "[10:00] <ann> hi\nwhat is this\n"),
        "2010-05-06.txt, line 2: not an IRC log line: 'what is this'",
        "2010-05-06.txt，第 2 行：不是 IRC 日志行：'what is this'",
    ),
    (
        "irssi bad day",
        text_file("x.log", "--- Log opened Mon Nov 31 23:50:00 2004\n23:51 <ann> hi\n"),
        "x.log, line 1: unreadable date in '--- Log opened Mon Nov 31 23:50:00 2004'",
        "x.log，第 1 行：无法识别 '--- Log opened Mon Nov 31 23:50:00 2004' 中的日期",
    ),
    (
        "irssi garbage",
        text_file("x.log", "--- Log opened Mon Nov 15 23:50:00 2004\n23:51 <ann> hi\nwhat\n"),
        "x.log, line 3: not an irssi log line: 'what'",
        "x.log，第 3 行：不是 irssi 日志行：'what'",
    ),
    (
        "irssi without a date",
        text_file("x.log", "23:51 <ann> hi\n"),
        "x.log, line 1: no date yet: the log needs a '--- Log opened' or '--- Day changed' line"
        " or a date in the file name",
        "x.log，第 1 行：还没有日期：日志需要一行 '--- Log opened' 或 '--- Day changed'，"
        "或在文件名中写上日期",
    ),
    (
        "irssi impossible time",
        text_file(
            "x.log", "--- Log opened Mon Nov 15 23:50:00 2004\n23:51 <ann> hi\n24:01 <b> x\n"
        ),
        "x.log, line 3: impossible time in '24:01 <b> x'",
        "x.log，第 3 行：'24:01 <b> x' 中的时间无效",
    ),
    (
        "weechat garbage",
        text_file("x.weechatlog", "2020-01-01 10:00:05\t@ann\thi\nwhat\n"),
        "x.weechatlog, line 2: not a weechat log line: 'what'",
        "x.weechatlog，第 2 行：不是 weechat 日志行：'what'",
    ),
    (
        "weechat impossible date",
        text_file("x.weechatlog", "2020-01-01 10:00:05\t@ann\thi\n2020-02-30 10:00:05\t@a\tx\n"),
        "x.weechatlog, line 2: impossible date '2020-02-30'",
        "x.weechatlog，第 2 行：无效的日期 '2020-02-30'",
    ),
    (
        "weechat impossible time",
        text_file("x.weechatlog", "2020-01-01 10:00:05\t@ann\thi\n2020-01-01 24:00:05\t@a\tx\n"),
        "x.weechatlog, line 2: impossible time '24:00:05'",
        "x.weechatlog，第 2 行：无效的时间 '24:00:05'",
    ),
    (
        "weechat time beyond the calendar in UTC",
        text_file("x.weechatlog", "9999-12-31 23:59:59\t@a\tlate\n", tz="America/New_York"),
        "x.weechatlog, line 1: a time out of range: in UTC it falls before year 1 or after year"
        " 9999",
        "x.weechatlog，第 1 行：时间超出范围：换算成 UTC 后早于公元 1 年或晚于 9999 年",
    ),
    # -- WeChat CSV --------------------------------------------------------------------------
    (
        "wechat forced on prose",
        text_file("x.csv", "just,some,prose\n", fmt="wechat"),
        "x.csv, line 1: not a WeChatMsg CSV header",
        "x.csv，第 1 行：不是 WeChatMsg CSV 表头",
    ),
    (
        "wechat short row",
        text_file("g.csv", WECHAT_HEADER + "2,7,1\n"),
        "g.csv, line 2: 3 fields, the header has 12",
        "g.csv，第 2 行：本行 3 个字段，表头有 12 个",
    ),
    (
        "wechat Type",
        text_file("g.csv", WECHAT_HEADER + '1,7,x,0,0,1700000000,2,"ok",,,g,A\n'),
        "g.csv, line 2: Type 'x' is no number",
        "g.csv，第 2 行：Type 'x' 不是数字",
    ),
    (
        "wechat time",
        text_file("g.csv", WECHAT_HEADER + '1,7,1,0,0,soon,2,"ok",later,,g,A\n'),
        "g.csv, line 2: no readable time: CreateTime 'soon', StrTime 'later'",
        "g.csv，第 2 行：没有可读的时间：CreateTime 'soon'，StrTime 'later'",
    ),
    (
        "wechat CSV",
        text_file("g.csv", WECHAT_HEADER + '1,7,1,0,0,1700000000,2,"' + "x" * 140_000 + '"\n'),
        "g.csv, line 2: malformed CSV: field larger than field limit (131072)",
        "g.csv，第 2 行：CSV 格式错误：field larger than field limit (131072)",
    ),
    (
        "wechat CSV, the line the parser stopped at",
        text_file(
            "g.csv", WECHAT_HEADER + '1,7,1,0,0,1700000000,2,"a\nb",,,g,A\n"' + "x" * 140_000
        ),
        "g.csv, line 4: malformed CSV: field larger than field limit (131072)",
        "g.csv，第 4 行：CSV 格式错误：field larger than field limit (131072)",
    ),
    # -- JSON: Telegram, Discord ---------------------------------------------------------------
    (
        "truncated JSON",
        text_file("result.json", json.dumps({"name": "g", "id": 1, "messages": [TG_MSG]})[:-20]),
        "result.json, byte 104: malformed JSON: the file ends before its JSON does"
        " (cut short? export or download it again)",
        "result.json，第 104 字节：JSON 格式错误："
        "文件在 JSON 结束前就断了（不完整？请重新导出或下载）",
    ),
    (
        "telegram date",
        json_file(
            "result.json",
            {"name": "g", "id": 1, "messages": [{**TG_MSG, "date_unixtime": "", "date": "soon"}]},
        ),
        "result.json, byte 36: message 1 (id 1) has no readable date",
        "result.json，第 36 字节：第 1 条消息（编号 1）没有可读的日期",
    ),
    (
        "telegram date, a message of a full-account export",
        json_file(
            "result.json",
            {
                "chats": {
                    "list": [
                        {"name": "a", "id": 1, "messages": [TG_MSG]},
                        {
                            "name": "b",
                            "id": 2,
                            "messages": [TG_MSG, {**TG_MSG, "id": 5, "date_unixtime": ""}],
                        },
                    ]
                }
            },
        ),
        "result.json, byte 270: message 3 (id 5) has no readable date",
        "result.json，第 270 字节：第 3 条消息（编号 5）没有可读的日期",
    ),
    (
        "telegram item",
        json_file("result.json", {"name": "g", "id": 1, "messages": [TG_MSG, 7]}),
        "result.json, byte 124: message 2 is not an object",
        "result.json，第 124 字节：第 2 条消息不是对象",
    ),
    (
        "discord author",
        json_file("d.json", {**DISCORD_META, "messages": [{**DISCORD_MSG, "author": None}]}),
        "d.json, byte 86: message 1 (id 1) has no author",
        "d.json，第 86 字节：第 1 条消息（编号 1）没有作者",
    ),
    (
        "discord timestamp",
        json_file("d.json", {**DISCORD_META, "messages": [{**DISCORD_MSG, "timestamp": "x"}]}),
        "d.json, byte 86: message 1 (id 1) has no readable timestamp",
        "d.json，第 86 字节：第 1 条消息（编号 1）没有可读的时间戳",
    ),
    # -- Slack -------------------------------------------------------------------------------
    (
        "slack JSON",
        slack("[{"),
        "ws: malformed JSON in general/2020-01-01.json: an object key that is no quoted string",
        "ws：general/2020-01-01.json 中的 JSON 格式错误：对象的键不是带引号的字符串",
    ),
    (
        "slack users",
        slack("[]", **{"users.json": "{}"}),
        "ws: users.json is not a list",
        "ws：users.json 不是列表",
    ),
    (
        "slack day",
        slack("{}"),
        "ws: general/2020-01-01.json is not a list of messages",
        "ws：general/2020-01-01.json 不是消息列表",
    ),
    (
        "slack item",
        slack("[1]"),
        "ws: general/2020-01-01.json: item 0 is no object",
        "ws：general/2020-01-01.json：条目 0 不是对象",
    ),
    (
        "slack ts",
        slack('[{"ts": "soon", "text": "hi"}]'),
        "ws: general/2020-01-01.json: item 0 has no readable ts",
        "ws：general/2020-01-01.json：条目 0 没有可读的 ts",
    ),
    (
        "slack ts beyond the calendar",
        slack('[{"ts": "1e20", "text": "hi"}]'),
        "ws: general/2020-01-01.json: item 0 has no readable ts",
        "ws：general/2020-01-01.json：条目 0 没有可读的 ts",
    ),
    (
        "slack without days",
        folder("ws", {"channels.json": "[]"}, fmt="slack"),
        "ws: no <channel>/<day>.json in the Slack export",
        "ws：Slack 导出中没有 <频道>/<日期>.json",
    ),
]


@pytest.fixture(scope="module")
def zh() -> Callable[[str], str]:
    return Catalogs().gettext("zh_CN")


@pytest.mark.parametrize(
    ("make", "english", "chinese"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_an_importers_refusal_reads_in_chinese_with_its_values(
    tmp_path: Path, zh: Callable[[str], str], make: Make, english: str, chinese: str
) -> None:
    path, kw = make(tmp_path)
    with pytest.raises(ImportFormatError) as info:
        list(read(path, **kw))
    assert str(info.value) == english
    assert info.value.localized(zh) == chinese
    assert info.value.localized(Catalogs().gettext("en")) == english


def test_the_columns_refuse_a_time_beyond_the_calendar_as_the_events_do(tmp_path: Path) -> None:
    """``analyze`` reads WhatsApp as columns, ``import`` as events: one refusal, same line."""
    path = tmp_path / "w.txt"
    path.write_text(WA_OK * 3 + "1/1/0001, 00:01 - A: early\n" + WA_OK, encoding="utf-8")
    with pytest.raises(ImportFormatError) as as_events:
        list(read(path, tz="Asia/Tokyo"))
    with pytest.raises(ImportFormatError) as as_columns:
        read_event_columns(path, tz="Asia/Tokyo")
    assert (
        str(as_columns.value)
        == str(as_events.value)
        == ("w.txt, line 4: a time out of range: in UTC it falls before year 1 or after year 9999")
    )


def test_no_such_file_names_the_path(tmp_path: Path, zh: Callable[[str], str]) -> None:
    missing = tmp_path / "gone.txt"
    with pytest.raises(ImportFormatError) as info:
        list(read(missing))
    assert info.value.code == "not_found"  # from Python as from the command line
    assert str(info.value) == f"{missing}: no such file"
    assert info.value.localized(zh) == f"{missing}：没有这个文件"


# -- the command line ------------------------------------------------------------------------


def test_import_refuses_a_file_in_chinese_naming_its_line(cli: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(WA_OK + "1/5/23, 25:61 - A: bad clock\n", encoding="utf-8")
    zh = run(cli, "import", str(bad), "--no-store", "--lang", "zh_CN")
    assert zh.exit_code == 2, zh.output
    assert zh.stderr.splitlines() == [
        f"✗ {bad}：未导入（import_format）：第 2 行：无效的时间 '25:61'",
        "没有导入任何内容",
    ]
    en = run(cli, "import", str(bad), "--no-store")
    assert en.stderr.splitlines() == [
        f"✗ {bad}: not imported (import_format): line 2: impossible time '25:61'",
        "nothing imported",
    ]
    # GROUPOPS_LANG speaks for a command given no --lang
    env = run(cli, "import", str(bad), "--no-store", GROUPOPS_LANG="zh_CN")
    assert env.stderr.splitlines()[0] == zh.stderr.splitlines()[0]


def test_import_refuses_an_unknown_format_in_chinese(cli: typer.Typer, tmp_path: Path) -> None:
    prose = tmp_path / "notes.txt"
    prose.write_text("just some prose\n", encoding="utf-8")
    res = run(cli, "import", str(prose), "--no-store", "--lang", "zh_CN")
    assert res.exit_code == 2, res.output
    assert res.stderr.splitlines()[0] == (
        f"✗ {prose}：未导入（import_unknown_format）："
        "不是已知的聊天导出格式（WhatsApp、Telegram、Discord、Slack、IRC、微信 CSV）"
    )


@pytest.mark.parametrize("where", ["a folder", "under a file"])
def test_an_unwritable_events_out_is_refused_in_chinese(
    cli: typer.Typer, tmp_path: Path, where: str
) -> None:
    export = tmp_path / "chat.txt"
    export.write_text(WA_OK, encoding="utf-8")
    if where == "a folder":
        target = tmp_path / "out"
        target.mkdir()
        english = f"{target} is a folder; give a file name in it"
        chinese = f"{target} 是文件夹；请给出其中的文件名"
    else:
        target = export / "events.jsonl"  # under a file: the system says why, in its words
        english = f"cannot write {target}: "
        chinese = f"无法写入 {target}："
    args = ("import", str(export), "--no-store", "--events-out", str(target))
    zh = run(cli, *args, "--lang", "zh_CN")
    en = run(cli, *args)
    assert zh.exit_code == en.exit_code == 2, (zh.output, en.output)
    zh_line, en_line = zh.stderr.strip(), en.stderr.strip()
    assert zh_line.startswith(f"错误 [invalid_option] --events-out：{chinese}"), zh_line
    assert en_line.startswith(f"error [invalid_option] --events-out: {english}"), en_line
    # the same values in both: what follows the text is the system's reason, as it is
    assert zh_line.removeprefix(f"错误 [invalid_option] --events-out：{chinese}") == (
        en_line.removeprefix(f"error [invalid_option] --events-out: {english}")
    )
