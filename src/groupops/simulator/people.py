"""The simulated people: realistic Chinese and English names, a habit each, and a life in the
community (when they join, how much they talk, whether they check in, when they drift away).

Everything comes from one ``random.Random``: the same seed makes the same people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["zh", "en"]
Kind = Literal["regular", "lurker", "spammer", "bot"]


def _w(words: str) -> tuple[str, ...]:
    return tuple(words.split())


ZH_SURNAMES = _w(
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 "
    "彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 "
    "廖 贾 夏 韦 付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 "
    "欧阳 司马 上官"
)
ZH_GIVEN = _w(
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 晓明 晓燕 欣怡 "
    "子涵 梓萱 浩然 宇轩 思远 雨桐 嘉怡 一诺 子墨 俊杰 文博 天佑 欣然 语嫣 佳琪 梦瑶 晨曦 "
    "志强 建华 国栋 海燕 红梅 丹丹 婷婷 亮 鹏 斌 琳 颖 倩 慧 晶 博文 雅静 诗涵 若曦 锦程 "
    "沐阳 安琪 乐乐 可欣 家豪 振宇 春燕 秋月 冬梅 晓峰 立新 卫东 蕾 薇 璐 悦 瑾 "
)
ZH_NICKNAMES = _w(
    "小鹿爱咖啡 阿杰在路上 橘子汽水 山川 风吹麦浪 一只柠檬 夏天的风 北极星 慢慢来 "
    "追光的人 小胖 豆豆妈 老周 阿May 星空下 咖啡不加糖 木子 清风徐来 七月 拾光 "
    "胶片少年 南方姑娘 代码搬运工 学Python的猫 早起的鸟 大橙子 半糖 小确幸 雨后彩虹 路人甲"
)
EN_FIRST = _w(
    "Emily Olivia Sophia Ava Mia Chloe Grace Lily Hannah Zoe Ella Nora Ruby Alice Clara Julia "
    "James Liam Noah Ethan Lucas Mason Logan Jack Ryan Daniel David Henry Leo Owen Adam Sam "
    "Priya Arjun Yuki Kenji Minh Linh Carlos Sofia Mateo Lucia Omar Layla Jonas Freya Tom Kate"
)
EN_LAST = _w(
    "Smith Johnson Brown Taylor Miller Wilson Moore Clark Walker Young King Wright Scott Green "
    "Baker Adams Nelson Carter Mitchell Turner Parker Evans Collins Murphy Cook Rogers Reed "
    "Patel Nguyen Tanaka Garcia Lopez Silva Rossi Müller Novak Kowalski Jensen O'Brien"
)
EN_HANDLES = _w(
    "mike_codes coffee.lover jenny.snaps alex_in_sz dev_dan photo_kat sam.learns lucy_brews "
    "night_owl_88 wanderlust_ben pixel_pete nina.frames chris_py yoga_mia tea_not_coffee"
)
BOT_NAMES = (
    "Crypto Profit 💰",
    "Free_Followers_Now",
    "优惠券领取",
    "Sexy Lisa 💋",
    "Airdrop Bot",
    "兼职招募小助手",
    "Earn $500 Daily",
    "Promo_Agent_7",
    "VIP资源分享",
    "Forex Signals",
    "刷单返利",
    "Lucky Draw Bot",
)


@dataclass
class Person:
    """One simulated member. ``groups`` lists the chats they join (home first)."""

    uid: str
    name: str
    lang: Lang
    kind: Kind
    groups: list[str]
    #: messages a day when fully engaged
    chattiness: float
    #: chance to check in on a given day
    checkin_habit: float
    #: chance to answer a question they see
    helpfulness: float
    #: days after the start when they first join
    join_day: float
    #: days after joining when they drift away (None: they stay)
    stays_days: float | None
    #: they sometimes fire off several short messages in a row (a flood)
    flood_prone: bool = False
    #: extra state the simulation keeps
    notes: dict[str, object] = field(default_factory=dict)


def _zh_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.22:
        return rng.choice(ZH_NICKNAMES)
    return rng.choice(ZH_SURNAMES) + rng.choice(ZH_GIVEN)


def _en_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.18:
        return rng.choice(EN_HANDLES)
    if roll < 0.45:
        return rng.choice(EN_FIRST)
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


def _unique(rng: random.Random, make: object, taken: set[str]) -> str:
    assert callable(make)
    for attempt in range(50):
        name = str(make(rng))
        if attempt > 20:
            name = f"{name}{rng.randint(2, 99)}"
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("could not find a free name")  # pragma: no cover


#: the days (after the start) a recruitment wave brings people in, with its share of them
WAVES: tuple[tuple[float, float], ...] = (
    (0.0, 0.34),
    (2.0, 0.10),
    (6.0, 0.16),
    (13.0, 0.14),
    (20.0, 0.10),
)
TRICKLE = 1.0 - sum(share for _, share in WAVES)


def make_people(rng: random.Random, count: int, chats: list[str], days: float) -> list[Person]:
    """``count`` people for ``chats`` over ``days``: mostly regulars, some lurkers, a few
    advertisers and bots; about two thirds speak Chinese."""
    taken: set[str] = set()
    people: list[Person] = []
    weights = [0.42, 0.30, 0.28][: len(chats)] or [1.0]
    for n in range(count):
        roll = rng.random()
        kind: Kind
        if roll < 0.05:
            kind = "spammer"
        elif roll < 0.085:
            kind = "bot"
        elif roll < 0.25:
            kind = "lurker"
        else:
            kind = "regular"
        lang: Lang = "zh" if rng.random() < 0.68 else "en"
        if kind == "bot":
            name = _unique(rng, lambda r: r.choice(BOT_NAMES), taken)
        else:
            name = _unique(rng, _zh_name if lang == "zh" else _en_name, taken)
        home = rng.choices(chats, weights=weights[: len(chats)])[0]
        groups = [home]
        others = [c for c in chats if c != home]
        if kind == "spammer":
            groups += others  # advertisers go wherever people are
        elif others and rng.random() < 0.15:
            groups.append(rng.choice(others))
        # when they join: a recruitment wave, or any day
        wave_roll = rng.random()
        join_day = rng.uniform(0.0, max(0.5, days - 0.5))
        acc = 0.0
        for day, share in WAVES:
            acc += share
            if wave_roll < acc:
                join_day = day + rng.uniform(0.0, 0.06) if day < days else join_day
                break
        if kind == "bot":
            join_day = rng.uniform(0.0, max(0.5, days - 0.5))
        chattiness = {
            "regular": rng.lognormvariate(-0.35, 0.8),
            "lurker": rng.uniform(0.02, 0.25),
            "spammer": rng.uniform(0.1, 0.4),
            "bot": 0.0,
        }[kind]
        habit = 0.0
        if kind == "regular":
            habit = rng.choice((0.0, 0.0, 0.1, 0.25, 0.45, 0.7, 0.9))
        elif kind == "lurker":
            habit = rng.choice((0.0, 0.0, 0.15, 0.5))
        stays: float | None = None
        if kind in ("regular", "lurker") and rng.random() < 0.3:
            stays = rng.expovariate(1 / 9.0) + 0.2
        people.append(
            Person(
                uid=f"sim{n:04d}",
                name=name,
                lang=lang,
                kind=kind,
                groups=groups,
                chattiness=chattiness,
                checkin_habit=habit,
                helpfulness=rng.uniform(0.05, 0.6) if kind == "regular" else 0.02,
                join_day=join_day,
                stays_days=stays,
                flood_prone=kind == "regular" and rng.random() < 0.12,
            )
        )
    return people


#: the people who run each group (群主): admins, exempt from moderation
OWNERS: dict[str, tuple[str, str]] = {
    "course": ("owner-course", "助教 Lily"),
    "brand": ("owner-brand", "小鹿咖啡 店长"),
    "creators": ("owner-creators", "群主 老K"),
}


def owner_of(chat_id: str) -> tuple[str, str]:
    return OWNERS.get(chat_id, (f"owner-{chat_id}", "群主"))
