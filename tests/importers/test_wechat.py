"""WeChat CSV in WeChatMsg's own layout: for a chatroom the last three columns are the sender's
remark, nickname and wxid, while system lines name people by display name only. One person must
stay one member whichever way the file names them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from groupops.domain.events import EventKind
from groupops.importers import read
from groupops.importers.wechat import display_name

MSG, JOIN, LEFT = EventKind.MESSAGE, EventKind.MEMBER_JOINED, EventKind.MEMBER_LEFT
HEADER = [
    "localId",
    "TalkerId",
    "Type",
    "SubType",
    "IsSender",
    "CreateTime",
    "Status",
    "StrContent",
    "StrTime",
    "Remark",
    "NickName",
    "Sender",
]
T0 = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
#: wxid -> (Remark, NickName) as WeChatMsg writes them: Remark is the operator's remark, or the
#: nickname with spaces and dots made ``_`` when there is none
PEOPLE = {
    "wxid_me": ("我", "我"),
    "wxid_ann": ("Ann", "Ann"),
    "wxid_bob": ("Bob_Lee", "Bob Lee"),  # no remark: the mangled nickname
    "wxid_cat": ("猫老师", "小猫"),  # a remark the operator set
    "wxid_dan": ("Dan", "Dan"),
}


def wechat_csv(path: Path, rows: list[tuple[int, str, str, int]]) -> Path:
    """``rows``: (minutes after T0, wxid or "" for a system line, text, Type)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i, (minutes, wxid, text, mtype) in enumerate(rows, start=1):
        when = T0 + timedelta(minutes=minutes)
        remark, nick = PEOPLE.get(wxid, ("", ""))
        writer.writerow(
            [
                i,
                "12345678@chatroom",
                mtype,
                0,
                1 if wxid == "wxid_me" else 0,
                int(when.timestamp()),
                2,
                text,
                (when + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S"),
                remark,
                nick,
                wxid,
            ]
        )
    path.write_text("\ufeff" + out.getvalue(), encoding="utf-8")
    return path


DAY = 24 * 60


def group_history(tmp_path: Path) -> Path:
    """Ann and I run the group; Ann invites Bob (and Eve, who never posts), Cat joins by Ann's
    QR code, Dan posts and is removed by me. Bob and Cat post every day after joining."""
    rows: list[tuple[int, str, str, int]] = [
        (0, "wxid_ann", "大家好", 1),
        (1, "wxid_me", "欢迎", 1),
        (2, "wxid_dan", "加我微信 低价代购", 1),
        (10, "", '"Ann"邀请"Bob Lee"加入了群聊', 10000),
        (11, "", '"小猫"通过扫描"Ann"分享的二维码加入群聊', 10000),
        (12, "", '"Ann"邀请"Eve"加入了群聊', 10000),
    ]
    for day in range(1, 21):
        rows += [
            (day * DAY, "wxid_bob", f"第{day}天 打卡", 1),
            (day * DAY + 5, "wxid_cat", "收到", 1),
            (day * DAY + 6, "wxid_cat", "谢谢", 1),
            (day * DAY + 7, "wxid_bob", "明天见", 1),
            (day * DAY + 8, "wxid_bob", "好的", 1),
        ]
        if day % 2:
            rows.append((day * DAY + 9, "wxid_ann", "今天的资料", 1))
        if day < 5:
            rows.append((day * DAY + 10, "wxid_dan", "有没有资料", 1))
    rows.append((5 * DAY, "", '你将"Dan"移出了群聊', 10000))
    rows.sort(key=lambda r: r[0])
    return wechat_csv(tmp_path / "运营群.csv", rows)


def test_notices_name_the_senders_by_their_wxid(tmp_path: Path) -> None:
    events = list(read(group_history(tmp_path)))
    members = [(e.kind, e.user_id, e.user_name) for e in events if e.kind != MSG]
    assert members == [
        (JOIN, "wxid_bob", "Bob Lee"),
        (JOIN, "wxid_cat", "猫老师"),  # the notice says 小猫, her nickname
        (JOIN, "Eve", "Eve"),  # never posts: known by name only
        (LEFT, "wxid_dan", "Dan"),
    ]
    joins = [e for e in events if e.kind == JOIN]
    assert [e.data["inviter_user_id"] for e in joins] == ["wxid_ann"] * 3
    assert [e.data["inviter_name"] for e in joins] == ["Ann"] * 3
    assert [e.data["via"] for e in joins] == ["invite", "qr_code", "invite"]
    removal = next(e for e in events if e.kind == LEFT)
    assert (removal.data["removed_by"], removal.data["removed_by_name"]) == ("wxid_me", "我")
    authors = {(e.user_id, e.user_name) for e in events if e.kind == MSG}
    assert authors == {
        ("wxid_me", "我"),
        ("wxid_ann", "Ann"),
        ("wxid_bob", "Bob Lee"),
        ("wxid_cat", "猫老师"),
        ("wxid_dan", "Dan"),
    }


def test_a_name_two_senders_share_stays_a_name(tmp_path: Path) -> None:
    PEOPLE_TWINS = {"wxid_x": ("小明", "小明"), "wxid_y": ("小明", "小明")}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i, (wxid, text, mtype) in enumerate(
        [("", '"小明"加入了群聊', 10000), ("wxid_x", "hi", 1), ("wxid_y", "hi", 1)], start=1
    ):
        remark, nick = PEOPLE_TWINS.get(wxid, ("", ""))
        writer.writerow(
            [i, "r@chatroom", mtype, 0, 0, 1709254800 + i, 2, text, "", remark, nick, wxid]
        )
    path = tmp_path / "twins.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    assert [(e.kind, e.user_id) for e in read(path)] == [
        (JOIN, "小明"),  # which of the two? the file does not say
        (MSG, "wxid_x"),
        (MSG, "wxid_y"),
    ]


@pytest.mark.parametrize(
    ("sender", "remark", "nickname", "shown"),
    [
        ("wxid_a", "张三", "张三", "张三"),  # no remark: WeChatMsg repeats the nickname
        ("wxid_a", "Bob_Lee_Jr_", "Bob Lee Jr.", "Bob Lee Jr."),  # ... mangled
        ("wxid_a", "张经理", "张三", "张经理"),  # the operator's remark
        ("wxid_a", "wxid_a", "wxid_a", "wxid_a"),  # a member who has left: the wxid only
        ("wxid_a", "", "", "wxid_a"),
    ],
)
def test_display_name(sender: str, remark: str, nickname: str, shown: str) -> None:
    assert display_name(sender, remark, nickname) == shown


def test_the_report_counts_one_member_per_person(tmp_path: Path) -> None:
    from groupops.report.pipeline import analyze_files

    metrics: dict[str, Any] = analyze_files([group_history(tmp_path)], tz="Asia/Shanghai").metrics
    # me, Ann, Bob, Cat and Eve; Dan was removed
    assert metrics["overview"]["members"] == 5
    assert metrics["overview"]["joins"] == 3
    assert metrics["overview"]["departures"] == 1
    top = [p["name"] for p in metrics["top3"]["2024-03"]]
    assert top == ["Bob Lee", "猫老师", "Ann"]
    segments = metrics["segments"]["members"]
    placed = {p["name"]: seg for seg, people in segments.items() for p in people}
    assert not any(name.startswith("wxid_") for name in placed)
    assert placed["Dan"] == "churned"  # removed: not someone to win back
    assert placed["Bob Lee"] != "silent" and placed["猫老师"] != "silent"
    # Bob and Cat post after joining, Eve never does
    assert metrics["growth"]["active_after_7d"] == pytest.approx(2 / 3, abs=0.01)
    assert {(t["inviter"], t["invitee"]) for t in metrics["growth"]["tree"]} == {
        ("Ann", "Bob Lee"),
        ("Ann", "猫老师"),
        ("Ann", "Eve"),
    }
