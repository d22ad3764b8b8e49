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
        # 添加 is 加 too when WeChat follows (but 添加v, 添加qq群 are not read as 加v, 加qq)
        ("添加微信 abc123", "添加微信"),
        ("添加 我 微-信：abc", "添加我微信"),
        ("加微信号abc", "加微信"),
        # 微信 written with a character of the same sound
        ("威信 abc123", "威信"),
        ("加威信号abc", "威信"),
        ("薇信：abc", "薇信"),
        ("徽 信 abc", "徽信"),
        ("微芯 abc123", "微芯"),
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
        "追加微信支付的说明",
        # a homophone of 微信 that is the end of one word and the start of the next
        "权威信息来源",
        "以权威信息为准",
        "示威信息",
        "安徽信用社",
        "紫薇信任他",
        "微芯片很贵",
        "稍微芯片贵点",
        # 威信 in its own sense, prestige
        "老师很有威信",
        "树立威信",
    ],
)
def test_not_a_contact_bait(text: str) -> None:
    assert detect_contacts(Text.of(text)) is None


@pytest.mark.parametrize(
    ("text", "evidence"),
    [
        # 私聊 that invites contact
        ("私聊我", "私聊我"),
        ("有需要的私聊我", "的私聊"),
        ("你私聊我吧", "私聊我"),
        ("找我私聊", "找我私聊"),
        ("可私聊", "可私聊"),
        ("有问题可以私聊", "可以私聊"),
        ("欢迎私聊", "欢迎私聊"),
        ("欢迎 私 聊！", "欢迎私聊"),
        ("私聊领取资料", "私聊领取"),
        ("私聊获取课程", "私聊获取"),
        ("详情私聊", "详情私聊"),
        ("有意者私聊", "有意者私聊"),
        ("需要的私聊", "的私聊"),
        ("想看的私聊，谢谢", "的私聊"),
        ("老哥私聊", "老哥私聊"),
        ("请私聊", "请私聊"),
        ("卖资料，私聊", "私聊"),
        # vx / wx as a token of their own
        ("wx abc", "wx"),
        ("vx: abc123", "vx"),
        ("WX：abc123", "wx"),
        ("my wx is abc123", "wx"),
        ("有需要wx", "wx"),
        ("wx号 abc", "wx"),
        ("vx13800138000", "vx"),
        # English
        ("DM me for prices", "dm me"),
        ("pm me", "pm me"),
        ("add me on WeChat", "add me on wechat"),
        ("link in bio", "link in bio"),
    ],
)
def test_invitations_to_private_contact(text: str, evidence: str) -> None:
    found = detect_contacts(Text.of(text))
    assert found is not None and (found.rule, found.evidence) == ("contact", evidence)


@pytest.mark.parametrize(
    "text",
    [
        # 私聊 telling what happened, or a rule, or a question (QA: the first was removed)
        "我今天私聊了老师才懂",
        "私聊了老师才知道",
        "他私聊我说作业的事",
        "有人私聊我要钱，大家小心",
        "他私聊我了",
        "本群禁止私聊",
        "请勿私聊其他同学",
        "请不要私聊其他成员",
        "不可私聊",
        "你可以私聊老师问问",
        "可以私聊吗？",
        "我们在私聊",
        "群里的私聊功能关了",
        "我没看到你们的私聊",
        "看私聊",
        "私聊老师就好",
        # wx / vx inside a word, a dotted name or an import (QA: wx.Python was removed)
        "wx.Python 是个 GUI 库",
        "wxPython",
        "我在学 wxPython",
        "import wx",
        "from wx import Frame",
        "wx.Frame(None)",
        "wx_widgets",
        "http://mfsbsd.vx.sk/",
        "I like wax",
        "wxyz",
        "vxlan",
        # English
        "I am on the admin team",
        "dmesg shows it",
    ],
)
def test_plain_speech_is_no_contact_bait(text: str) -> None:
    assert detect_contacts(Text.of(text)) is None
