"""Hand-made exports for every quirk seen in the wild: locales, digits, calendars, clocks,
layouts, system lines, media placeholders, and malformed input."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from groupops.domain.errors import GroupopsError
from groupops.domain.events import ContentKind, Event, EventKind
from groupops.importers import ImportFormatError, UnknownFormat, detect, read, read_columns

MSG, JOIN, LEFT = EventKind.MESSAGE, EventKind.MEMBER_JOINED, EventKind.MEMBER_LEFT
LRM, RLM = "\u200e", "\u200f"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def msgs(path: Path, tz: str | None = None, fmt: str | None = None) -> list[Event]:
    return [e for e in read(path, tz, fmt) if e.kind == MSG]


def when(e: Event) -> str:
    return e.occurred_at.strftime("%Y-%m-%d %H:%M:%S")


# -- dates, clocks, calendars ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # Android, day first, 24 h
        ("18/03/2022, 14:56 - Ann: hi", "2022-03-18 14:56:00"),
        # Android, month first, 12 h with a narrow no-break space before PM
        ("3/18/22, 2:56\u202fPM - Ann: hi", "2022-03-18 14:56:00"),
        # Spanish 12 h "p. m."
        ("18/03/2022, 2:56 p. m. - Ann: hi", "2022-03-18 14:56:00"),
        # 12 AM is midnight
        ("18/03/2022, 12:05 a. m. - Ann: hi", "2022-03-18 00:05:00"),
        # German dots, two-digit year
        ("18.03.22, 14:56 - Ann: hi", "2022-03-18 14:56:00"),
        # Dutch dashes, no comma
        ("18-03-2022 14:56 - Ann: hi", "2022-03-18 14:56:00"),
        # year first
        ("2022/03/18, 14:56 - Ann: hi", "2022-03-18 14:56:00"),
        # iOS with seconds, with and without comma, dots in the time (Indonesian)
        ("[18/03/2022, 14:56:07] Ann: hi", "2022-03-18 14:56:07"),
        ("[18/03/22 14.56.07] Ann: hi", "2022-03-18 14:56:07"),
        # Vietnamese: time first
        ("[14:56:07, 18/3/22] Ann: hi", "2022-03-18 14:56:07"),
        # Chinese: 下午 before the time
        ("2022/3/18 下午2:56 - Ann: 你好", "2022-03-18 14:56:00"),
        ("[2022/3/18 上午9:05:00] Ann: 你好", "2022-03-18 09:05:00"),
        # Korean: "2022. 3. 18. 오후 2:56"
        ("2022. 3. 18. 오후 2:56 - Ann: 안녕", "2022-03-18 14:56:00"),
        # Japanese 午後
        ("[2022/03/18 午後2:56:00] Ann: こんにちは", "2022-03-18 14:56:00"),
        # Arabic-Indic digits, Arabic comma, RLM marks, م (PM)
        (f"[١٨{RLM}/٠٣{RLM}/٢٠٢٢، ٢:٥٦:٠٠\u00a0م] Ann: مرحبا", "2022-03-18 14:56:00"),
        ("١٨/٠٣/٢٠٢٢، ٩:٠٥ ص - Ann: مرحبا", "2022-03-18 09:05:00"),
        # Persian digits
        ("۱۸/۰۳/۲۰۲۲, ۱۴:۵۶ - Ann: سلام", "2022-03-18 14:56:00"),
        # Devanagari digits
        ("१८/०३/२०२२, १४:५६ - Ann: नमस्ते", "2022-03-18 14:56:00"),
        # Thai Buddhist era: 2565 = 2022, and two-digit 65
        ("[18/3/2565 14:56:00] Ann: สวัสดี", "2022-03-18 14:56:00"),
        ("18/3/65 14:56 - Ann: สวัสดี", "2022-03-18 14:56:00"),
        # Japanese era: Reiwa 4 = 2022, Heisei 31 = 2019
        ("[R4/03/18 14:56:00] Ann: こんにちは", "2022-03-18 14:56:00"),
        ("[令和4/3/18 14:56:00] Ann: こんにちは", "2022-03-18 14:56:00"),
        ("[H31/04/30 09:00:00] Ann: こんにちは", "2019-04-30 09:00:00"),
        # Greek π.μ./μ.μ.
        ("18/3/22, 2:56 μ.μ. - Ann: γεια", "2022-03-18 14:56:00"),
    ],
)
def test_whatsapp_stamps(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path, "chat.txt", line + "\n")
    assert detect(path) == "whatsapp"
    (m,) = msgs(path)
    assert when(m) == expected
    assert m.user_id == "Ann"


def test_day_month_order_is_inferred_over_the_whole_file(tmp_path: Path) -> None:
    """Thousands of ambiguous dates first; one late 25/4 settles day-first for all of them."""
    lines = [f"3/4/22, 10:{i % 60:02d} - Ann: message number {i} " + "x" * 60 for i in range(2000)]
    lines.append("25/4/22, 10:00 - Bob: late")
    path = write(tmp_path, "chat.txt", "\n".join(lines) + "\n")
    got = msgs(path)
    assert len(got) == 2001
    assert when(got[0])[:10] == "2022-04-03"
    assert when(got[-1])[:10] == "2022-04-25"


def test_month_first_when_the_dates_run_forward_so(tmp_path: Path) -> None:
    text = "1/12/22, 10:00 - A: a\n1/13/22, 10:00 - B: b\n"
    assert [when(m)[:10] for m in msgs(write(tmp_path, "c.txt", text))] == [
        "2022-01-12",
        "2022-01-13",
    ]


def test_time_zone_option(tmp_path: Path) -> None:
    path = write(tmp_path, "c.txt", "18/03/2022, 14:56 - Ann: hi\n")
    (m,) = msgs(path, tz="Asia/Shanghai")
    assert m.occurred_at == datetime(2022, 3, 18, 6, 56, tzinfo=UTC)


def test_crlf_bom_marks_and_multiline(tmp_path: Path) -> None:
    text = (
        "\ufeff[1/2/23, 10:00:00] Ann: first line\r\nsecond line\r\n\r\nfourth\r\n"
        f"{LRM}[1/2/23, 10:01:00] Bob: {LRM}image omitted\r\n"
        "[1/2/23, 10:02:00] Cy: bye"
    )
    path = write(tmp_path, "c.txt", text)
    got = msgs(path)
    assert [(m.message_id, m.user_id) for m in got] == [("0", "Ann"), ("4", "Bob"), ("5", "Cy")]
    assert got[0].text == "first line\nsecond line\n\nfourth"
    assert got[1].content_kind == ContentKind.PICTURE
    assert got[2].text == "bye"


def test_bytes_that_are_no_utf8_are_refused_at_their_offset_not_replaced(tmp_path: Path) -> None:
    """WhatsApp writes UTF-8: a Latin-1 byte is a typed error naming where, never U+FFFD."""
    path = tmp_path / "c.txt"
    path.write_bytes(b"18/03/2022, 14:56 - Ann: caf\xe9 \xff\n")
    with pytest.raises(ImportFormatError) as info:
        msgs(path)
    assert info.value.offset == 28
    assert str(info.value) == (
        "c.txt, byte 28: the file is not UTF-8 text (bytes no UTF-8 character is made of);"
        " save it as UTF-8"
    )


# -- system lines ---------------------------------------------------------------------------


def test_android_system_lines(tmp_path: Path) -> None:
    text = "\n".join(
        [
            '1/5/23, 10:00 - Ann created group "Runners"',
            "1/5/23, 10:01 - Ann added Bob, Cy and Dee",
            "1/5/23, 10:02 - Eve joined using this group's invite link",
            "1/5/23, 10:03 - Ann removed Cy",
            "1/5/23, 10:04 - Dee left",
            "1/5/23, 10:05 - You were added",
            '1/5/23, 10:06 - Ann changed the subject from "Runners" to "Re: Runners"',
            "1/5/23, 10:07 - Messages and calls are end-to-end encrypted.",
            "1/5/23, 10:08 - Bob: hello all",
        ]
    )
    events = list(read(write(tmp_path, "WhatsApp Chat with Runners.txt", text + "\n")))
    joins = [
        (e.user_id, e.data.get("inviter_user_id"), e.data.get("via"))
        for e in events
        if e.kind == JOIN
    ]
    assert joins == [
        ("Bob", "Ann", None),
        ("Cy", "Ann", None),
        ("Dee", "Ann", None),
        ("Eve", None, "invite_link"),
        ("You", None, None),
    ]
    lefts = [(e.user_id, e.data.get("removed_by")) for e in events if e.kind == LEFT]
    assert lefts == [("Cy", "Ann"), ("Dee", None)]
    assert [m.text for m in events if m.kind == MSG] == ["hello all"]
    assert {e.chat_id for e in events} == {"Runners"}
    assert len({e.event_id for e in events}) == len(events)


def test_ios_group_notices_written_as_messages(tmp_path: Path) -> None:
    text = "\r\n".join(
        [
            f"[1/5/23, 10:00:00] Runners: {LRM}Messages and calls are end-to-end encrypted.",
            f"[1/5/23, 10:01:00] Runners: {LRM}Ann added Bob",
            f"[1/5/23, 10:02:00] Runners: {LRM}Eve joined using this group's invite link",
            f"[1/5/23, 10:03:00] Runners: {LRM}Bob left",
            f"[1/5/23, 10:04:00] Bob: {LRM}Location: https://maps.google.com/?q=1,2",
            f"{LRM}[1/5/23, 10:05:00] Bob: {LRM}<attached: 00000012-PHOTO-2023-05-01.jpg>",
            f"{LRM}[1/5/23, 10:06:00] Bob: {LRM}<attached: 00000013-AUDIO-2023-05-01.opus>",
            f"{LRM}[1/5/23, 10:07:00] Bob: {LRM}<attached: 00000014-STICKER-2023.webp>",
            f"{LRM}[1/5/23, 10:08:00] Bob: report.pdf • {LRM}3 pages {LRM}document omitted",
            f"[1/5/23, 10:09:00] Bob: {LRM}This message was deleted.",
        ]
    )
    events = list(read(write(tmp_path, "c.txt", text)))
    assert [(e.kind, e.user_id) for e in events if e.kind != MSG] == [
        (JOIN, "Bob"),
        (JOIN, "Eve"),
        (LEFT, "Bob"),
    ]
    kinds = [e.content_kind for e in events if e.kind == MSG]
    assert kinds == [
        ContentKind.H5_LINK,
        ContentKind.PICTURE,
        ContentKind.VOICE,
        ContentKind.STICKER,
        ContentKind.FILE,
        ContentKind.OTHER,
    ]


def test_android_placeholders_in_several_locales(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "1/5/23, 10:00 - A: <Media omitted>",
            "1/5/23, 10:00 - A: <Médias omis>",
            "1/5/23, 10:00 - A: <Без медиафайлов>",
            "1/5/23, 10:00 - A: IMG-20230501-WA0001.jpg (file attached)",
            "1/5/23, 10:00 - A: VID-20230501-WA0001.mp4 (Datei angehängt)",
            "1/5/23, 10:00 - A: PTT-20230501-WA0001.opus (archivo adjunto)",
            "1/5/23, 10:00 - A: STK-20230501-WA0001.webp (fichier joint)",
            "1/5/23, 10:00 - A: plan.xlsx (file attached)",
            "1/5/23, 10:00 - A: https://mp.weixin.qq.com/s/abc",
            "1/5/23, 10:00 - A: 链接 https://pan.baidu.com/s/1x 提取码 abcd",
            "1/5/23, 10:00 - A: https://www.aliyundrive.com/s/x",
            "1/5/23, 10:00 - A: see https://example.com/page",
            "1/5/23, 10:00 - A: smile :)",
        ]
    )
    got = [(m.content_kind, m.data.get("media")) for m in msgs(write(tmp_path, "c.txt", text))]
    C = ContentKind
    assert got == [
        (C.OTHER, "omitted"),
        (C.OTHER, "omitted"),
        (C.OTHER, "omitted"),
        (C.PICTURE, "attached"),
        (C.VIDEO, "attached"),
        (C.VOICE, "attached"),
        (C.STICKER, "attached"),
        (C.FILE, "attached"),
        (C.ARTICLE_LINK, None),
        (C.NETDISK_LINK, None),
        (C.NETDISK_LINK, None),
        (C.H5_LINK, None),
        (C.TEXT, None),
    ]


def test_whatsapp_zip_member_by_member(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat - Family.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("00000012-PHOTO-2023-05-01.jpg", b"\xff\xd8 not really")
        zf.writestr("_chat.txt", "[1/5/23, 10:00:00] Mum: dinner?\n[1/5/23, 10:01:00] Dad: yes\n")
    assert detect(path) == "whatsapp"
    got = msgs(path)
    assert [m.user_id for m in got] == ["Mum", "Dad"]
    assert got[0].chat_id == "Family"


# -- malformed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("31/02/2022, 10:00 - A: no such day\n", 0, "impossible date"),
        ("hello there\n1/5/23, 10:00 - A: hi\n", 0, "before the first message"),
        ("1/5/23, 10:00 - A: hi\n1/5/23, 25:61 - A: bad clock\n", 1, "impossible time"),
    ],
)
def test_malformed_whatsapp_names_file_and_line(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(ImportFormatError) as info:
        list(read(path))
    assert info.value.file == "bad.txt" and info.value.line == line
    assert reason in str(info.value) and f"line {line + 1}" in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n", b"just some prose\nwith no chat\n", b'{"foo": 1}', b"PK\x03\x04broken zip"],
)
def test_unknown_or_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(content)
    with pytest.raises(ImportFormatError):
        list(read(path))


def test_truncated_json_names_the_byte_offset(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "result.json",
        '{"name": "g", "id": 1, "messages": [{"id": 1, "type": "message", '
        '"date_unixtime": "1700000000", "from": "A", "text": "hi"}, {"id": 2, "ty',
    )
    with pytest.raises(ImportFormatError) as info:
        list(read(path))
    assert info.value.offset is not None and "result.json" in str(info.value)


# -- IRC layouts ------------------------------------------------------------------------------


def test_irssi(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "--- Log opened Mon Nov 15 23:50:00 2004",
            "23:50 -!- ann [~a@host] has joined #ubuntu",
            "23:51 <@ann> hello",
            "23:59  * bob waves",
            "--- Day changed Tue Nov 16 2004",
            "00:01 < bob> morning",
            "00:02 -!- carl was kicked from #ubuntu by ann [spam]",
            "00:03 -!- bob [~b@host] has quit [Quit: bye]",
        ]
    )
    path = write(tmp_path, "ubuntu.log", text + "\n")
    assert detect(path) == "irc"
    events = list(read(path))
    assert [(e.kind, e.user_id, when(e)) for e in events] == [
        (JOIN, "ann", "2004-11-15 23:50:00"),
        (MSG, "ann", "2004-11-15 23:51:00"),
        (MSG, "bob", "2004-11-15 23:59:00"),
        (MSG, "bob", "2004-11-16 00:01:00"),
        (LEFT, "carl", "2004-11-16 00:02:00"),
        (LEFT, "bob", "2004-11-16 00:03:00"),
    ]
    assert events[4].data["removed_by"] == "ann"
    assert [e.message_id for e in events if e.kind == MSG] == ["2", "3", "5"]


def test_weechat(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "2020-01-01 10:00:00\t-->\tann (a@host) has joined #chan",
            "2020-01-01 10:00:05\t@ann\thi all",
            "2020-01-01 10:00:09\t *\tann dances",
            "2020-01-01 10:01:00\t--\tann is now known as anna",
            "2020-01-01 10:02:00\t<--\tbob (b@host) has quit (Ping timeout)",
        ]
    )
    path = write(tmp_path, "irc.chan.weechatlog", text + "\n")
    assert detect(path) == "irc"
    events = list(read(path))
    assert [(e.kind, e.user_id, e.text) for e in events] == [
        (JOIN, "ann", ""),
        (MSG, "ann", "hi all"),
        (MSG, "ann", "dances"),
        (LEFT, "bob", ""),
    ]


def test_ubuntu_layout_needs_a_date_in_the_name(tmp_path: Path) -> None:
    path = write(tmp_path, "log.txt", "[10:00] <ann> hi\n")
    with pytest.raises(ImportFormatError, match="YYYY-MM-DD"):
        list(read(path))
    dated = write(tmp_path, "2010-05-06.txt", "[23:59] <ann> hi\n[00:01] <bob> late\n")
    assert [when(e) for e in read(dated)] == ["2010-05-06 23:59:00", "2010-05-07 00:01:00"]


# -- WeChat CSV -------------------------------------------------------------------------------

WECHAT_HEADER = (
    "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,"
    "Remark,NickName,Sender\n"
)


def test_wechat_csv(tmp_path: Path) -> None:
    article = (
        "<msg><appmsg><title>十个社群运营技巧</title><type>5</type>"
        "<url>https://mp.weixin.qq.com/s/AbC</url></appmsg></msg>"
    )
    rows = [
        '1,7,1,0,0,1700000000,2,"大家好",2023-11-15 06:13:20,,运营群,张三',
        '2,7,1,0,1,1700000060,2,"第一行\n第二行",2023-11-15 06:14:20,,运营群,',
        f'3,7,49,5,0,1700000120,2,"{article.replace(chr(34), chr(34) * 2)}",'
        "2023-11-15 06:15:20,,运营群,李四",
        '4,7,10000,0,0,1700000180,2,"""张三""邀请""王五、赵六""加入了群聊",'
        "2023-11-15 06:16:20,,运营群,",
        '5,7,10000,0,0,1700000240,2,"""孙七""通过扫描""张三""分享的二维码加入群聊",'
        "2023-11-15 06:17:20,,运营群,",
        '6,7,3,0,0,1700000300,2,"",2023-11-15 06:18:20,,运营群,王五',
        '7,7,34,0,0,1700000360,2,"",2023-11-15 06:19:20,,运营群,王五',
        '8,7,1,0,0,1700000420,2,"网盘 https://pan.quark.cn/s/1",2023-11-15 06:20:20,,运营群,孙七',
        '9,7,10000,0,0,1700000480,2,"你将""赵六""移出了群聊",2023-11-15 06:21:20,,运营群,',
    ]
    path = write(tmp_path, "运营群.csv", "\ufeff" + WECHAT_HEADER + "\n".join(rows) + "\n")
    assert detect(path) == "wechat"
    events = list(read(path))
    got = [(e.kind, e.user_id, e.content_kind, e.message_id) for e in events]
    C = ContentKind
    assert got == [
        (MSG, "张三", C.TEXT, "1"),
        (MSG, "me", C.TEXT, "2"),
        (MSG, "李四", C.ARTICLE_LINK, "4"),
        (JOIN, "王五", C.TEXT, ""),
        (JOIN, "赵六", C.TEXT, ""),
        (JOIN, "孙七", C.TEXT, ""),
        (MSG, "王五", C.PICTURE, "7"),
        (MSG, "王五", C.VOICE, "8"),
        (MSG, "孙七", C.NETDISK_LINK, "9"),
        (LEFT, "赵六", C.TEXT, ""),
    ]
    assert events[1].text == "第一行\n第二行"
    assert events[2].text.startswith("十个社群运营技巧")
    assert [e.data.get("inviter_user_id") for e in events if e.kind == JOIN] == ["张三"] * 3
    assert events[5].data["via"] == "qr_code"
    assert events[-1].data["removed_by"] == "me"
    assert events[0].occurred_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_wechat_short_row_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "g.csv", WECHAT_HEADER + '1,7,1,0,0,1700000000,2,"ok",x,,g,A\n2,7,1\n')
    with pytest.raises(ImportFormatError) as info:
        list(read(path))
    assert info.value.line == 2


def test_columns_for_whatsapp(tmp_path: Path) -> None:
    text = "1/5/23, 10:00 - Ann added Bob\n1/5/23, 10:01 - Bob: hi\n1/5/23, 10:02 - Ann: yo\n"
    cols = read_columns(write(tmp_path, "c.txt", text))
    assert len(cols) == 3
    assert [cols.authors[a] for a in cols.author] == ["Bob", "Bob", "Ann"]
    assert list(cols.kind) == [1, 0, 0]
    assert cols.authors[cols.inviter[0]] == "Ann" and cols.inviter[1] == -1
    assert cols.message_id == ["", "1", "2"]


def test_errors_are_groupops_errors() -> None:
    assert issubclass(ImportFormatError, GroupopsError)
    assert issubclass(UnknownFormat, ImportFormatError)


def test_ios_notices_of_the_group_in_other_words(tmp_path: Path) -> None:
    text = "\r\n".join(
        [
            f"[1/5/23, 10:00:00] Runners: {LRM}Ann changed the group description",
            f"[1/5/23, 10:01:00] Runners: {LRM}Dein Sicherheitscode für Bob hat sich geändert.",
            f"[1/5/23, 10:02:00] Bob: {LRM}This message was deleted.",
            "[1/5/23, 10:03:00] Bob: real words",
        ]
    )
    got = msgs(write(tmp_path, "WhatsApp Chat - Runners.txt", text))
    assert [(m.user_id, m.data.get("deleted")) for m in got] == [("Bob", True), ("Bob", None)]


@pytest.mark.parametrize(
    ("name", "chat"),
    [
        ("WhatsApp Chat with Dmitry S.txt", "Dmitry S"),
        ("WhatsApp Chat - Family.zip", "Family"),
        ("Chat WhatsApp s\u00a0uživatelem Dmitry S.txt", "Dmitry S"),
        ("Чат WhatsApp с\u00a0контактом Dmitry S.txt", "Dmitry S"),
        ("irc-ubuntu-whatsapp.txt", "irc-ubuntu-whatsapp"),
    ],
)
def test_chat_names_from_file_names(tmp_path: Path, name: str, chat: str) -> None:
    path = tmp_path / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("_chat.txt", "1/5/23, 10:00 - A: hi\n")
    else:
        path.write_text("1/5/23, 10:00 - A: hi\n", encoding="utf-8")
    assert {e.chat_id for e in read(path)} == {chat}


def test_system_line_prefilter_changes_no_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """system_members skips a pattern when an ASCII line lacks a literal the pattern needs:
    the same answers as trying every pattern."""
    import random

    from groupops.importers import whatsapp_system as wt

    words = "joined using this the group's invite link left added removed you were was and"
    words += " X Zed hat die gruppe verlassen hinzugefügt ayrildi ayrıldı saiu salió est parti"
    words += " a ajouté 已退出 ekledi kişisini , via from community ist über beigetreten ſ K"
    pool = words.split()
    rng = random.Random(0)
    lines = []
    for _ in range(20_000):
        line = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 7)))
        lines.append(line.upper() if rng.random() < 0.3 else line)
    fast = [wt.system_members(line) for line in lines]
    assert sum(1 for f in fast if f) > 1000
    monkeypatch.setattr(wt, "_SYSTEM_NEEDS", [None] * len(wt._SYSTEM))
    assert [wt.system_members(line) for line in lines] == fast


def test_clean_name_folds_every_space_like_the_regex() -> None:
    from groupops.importers.text import _MARKS_TABLE, _SPACES_RE, clean_name

    spaces = [chr(c) for c in range(0x3100) if chr(c).isspace()]
    for s in [" a\u00a0 b\u2007", "\u200e x \u202f y\u200f ", "\x1c\x1fz\t\n", "", "  "]:
        assert clean_name(s) == _SPACES_RE.sub(" ", s.translate(_MARKS_TABLE)).strip()
    joined = "a".join(spaces)
    assert clean_name(joined) == _SPACES_RE.sub(" ", joined).strip()


def test_link_kinds_with_and_without_a_known_host() -> None:
    from groupops.importers.text import link_kind

    assert link_kind("https://MP.weixin.qq.com/s/abc") is ContentKind.ARTICLE_LINK
    assert link_kind("https://mp.weixin.qq.com/x") is ContentKind.H5_LINK
    assert link_kind("http://zhuanlan.zhihu.com/p/1") is ContentKind.ARTICLE_LINK
    assert link_kind("https://user@PAN.BAIDU.COM:8080/s/1") is ContentKind.NETDISK_LINK
    assert link_kind("https://a.lanzoux.com/x") is ContentKind.NETDISK_LINK
    assert link_kind("https://example.com/pan.baidu.com") is ContentKind.H5_LINK  # path, no host
    assert link_kind("https://example.com/a") is ContentKind.H5_LINK
    assert link_kind("http://[::1") is ContentKind.H5_LINK
