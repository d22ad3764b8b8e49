"""Throughput of the full pipeline against plain sqlite3 inserts, and live latency.

    .venv/bin/python bench/ingest.py [--events 100000] [--batch 1000] [--seconds 15]
                                     [--rate 1000] [--members 20000] [--groups 5] [--seed 2]
                                     [--quick] [--profile] [--features a,b|none] [--json FILE]

A seeded, deterministic sandbox community (a few groups, many members, Chinese and English
speakers, two admins per group) produces the event stream: about 60% chat messages, 8% replies,
8% reactions, 8% check-ins (签到 / 打卡 / /checkin, a quarter with a goal), 5% pictures, stickers,
voice and video, 2% shared articles, 1% edits, 3% joins (some in waves, 40% followed by a
self-introduction), 1% departures, 1% commands (补签, 签到排行, 积分, 积分榜 ...), and a few ads,
contact baits, keyword hits, cross-group spam and floods. Before any timing the community's
history (every present member joined weeks ago) is imported with ``Engine.store_only``, as an
established community would have it.

1. Batch: the stream through ``Engine.handle`` in batches of ``--batch`` with every feature of
   ``DEFAULT_FEATURES`` (the clock set to each batch's last event, a tick per simulated minute)
   into a SQLite file in WAL mode, the process pinned to one core (the idlest). Then, in the
   same run, the baseline: the same events as plain rows (Event -> tuple, then one sqlite3
   ``executemany`` per batch, both timed; same pragmas, a table with the same columns, unique key
   and index as ``events``). Prints events/s (wall and per CPU-second), rows/s, the ratio
   pipeline/baseline, and where the time goes (engine steps and each feature, timed by wrapping
   them on the bench's own App: nothing in src/ changes).
2. Live, on every core the machine gives the process (a server is not pinned; the App copies
   SQLite's log back from a thread of its own): a real-clock ``App`` (``App.start``: ingest
   loop, deliverer, ticker) fed by ``submit`` at
   ``--rate`` events/s (Poisson arrivals) for ``--seconds``; every action caused by a fed event
   (directly, or through a derived event such as ``checked_in``) is timed from the event's
   scheduled arrival (when a platform would have handed it over, so a busy loop cannot hide its
   own backlog) to its delivery on the sandbox platform (``sandbox_deliveries.created_at``); one
   still waiting at the end counts with its wait so far. Prints median, p99 and the achieved
   input rate.

``--profile`` adds a cProfile of a second batch run and of a live run. Goals (issue 2): 30,000
events/s on one core in batch mode, p99 under 20 ms live. Figures are printed against them;
nothing is tuned away (every feature runs with its defaults plus an operator's usual settings:
rules, keyword lists, allowed domains). Both batch runs, pipeline and baseline, start as
``App.start`` starts a server: what the process holds by then (the bench's input stream) is
frozen out of the cyclic garbage collector. Temporary databases live in a temporary directory that
is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from sqlalchemy import insert, select, text  # noqa: E402

from groupops.domain.events import ContentKind, Event, EventKind  # noqa: E402
from groupops.engine import settings_admin  # noqa: E402
from groupops.engine.app import App  # noqa: E402
from groupops.engine.clock import ManualClock  # noqa: E402
from groupops.engine.core import TICK_SOURCE  # noqa: E402
from groupops.features.registry import DEFAULT_FEATURES  # noqa: E402
from groupops.platforms.sandbox.tables import sandbox_chats, sandbox_members  # noqa: E402
from groupops.storage.tables import events as events_table  # noqa: E402
from groupops.storage.tables import outbox, workspaces  # noqa: E402

GOAL_EVENTS_PER_S = 30_000.0
GOAL_P99_MS = 20.0
SOURCE = "sandbox"
MESSAGE_IDS_FROM = 1_000_000_000  # see Community.mid
T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Shanghai, a Monday

# -- the operator's settings (what a real workspace sets on day one) ------------------------
WORKSPACE_SETTINGS: dict[str, dict[str, Any]] = {
    "welcome": {
        "rules": "1. 友善交流 Be kind\n2. 禁止广告和私加好友 No ads, no DM baits\n"
        "3. 每天签到 Check in daily"
    },
    "moderation": {
        "keywords_zh": ["赌博", "代开发票", "裸聊"],
        "keywords_en": ["casino", "crypto*", "viagra"],
        "allowed_domains": ["mp.weixin.qq.com", "github.com", "zhihu.com"],
    },
}


def _words(line: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(line.split(sep))


# -- what people say -----------------------------------------------------------------------
GROUPS = (
    ("g-reading", "读书会 Reading Club"),
    ("g-python", "Python 学习群"),
    ("g-running", "跑步打卡 Runners"),
    ("g-english", "English Corner 英语角"),
    ("g-parents", "宝妈交流群"),
    ("g-design", "设计师交流 Design"),
    ("g-invest", "理财入门 Money 101"),
    ("g-travel", "周末去哪儿 Weekend Trips"),
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏宇浩然欣怡子涵梓轩雨晨思远"
FIRST = _words(
    "Alice Ben Chloe David Emma Felix Grace Henry Iris Jack Kate Leo Mia Noah Olivia Paul "
    "Quinn Ruby Sam Tara Uma Victor Wendy Xavier Yara Zoe Anna Brian Clara Dylan"
)
ZH_LINES = (
    "大家早上好",
    "今天{topic}的讨论太精彩了",
    "有人知道{topic}在哪里能找到吗？",
    "谢谢分享{topic}！",
    "我觉得{topic}这个观点很有意思",
    "晚上有{topic}的直播吗",
    "{topic}的作业什么时候交",
    "求推荐{topic}入门的资料",
    "哈哈哈，{topic}太真实了",
    "我也是这么想的",
    "刚看完第{n}章，{topic}部分收获很大",
    "明天{n}点开始聊{topic}？",
    "{topic}这个问题我昨天也遇到了，重启一下就好了",
    "周末一起去{topic}吗",
    "收到，谢谢群主",
    "坚持{topic}第{n}天了，加油",
    "有没有人一起组队学{topic}",
    "{topic}活动还能报名吗",
    "我在地铁上，{topic}晚点看",
    "老师讲{topic}讲得太好了",
)
ZH_TOPICS = _words(
    "时间管理 早起 这本书 番茄工作法 装饰器 异步编程 半马 配速 英语口语 雅思 辅食 睡眠训练 "
    "配色 字体 基金定投 指数基金 露营 自驾游 三国演义 红楼梦 机器学习 数据分析 瑜伽 冥想 "
    "写作 读书笔记 面试 简历 副业 摄影 剪辑 咖啡 烘焙 健身 减脂 跳绳 游泳 钢琴 吉他 日语 "
    "考研 考公 育儿 亲子阅读 理财 保险 旅行攻略 美食 电影 纪录片"
)
ZH_OPENERS = (
    "",
    "",
    "",
    "哈哈，",
    "对了，",
    "话说",
    "请问",
    "说真的，",
    "@{mention} ",
    "@{mention} ",
)
ZH_TAILS = ("", "", "", "～", "！", "😂", "🙏", "👍", "，大家觉得呢", "呀", "哈")
EN_LINES = (
    "good morning everyone",
    "thanks for sharing the {topic} notes!",
    "does anyone know where to find a good {topic} guide?",
    "I finished chapter {n} of the {topic} book last night",
    "what time does the {topic} session start tomorrow?",
    "same here haha",
    "any beginner {topic} resources you would recommend?",
    "I had the same {topic} problem, restarting fixed it",
    "great point about {topic}, I agree",
    "who wants to practise {topic} together this week?",
    "is the {topic} event still open for sign-ups?",
    "day {n} of my {topic} streak, keep going",
    "on the train now, will read the {topic} thread later",
    "that {topic} meme is so true lol",
    "can someone share the {topic} slides?",
)
EN_TOPICS = _words(
    "time management, habits, async, decorators, marathon, pacing, speaking, IELTS, sleep, "
    "colour, typography, index funds, camping, road trip, novel, machine learning, pandas, "
    "yoga, meditation, writing, interview, resume, side project, photography, editing, coffee, "
    "baking, fitness, swimming, guitar, Japanese, budgeting, travel, cooking, documentary",
    ", ",
)
EN_OPENERS = ("", "", "", "btw ", "hey all, ", "quick question: ", "honestly ", "@{mention} ")
EN_TAILS = ("", "", "", "!", " :)", " 😂", " 🙏", " 👍", ", thoughts?", " haha")
ZH_REPLIES = ("同意", "+1", "哈哈", "谢谢", "对的", "我也是", "有道理", "收到", "厉害了", "求链接")
EN_REPLIES = ("agreed", "+1", "lol", "thanks!", "exactly", "me too", "nice", "good idea")
INTROS_ZH = (
    "大家好，我是{name}，在上海做产品经理，喜欢读书和跑步，希望在群里认识更多朋友",
    "新人报到！我叫{name}，刚开始学习，请大家多多指教，平时喜欢旅行和摄影",
)
INTROS_EN = (
    "Hi all, I'm {name}, a designer from Shenzhen, here to learn and meet people who read a lot",
    "Hello! {name} here, new to the group, working in finance and trying to build better habits",
)
CHECKINS = ("签到", "打卡", "/checkin", "签到", "打卡")
GOAL_CHECKINS = (
    "打卡 今天读了{n}页",
    "签到 跑步{n}公里",
    "/checkin read {n} pages",
    "打卡 背单词{n}个",
)
#: make-up cards, rankings, points and leaderboards asked for
COMMANDS = (
    "补签",
    "签到排行",
    "打卡排行",
    "积分",
    "我的积分",
    "/points",
    "积分榜",
    "排行榜",
    "/top",
)
FLOOD_LINES = ("哈", "哈哈哈", "+1", "666", "顶", "冲", "lol", "!!!")
ARTICLES = (
    "【好文】如何坚持早起 https://mp.weixin.qq.com/s/{code}",
    "推荐一篇回答 https://www.zhihu.com/question/{n}",
    "useful repo: https://github.com/example/{code}",
)
ADS = (
    "加我微信 {code} 领取免费资料",
    "低价代购正品，详情私聊",
    "兼职日结300元，联系 138 {n4} {m4}",
    "Earn $500/day from home, DM me for details",
    "Free crypto airdrop https://{code}.xyz/claim?id={n}",
    "进群领红包 t.me/+{code}",
    "Join our VIP group https://chat.whatsapp.com/{code}",
    "专业代开发票，有需要的联系",
    "best online casino bonus, sign up at {code}.com",
)
CROSS_ADS = (
    "【限时福利】全场五折，扫码进群领取优惠券 {code}",
    "Limited offer: 90% off all courses today only, ask me how {code}",
)
EMOJIS = ("👍", "❤️", "😂", "🎉", "👏", "🙏")
MEDIA = (ContentKind.PICTURE, ContentKind.STICKER, ContentKind.VOICE, ContentKind.VIDEO)

#: one event to be: seconds after the stream's start, and Event's fields except the time
Spec = tuple[float, dict[str, Any]]


@dataclass
class Person:
    user_id: str
    name: str
    zh: bool
    chats: list[str] = field(default_factory=list)
    admin: bool = False
    spammer: bool = False
    last_at: float = -1e9
    ads: int = 0


class Community:
    """A seeded sandbox community. ``history`` are the joins of everyone present at the start;
    ``stream`` the next ``n`` events at about ``rate`` per second (of simulated or real time)."""

    def __init__(self, seed: int, groups: int, members: int, rate: float) -> None:
        self.rng = random.Random(seed)
        self.groups = [g for g, _ in GROUPS[: max(1, min(groups, len(GROUPS)))]]
        self.titles = dict(GROUPS)
        self.rate = rate
        self.min_gap = 3.0  # a person posts at most every few seconds (floods are separate)
        self.people: list[Person] = []
        self.talkers: list[Person] = []  # people repeated by how talkative they are
        self.waiting: list[Person] = []  # will join during the stream
        self.spammers: list[Person] = []
        self.recent: dict[str, deque[tuple[int, str]]] = {g: deque(maxlen=300) for g in self.groups}
        # the stream's message ids: above any line number the sandbox gives the bot's own posts
        # (the stream goes to the engine, not through the sandbox's lines), so an action on
        # one of them never names another chat's line, which the sandbox refuses (aec1f6b)
        self.mid = MESSAGE_IDS_FROM
        self.t = 0.0
        self.counts: dict[str, int] = {}
        for i in range(members):
            person = self._new_person(i)
            if self.rng.random() < 0.02:
                person.spammer = True
                self.spammers.append(person)
            elif self.rng.random() < 0.10:
                self.waiting.append(person)
            else:
                self._enter(person, self._pick_chats())
        self.admins: list[Person] = []
        for g in self.groups:  # two admins per group
            for _ in range(2):
                p = self._new_person(len(self.people))
                p.admin = True
                self._enter(p, [g])
                self.admins.append(p)

    # -- people ----------------------------------------------------------------------------
    def _new_person(self, i: int) -> Person:
        rng = self.rng
        zh = rng.random() < 0.65
        if zh:
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        else:
            name = f"{rng.choice(FIRST)} {chr(65 + rng.randrange(26))}."
        person = Person(f"u{i}", name, zh)
        self.people.append(person)
        return person

    def _pick_chats(self) -> list[str]:
        first = self.rng.choice(self.groups)
        if self.rng.random() < 0.2 and len(self.groups) > 1:
            second = self.rng.choice(self.groups)
            if second != first:
                return [first, second]
        return [first]

    def _enter(self, person: Person, chats: list[str]) -> None:
        fresh = not person.chats
        person.chats.extend(c for c in chats if c not in person.chats)
        if fresh and not person.spammer:
            r = self.rng.random()
            copies = 8 if r < 0.05 else 3 if r < 0.30 else 1
            self.talkers.extend([person] * copies)

    def _speaker(self) -> Person:
        for _ in range(8):
            p = self.rng.choice(self.talkers)
            if p.chats and self.t - p.last_at >= self.min_gap:
                return p
        while True:  # everyone chosen spoke just now: take anyone still in a group
            p = self.rng.choice(self.talkers)
            if p.chats:
                return p

    # -- one event -------------------------------------------------------------------------
    def _next_mid(self) -> int:
        self.mid += 1
        return self.mid

    def _chat_line(self, zh: bool) -> str:
        rng = self.rng
        lines: Sequence[str]
        topics: Sequence[str]
        openers: Sequence[str]
        tails: Sequence[str]
        if zh:
            lines, topics, openers, tails = ZH_LINES, ZH_TOPICS, ZH_OPENERS, ZH_TAILS
        else:
            lines, topics, openers, tails = EN_LINES, EN_TOPICS, EN_OPENERS, EN_TAILS
        body = rng.choice(openers) + rng.choice(lines) + rng.choice(tails)
        return self._fill(body, topic=rng.choice(topics), mention=rng.choice(self.people).name)

    def _fill(self, template: str, **extra: str) -> str:
        rng = self.rng
        code = "".join(rng.choices("abcdefghjkmnpqrstuvwxyz23456789", k=8))
        return template.format(
            n=rng.randrange(1, 60),
            code=code,
            n4=rng.randrange(1000, 9999),
            m4=rng.randrange(1000, 9999),
            **extra,
        )

    def _message(
        self,
        out: list[Spec],
        person: Person,
        chat: str,
        body: str,
        *,
        kind: EventKind = EventKind.MESSAGE,
        content: ContentKind = ContentKind.TEXT,
        reply: tuple[int, str] | None = None,
        label: str = "message",
        at: float | None = None,
    ) -> None:
        at = self.t if at is None else at
        mid = self._next_mid()
        fields: dict[str, Any] = {
            "event_id": f"m{mid}",
            "kind": kind,
            "chat_id": chat,
            "user_id": person.user_id,
            "user_name": person.name,
            "message_id": str(mid),
            "text": body,
            "content_kind": content,
            "is_admin": person.admin,
        }
        if reply is not None:
            fields["reply_to_message_id"] = str(reply[0])
            fields["reply_to_user_id"] = reply[1]
        out.append((at, fields))
        person.last_at = max(person.last_at, at)
        if kind == EventKind.MESSAGE:
            self.recent[chat].append((mid, person.user_id))
        self.counts[label] = self.counts.get(label, 0) + 1

    def _join(self, out: list[Spec], person: Person, chat: str, at: float | None = None) -> None:
        at = self.t if at is None else at
        mid = self._next_mid()
        data: dict[str, Any] = {"chat_title": self.titles[chat]}
        if self.rng.random() < 0.3:
            data["invite_link"] = f"sandbox://{chat}/join/poster-{self.rng.randrange(5)}"
        out.append(
            (
                at,
                {
                    "event_id": f"m{mid}",
                    "kind": EventKind.MEMBER_JOINED,
                    "chat_id": chat,
                    "user_id": person.user_id,
                    "user_name": person.name,
                    "data": data,
                },
            )
        )
        self._enter(person, [chat])
        person.last_at = max(person.last_at, at)
        self.counts["join"] = self.counts.get("join", 0) + 1

    def _tick(self) -> float:
        return self.rng.expovariate(self.rate)

    def _step(self, out: list[Spec]) -> None:
        rng = self.rng
        r = rng.random()
        if r < 0.56:
            p = self._speaker()
            chat = rng.choice(p.chats)
            self._message(out, p, chat, self._chat_line(p.zh))
        elif r < 0.64:
            p = self._speaker()
            chat = rng.choice(p.chats)
            if self.recent[chat]:
                target = rng.choice(self.recent[chat])
                body = rng.choice(ZH_REPLIES if p.zh else EN_REPLIES)
                self._message(out, p, chat, body, reply=target, label="reply")
        elif r < 0.72:
            p = self._speaker()
            chat = rng.choice(p.chats)
            if self.recent[chat]:
                mid, author = rng.choice(self.recent[chat])
                emoji = rng.choice(EMOJIS)
                fields = {
                    "event_id": f"r{mid}:{p.user_id}:{emoji}",
                    "kind": EventKind.REACTION,
                    "chat_id": chat,
                    "user_id": p.user_id,
                    "user_name": p.name,
                    "message_id": str(mid),
                    "reply_to_user_id": author,
                    "data": {"emoji": emoji},
                }
                out.append((self.t, fields))
                self.counts["reaction"] = self.counts.get("reaction", 0) + 1
        elif r < 0.80:
            p = self._speaker()
            chat = rng.choice(p.chats)
            if rng.random() < 0.25:
                body = self._fill(rng.choice(GOAL_CHECKINS))
            else:
                body = rng.choice(CHECKINS)
            self._message(out, p, chat, body, label="checkin")
        elif r < 0.85:
            p = self._speaker()
            self._message(out, p, rng.choice(p.chats), "", content=rng.choice(MEDIA), label="media")
        elif r < 0.87:
            p = self._speaker()
            body = self._fill(rng.choice(ARTICLES))
            self._message(
                out, p, rng.choice(p.chats), body, content=ContentKind.ARTICLE_LINK, label="article"
            )
        elif r < 0.88:
            p = self._speaker()
            chat = rng.choice(p.chats)
            own = [m for m in self.recent[chat] if m[1] == p.user_id]
            if own:
                mid = own[-1][0]
                self.mid += 1
                fields = {
                    "event_id": f"e{mid}:{self.mid}",
                    "kind": EventKind.MESSAGE_EDITED,
                    "chat_id": chat,
                    "user_id": p.user_id,
                    "user_name": p.name,
                    "message_id": str(mid),
                    "text": self._chat_line(p.zh),
                }
                out.append((self.t, fields))
                self.counts["edit"] = self.counts.get("edit", 0) + 1
        elif r < 0.91:
            self._arrivals(out)
        elif r < 0.92:
            p = self._speaker()
            if not p.admin:
                chat = rng.choice(p.chats)
                mid = self._next_mid()
                out.append(
                    (
                        self.t,
                        {
                            "event_id": f"m{mid}",
                            "kind": EventKind.MEMBER_LEFT,
                            "chat_id": chat,
                            "user_id": p.user_id,
                            "user_name": p.name,
                        },
                    )
                )
                p.chats.remove(chat)
                self.counts["leave"] = self.counts.get("leave", 0) + 1
        elif r < 0.935:
            self._ad(out)
        elif r < 0.94:
            p = self._speaker()
            if not p.admin:
                chat = rng.choice(p.chats)
                at = self.t
                for _ in range(rng.randrange(7, 10)):  # a flood: ~8 messages in ~4 s
                    self._message(out, p, chat, rng.choice(FLOOD_LINES), label="flood", at=at)
                    at += rng.uniform(0.2, 0.8)
        elif r < 0.945:
            p = rng.choice(self.admins)
            body = f"本周直播安排 https://live.example.com/{self._fill('{code}')} 欢迎参加"
            self._message(out, p, p.chats[0], body, label="admin")
        elif r < 0.955:
            p = self._speaker()
            body = rng.choice(COMMANDS)
            self._message(out, p, rng.choice(p.chats), body, label="command")
        else:
            p = self._speaker()
            chat = rng.choice(p.chats)
            self._message(out, p, chat, self._chat_line(p.zh))

    def _arrivals(self, out: list[Spec]) -> None:
        rng = self.rng
        chat = rng.choice(self.groups)
        wave = rng.randrange(6, 12) if rng.random() < 0.05 else 1
        at = self.t
        for _ in range(wave):
            person = self.waiting.pop() if self.waiting else self._new_person(len(self.people))
            self._join(out, person, chat, at)
            if rng.random() < 0.4:  # some newcomers introduce themselves a bit later
                later = at + rng.uniform(5.0, 30.0)
                intro = rng.choice(INTROS_ZH if person.zh else INTROS_EN).format(name=person.name)
                self._message(out, person, chat, intro, label="intro", at=later)
            at += rng.uniform(0.5, 2.0)

    def _ad(self, out: list[Spec]) -> None:
        rng = self.rng
        active = [s for s in self.spammers if s.ads < 4]
        if not active:
            return
        p = rng.choice(active)
        if rng.random() < 0.25 and len(self.groups) >= 3:
            body = self._fill(rng.choice(CROSS_ADS))  # the same ad in three groups, quickly
            at = self.t
            for chat in rng.sample(self.groups, 3):
                if chat not in p.chats:
                    self._join(out, p, chat, at)
                    at += rng.uniform(0.5, 2.0)
                self._message(out, p, chat, body, label="ad", at=at)
                at += rng.uniform(1.0, 5.0)
            p.ads = 4
        else:
            at = self.t
            if not p.chats:
                self._join(out, p, rng.choice(self.groups), at)
                at += rng.uniform(5.0, 30.0)
            body = self._fill(rng.choice(ADS))
            self._message(out, p, rng.choice(p.chats), body, label="ad", at=at)
            p.ads += 1
        if p.ads >= 4:
            p.chats = []  # kicked by then: a platform would not let them post again

    # -- the streams -----------------------------------------------------------------------
    def history(self) -> list[Spec]:
        """Everyone present at the start joined 3 to 120 days before it."""
        out: list[Spec] = []
        present = [p for p in self.people if p.chats]
        for p in present:
            for chat in p.chats:
                days = self.rng.uniform(3, 120)
                fields = {
                    "event_id": f"h:{chat}:{p.user_id}",
                    "kind": EventKind.MEMBER_JOINED,
                    "chat_id": chat,
                    "user_id": p.user_id,
                    "user_name": p.name,
                    "is_admin": p.admin,
                    "data": {"chat_title": self.titles[chat]},
                }
                out.append((-days * 86400, fields))
        out.sort(key=lambda s: s[0])
        return out

    def stream(self, n: int, *, ticks: bool) -> list[Spec]:
        out: list[Spec] = []
        next_tick = 60.0
        check_at = n
        while True:
            self.t += self._tick()
            if ticks and self.t >= next_tick:
                out.append((next_tick, {"tick": True}))
                next_tick += 60.0
            self._step(out)
            if len(out) >= check_at:
                check_at = len(out) + 100
                # episodes (floods, waves, spam runs) wrote ahead of the clock: done once the
                # n first events in time can no longer change
                out.sort(key=lambda s: s[0])
                if out[n - 1][0] <= self.t:
                    break
        del out[n:]
        return out

    def members_of(self, specs: Iterable[Spec]) -> set[tuple[str, str, str, bool]]:
        """(chat, user, name, admin) of everyone the specs show in a group."""
        found: dict[tuple[str, str], tuple[str, str, str, bool]] = {}
        for _, f in specs:
            if "tick" in f:
                continue
            key = (f["chat_id"], f["user_id"])
            if key not in found:
                found[key] = (
                    f["chat_id"],
                    f["user_id"],
                    f.get("user_name", ""),
                    f.get("is_admin", False),
                )
        return set(found.values())


def materialise(spec: Spec, start: datetime) -> Event:
    offset, fields = spec
    when = start + timedelta(seconds=offset)
    if "tick" in fields:
        when = when.replace(second=0, microsecond=0)
        return Event(TICK_SOURCE, f"tick:{when.isoformat()}", EventKind.TICK, when)
    return Event(SOURCE, occurred_at=when, **fields)


# -- set-up shared by both modes ------------------------------------------------------------
def feature_specs(names: str | None) -> tuple[str, ...]:
    if not names:
        return DEFAULT_FEATURES
    if names == "none":
        return ()
    by_name = {s.split(":")[0].rsplit(".", 1)[-1]: s for s in DEFAULT_FEATURES}
    chosen = []
    for name in names.split(","):
        name = name.strip()
        if name not in by_name:
            raise SystemExit(f"--features: no default feature {name!r} (known: {sorted(by_name)})")
        chosen.append(by_name[name])
    return tuple(chosen)


def prepare(app: App, community: Community, history: list[Spec], start: datetime) -> None:
    """The operator's workspace settings, the sandbox's chats and members, and the history."""
    with app.db.begin() as conn:
        conn.execute(
            insert(workspaces).values(slug="default", name="bench", settings={}, created_at=start)
        )
    for feature, values in WORKSPACE_SETTINGS.items():
        if feature in app.registry.by_name:
            for key, value in values.items():
                settings_admin.set_setting(
                    app.db, app.registry, feature=feature, key=key, value=value
                )
    app.engine.store_only([[materialise(s, start) for s in history]])


def seed_sandbox(app: App, community: Community, specs: Sequence[Spec], now: datetime) -> None:
    """The sandbox platform's own view: chats and every member the stream shows (so that a
    mute, kick or rules DM finds the person, as it would on a real platform)."""
    members = community.members_of(specs)
    with app.db.begin() as conn:
        conn.execute(
            insert(sandbox_chats),
            [
                {"source": SOURCE, "chat_id": g, "title": community.titles[g], "created_at": now}
                for g in community.groups
            ],
        )
        conn.execute(
            insert(sandbox_members),
            [
                {
                    "source": SOURCE,
                    "chat_id": chat,
                    "user_id": user,
                    "name": name or user,
                    "status": "active",
                    "is_admin": is_admin,
                    "muted_until": None,
                    "started_bot": True,
                }
                for chat, user, name, is_admin in sorted(members)
            ],
        )


def batches(items: Sequence[Event], size: int) -> list[Sequence[Event]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def load_average() -> str:
    """Other work on the machine slows the figures down: say how busy it was."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} CPUs"


def _idle_ticks() -> dict[int, int]:
    out: dict[int, int] = {}
    with open("/proc/stat", encoding="ascii") as f:
        for line in f:
            name, *values = line.split()
            if name.startswith("cpu") and name != "cpu":
                out[int(name[3:])] = int(values[3]) + int(values[4])  # idle + iowait
    return out


_ALL_CPUS: set[int] = set()


def unpin() -> str:
    """Back to every core the process had before pin_one_core."""
    if not _ALL_CPUS:
        return "not pinned"
    os.sched_setaffinity(0, _ALL_CPUS)
    return f"on all {len(_ALL_CPUS)} CPUs"


def pin_one_core() -> str:
    """Run on one core: the idlest one over half a second (others share the machine)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        _ALL_CPUS.update(cpus)
        try:
            before = _idle_ticks()
            time.sleep(0.5)
            after = _idle_ticks()
            cpu = max(cpus, key=lambda c: after.get(c, 0) - before.get(c, 0))
        except (OSError, ValueError, IndexError):
            cpu = cpus[-1]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu} of {len(cpus)}"
    except (AttributeError, OSError) as exc:  # not Linux
        return f"not pinned ({exc})"


class Stopwatch:
    """Where a batch's time goes: the engine's steps and each feature's handler, timed by
    wrapping them on this App's own objects (nothing in src/ changes)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0

        return timed

    @classmethod
    def attach(cls, app: App) -> Stopwatch:
        watch = cls()
        engine = app.engine
        for obj, attr, label in (
            (engine, "_store", "engine: store events"),
            (engine.directory, "resolve", "engine: memberships"),
            (engine, "_write_outbox", "engine: outbox"),
            *((f, "handle", f"feature: {f.name}") for f in app.registry.features),
        ):
            setattr(obj, attr, watch.wrap(label, getattr(obj, attr)))
        return watch

    def breakdown(self, total: float) -> dict[str, float]:
        parts = dict(sorted(self.seconds.items(), key=lambda kv: -kv[1]))
        parts["engine: the rest (commit, savepoints, dispatch)"] = total - sum(parts.values())
        return parts


# -- batch mode -----------------------------------------------------------------------------
@dataclass
class BatchRun:
    events: int
    seconds: float
    cpu_seconds: float
    actions: int
    owner_tasks: int
    feature_errors: int
    duplicates: int
    steady_events_per_s: float
    outbox_kinds: dict[str, int]
    profile: list[dict[str, Any]] = field(default_factory=list)
    parts: dict[str, float] = field(default_factory=dict)
    mix: dict[str, int] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def run_pipeline(
    workdir: Path,
    features: tuple[str, ...],
    community_args: dict[str, Any],
    n: int,
    size: int,
    *,
    profile: bool = False,
) -> tuple[BatchRun, list[Event], list[Event], str]:
    """The measured batch run. Returns the run, the history and stream events (for the
    baseline) and the events table's DDL."""
    community = Community(**community_args)
    history_specs = community.history()
    specs = community.stream(n, ticks=True)
    history = [materialise(s, T0) for s in history_specs]
    stream = [materialise(s, T0) for s in specs]
    clock = ManualClock(T0)
    app = App.create(
        f"sqlite:///{workdir}/{'profiled' if profile else 'pipeline'}.db",
        clock=clock,
        features=features,
        extensions=False,
    )
    try:
        prepare(app, community, history_specs, T0)
        # As App.start does for a server: what the process holds when the run begins (here
        # mostly the bench's own input, the whole materialised stream) is left out of the
        # cyclic collector's passes; garbage made by the run is collected as before.
        gc.collect()
        gc.freeze()
        prof = cProfile.Profile() if profile else None
        watch = Stopwatch.attach(app)
        elapsed = cpu = 0.0
        actions = tasks = errors = dupes = 0
        per_batch: list[tuple[int, float]] = []
        for chunk in batches(stream, size):
            clock.set(max(e.occurred_at for e in chunk))
            t0, c0 = time.perf_counter(), time.process_time()
            if prof is not None:
                prof.enable()
            result = app.handle(chunk)
            if prof is not None:
                prof.disable()
            dt = time.perf_counter() - t0
            elapsed += dt
            cpu += time.process_time() - c0
            per_batch.append((len(chunk), dt))
            actions += result.actions
            tasks += result.owner_tasks
            errors += result.feature_errors
            dupes += result.duplicates
        half = per_batch[len(per_batch) // 2 :]
        steady = sum(k for k, _ in half) / max(1e-9, sum(d for _, d in half))
        with app.db.connect() as conn:
            kinds = {
                str(k): int(c)
                for k, c in conn.execute(
                    text("SELECT kind, count(*) FROM outbox GROUP BY kind ORDER BY 2 DESC")
                )
            }
            ddl = [
                str(r[0])
                for r in conn.execute(
                    text(
                        "SELECT sql FROM sqlite_master WHERE tbl_name = 'events'"
                        " AND sql IS NOT NULL ORDER BY type DESC"
                    )
                )
            ]
        run = BatchRun(len(stream), elapsed, cpu, actions, tasks, errors, dupes, steady, kinds)
        run.parts = watch.breakdown(elapsed)
        run.mix = stream_mix(stream)
        if prof is not None:
            run.profile = top_functions(prof)
    finally:
        gc.unfreeze()
        app.close()
    return run, history, stream, ";\n".join(ddl)


def stream_mix(stream: Sequence[Event]) -> dict[str, int]:
    """What the stream holds, for the reader (the generator's shares, as realised)."""
    mix: dict[str, int] = {}
    for e in stream:
        label = e.kind.value
        if e.kind == EventKind.MESSAGE:
            if e.text.split(" ", 1)[0] in CHECKINS:
                label = "check-in"
            elif e.text in COMMANDS:
                label = "command"
            elif e.reply_to_message_id:
                label = "reply"
            elif e.content_kind != ContentKind.TEXT:
                label = e.content_kind.value
        mix[label] = mix.get(label, 0) + 1
    return dict(sorted(mix.items(), key=lambda kv: -kv[1]))


def top_functions(prof: cProfile.Profile, n: int = 30) -> list[dict[str, Any]]:
    stats = pstats.Stats(prof)
    rows = []
    for func, (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{func[0].replace(str(REPO) + '/', '')}:{func[1]}({func[2]})"
        rows.append({"own_s": tt, "cum_s": ct, "calls": nc, "where": where})
    by_own = sorted(rows, key=lambda r: -r["own_s"])[:n]
    ours = sorted((r for r in rows if "src/groupops" in r["where"]), key=lambda r: -r["cum_s"])[:n]
    return [{"sort": "own", **r} for r in by_own] + [{"sort": "cum_groupops", **r} for r in ours]


def _row(event: Event, ids: dict[str, int]) -> tuple[Any, ...]:
    """What a plain inserter has to do: one tuple per event, the group and member as ints."""
    payload: dict[str, Any] = {}
    if event.user_name:
        payload["user_name"] = event.user_name
    if event.is_admin:
        payload["is_admin"] = True
    if event.reply_to_user_id:
        payload["reply_to_user_id"] = event.reply_to_user_id
    if event.data:
        payload["data"] = dict(event.data)
    gid = ids.setdefault("c:" + event.chat_id, len(ids) + 1) if event.chat_id else None
    mid = ids.setdefault("u:" + event.user_id, len(ids) + 1) if event.user_id else None
    return (
        event.source,
        event.event_id,
        event.kind.value,
        event.occurred_at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"),
        gid,
        mid,
        event.chat_id,
        event.user_id,
        event.message_id,
        event.content_kind.value,
        event.text,
        event.reply_to_message_id,
        json.dumps(payload, ensure_ascii=False),
    )


BASELINE_INSERT = (
    "INSERT OR IGNORE INTO events (source, event_id, kind, occurred_at, group_id, member_id,"
    " chat_id, user_id, message_id, content_kind, text, reply_to_message_id, payload)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def run_baseline(
    workdir: Path, ddl: str, history: list[Event], stream: list[Event], size: int
) -> tuple[int, float]:
    """Plain sqlite3: the same table, the same pragmas, one executemany per batch."""
    conn = sqlite3.connect(workdir / "baseline.db", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(ddl + ";")
        ids: dict[str, int] = {}
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(BASELINE_INSERT, [_row(e, ids) for e in history])
        conn.execute("COMMIT")
        gc.collect()
        gc.freeze()  # the same conditions as the pipeline's run
        elapsed = 0.0
        for chunk in batches(stream, size):
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(BASELINE_INSERT, [_row(e, ids) for e in chunk])
            conn.execute("COMMIT")
            elapsed += time.perf_counter() - t0
        stored = conn.execute("SELECT count(*) FROM events").fetchone()[0] - len(history)
    finally:
        gc.unfreeze()
        conn.close()
    return int(stored), elapsed


# -- live mode ------------------------------------------------------------------------------
#: what the feeder submits (derived events such as checked_in are groupops' own)
FED_KINDS = events_table.c.kind.in_(
    [
        EventKind.MESSAGE.value,
        EventKind.MESSAGE_EDITED.value,
        EventKind.REACTION.value,
        EventKind.MEMBER_JOINED.value,
        EventKind.MEMBER_LEFT.value,
    ]
)


@dataclass
class LiveRun:
    fed: int
    feed_seconds: float
    actions_timed: list[float]  # seconds, from scheduled arrival to delivery on the sandbox
    actions_from_submit: list[float]  # the same, from the moment submit() was called
    first_action: list[float]  # per causing event: its first delivered action
    untraced: int  # actions not caused by a fed event (ticks, bursts, level-ups)
    undelivered: int  # still waiting at the end: timed as waiting until then
    dead: int
    max_lag: float  # how late the feeder got behind its schedule at worst
    stored: int

    @property
    def input_rate(self) -> float:
        return self.fed / self.feed_seconds if self.feed_seconds else 0.0


async def run_live(
    workdir: Path,
    features: tuple[str, ...],
    community_args: dict[str, Any],
    seconds: float,
    rate: float,
    max_batch: int,
    *,
    name: str = "live",
    profile: cProfile.Profile | None = None,
) -> LiveRun:
    community = Community(**{**community_args, "rate": rate})
    history_specs = community.history()
    specs = community.stream(max(1, int(seconds * rate)), ticks=False)
    app = App.create(f"sqlite:///{workdir}/{name}.db", features=features, extensions=False)
    if max_batch:
        app.max_batch = max_batch
    try:
        now = datetime.now(UTC)
        prepare(app, community, history_specs, now)
        seed_sandbox(app, community, [*history_specs, *specs], now)
        if profile is not None:
            profile.enable()
        await app.start(tick_every=60.0)
        await asyncio.sleep(0.2)  # the deliverer's recovery and first idle round
        start_wall = time.time() + 0.05
        start = datetime.fromtimestamp(start_wall, UTC)
        scheduled: dict[str, float] = {}
        submitted: dict[str, float] = {}
        max_lag = 0.0
        i = 0
        while i < len(specs):
            now_wall = time.time()
            while i < len(specs) and start_wall + specs[i][0] <= now_wall:
                event = materialise(specs[i], start)
                at = start_wall + specs[i][0]
                app.submit(event)
                scheduled[event.event_id] = at
                submitted[event.event_id] = time.time()
                max_lag = max(max_lag, now_wall - at)
                i += 1
            if i < len(specs):
                await asyncio.sleep(max(0.0, start_wall + specs[i][0] - time.time()))
        feed_seconds = max(submitted.values()) - start_wall if submitted else 0.0
        # let the queue and the outbox drain (bounded), then stop
        deadline = time.time() + 15.0
        while time.time() < deadline:
            await asyncio.sleep(0.05)
            queue = getattr(app, "_queue", None)  # the App's ingest queue, while it has one
            if queue is not None and not queue.empty():
                continue
            with app.db.connect() as conn:
                open_ = conn.execute(
                    select(outbox.c.id).where(outbox.c.status.in_(("pending", "sending"))).limit(1)
                ).first()
                stored = conn.execute(
                    select(text("count(*)"))
                    .select_from(events_table)
                    .where(events_table.c.occurred_at >= start, FED_KINDS)
                ).scalar_one()
                conn.rollback()
            if open_ is None and stored >= len(specs):
                break
        await app.stop()
        if profile is not None:
            profile.disable()
        return _latencies(app, scheduled, submitted, feed_seconds, max_lag, start, time.time())
    finally:
        app.close()


def _latencies(
    app: App,
    scheduled: dict[str, float],
    submitted: dict[str, float],
    feed_seconds: float,
    max_lag: float,
    start: datetime,
    ended: float,
) -> LiveRun:
    """Every action of a fed event, from its scheduled arrival to its delivery. One still
    waiting when the run ends counts with its wait so far (a lower bound), never left out."""
    with app.db.connect() as conn:
        rows = conn.execute(
            text(
                # an action caused by a derived event (checked_in -> points) is traced back
                # to the fed event through the derived event's data.cause_seq
                "SELECT o.id, o.status, coalesce(c.event_id, e.event_id), d.created_at"
                " FROM outbox o"
                " LEFT JOIN events e ON e.seq = o.cause_seq"
                " LEFT JOIN events c ON c.seq = json_extract(e.payload, '$.data.cause_seq')"
                " LEFT JOIN sandbox_deliveries d ON d.key = 'outbox:' || o.id"
            )
        ).all()
        stored = conn.execute(
            select(text("count(*)"))
            .select_from(events_table)
            .where(events_table.c.occurred_at >= start, FED_KINDS)
        ).scalar_one()
        conn.rollback()
    timed: list[float] = []
    from_submit: list[float] = []
    first: dict[str, float] = {}
    untraced = undelivered = dead = 0
    for _oid, status, event_id, delivered in rows:
        if status == "dead":
            dead += 1
            continue
        if event_id not in scheduled:
            untraced += 1
            continue
        if delivered is None:
            undelivered += 1
            at = ended
        else:
            at = datetime.fromisoformat(str(delivered)).replace(tzinfo=UTC).timestamp()
        lat = at - scheduled[event_id]
        timed.append(lat)
        from_submit.append(at - submitted[event_id])
        first[event_id] = min(first.get(event_id, lat), lat)
    return LiveRun(
        len(scheduled),
        feed_seconds,
        sorted(timed),
        sorted(from_submit),
        sorted(first.values()),
        untraced,
        undelivered,
        dead,
        max_lag,
        int(stored),
    )


def _profile_line(r: dict[str, Any]) -> str:
    return f"  {r['own_s']:7.2f} s own {r['cum_s']:7.2f} s cum {r['calls']:>9,}  {r['where']}"


def pct(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p))]


# -- main -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--events", type=int, default=100_000, help="events in the batch run")
    ap.add_argument("--batch", type=int, default=1000, help="events per Engine.handle call")
    ap.add_argument("--seconds", type=float, default=15.0, help="length of the live feed")
    ap.add_argument("--rate", type=float, default=1000.0, help="live input, events/s")
    ap.add_argument(
        "--live-batch", type=int, default=0, help="live: App.max_batch (0: the App's default)"
    )
    ap.add_argument("--members", type=int, default=20_000)
    ap.add_argument("--groups", type=int, default=5)
    ap.add_argument("--sim-rate", type=float, default=20.0, help="batch: events per simulated s")
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--features", default=None, help="a subset of the defaults, e.g. welcome")
    ap.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    ap.add_argument("--no-live", action="store_true")
    ap.add_argument("--no-batch", action="store_true")
    ap.add_argument("--profile", action="store_true", help="also profile a batch run (cProfile)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = ap.parse_args(argv)
    if args.quick:
        args.events, args.seconds, args.members = min(args.events, 3000), 2.0, 400
    features = feature_specs(args.features)
    names = [s.rsplit(":", 1)[-1] for s in features]
    missing = [s for s in DEFAULT_FEATURES if s not in features]
    print(
        f"{pin_one_core()}; Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version};"
        f" {load_average()}"
    )
    print(f"features: {', '.join(names)}" + (f"  (LEFT OUT: {missing})" if missing else ""))
    community_args = {
        "seed": args.seed,
        "groups": args.groups,
        "members": args.members,
        "rate": args.sim_rate,
    }
    figures: dict[str, Any] = {
        "features": names,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    summary: list[str] = []
    with tempfile.TemporaryDirectory(prefix="groupops-bench-") as tmp:
        workdir = Path(tmp)
        if not args.no_batch:
            run, history, stream, ddl = run_pipeline(
                workdir, features, community_args, args.events, args.batch
            )
            rows, base_s = run_baseline(workdir, ddl, history, stream, args.batch)
            del history, stream
            base_rate = rows / base_s if base_s else 0.0
            ratio = run.per_s / base_rate if base_rate else 0.0
            print(
                f"\nbatch: {run.events:,} events in batches of {args.batch}"
                f" ({args.members:,} members, {args.groups} groups, history imported first)"
            )
            print(
                f"  pipeline: {run.per_s:,.0f} events/s  ({run.seconds:.2f} s wall,"
                f" {run.cpu_seconds:.2f} s CPU = {run.events / run.cpu_seconds:,.0f} events per"
                f" CPU-second; second half {run.steady_events_per_s:,.0f} events/s)"
            )
            print("  stream: " + ", ".join(f"{k} {v / run.events:.1%}" for k, v in run.mix.items()))
            print(
                f"  outbox: {run.actions:,} actions ({run.actions / max(1, run.events):.3f}"
                f" per event), {run.owner_tasks} owner tasks, {run.feature_errors} feature"
                f" errors, {run.duplicates} duplicates; by kind {run.outbox_kinds}"
            )
            print(
                "  where the time goes: "
                + ", ".join(
                    f"{k} {v / run.seconds:.0%} ({v / run.events * 1e6:.0f} us/event)"
                    for k, v in run.parts.items()
                )
            )
            print(f"  baseline: {base_rate:,.0f} rows/s  (sqlite3 executemany, {base_s:.2f} s)")
            print(f"  ratio pipeline/baseline: {ratio:.4f}  (baseline is {1 / ratio:.1f}x faster)")
            goal = "meets" if run.per_s >= GOAL_EVENTS_PER_S else "misses"
            summary += [
                f"batch pipeline      {run.per_s:>10,.0f} events/s   goal {GOAL_EVENTS_PER_S:,.0f}:"
                f" {goal} ({run.per_s / GOAL_EVENTS_PER_S:.2f}x of the goal)",
                f"batch pipeline/CPU  {run.events / run.cpu_seconds:>10,.0f} events per CPU-second"
                " (less sensitive to other load)",
                f"batch baseline      {base_rate:>10,.0f} rows/s     sqlite3 executemany",
                f"ratio pipeline/base {ratio:>10.4f}",
            ]
            figures["batch"] = {
                "events": run.events,
                "batch_size": args.batch,
                "events_per_s": run.per_s,
                "steady_events_per_s": run.steady_events_per_s,
                "wall_s": run.seconds,
                "events_per_cpu_s": run.events / run.cpu_seconds if run.cpu_seconds else 0.0,
                "cpu_s": run.cpu_seconds,
                "actions": run.actions,
                "owner_tasks": run.owner_tasks,
                "feature_errors": run.feature_errors,
                "outbox_kinds": run.outbox_kinds,
                "seconds_by_part": run.parts,
                "stream_mix": run.mix,
                "baseline_rows_per_s": base_rate,
                "ratio": ratio,
            }
        if not args.no_live:
            # a serving process is not pinned: the live run has every core the machine gives
            # this process (SQLite's log is copied back by a thread of the App's own)
            print(f"\nlive: {unpin()}")
            live = asyncio.run(
                run_live(
                    workdir, features, community_args, args.seconds, args.rate, args.live_batch
                )
            )
            t = [x * 1000 for x in live.actions_timed]
            s = [x * 1000 for x in live.actions_from_submit]
            f1 = [x * 1000 for x in live.first_action]
            print(
                f"\nlive: {live.fed:,} events fed in {live.feed_seconds:.1f} s"
                f" = {live.input_rate:,.0f} events/s (target {args.rate:,.0f});"
                f" {live.stored:,} stored; feeder at worst {live.max_lag * 1000:.1f} ms late"
            )
            if t:
                print(
                    f"  arrival -> delivered action ({len(t):,} actions): median"
                    f" {statistics.median(t):.1f} ms, p90 {pct(t, 0.9):.1f} ms,"
                    f" p99 {pct(t, 0.99):.1f} ms, max {t[-1]:.1f} ms"
                )
                print(
                    f"  submit()  -> delivered action: median {statistics.median(s):.1f} ms,"
                    f" p99 {pct(s, 0.99):.1f} ms"
                )
                print(
                    f"  per event, first action ({len(f1):,} events): median"
                    f" {statistics.median(f1):.1f} ms, p99 {pct(f1, 0.99):.1f} ms"
                )
            print(
                f"  not timed: {live.untraced} actions not caused by a fed event"
                f" (ticks, welcome bursts, level-ups); {live.dead} dead;"
                f" {live.undelivered} still waiting at the end (timed up to the end: a lower"
                f" bound); {live.fed - live.stored} fed events never stored"
            )
            med = statistics.median(t) if t else float("nan")
            p99 = pct(t, 0.99)
            goal = "meets" if t and p99 < GOAL_P99_MS else "misses"
            summary += [
                f"live input rate     {live.input_rate:>10,.0f} events/s   target {args.rate:,.0f}",
                f"live latency median {med:>10.1f} ms",
                f"live latency p99    {p99:>10.1f} ms         goal < {GOAL_P99_MS:.0f} ms: {goal}",
            ]
            figures["live"] = {
                "fed": live.fed,
                "input_rate": live.input_rate,
                "actions_timed": len(t),
                "median_ms": med,
                "p90_ms": pct(t, 0.9),
                "p99_ms": p99,
                "max_ms": t[-1] if t else None,
                "from_submit_median_ms": statistics.median(s) if s else None,
                "from_submit_p99_ms": pct(s, 0.99),
                "untraced": live.untraced,
                "undelivered": live.undelivered,
                "dead": live.dead,
            }
        if args.profile and not args.no_batch:
            prof_run, *_ = run_pipeline(
                workdir, features, community_args, args.events, args.batch, profile=True
            )
            print("\nprofile of the batch run (cProfile; own time):")
            for r in [r for r in prof_run.profile if r["sort"] == "own"][:20]:
                print(_profile_line(r))
            print("groupops functions by cumulative time:")
            for r in [r for r in prof_run.profile if r["sort"] == "cum_groupops"][:25]:
                print(_profile_line(r))
            figures["profile"] = prof_run.profile
        if args.profile and not args.no_live:
            prof = cProfile.Profile()
            asyncio.run(
                run_live(
                    workdir,
                    features,
                    community_args,
                    min(args.seconds, 10.0),
                    args.rate,
                    args.live_batch,
                    name="live-profiled",
                    profile=prof,
                )
            )
            top = top_functions(prof)
            print("\nprofile of a live run (cProfile; own time):")
            for r in [r for r in top if r["sort"] == "own"][:20]:
                print(_profile_line(r))
            print("groupops functions by cumulative time:")
            for r in [r for r in top if r["sort"] == "cum_groupops"][:30]:
                print(_profile_line(r))
            figures["live_profile"] = top
    print(f"\n== summary ==  ({load_average()})")
    for line in summary:
        print(line)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
