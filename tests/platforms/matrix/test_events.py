"""What people do in a Matrix room arrives as the right groupops events (real Synapse)."""

from __future__ import annotations

from typing import Any

from groupops.domain.events import ContentKind, EventKind
from groupops.platforms.matrix.translate import SenderCache, Translator, strip_reply_fallback
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    bot_room,
    make_adapter,
    people,
    settle,
)
from tests.platforms.matrix.synapse import Synapse


def test_joins_messages_reactions_replies_redactions(synapse: Synapse, database_url: str) -> None:
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)

    async def scenario() -> dict[str, Any]:
        got = Collected()
        adapter = make_adapter(db, bot_config(synapse, new_account(synapse, "bot")), got)
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter, "读书会")
        alice, bob, carol = await people(synapse, 3)
        await alice.join(room)
        # alice is made a moderator (power level 50): her events say is_admin
        assert adapter.client is not None
        levels = (await adapter.client.room_get_state_event(room, "m.room.power_levels")).content
        levels["users"] = {**levels.get("users", {}), alice.user_id: 50}
        put = await adapter.client.room_put_state(room, "m.room.power_levels", levels)
        assert type(put).__name__ == "RoomPutStateResponse", put
        await bob.join(room)
        ids: dict[str, str] = {}
        ids["hello"] = await bob.say(room, "大家好")
        ids["link"] = await bob.say(room, "see https://mp.weixin.qq.com/s/abc")
        ids["image"] = await bob.say(room, "cat.png", msgtype="m.image", url="mxc://x/y")
        ids["video"] = await bob.say(room, "v.mp4", msgtype="m.video", url="mxc://x/v")
        ids["voice"] = await bob.say(room, "a.ogg", msgtype="m.audio", url="mxc://x/a")
        ids["file"] = await bob.say(
            room, "the syllabus", msgtype="m.file", url="mxc://x/f", filename="s.pdf"
        )
        sticker = await bob.client.room_send(
            room, "m.sticker", {"body": "wave", "url": "mxc://x/s", "info": {}}
        )
        ids["sticker"] = sticker.event_id
        ids["reply"] = await alice.say(
            room,
            f"> <{bob.user_id}> 大家好\n\n欢迎!",
            **{"m.relates_to": {"m.in_reply_to": {"event_id": ids["hello"]}}},
        )
        reaction = await alice.client.room_send(
            room,
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": ids["hello"], "key": "👍"}},
        )
        ids["reaction"] = reaction.event_id
        await settle(adapter, 1)  # the adapter sees the link before it is redacted
        redaction = await bob.client.room_redact(room, ids["link"], reason="oops")
        ids["redaction"] = redaction.event_id
        ids["edit"] = await bob.say(
            room,
            "* 大家好呀",
            **{
                "m.new_content": {"msgtype": "m.text", "body": "大家好呀"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": ids["hello"]},
            },
        )
        # carol is invited by alice, then joins; then bob leaves and carol is kicked by the bot
        invited = await alice.client.room_invite(room, carol.user_id)
        assert type(invited).__name__ == "RoomInviteResponse", invited
        await carol.join(room)
        await bob.client.room_leave(room)
        await adapter.client.room_kick(room, carol.user_id, reason="test")
        await settle(adapter, 3)
        for p in (alice, bob, carol):
            await p.close()
        await adapter.close()
        return {
            "events": got.of(room),
            "ids": ids,
            "alice": alice.user_id,
            "bob": bob.user_id,
            "carol": carol.user_id,
            "bot": adapter.config.user_id,
        }

    r = run(scenario())
    events, ids = r["events"], r["ids"]
    by_id = {e.event_id: e for e in events}
    # every Matrix event became exactly one groupops event with the Matrix event id
    assert len(by_id) == len(events)
    assert all(e.source == f"matrix:{r['bot']}" for e in events)

    joins = [e for e in events if e.kind == EventKind.MEMBER_JOINED]
    assert [e.user_id for e in joins] == [r["alice"], r["bob"], r["carol"]]
    carol_join = joins[2]
    assert carol_join.data["inviter_user_id"] == r["alice"]
    assert carol_join.data["via"] == "invite"
    assert joins[0].data["chat_title"] == "读书会"

    hello = by_id[ids["hello"]]
    assert (hello.kind, hello.text, hello.user_id, hello.message_id) == (
        EventKind.MESSAGE,
        "大家好",
        r["bob"],
        ids["hello"],
    )
    assert hello.is_admin is False
    assert by_id[ids["link"]].content_kind == ContentKind.ARTICLE_LINK
    kinds = {k: by_id[ids[k]].content_kind for k in ("image", "video", "voice", "file", "sticker")}
    assert kinds == {
        "image": ContentKind.PICTURE,
        "video": ContentKind.VIDEO,
        "voice": ContentKind.VOICE,
        "file": ContentKind.FILE,
        "sticker": ContentKind.STICKER,
    }
    assert by_id[ids["file"]].text == "the syllabus"  # a body beside a filename is a caption
    assert by_id[ids["image"]].text == ""  # a bare file name is no text

    reply = by_id[ids["reply"]]
    assert reply.reply_to_message_id == ids["hello"]
    assert reply.reply_to_user_id == r["bob"]
    assert reply.text == "欢迎!"  # the quoted fallback is not the member's words
    assert reply.is_admin is True  # power level 50

    reaction = by_id[ids["reaction"]]
    assert reaction.kind == EventKind.REACTION
    assert (reaction.message_id, reaction.reply_to_user_id) == (ids["hello"], r["bob"])
    assert reaction.data["emoji"] == "👍"

    deleted = by_id[ids["redaction"]]
    assert deleted.kind == EventKind.MESSAGE_DELETED
    assert deleted.message_id == ids["link"]
    assert deleted.data["reason"] == "oops"

    edit = by_id[ids["edit"]]
    assert (edit.kind, edit.message_id, edit.text) == (
        EventKind.MESSAGE_EDITED,
        ids["hello"],
        "大家好呀",
    )

    left = [e for e in events if e.kind == EventKind.MEMBER_LEFT]
    assert [e.user_id for e in left] == [r["bob"], r["carol"]]
    assert "removed_by" not in left[0].data
    assert left[1].data["removed_by"] == r["bot"]
    # the bot's own doings (its join, its room creation) are not member events
    assert all(e.user_id != r["bot"] for e in events)


def test_reply_fallback_is_stripped() -> None:
    assert strip_reply_fallback("> <@a:x> hi\n> more\n\nanswer\nline 2") == "answer\nline 2"
    assert strip_reply_fallback("plain > text") == "plain > text"


class _Room:
    def title(self) -> str:
        return "Group"

    def display_name(self, user_id: str) -> str:
        return ""

    def power_level(self, user_id: str) -> int:
        return 0

    def is_creator(self, user_id: str) -> bool:
        return False


def _member(n: int, target: str, membership: str, prev: str = "") -> dict[str, Any]:
    raw: dict[str, Any] = {
        "type": "m.room.member",
        "event_id": f"$e{n}",
        "sender": "@owner:x" if membership == "invite" else target,
        "state_key": target,
        "origin_server_ts": 1_700_000_000_000 + n,
        "content": {"membership": membership},
    }
    if prev:
        raw["unsigned"] = {"prev_content": {"membership": prev}}
    return raw


def test_invitations_never_taken_up_are_not_kept_for_ever() -> None:
    """Who invited whom is kept until the invitee joins: invitations nobody takes up (a
    member inviting thousands) must not grow the bot's memory without end."""
    translator = Translator("matrix:@bot:x", "@bot:x", senders=SenderCache(size=50))
    for n in range(1000):
        translator.translate("!r:x", _member(n, f"@u{n}:x", "invite"), _Room())
    assert len(translator.inviters) == 50
    joined = translator.translate("!r:x", _member(1000, "@u999:x", "join", "invite"), _Room())
    assert joined is not None and joined.data["inviter_user_id"] == "@owner:x"
