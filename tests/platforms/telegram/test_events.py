"""Every kind of update, as the fake Bot API serves it through getUpdates, becomes the right
event (translation only), stored by the real engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from groupops.domain.events import ContentKind
from groupops.engine.app import App
from tests.platforms.telegram.conftest import GROUP, run, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

ALICE = FakeBotApi.person(501, "Alice", "alice")
BOB = FakeBotApi.person(502, "Bob")
ADMIN = FakeBotApi.person(503, "Olga", "olga_admin")


def _collect(make_app: Callable[..., App], script: Callable[[FakeBotApi], None]) -> list[Any]:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.promote(GROUP, ADMIN)
            script(fake)
            await adapter.poll_once()
            assert await adapter.poll_once() == []  # nothing twice

    run(go())
    return stored(app)


def test_join_with_named_invite_link_and_added_by_someone(make_app: Callable[..., App]) -> None:
    link = {
        "invite_link": "https://t.me/+abc",
        "name": "poster-shanghai",
        "creator": ADMIN,
        "creates_join_request": False,
        "is_primary": False,
        "is_revoked": False,
    }

    def script(fake: FakeBotApi) -> None:
        fake.join(GROUP, ALICE, invite_link=link)
        fake.join(GROUP, BOB, by=ADMIN)
        fake.leave(GROUP, ALICE)
        fake.leave(GROUP, BOB, by=ADMIN)

    rows = _collect(make_app, script)
    assert [r.kind for r in rows] == ["member_joined"] * 2 + ["member_left"] * 2
    alice, bob, alice_left, bob_left = rows
    assert alice.user_id == "501" and alice.chat_id == str(GROUP)
    data = alice.payload["data"]
    assert data["invite_link"] == "https://t.me/+abc"
    assert data["invite_link_name"] == "poster-shanghai"
    assert data["inviter_user_id"] == "503"  # the link's creator
    assert bob.payload["data"]["inviter_user_id"] == "503"  # added by Olga
    assert bob.payload["data"].get("invite_link") is None
    assert "removed_by" not in alice_left.payload.get("data", {})
    assert bob_left.payload["data"]["removed_by"] == "503"
    assert int(alice.event_id) < int(bob.event_id)  # the update ids


def test_messages_of_every_content_kind(make_app: Callable[..., App]) -> None:
    def script(fake: FakeBotApi) -> None:
        fake.post(GROUP, ALICE, "hello")
        fake.post(
            GROUP,
            ALICE,
            caption="look",
            photo=[{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}],
        )
        fake.post(
            GROUP,
            ALICE,
            video={"file_id": "v", "file_unique_id": "v", "width": 1, "height": 1, "duration": 3},
        )
        fake.post(GROUP, ALICE, voice={"file_id": "o", "file_unique_id": "o", "duration": 2})
        fake.post(GROUP, ALICE, audio={"file_id": "a", "file_unique_id": "a", "duration": 2})
        fake.post(
            GROUP,
            ALICE,
            sticker={
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            },
        )
        fake.post(GROUP, ALICE, document={"file_id": "d", "file_unique_id": "d"})
        fake.post(GROUP, ALICE, "see https://example.com/event?id=1")
        fake.post(GROUP, ALICE, "read https://mp.weixin.qq.com/s/abc")
        fake.post(GROUP, ALICE, "files: https://pan.baidu.com/s/1xyz")
        fake.post(
            GROUP,
            ALICE,
            "click here",
            entities=[
                {"type": "text_link", "offset": 0, "length": 5, "url": "https://pan.quark.cn/s/9"}
            ],
        )
        fake.post(GROUP, ALICE, poll={"id": "1", "question": "?", "options": []})
        fake.post(GROUP, ADMIN, delete_chat_photo=True)  # a service message: not a message

    rows = _collect(make_app, script)
    kinds = [r.content_kind for r in rows]
    assert kinds == [
        ContentKind.TEXT,
        ContentKind.PICTURE,
        ContentKind.VIDEO,
        ContentKind.VOICE,
        ContentKind.VOICE,
        ContentKind.STICKER,
        ContentKind.FILE,
        ContentKind.H5_LINK,
        ContentKind.ARTICLE_LINK,
        ContentKind.NETDISK_LINK,
        ContentKind.NETDISK_LINK,
        ContentKind.OTHER,
    ]
    assert rows[0].text == "hello" and rows[0].payload["user_name"] == "Alice"
    assert rows[1].text == "look"  # a caption is the text
    assert all(r.kind == "message" for r in rows)


def test_reply_edit_reaction_and_admin(make_app: Callable[..., App]) -> None:
    def script(fake: FakeBotApi) -> None:
        first = fake.post(GROUP, ALICE, "question?")
        fake.post(GROUP, ADMIN, "answer", reply_to_message=fake.messages[(GROUP, first)])
        fake.edit(GROUP, first, "question, edited?")
        fake.react(GROUP, BOB, first, "👍")

    rows = _collect(make_app, script)
    question, answer, edited, reaction = rows
    assert answer.reply_to_message_id == question.message_id
    assert answer.payload["reply_to_user_id"] == "501"
    assert answer.payload.get("is_admin") is True  # from getChatAdministrators
    assert not question.payload.get("is_admin")
    assert edited.kind == "message_edited" and edited.text == "question, edited?"
    assert edited.message_id == question.message_id
    assert reaction.kind == "reaction" and reaction.user_id == "502"
    assert reaction.payload["data"]["emoji"] == "👍"
    assert reaction.message_id == question.message_id
    assert reaction.payload["reply_to_user_id"] == "501"  # the reacted-to message's author


def test_button_press_is_answered(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            mid = fake.post(
                GROUP,
                ALICE,
                "pick one",
                reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "gate:a"}]]},
            )
            fake.press(GROUP, BOB, mid, "gate:a")
            await adapter.poll_once()
            assert len(fake.calls("answerCallbackQuery")) == 1

    run(go())
    button = stored(app)[-1]
    assert button.kind == "button" and button.user_id == "502"
    assert button.payload["data"]["button_data"] == "gate:a"
    assert button.message_id == "1"


def test_join_request_and_bot_rights(make_app: Callable[..., App]) -> None:
    def script(fake: FakeBotApi) -> None:
        fake.request_join(
            GROUP,
            ALICE,
            invite_link={
                "invite_link": "https://t.me/+req",
                "name": "ads-wechat",
                "creator": ADMIN,
                "creates_join_request": True,
                "is_primary": False,
                "is_revoked": False,
            },
        )
        fake.bot_rights(GROUP, ADMIN, "administrator")
        fake.bot_rights(GROUP, ADMIN, "member")

    rows = _collect(make_app, script)
    request, promoted, demoted = rows
    assert request.kind == "join_request" and request.user_id == "501"
    assert request.payload["data"]["invite_link_name"] == "ads-wechat"
    assert promoted.kind == "bot_rights_changed"
    assert promoted.payload["data"]["is_admin"] is True
    assert promoted.payload["data"]["rights"]["can_restrict_members"] is True
    assert demoted.payload["data"]["is_admin"] is False
    assert demoted.payload["data"]["old_status"] == "administrator"


def test_private_start_is_tracked_not_stored(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            assert not adapter.started("501")
            fake.start_bot(ALICE)
            await adapter.poll_once()
            assert adapter.started("501")
            # the state survives: a new adapter on the same row knows it
            assert "501" in adapter.store.load()[1]["started"]

    run(go())
    assert stored(app) == []
