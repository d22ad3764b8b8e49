"""Every chat export in ../shared/data, with expectations computed here independently of the
parser: by counting lines with plain regular expressions, or by reading JSON with the standard
library (the importers stream it with ijson)."""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from groupops.domain.events import ContentKind, EventKind
from groupops.importers import detect, read, read_columns
from tests.conftest import SHARED_DATA

MSG, JOIN, LEFT = EventKind.MESSAGE, EventKind.MEMBER_JOINED, EventKind.MEMBER_LEFT


# every glob these tests read: test_every_pattern_matches checks each finds files, so a renamed
# folder fails instead of leaving the tests parametrized over it with nothing to run on
PATTERNS = (
    "whatsapp/**/*.txt",
    "whatsapp/**/*.zip",
    "whatsapp/android/*Group*",
    "whatsapp/android/*Group Chat XXX*",
    "whatsapp/android/*Dmitry S*.txt",
    "whatsapp/languages/*_ios.txt",
    "whatsapp/languages/arabic*_ios.txt",
    "whatsapp/languages/*_android.txt",
    "whatsapp/chat-miner/*.txt",
    "telegram/*.json",
    "discord/*.json",
    "irc-ubuntu/dev/*.raw.txt",
    "irc-ubuntu/train/*.raw.txt",
)


def files(pattern: str) -> list[Path]:
    assert pattern in PATTERNS, f"add {pattern!r} to PATTERNS so its guard test checks it"
    return sorted(SHARED_DATA.glob(pattern)) if SHARED_DATA.is_dir() else []


def each(paths: list[Path], what: str) -> list[Path]:
    """``paths`` to parametrize a test over; when there are none, one path that does not exist
    and names ``what``: the test then skips naming ../shared/data when the folder is missing
    (fails under CI, through the fixture) and fails otherwise, where pytest would quietly
    report "got empty parameter set"."""
    return paths or [SHARED_DATA / f"(nothing matches {what.replace('/', ' ')})"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_pattern_matches(pattern: str, shared_data: Path) -> None:
    """A missing ../shared/data skips (fails under CI) through the fixture; a glob that no
    longer matches anything fails here, where the parametrized tests would silently vanish."""
    assert files(pattern), f"nothing in {shared_data} matches {pattern!r}"


def kinds(path: Path) -> Counter[EventKind]:
    return Counter(e.kind for e in read(path))


# -- WhatsApp ---------------------------------------------------------------------------------

MARKS = "\u200e\u200f\u202a\u202c"
HEADER = re.compile(
    r"^[" + MARKS + r"]*(?:\[[^\]\n]{6,40}\] |[\d./\-]{6,10},? [\d:.]{4,8}(?: [ap]\. m\.)? - )"
)
NOTICE_WORDS = ("WhatsApp", "واتساب", "security code")


def wa_expected(path: Path) -> tuple[int, set[str]]:
    """(messages, authors) by line counting: a header line whose rest has "name: ", minus the
    notices iOS writes as messages of the chat (they name WhatsApp or the security code)."""
    text = path.read_text(encoding="utf-8-sig")
    n, authors = 0, set()
    for line in text.splitlines():
        m = HEADER.match(line)
        if not m:
            continue
        rest = line[m.end() :]
        if ": " not in rest and not rest.endswith(":") and ":." not in rest:
            continue  # an Android system line: no author
        if any(w in rest for w in NOTICE_WORDS):
            continue
        author = rest.split(":", 1)[0]
        if '"' in author:
            continue
        n += 1
        authors.add(re.sub(r"[\s" + MARKS + "]+", " ", author).strip())
    return n, authors


WA_TXT = files("whatsapp/**/*.txt")


@pytest.mark.parametrize("path", each(WA_TXT, "whatsapp/**/*.txt"), ids=lambda p: p.name)
def test_whatsapp_message_counts_and_authors(path: Path, shared_data: Path) -> None:
    assert detect(path) == "whatsapp"
    events = list(read(path))
    messages = [e for e in events if e.kind == MSG]
    n, authors = wa_expected(path)
    assert len(messages) == n
    got = {e.user_name for e in messages}
    assert {re.sub(r"[^\w]", "", a) for a in got} == {re.sub(r"[^\w]", "", a) for a in authors}
    # ids are the 0-based line numbers of each message's first line
    lines = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n")
    for e in messages:
        assert HEADER.match(lines[int(e.message_id)]), (e.message_id, lines[int(e.message_id)])
    assert all(e.occurred_at.tzinfo is not None for e in events)
    assert len({e.event_id for e in events}) == len(events)


def test_whatsapp_zip_is_the_same_chat_as_its_text(shared_data: Path) -> None:
    z = shared_data / "whatsapp/4A_11M.zip"
    assert detect(z) == "whatsapp"
    with zipfile.ZipFile(z) as zf:
        inner = zf.read("_chat.txt").decode("utf-8-sig")
    zipped = [e for e in read(z) if e.kind == MSG]
    assert len(zipped) == sum(
        1 for ln in inner.splitlines() if re.match(r"^\S+, \S+ - [^:]+: ", ln)
    )
    assert [e.text for e in zipped][-2:] == ["im still mallory", "heh"]


def test_whatsapp_group_system_lines(shared_data: Path) -> None:
    path = next(iter(files("whatsapp/android/*Group Chat XXX*")))
    events = list(read(path))
    joins = [e for e in events if e.kind == JOIN]
    lefts = [e for e in events if e.kind == LEFT]
    # "Dmitry S added you", "+7 999 999-99-99 joined using this group's invite link"
    assert [(e.user_id, dict(e.data).get("inviter_user_id")) for e in joins] == [
        ("You", "Dmitry S"),
        ("+79999999999", None),
    ]
    assert joins[1].data["via"] == "invite_link"
    # "Dmitry S removed +7 999 999-99-99"
    assert [(e.user_id, e.data["removed_by"]) for e in lefts] == [("+79999999999", "Dmitry S")]
    deleted = [e for e in events if e.data.get("deleted")]
    assert [e.text for e in deleted] == ["This message was deleted"]


IOS = [p for p in files("whatsapp/languages/*_ios.txt") if "arabic" not in p.name]


def _ios_expected_kinds(path: Path) -> list[ContentKind]:
    """english_ios.txt's content kinds by its English placeholders."""
    out = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        rest = line.split("] ", 1)[1]
        if any(w in rest for w in NOTICE_WORDS):
            continue
        for phrase, kind in (
            ("image omitted", ContentKind.PICTURE),
            ("GIF omitted", ContentKind.PICTURE),
            ("video omitted", ContentKind.VIDEO),
            ("audio omitted", ContentKind.VOICE),
            ("sticker omitted", ContentKind.STICKER),
            ("document omitted", ContentKind.FILE),
            ("Contact card omitted", ContentKind.OTHER),
            ("deleted this message", ContentKind.OTHER),
            ("message was deleted", ContentKind.OTHER),
            ("https://", ContentKind.H5_LINK),
        ):
            if phrase in rest:
                out.append(kind)
                break
        else:
            out.append(ContentKind.TEXT)
    return out


@pytest.mark.parametrize(
    "path",
    each(IOS + files("whatsapp/languages/arabic*_ios.txt"), "whatsapp iOS exports"),
    ids=lambda p: p.name,
)
def test_whatsapp_ios_placeholders_in_every_locale(path: Path, shared_data: Path) -> None:
    """The iOS exports are the same chat in 15 locales: every locale's placeholders must give
    the content kinds the English one names."""
    expected = _ios_expected_kinds(shared_data / "whatsapp/languages/english_ios.txt")
    got = [e.content_kind for e in read(path) if e.kind == MSG]
    assert got == expected
    # and the same moments: 27 March 2022, 21:41:35 for the first message
    first = next(e for e in read(path) if e.kind == MSG)
    assert (first.occurred_at.month, first.occurred_at.day) == (3, 27)


ANDROID = files("whatsapp/languages/*_android.txt") + files("whatsapp/android/*Dmitry S*.txt")


@pytest.mark.parametrize("path", each(ANDROID, "whatsapp Android exports"), ids=lambda p: p.name)
def test_whatsapp_android_media_and_dates(path: Path, shared_data: Path) -> None:
    text = path.read_text(encoding="utf-8")
    msgs = [e for e in read(path) if e.kind == MSG]
    omitted = len(re.findall(r"(?m) - [^:\n]+: <[^<>\n]+>$", text))
    assert sum(1 for e in msgs if e.data.get("media") == "omitted") == omitted
    attached = len(re.findall(r"(?m)\.\w{2,4} \([^()\n]+\)$", text))
    assert sum(1 for e in msgs if e.data.get("media") == "attached") == attached
    # 18/03/2022 and 18.03.22 are both the 18th of March; "23/03" proves day-first
    assert (msgs[0].occurred_at.year, msgs[0].occurred_at.month, msgs[0].occurred_at.day) == (
        2022,
        3,
        18,
    )


def test_whatsapp_chat_miner_layouts_agree(shared_data: Path) -> None:
    """Five date layouts of one chat (m/d, d/m, y/m/d, 12-hour "a. m.", bracketed): the same
    moments, authors and texts."""
    seqs = {
        p.name: [(e.occurred_at, e.user_id, e.text) for e in read(p) if e.kind == MSG]
        for p in files("whatsapp/chat-miner/*.txt")
    }
    assert len(seqs) == 5
    first = next(iter(seqs.values()))
    assert all(s == first for s in seqs.values())
    assert first[0][0].isoformat() == "2019-01-01T11:25:00+00:00"
    assert first[2][2] == "Lorem ipsum dolor sit amet,\nconsectetur adipiscing elit. Duis libero."
    assert [t for _, a, t in first if a == "John Doe"][1] == "."  # "John Doe:." (no space)


# -- Telegram ---------------------------------------------------------------------------------


def _tg_messages(raw: dict[str, Any]) -> list[dict[str, Any]]:
    if "chats" in raw:
        return [m for c in raw["chats"]["list"] for m in c["messages"]]
    return list(raw["messages"])


@pytest.mark.parametrize(
    "path", each(files("telegram/*.json"), "telegram/*.json"), ids=lambda p: p.name
)
def test_telegram(path: Path, shared_data: Path) -> None:
    assert detect(path) == "telegram"
    raw = json.loads(path.read_text(encoding="utf-8"))
    expected = [m for m in _tg_messages(raw) if m["type"] == "message"]
    got = [e for e in read(path) if e.kind == MSG]
    assert len(got) == len(expected)
    assert {e.user_name for e in got} == {m["from"] for m in expected}
    photos = sum(1 for m in expected if "photo" in m)
    assert sum(1 for e in got if e.content_kind == ContentKind.PICTURE) == photos
    m = re.match(r"\w+_(\d+)A_(\d+)M", path.stem)
    if m and "BIG" in path.stem:  # the corpus names its authors and messages
        assert len({e.user_id for e in got}) == int(m.group(1))
        assert len(got) == int(m.group(2))


def test_telegram_service_joins(tmp_path: Path) -> None:
    export = {
        "name": "Course group",
        "type": "private_supergroup",
        "id": 42,
        "messages": [
            {
                "id": 1,
                "type": "message",
                "date": "2024-01-01T10:00:00",
                "date_unixtime": "1704103200",
                "from": "Ann",
                "from_id": "user1",
                "text": "hi",
            },
            {
                "id": 2,
                "type": "service",
                "date_unixtime": "1704103300",
                "actor": "Ann",
                "actor_id": "user1",
                "action": "invite_members",
                "members": ["Bob", "Cy"],
                "text": "",
            },
            {
                "id": 3,
                "type": "service",
                "date_unixtime": "1704103400",
                "actor": "Dee",
                "actor_id": "user4",
                "action": "join_group_by_link",
                "inviter": "Ann",
                "text": "",
            },
            {
                "id": 4,
                "type": "message",
                "date_unixtime": "1704103500",
                "from": "Bob",
                "from_id": "user2",
                "text": [{"type": "link", "text": "https://pan.baidu.com/s/1"}],
                "reply_to_message_id": 1,
                "reactions": [{"type": "emoji", "count": 3}],
            },
            {
                "id": 5,
                "type": "service",
                "date_unixtime": "1704103600",
                "actor": "Ann",
                "actor_id": "user1",
                "action": "remove_members",
                "members": ["Cy"],
                "text": "",
            },
        ],
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    events = list(read(path))
    joins = [
        (e.user_id, e.data.get("inviter_user_id"), e.data.get("via"))
        for e in events
        if e.kind == JOIN
    ]
    # Bob's id is learnt from his message, though the join names him only
    assert joins == [
        ("user2", "user1", None),
        ("Cy", "user1", None),
        ("user4", "user1", "invite_link"),
    ]
    bob = next(e for e in events if e.kind == MSG and e.user_id == "user2")
    assert bob.reply_to_message_id == "1" and bob.data["reactions"] == 3
    assert bob.content_kind == ContentKind.NETDISK_LINK
    left = next(e for e in events if e.kind == LEFT)
    assert (left.user_id, left.data["removed_by"]) == ("Cy", "user1")
    assert all(e.chat_id == "42" for e in events)


# -- Discord, Slack -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", each(files("discord/*.json"), "discord/*.json"), ids=lambda p: p.name
)
def test_discord(path: Path, shared_data: Path) -> None:
    assert detect(path) == "discord"
    raw = json.loads(path.read_text(encoding="utf-8"))
    expected = [m for m in raw["messages"] if m["type"] in ("Default", "Reply")]
    got = [e for e in read(path) if e.kind == MSG]
    assert [e.message_id for e in got] == [m["id"] for m in expected]
    assert [e.data["reactions"] for e in got] == [
        sum(r["count"] for r in m.get("reactions", [])) for m in expected
    ]
    replies = [m["reference"]["messageId"] for m in expected if m.get("reference")]
    assert [e.reply_to_message_id for e in got if e.reply_to_message_id] == replies
    stickers = sum(1 for m in expected if m.get("stickers"))
    assert sum(1 for e in got if e.content_kind == ContentKind.STICKER) == stickers


def test_slack(shared_data: Path) -> None:
    path = shared_data / "slack/testarchive.zip"
    assert detect(path) == "slack"
    expected: Counter[str] = Counter()
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if re.match(r"^[^/]+/\d{4}-\d{2}-\d{2}\.json$", name):
                for m in json.loads(zf.read(name)):
                    expected[m.get("subtype") or "plain"] += 1
    got = kinds(path)
    assert got[JOIN] == expected["channel_join"]
    assert got[MSG] == sum(
        expected[k] for k in ("plain", "bot_message", "file_share", "file_comment")
    )
    events = list(read(path))
    assert {e.chat_id for e in events} == {"C0JGLMMNX", "C0JL6CGQ2"}
    inviters = {e.data.get("inviter_user_id") for e in events if e.kind == JOIN}
    assert "U0BMQB6JE" in inviters
    files_posted = expected["file_share"] + expected["file_comment"]
    assert sum(1 for e in events if e.content_kind == ContentKind.FILE) == files_posted


# -- IRC ----------------------------------------------------------------------------------------

IRC_MSG = re.compile(r"^\[\d\d:\d\d\] (?:<[^>]+>|  ?\* \S+)")


def irc_expected(path: Path) -> Counter[str]:
    c: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").split("\n"):
        if IRC_MSG.match(line):
            c["msg"] += 1
        elif line.startswith("=== "):
            if re.search(r"\] +has joined ", line):
                c["join"] += 1
            elif re.search(r"\] +has (left|quit)", line):
                c["left"] += 1
            elif not re.match(r"^=== (.+? is now known as |mode/)", line) and line.count(" ") > 1:
                c["msg"] += 1  # the old "=== nick does something"
    return c


@pytest.mark.parametrize(
    "path",
    each(files("irc-ubuntu/dev/*.raw.txt"), "irc-ubuntu/dev/*.raw.txt"),
    ids=lambda p: p.name,
)
def test_irc_ubuntu_dev(path: Path, shared_data: Path) -> None:
    assert detect(path) == "irc"
    expected = irc_expected(path)
    got = kinds(path)
    assert (got[MSG], got[JOIN], got[LEFT]) == (expected["msg"], expected["join"], expected["left"])
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    day = path.name[:10]
    for e in read(path):
        if e.kind == MSG:
            assert e.user_id in lines[int(e.message_id)]
        assert e.occurred_at.date().isoformat() >= day


def test_irc_ubuntu_train_all(shared_data: Path) -> None:
    paths = files("irc-ubuntu/train/*.raw.txt")
    assert len(paths) > 100
    total: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    for p in paths:
        total.update(kinds(p))
        expected.update(irc_expected(p))
    assert total[MSG] == expected["msg"] and total[JOIN] == expected["join"]


def test_columns_match_events(shared_data: Path) -> None:
    for path in [
        shared_data / "whatsapp/languages/english_ios_media.txt",
        shared_data / "telegram/DM_2A_7M.json",
        next(iter(files("whatsapp/android/*Group*"))),
    ]:
        cols = read_columns(path)
        events = list(read(path))
        assert len(cols) == len(events)
        assert [int(t) for t in cols.time] == [int(e.occurred_at.timestamp()) for e in events]
        assert [cols.authors[a] for a in cols.author] == [e.user_id for e in events]
        assert cols.text == [e.text for e in events]


def test_trusted_events_equal_validated_ones(shared_data: Path) -> None:
    """The line formats build Events without re-validating (speed): each must equal the Event
    the validating constructor builds from the same fields."""
    from dataclasses import fields

    from groupops.domain.events import Event

    paths = WA_TXT + files("irc-ubuntu/dev/*.raw.txt")[:3] + [shared_data / "whatsapp/4A_11M.zip"]
    n = 0
    for path in paths:
        for e in read(path):
            values = {f.name: getattr(e, f.name) for f in fields(Event)}
            values["data"] = dict(e.data)
            assert Event(**values) == e
            n += 1
    assert n > 3000


@pytest.mark.parametrize(
    "path",
    each(files("whatsapp/**/*.txt") + files("whatsapp/**/*.zip"), "whatsapp/**/*.txt|zip"),
    ids=lambda p: p.name,
)
def test_whatsapp_event_columns_hold_what_read_gives(path: Path, shared_data: Path) -> None:
    """The analytics' fast path (no Event objects) carries every field the analytics read."""
    from groupops.importers import read_event_columns

    evs = list(read(path))
    cols = read_event_columns(path)
    assert cols is not None and len(cols) == len(evs)
    assert cols.messages == sum(e.kind is MSG for e in evs)
    assert cols.epoch == [int(e.occurred_at.timestamp()) for e in evs]
    assert cols.kind == [e.kind for e in evs]
    assert cols.user_id == [e.user_id for e in evs]
    assert cols.user_name == [e.user_name for e in evs]
    assert cols.message_id == [e.message_id for e in evs]
    assert cols.text == [e.text for e in evs]
    assert cols.content == [e.content_kind for e in evs]
    extra = {
        i: {k: v for k, v in e.data.items() if k not in ("file", "line")} for i, e in enumerate(evs)
    }
    assert cols.data == {i: d for i, d in extra.items() if d}
    assert all(not e.reply_to_message_id for e in evs)


def test_only_whatsapp_has_event_columns(shared_data: Path) -> None:
    from groupops.importers import read_event_columns

    assert read_event_columns(shared_data / "telegram" / "DM_2A_7M.json") is None


def test_slack_bot_posts_are_flagged_named_and_have_their_text(shared_data: Path) -> None:
    """The export's 94 GitHub integration posts (``bot_message``, empty ``text``, the commit in
    the attachments): messages by the bot, flagged, named as the bot_add notice names it."""
    events = [e for e in read(shared_data / "slack/testarchive.zip") if e.kind == MSG]
    bots = [e for e in events if e.data.get("bot")]
    assert len(bots) == 94
    assert {e.user_id for e in bots} == {"B0JL6RASU", "B0JL6UFSL", "B0VJZKVHC"}
    assert {e.user_name for e in bots} == {"github"}
    assert all(e.data["bot_id"] == e.user_id for e in bots)
    assert all(e.text for e in bots)  # the attachments' fallback, e.g. "[enrique:master] ..."
    assert any("new commit" in e.text for e in bots)
    assert not any(e.data.get("bot") for e in events if e.user_id.startswith("U"))


def test_slack_bot_named_by_username_or_bot_user(tmp_path: Path) -> None:
    root = tmp_path / "export"
    (root / "general").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
    users = [
        {"id": "U1", "name": "ann", "real_name": "Ann"},
        {"id": "U2", "name": "ci", "is_bot": True, "profile": {"bot_id": "B2", "real_name": "CI"}},
    ]
    (root / "users.json").write_text(json.dumps(users))
    day = [
        {"type": "message", "user": "U1", "text": "hi", "ts": "1700000000.000100"},
        {"type": "message", "subtype": "bot_message", "bot_id": "B1", "username": "Travis",
         "text": "", "attachments": [{"pretext": "Build", "text": "passed"}],
         "ts": "1700000001.000100"},
        {"type": "message", "subtype": "bot_message", "bot_id": "B2", "text": "deployed",
         "ts": "1700000002.000100"},
    ]  # fmt: skip
    (root / "general" / "2023-11-14.json").write_text(json.dumps(day))
    got = [(e.user_id, e.user_name, e.text, bool(e.data.get("bot"))) for e in read(root)]
    assert got == [
        ("U1", "Ann", "hi", False),
        ("B1", "Travis", "Build\npassed", True),
        ("B2", "CI", "deployed", True),
    ]


def test_slack_markup_becomes_the_text_people_read(tmp_path: Path) -> None:
    """Mentions become names (the reply links read them), channel links and links their
    labels, and Slack's escaped characters themselves."""
    root = tmp_path / "export"
    (root / "general").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
    users = [{"id": "U1", "name": "ann", "real_name": "Ann"}, {"id": "U2", "name": "bo"}]
    (root / "users.json").write_text(json.dumps(users))
    texts = [
        "<@U2>: see <https://example.com/a|the docs> and <https://example.com/b>",
        "<!here> in <#C1|general>: 1 &lt; 2 &amp;&amp; 3 &gt; 2 <@U9|zed>",
        "plain, nothing to change",
    ]
    day = [
        {"type": "message", "user": "U1", "text": t, "ts": f"17000000{i:02d}.000100"}
        for i, t in enumerate(texts)
    ]
    (root / "general" / "2023-11-14.json").write_text(json.dumps(day))
    got = [e.text for e in read(root)]
    assert got == [
        "@bo: see the docs (https://example.com/a) and https://example.com/b",
        "@here in #general: 1 < 2 && 3 > 2 @zed",
        "plain, nothing to change",
    ]
