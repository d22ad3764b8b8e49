"""What the simulated people say, in Chinese and English, about each group's topic.

Lines are templates with slots, so a month of chat rarely repeats a sentence. Ordinary talk never
trips the moderation detectors (no links, contacts or phone numbers); ads do, on purpose.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from groupops.simulator.people import Lang

# -- slots --------------------------------------------------------------------------------------
SLOTS: dict[str, Sequence[str]] = {
    "n": [str(n) for n in (2, 3, 5, 8, 10, 12, 15, 20, 30, 45)],
    "zh_time": ("今天", "昨晚", "刚才", "这周", "周末", "早上", "中午", "下班后"),
    "en_time": ("today", "last night", "this morning", "this week", "at the weekend", "just now"),
    "zh_feel": ("太难了", "有点懵", "终于搞懂了", "收获很大", "还挺有意思", "比想象的简单"),
    "en_feel": (
        "so hard",
        "a bit confusing",
        "finally clicked",
        "really useful",
        "fun",
        "easier than I thought",
    ),
    "emoji": ("😂", "👍", "🙏", "😅", "🎉", "💪", "🤔", "☕", "📷", "✨", "😄", "🔥"),
    # the Python course
    "py_topic_zh": (
        "列表推导式",
        "字典",
        "装饰器",
        "生成器",
        "异常处理",
        "文件读写",
        "类和对象",
        "递归",
        "虚拟环境",
        "f-string",
    ),
    "py_topic_en": (
        "list comprehensions",
        "dictionaries",
        "decorators",
        "generators",
        "exceptions",
        "file I/O",
        "classes",
        "recursion",
        "virtual envs",
        "f-strings",
    ),
    "py_task_zh": (
        "第{n}课的作业",
        "爬虫小项目",
        "计算器练习",
        "猜数字游戏",
        "成绩统计脚本",
        "第{n}题",
    ),
    "py_task_en": (
        "the lesson {n} homework",
        "the scraper project",
        "the calculator exercise",
        "the guessing game",
        "exercise {n}",
    ),
    # the coffee brand
    "coffee_zh": (
        "燕麦拿铁",
        "生椰拿铁",
        "美式",
        "冷萃",
        "桂花拿铁",
        "手冲耶加雪菲",
        "摩卡",
        "澳白",
        "焦糖玛奇朵",
    ),
    "coffee_en": (
        "oat latte",
        "coconut latte",
        "americano",
        "cold brew",
        "osmanthus latte",
        "flat white",
        "mocha",
        "pour-over",
    ),
    "store_zh": ("科技园店", "万象城店", "地铁口那家", "公司楼下的店", "新开的滨江店", "机场店"),
    "store_en": (
        "the Tech Park store",
        "the mall store",
        "the one by the metro",
        "the new riverside store",
    ),
    # the photographers
    "photo_zh": ("人像", "街拍", "夜景", "风光", "胶片", "延时摄影", "微距", "星空"),
    "photo_en": (
        "portraits",
        "street shots",
        "night scenes",
        "landscapes",
        "film",
        "timelapse",
        "macro",
        "astro",
    ),
    "gear_zh": (
        "50mm 定焦",
        "广角镜头",
        "三脚架",
        "偏振镜",
        "富士相机",
        "索尼微单",
        "无人机",
        "闪光灯",
    ),
    "gear_en": (
        "50mm prime",
        "wide-angle lens",
        "tripod",
        "polariser",
        "Fuji body",
        "Sony mirrorless",
        "drone",
        "flash",
    ),
    "place_zh": ("外滩", "西湖", "老街", "海边", "公园", "胡同", "山顶", "夜市"),
    "place_en": (
        "the Bund",
        "West Lake",
        "the old town",
        "the beach",
        "the park",
        "the hutongs",
        "the night market",
    ),
}

# -- what people say, per group and language --------------------------------------------------
CHAT: dict[str, dict[Lang, Sequence[str]]] = {
    "course": {
        "zh": (
            "{zh_time}学了{py_topic_zh}，{zh_feel}",
            "{py_task_zh}终于跑通了 {emoji}",
            "打卡第{n}天，{py_topic_zh}还要再复习一下",
            "有没有一起刷题的？我{zh_time}做了{n}道",
            "老师讲的{py_topic_zh}例子很清楚，点赞",
            "{py_task_zh}卡了我{n}分钟，原来是缩进错了 😅",
            "分享一个小技巧：调试的时候多用 print 看中间结果",
            "{zh_time}把{py_topic_zh}的笔记整理好了，感觉清楚多了",
            "大家每天花多少时间学习？我大概{n}分钟",
            "{py_topic_zh}和{py_topic_zh}放在一起学好像更容易理解",
            "第一次写出能用的小工具，好开心 {emoji}",
            "今天的直播回放在哪里看呀",
        ),
        "en": (
            "Studied {py_topic_en} {en_time}, {en_feel}",
            "Finally got {py_task_en} working {emoji}",
            "Day {n} of learning, still need to review {py_topic_en}",
            "Anyone else doing the exercises tonight? I did {n} {en_time}",
            "The {py_topic_en} example in class was really clear, thanks!",
            "Spent {n} minutes on {py_task_en}, it was an indentation error 😅",
            "Tip: print intermediate values when debugging, saves a lot of time",
            "Wrote my notes on {py_topic_en} {en_time}",
            "How long do you all study each day? I do about {n} minutes",
            "My first script that actually does something useful {emoji}",
        ),
    },
    "brand": {
        "zh": (
            "{zh_time}喝了{coffee_zh}，{zh_feel}",
            "{store_zh}的{coffee_zh}今天特别好喝 {emoji}",
            "新品{coffee_zh}谁试过了？值得点吗",
            "会员日能叠加优惠券吗？想多囤几杯{coffee_zh}",
            "{store_zh}排队好长，等了{n}分钟",
            "每天一杯{coffee_zh}续命 ☕",
            "推荐大家试试{coffee_zh}少糖，超级顺口",
            "今天积分换了一杯{coffee_zh}，开心 {emoji}",
            "{store_zh}的店员小姐姐好热情",
            "周末带朋友去了{store_zh}，环境很适合聊天",
            "{coffee_zh}加一份浓缩会不会太苦",
        ),
        "en": (
            "Had an {coffee_en} {en_time}, {en_feel}",
            "The {coffee_en} at {store_en} was great today {emoji}",
            "Has anyone tried the new {coffee_en}? Worth it?",
            "Can member coupons be combined on member day?",
            "Queue at {store_en} took {n} minutes",
            "One {coffee_en} a day keeps me going ☕",
            "Try the {coffee_en} with less sugar, so smooth",
            "Redeemed my points for a free {coffee_en} {emoji}",
            "Took friends to {store_en} at the weekend, nice place to chat",
        ),
    },
    "creators": {
        "zh": (
            "{zh_time}去{place_zh}拍了{photo_zh}，{zh_feel}",
            "新入了{gear_zh}，拍{photo_zh}真香 {emoji}",
            "大家拍{photo_zh}一般用什么参数",
            "{place_zh}的光线{zh_time}特别好，推荐去",
            "后期修了{n}张{photo_zh}，眼睛都花了",
            "有人周末一起去{place_zh}扫街吗",
            "{photo_zh}构图还是得多练，今天拍了{n}张只留了两张",
            "分享下今天的{photo_zh}，求大佬点评 📷",
            "{gear_zh}和{gear_zh}先买哪个好",
            "第一次尝试{photo_zh}，比想象的难",
        ),
        "en": (
            "Went to {place_en} {en_time} for {photo_en}, {en_feel}",
            "Just got a {gear_en}, loving it for {photo_en} {emoji}",
            "What settings do you use for {photo_en}?",
            "The light at {place_en} was amazing {en_time}",
            "Edited {n} {photo_en} shots, my eyes hurt",
            "Anyone up for a photo walk at {place_en} this weekend?",
            "Shot {n} frames of {photo_en} and kept two. Practice!",
            "Here is today's {photo_en} attempt, feedback welcome 📷",
            "Should I get a {gear_en} or a {gear_en} first?",
        ),
    },
}

#: small talk any group has
SMALL_TALK: dict[Lang, Sequence[str]] = {
    "zh": (
        "早上好呀 {emoji}",
        "大家晚安～",
        "哈哈哈哈 {emoji}",
        "同意楼上",
        "学到了 {emoji}",
        "周末愉快！",
        "今天好冷，大家注意保暖",
        "这个群氛围真好",
        "收藏了，谢谢分享",
        "我也是这么觉得的",
        "加油加油 💪",
        "刚下班，看看大家在聊什么",
        "{zh_time}好忙，现在才有空冒个泡",
        "今天天气不错，适合出门",
        "潜水{n}天了，出来说句话",
        "{zh_time}看到群里好热闹",
        "今天也要开开心心的",
        "刚吃完饭，继续摸鱼 {emoji}",
        "这个话题我也想听听大家的看法",
    ),
    "en": (
        "Good morning everyone {emoji}",
        "Night all!",
        "haha {emoji}",
        "Agreed!",
        "TIL, thanks {emoji}",
        "Have a great weekend!",
        "Love this group",
        "Saved, thanks for sharing",
        "Same here",
        "Keep going 💪",
        "Just finished work, what did I miss?",
        "Busy {en_time}, finally have a minute",
        "Lurked for {n} days, saying hi now",
        "So lively in here {en_time}",
        "Hope everyone's having a good day",
        "Back from lunch {emoji}",
        "Curious what others think about this",
    ),
}

#: questions and the answers other members give, per group and language
QUESTIONS: dict[str, dict[Lang, Sequence[str]]] = {
    "course": {
        "zh": (
            "请问{py_topic_zh}和{py_topic_zh}有什么区别？",
            "{py_task_zh}报错 IndexError 怎么办？",
            "新手应该先学{py_topic_zh}还是{py_topic_zh}？",
            "有人知道{py_topic_zh}有什么好的练习题吗？",
            "虚拟环境每次都要重新激活吗？",
            "为什么我的 for 循环只执行了一次？",
        ),
        "en": (
            "What's the difference between {py_topic_en} and {py_topic_en}?",
            "Getting an IndexError in {py_task_en}, any idea why?",
            "Should beginners learn {py_topic_en} or {py_topic_en} first?",
            "Any good practice problems for {py_topic_en}?",
            "Do I need to activate the virtual env every time?",
        ),
    },
    "brand": {
        "zh": (
            "请问会员积分多久过期？",
            "{store_zh}几点关门呀？",
            "{coffee_zh}可以换成燕麦奶吗？",
            "生日当月有免费饮品吗？",
            "优惠券在小程序哪里领？",
        ),
        "en": (
            "When do member points expire?",
            "What time does {store_en} close?",
            "Can I get the {coffee_en} with oat milk?",
            "Is there a free drink in your birthday month?",
            "Where do I find the coupons in the mini program?",
        ),
    },
    "creators": {
        "zh": (
            "拍{photo_zh}快门速度一般设多少？",
            "{gear_zh}适合新手吗？",
            "{place_zh}哪个时间段光线最好？",
            "大家后期用什么软件？",
            "拍{photo_zh}要不要带{gear_zh}？",
        ),
        "en": (
            "What shutter speed do you use for {photo_en}?",
            "Is a {gear_en} good for beginners?",
            "When is the best light at {place_en}?",
            "Which editing app do you all use?",
            "Do I need a {gear_en} for {photo_en}?",
        ),
    },
}

ANSWERS: dict[str, dict[Lang, Sequence[str]]] = {
    "course": {
        "zh": (
            "我之前也遇到过，检查一下下标是不是从 0 开始",
            "先学基础的{py_topic_zh}，后面会轻松很多",
            "课程第{n}节有讲，可以回看一下",
            "试试在循环里打印一下变量，看看哪里不对",
            "不用每次都重新建，激活一下就行",
            "把报错信息完整贴出来，大家帮你看看",
        ),
        "en": (
            "Had the same issue, check whether your index starts at 0",
            "Start with {py_topic_en}, the rest gets easier",
            "Lesson {n} covers it, worth rewatching",
            "Print the variable inside the loop and you'll see",
            "Just activate it, no need to recreate it",
            "Paste the full error and we can have a look",
        ),
    },
    "brand": {
        "zh": (
            "积分一年有效，年底清零",
            "{store_zh}一般晚上十点关门",
            "可以的，点单时备注就行",
            "有的，生日当月送一杯中杯",
            "小程序首页下拉就能看到领券入口",
        ),
        "en": (
            "Points last a year, they reset at year end",
            "Most stores close at 10pm",
            "Yes, just add a note when you order",
            "Yes, a free medium drink in your birthday month",
            "Pull down on the mini program's home page, the coupons are there",
        ),
    },
    "creators": {
        "zh": (
            "一般 1/{n}0 秒以上，手抖的话再快一点",
            "挺适合的，性价比高",
            "日出后和日落前一小时最好",
            "我用 Lightroom，调色很方便",
            "看情况，晚上拍最好带上三脚架",
        ),
        "en": (
            "Usually 1/{n}0 s or faster if your hands shake",
            "Great for beginners, good value",
            "The hour after sunrise and before sunset",
            "Lightroom for me, easy colour grading",
            "At night definitely bring a tripod",
        ),
    },
}

#: a newcomer's first words (long enough to count as a self-introduction)
INTROS: dict[Lang, Sequence[str]] = {
    "zh": (
        "大家好，我是{name}，在深圳做运营，想跟大家一起学习交流 {emoji}",
        "新人报到！我是{name}，平时喜欢{hobby_zh}，请多关照",
        "Hello 大家好，我是{name}，朋友推荐进来的，希望多认识些朋友",
        "我是{name}，刚开始接触这个，{hobby_zh}爱好者一枚，多多指教 🙏",
    ),
    "en": (
        "Hi all, I'm {name}, working in marketing in Shanghai and keen to learn here {emoji}",
        "Hello! {name} here, a friend invited me. I love {hobby_en} 🙏",
        "Hey everyone, I'm {name}, new to this and happy to meet you all",
        "Hi, {name} from Shenzhen, into {hobby_en}, looking forward to chatting",
    ),
}
HOBBIES = {
    "zh": ("拍照", "跑步", "喝咖啡", "看书", "写代码", "旅行", "做饭", "爬山"),
    "en": (
        "photography",
        "running",
        "coffee",
        "reading",
        "coding",
        "travelling",
        "cooking",
        "hiking",
    ),
}

#: check-ins: the bare keyword, or a goal check-in with what was done
CHECKIN_BARE = ("签到", "打卡", "/checkin", "签到", "打卡")
CHECKIN_GOALS: dict[str, dict[Lang, Sequence[str]]] = {
    "course": {
        "zh": (
            "打卡 今天学了{py_topic_zh}",
            "打卡 完成了{py_task_zh}",
            "签到 刷了{n}道题",
            "打卡 今天读了{n}页",
        ),
        "en": (
            "/checkin finished {py_task_en}",
            "/checkin read {n} pages",
            "/checkin practised {py_topic_en}",
        ),
    },
    "brand": {
        "zh": ("打卡 今天的{coffee_zh}", "签到 第{n}杯咖啡", "打卡 早起喝了{coffee_zh}"),
        "en": ("/checkin today's {coffee_en}", "/checkin coffee number {n}"),
    },
    "creators": {
        "zh": ("打卡 今天拍了{n}张{photo_zh}", "打卡 修了{n}张图", "签到 去{place_zh}扫街"),
        "en": ("/checkin shot {n} {photo_en} frames", "/checkin edited {n} photos"),
    },
}

#: what advertisers post: links, contact baits, "DM me" — moderation's business
ADS: dict[Lang, Sequence[str]] = {
    "zh": (
        "加我微信 {handle} 领取免费学习资料",
        "兼职日结，每天{n}0元，加v：{handle}",
        "低价代购正品，私聊我 {emoji}",
        "点击 http://{site}/promo 领取{n}元红包",
        "优惠券群，扫码进群天天有福利",
        "专业刷粉丝刷点赞，加我微信 {handle}",
        "看我头像，有惊喜 💋",
    ),
    "en": (
        "DM me for cheap followers, {n}k for $5",
        "Earn ${n}00 a day from home! Visit https://{site}",
        "Crypto signals with {n}x returns, DM me",
        "Free gift cards at www.{site} 🎁",
        "Add me on WhatsApp for the best deals",
        "Check my bio for exclusive offers 💋",
    ),
}
AD_SITES = (
    "cheap-likes.xyz",
    "quick-cash.top",
    "free-gift.vip",
    "best-deals.shop",
    "profit-now.club",
)
HANDLES = ("abc8866", "vip_7788", "sale2026", "xy_9527", "money888", "deal_4u")

#: an honest member sharing a link (moderation warns them too: links are not allowed here)
INNOCENT_LINKS: dict[Lang, Sequence[str]] = {
    "zh": (
        "这篇文章讲得很好 https://docs.python.org/zh-cn/3/tutorial/",
        "活动详情看这里 www.example.com/event",
    ),
    "en": (
        "Great read: https://docs.python.org/3/tutorial/",
        "Details here: www.example.com/event",
    ),
}

#: a burst of short messages (a flood)
FLOOD: dict[Lang, Sequence[str]] = {
    "zh": ("哈哈哈", "笑死", "！！！", "太好笑了", "😂😂😂", "绝了", "哈哈哈哈哈", "救命"),
    "en": ("lol", "LOL", "omg", "😂😂", "haha", "no way", "!!!", "hahaha"),
}

#: the owner's posts at fixed times
OWNER_POSTS: dict[str, Sequence[str]] = {
    "course": (
        "☀️ 早安！今天的学习主题：{py_topic_zh}。完成后记得打卡哦",
        "📢 今晚 21:00 直播答疑，主题是{py_topic_zh}，有问题提前留言",
        "💡 每日一题：用{py_topic_zh}实现一个小功能，做完的同学发出来看看",
    ),
    "brand": (
        "☕ 早安！今日推荐：{coffee_zh}，会员下单第二杯半价",
        "🎁 会员日福利：今天到{store_zh}出示会员码送小点心",
        "📢 新品{coffee_zh}本周上市，欢迎大家来尝鲜并分享感受",
    ),
    "creators": (
        "📷 每周主题：{photo_zh}，周日前在群里分享作品参加评选",
        "☀️ 早安各位！今天适合去{place_zh}拍{photo_zh}",
        "💡 今晚 20:00 分享会：{photo_zh}的构图技巧，欢迎参加",
    ),
}

REACTIONS = ("👍", "❤️", "😂", "🎉", "🙏", "🔥", "👏", "😮")

_SLOT = re.compile(r"\{([a-z_]+)\}")


def fill(rng: random.Random, template: str, **fixed: str) -> str:
    """Fill a template's ``{slot}``s: fixed values first, then a random choice per slot."""

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in fixed:
            return fixed[key]
        if key in SLOTS:
            return rng.choice(SLOTS[key])
        if key in ("hobby_zh", "hobby_en"):
            return rng.choice(HOBBIES[key[-2:]])
        if key == "handle":
            return rng.choice(HANDLES)
        if key == "site":
            return rng.choice(AD_SITES)
        return match.group(0)

    # slots inside slot values ("第{n}课的作业") are filled in a second pass
    return _SLOT.sub(one, _SLOT.sub(one, template))


def _topic(chat_id: str) -> str:
    return chat_id if chat_id in CHAT else "course"


#: how people end a line: nothing, an emoji, a particle
ENDINGS: dict[Lang, Sequence[str]] = {
    "zh": ("", "", "", "", " 😄", " 👍", "～", "！", " 哈哈", "呀", "啊", " 🙏", " 😂", "。"),
    "en": ("", "", "", "", " 😄", " 👍", "!", " haha", " :)", " 🙏", " 😂", "."),
}


def _say(rng: random.Random, line: str, lang: Lang) -> str:
    return line + rng.choice(ENDINGS[lang])


def chat_line(rng: random.Random, chat_id: str, lang: Lang) -> str:
    pool = CHAT[_topic(chat_id)][lang] if rng.random() < 0.8 else SMALL_TALK[lang]
    return _say(rng, fill(rng, rng.choice(pool)), lang)


def question(rng: random.Random, chat_id: str, lang: Lang) -> str:
    return fill(rng, rng.choice(QUESTIONS[_topic(chat_id)][lang]))


def answer(rng: random.Random, chat_id: str, lang: Lang) -> str:
    return _say(rng, fill(rng, rng.choice(ANSWERS[_topic(chat_id)][lang])), lang)


def intro(rng: random.Random, lang: Lang, name: str) -> str:
    return fill(rng, rng.choice(INTROS[lang]), name=name)


def checkin(rng: random.Random, chat_id: str, lang: Lang) -> str:
    if rng.random() < 0.4:
        return fill(rng, rng.choice(CHECKIN_GOALS[_topic(chat_id)][lang]))
    if lang == "en" and rng.random() < 0.7:
        return "/checkin"
    return rng.choice(CHECKIN_BARE)


def ad(rng: random.Random, lang: Lang) -> str:
    return fill(rng, rng.choice(ADS[lang]))


def innocent_link(rng: random.Random, lang: Lang) -> str:
    return rng.choice(INNOCENT_LINKS[lang])


def flood(rng: random.Random, lang: Lang, count: int) -> list[str]:
    return [rng.choice(FLOOD[lang]) for _ in range(count)]


def owner_post(rng: random.Random, chat_id: str) -> str:
    return fill(rng, rng.choice(OWNER_POSTS[_topic(chat_id)]))


#: the gate's captcha, in any language: "How much is 3 + 5?" / "3 + 5 等于多少？"
_SUM = re.compile(r"(\d+)\s*\+\s*(\d+)")


def solve_captcha(text: str) -> str | None:
    """What a person answers to the gate's sum (None when the text holds no sum)."""
    found = _SUM.search(text)
    if found is None:
        return None
    return str(int(found.group(1)) + int(found.group(2)))
