"""moderation's contact-bait detector on a broad table of Chinese and English messages: what it
must catch (an id right after "加v", in any spacing or punctuation) and what it must leave
alone (plain speech that merely contains a bait's characters)."""

from __future__ import annotations

import pytest

from groupops.features.moderation.detectors import Text, detect_contacts


@pytest.mark.parametrize(
    ("text", "evidence"),
    [
        # an id after 加v, however it is separated (QA: the first five were missed)
        ("加v abc", "加v"),
        ("需要的加v abc", "加v"),
        ("加V abc123", "加v"),
        ("加v wxid_abc123", "加v"),
        ("加v，abc", "加v"),
        ("加V：abc123", "加v"),
        ("加v吧", "加v"),
        ("有事加v: abc", "加v"),
        ("加 V  abc123", "加v"),
        ("加v-abc123", "加v"),
        ("加v.abc123", "加v"),
        ("加Ｖ　ａｂｃ１２３", "加v"),
        ("加vx abc123", "加vx"),
        ("加 v x：abc", "加vx"),
        ("加我v abc", "加我v"),
        ("加qq 12345678", "加qq"),
        ("加我qq abc", "加我qq"),
        ("加wx abc", "加wx"),
        # 加微, 私我, 加我好友
        ("加微 abc123", "加微"),
        ("加微:abc123", "加微"),
        ("加微13469832292", "加微"),
        ("需要的加微，谢谢", "加微"),
        ("有需要加微吧", "加微"),
        ("想要的私我", "私我"),
        ("有需要私 我", "私我"),
        ("赚钱私我", "私我"),
        ("加我好友", "加我好友"),
        ("想看的加 我 好-友", "加我好友"),
        # spaced out as before
        ("加 我 微-信", "加我微信"),
        ("加我微信了解详情", "加我微信"),
    ],
)
def test_contact_bait_with_an_id(text: str, evidence: str) -> None:
    found = detect_contacts(Text.of(text))
    assert found is not None and (found.rule, found.evidence) == ("contact", evidence)


@pytest.mark.parametrize(
    "text",
    [
        "加vip群的条件是什么",
        "加 vip 群",
        "我们去参加v领域会议",
        "增加vue组件",
        "再加微调就好了",
        "要不要加微博的链接",
        "后面加微服务",
        "参加微课",
        "更加微妙",
        "他很自私我不喜欢",
        "保护隐私我觉得很重要",
        "走私我们不碰",
        "他私我了",
        "参加我好友的婚礼",
    ],
)
def test_not_a_contact_bait(text: str) -> None:
    assert detect_contacts(Text.of(text)) is None
