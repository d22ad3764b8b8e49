"""The library of known ads (已知广告库): an advertiser blacklisted for an ad comes back with a
second account and posts the very same text (in other spacing, width or case): removed, and the
new account gets blacklist_action at once. Asserted through the outbox, the sandbox and the
stored library, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from groupops.domain.actions import ActionKind
from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.features.moderation import blacklist_entries, moderation_log, undo_decision
from groupops.features.moderation.detectors import Text, fingerprint
from groupops.features.moderation.tables import moderation_known_ads
from tests.features.test_moderation import Community, new_community

#: an ad the contact detector finds (a warning at a first offence)
AD = "加我微信 abc123 每天领红包福利多多"
#: the same ad from the second account: other spacing, full-width letters and digits, a
#: full-width comma, upper case
AD_AGAIN = "加我 微信  ＡＢＣ１２３，每天领红包 福利多多"
#: an ad no detector finds in one group: only its copies across groups gave it away
COPIED = "特价课程限时五折快来抢购名额有限"


@pytest.fixture
def community(make_app: Callable[..., App]) -> Iterator[Community]:
    yield new_community(make_app)


def library(c: Community) -> list[Any]:
    with c.app.db.connect() as conn:
        return list(conn.execute(select(moderation_known_ads)).all())


def kicked_for_ad(c: Community, *, text: str = AD, chat: str = "g1") -> Any:
    """The first account ``spam1`` is kicked (ladder ["warn", "kick"]: the second ad) and
    blacklisted; returns the kick's decision."""
    c.settle(chat, "spam1", "Spam One")
    c.post(chat, "spam1", text)
    c.post(chat, "spam1", text)
    c.deliver()
    assert c.member(chat, "spam1")["status"] == "kicked"
    kick = c.decisions()[-1]
    assert (kick.rule, kick.step) == ("contact", "kick")
    return kick


def test_the_same_ad_from_a_second_account_is_removed_and_kicked_at_once(
    community: Community,
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kick = kicked_for_ad(c)
    [known] = library(c)
    assert known.fingerprint == fingerprint(Text.of(AD)) == fingerprint(Text.of(AD_AGAIN))
    assert known.decision_id == kick.id
    assert known.expires_at == kick.created_at + timedelta(days=30)

    c.clock.advance(timedelta(days=3))
    c.settle("g2", "spam2", "Spam Two")  # a new account, in another group, days later
    posted = c.post("g2", "spam2", AD_AGAIN)
    c.deliver()
    decision = c.decisions()[-1]
    assert (decision.rule, decision.step, decision.counted) == ("known_ad", "kick", True)
    assert decision.message_id == posted.message_id
    kinds = [a["kind"] for a in c.actions(chat="g2")]
    assert kinds[:2] == ["delete", "kick"]
    assert c.member("g2", "spam2")["status"] == "kicked"
    assert {e["rule"] for e in blacklist_entries(c.app.db)} == {"contact", "known_ad"}
    [row] = [e for e in moderation_log(c.app.db) if e["rule"] == "known_ad"]
    assert row["evidence_values"]["decision"] == kick.id
    assert (
        row["evidence"] == f"a known ad (decision #{kick.id}): 加我 微信 abc123,每天领红包 福利多多"
    )
    assert any("known ad" in t for t in c.bot_texts("g2"))
    # still owned by the first kick, and kept from the second sighting on
    [known] = library(c)
    assert known.decision_id == kick.id
    assert known.expires_at == decision.created_at + timedelta(days=30)


def test_an_ad_known_only_from_its_copies_is_known_in_one_group(community: Community) -> None:
    """No detector finds COPIED in one group: without the library a second account posting it
    once is not even warned."""
    c = community
    c.configure(ladder=["kick"])
    for chat in ("g1", "g2", "g3"):
        c.settle(chat, "spam1")
    for chat in ("g1", "g2", "g3"):
        c.post(chat, "spam1", COPIED)
    assert (c.decisions()[0].rule, c.decisions()[0].step) == ("cross_group", "kick")
    assert len(library(c)) == 1
    c.clock.advance(timedelta(hours=2))  # past the cross-group window
    c.settle("g3", "spam2")
    c.post("g3", "spam2", COPIED.upper())
    c.deliver()
    assert (c.decisions()[-1].rule, c.decisions()[-1].step) == ("known_ad", "kick")
    assert c.member("g3", "spam2")["status"] == "kicked"


def test_the_blacklist_action_ban_bans_the_second_account(community: Community) -> None:
    c = community
    c.configure(ladder=["warn", "kick"], blacklist_action="ban")
    kicked_for_ad(c)
    c.settle("g1", "spam2")
    c.post("g1", "spam2", AD_AGAIN)
    c.deliver()
    assert c.decisions()[-1].step == "ban"
    assert c.member("g1", "spam2")["status"] == "banned"


def test_normal_and_short_messages_are_unaffected(community: Community) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kicked_for_ad(c)
    c.settle("g2", "u1")
    before = len(c.decisions())
    c.post("g2", "u1", "今天的作业我已经完成了，大家一起加油吧")
    c.post("g2", "u1", "签到")
    assert len(c.decisions()) == before
    assert c.member("g2", "u1")["status"] != "kicked"

    # an ad shorter than cross_group_min_chars is not kept: another member's same short text
    # gets the ladder's first step, a warning
    c.settle("g3", "spam3")
    c.post("g3", "spam3", "加v abc")
    c.post("g3", "spam3", "加v abc")
    assert c.decisions()[-1].step == "kick"
    assert len(library(c)) == 1
    c.settle("g3", "spam4")
    c.post("g3", "spam4", "加v abc")
    assert (c.decisions()[-1].rule, c.decisions()[-1].step) == ("contact", "warn")


def test_an_admins_message_is_never_checked(community: Community) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kicked_for_ad(c)
    c.join("g2", "boss", "Boss", admin=True)
    before = len(c.decisions())
    c.post("g2", "boss", AD_AGAIN)  # quoting the ad to warn members
    assert len(c.decisions()) == before
    assert c.actions(ActionKind.KICK, chat="g2") == []


def test_the_library_expires(community: Community) -> None:
    c = community
    c.configure(ladder=["warn", "kick"], known_ads_days=2)
    kicked_for_ad(c)
    assert len(library(c)) == 1
    c.clock.advance(timedelta(days=1))
    c.app.engine.tick()
    assert len(library(c)) == 1  # one day of two: kept
    c.clock.advance(timedelta(days=1, minutes=1))
    c.settle("g2", "spam2")  # past its time: not known even before the tick drops it
    c.post("g2", "spam2", AD_AGAIN)
    assert (c.decisions()[-1].rule, c.decisions()[-1].step) == ("contact", "warn")
    c.app.engine.tick()
    assert library(c) == []


def test_known_ads_days_zero_keeps_nothing(community: Community) -> None:
    c = community
    c.configure(ladder=["warn", "kick"], known_ads_days=0)
    kicked_for_ad(c)
    assert library(c) == []


def test_undo_of_the_kick_drops_the_fingerprint(community: Community) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kick = kicked_for_ad(c)
    result = undo_decision(c.app.db, kick.id, by="alice", now=c.clock.now())
    assert result["known_ads_removed"] == 1 and result["blacklist_removed"]
    assert library(c) == []
    c.settle("g2", "spam2")
    c.post("g2", "spam2", AD_AGAIN)
    assert (c.decisions()[-1].rule, c.decisions()[-1].step) == ("contact", "warn")


def test_undo_of_a_known_ad_lifts_it_and_drops_the_fingerprint(community: Community) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kick = kicked_for_ad(c)
    c.settle("g2", "spam2")
    c.post("g2", "spam2", AD_AGAIN)
    c.deliver()
    known = c.decisions()[-1]
    assert known.rule == "known_ad"
    result = undo_decision(c.app.db, known.id, by="alice", now=c.clock.now())
    assert result["known_ads_removed"] == 1
    assert [a["kind"] for a in result["actions"]] == ["unban"]
    assert library(c) == []
    # the first account stays kicked and listed; the second is off the list
    assert [e["decision_id"] for e in blacklist_entries(c.app.db)] == [kick.id]
    c.deliver()
    assert c.member("g2", "spam2")["status"] != "kicked"


def test_one_batch_the_ad_then_the_second_account(community: Community) -> None:
    """The kick that adds the text and the second account's copy in one batch: known at once."""
    c = community
    c.configure(ladder=["kick"])
    c.settle("g1", "spam1")
    c.settle("g2", "spam2")
    app = c.app
    app.handle([app.sandbox.post("g1", "spam1", AD), app.sandbox.post("g2", "spam2", AD_AGAIN)])
    assert [(d.rule, d.step) for d in c.decisions() if d.rule != "blacklist"] == [
        ("contact", "kick"),
        ("known_ad", "kick"),
    ]


def test_a_message_edited_into_a_known_ad_is_removed_and_kicked(community: Community) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kicked_for_ad(c)
    c.settle("g2", "spam2")
    first = c.post("g2", "spam2", "大家好，我是新来的，请多关照")
    edited = Event(
        "sandbox",
        "edit-1",
        EventKind.MESSAGE_EDITED,
        c.clock.now(),
        chat_id="g2",
        user_id="spam2",
        message_id=first.message_id,
        text=AD_AGAIN,
    )
    c.app.handle([edited])
    c.deliver()
    assert (c.decisions()[-1].rule, c.decisions()[-1].step) == ("known_ad", "kick")
    assert c.actions(ActionKind.DELETE, chat="g2")[0]["message_id"] == first.message_id
    assert c.member("g2", "spam2")["status"] == "kicked"
