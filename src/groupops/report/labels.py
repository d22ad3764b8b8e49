"""The report's words: area headings and their help lines, chart titles, column labels, the
translatable names of metric keys and of the fixed value sets (stages, segments, content kinds,
join channels), and plotly.js's own words in the report's language.

Every string here is marked with ``N_()`` and translated where it is shown
(:mod:`groupops.report.html`, :mod:`groupops.report.page`, :mod:`groupops.report.commands`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from groupops.i18n import N_, english

Gettext = Callable[[str], str]

# area key in the metrics -> its heading
AREAS: tuple[tuple[str, str], ...] = (
    ("lifecycle", N_("Life cycle and early warning")),
    ("activity", N_("Activity")),
    ("segments", N_("Member segments")),
    ("top3", N_("Monthly top 3")),
    ("graph", N_("Reply graph: opinion leaders and soul figures")),
    ("qa", N_("Questions and answers")),
    ("content", N_("Content that works")),
    ("spam", N_("Spam and ads")),
    ("sentiment", N_("Sentiment")),
    ("keywords", N_("Top keywords")),
    ("growth", N_("Growth: who invited whom")),
)
ALIASES = {"replies": "graph", "top_3": "top3", "monthly_top3": "top3", "invitations": "growth"}
# what each part means and how to act on it: one line under its heading (docs/report.md)
AREA_HELP = {
    "lifecycle": N_(
        "The stage (new, growing, mature, declining, dead), the evidence behind it, and a warning "
        "when the figures point to the group dying before it does: act on a warning while "
        "members still read the group."
    ),
    "activity": N_(
        "Messages and active members per day, week and month; when people talk (hour × "
        "weekday), the times to post announcements; how many of each week's newcomers are still "
        "active in the weeks after they joined."
    ),
    "segments": N_(
        "Every member in one segment: new and active, core, drifting, occasional, silent, gone. "
        "Contact the drifting members now, while they still read the group."
    ),
    "top3": N_("The three most active members of each month: the names to thank publicly."),
    "graph": N_(
        "Who answers whom: opinion leaders (most central in the conversation) and soul figures "
        "(members whose departure would split the conversation most: make sure the group does "
        "not hang on one person)."
    ),
    "qa": N_(
        "Questions asked, first-response time (median, 90th percentile, share answered within "
        "one minute) and the questions nobody answered: answer those, or ask someone who can."
    ),
    "content": N_(
        "Replies and reactions per post for each kind of content (text, picture, video, voice, "
        "link, article, file, net-disk link), measured on your group: post more of what people "
        "answer."
    ),
    "spam": N_(
        "Share of messages that are spam or ads, and who sent most of them: look at those "
        "members first."
    ),
    "sentiment": N_(
        "The mood over time, negative spikes and who started them: read what happened in a "
        "spike's week."
    ),
    "keywords": N_("What the group talks about (Chinese is segmented into words)."),
    "growth": N_(
        "Who invited whom (where the export records it), invitees per inviter, generations, and "
        "how many invitees are still active after 7 and 30 days."
    ),
}
T_TITLE = N_("Group health report")
T_SUBTITLE = N_("{start} to {end} · messages: {messages} · members: {members} · files: {files}")
T_OVERVIEW = N_("Overview")
T_OVERVIEW_HELP = N_(
    "The group at a glance: stage, members, messages, active members, any early warning."
)
T_OTHER = N_("Other figures")
T_MORE = N_("{n} more rows in metrics.json")
T_MORE_ONE = N_("1 more row in metrics.json")
# chart titles: what the chart shows, with its zone or period where it has one
C_PER_DAY = N_("Messages and active members per day, {start} to {end} ({zone} time)")
C_PER_DAY_CUT = N_(
    "Messages and active members per day, the last {n} days: {start} to {end} ({zone} time)"
)
C_PER_WEEK = N_("Messages and active members per week (weeks from Monday, {zone} time)")
C_PER_MONTH = N_("Messages and active members per month ({zone} time)")
C_HEATMAP = N_("When people talk: messages by weekday and hour ({zone} time)")
C_HOUR = N_("hour of the day ({zone})")
C_RETENTION = N_("Newcomers still active: share of each join week's newcomers who posted, by week")
C_SEGMENTS = N_("Members per segment")
C_LEADERS = N_("Opinion leaders: their weight in the reply graph (PageRank)")
C_CONTENT = N_("Replies and reactions per post, by content kind")
C_SENTIMENT = N_("Mood per week: share of positive and negative messages ({zone} time)")
C_KEYWORDS = N_("Most frequent words (times used)")
C_INVITEES = N_("Invitees per inviter")
T_TREE = N_("Who invited whom, by generation (generation 1: invited by someone nobody invited)")
T_GENERATION = N_("generation {generation}: {invitees} invited by {inviters}")
L_INVITED = N_("whom they invited")
# the analysis' stages (groupops.analytics.STAGES) as the progress bar names them
ANALYSIS_STAGES = {
    "activity": N_("activity, life cycle and segments"),
    "replies": N_("linking replies"),
    "graph": N_("reply graph"),
    "qa_content_growth": N_("questions, content and growth"),
    "spam": N_("spam and ads"),
    "sentiment": N_("sentiment"),
    "keywords": N_("keywords"),
}
L_SEGMENT = N_("segment")
L_MEANING = N_("what it means")
T_FOOTER = N_("Made by groupops on {date}. Every figure is also in metrics.json.")
T_NO_DATA = N_("No data for this part.")
T_ALL_FIGURES = N_("All figures of this part")

L_MESSAGES = N_("messages")
L_MEMBERS = N_("members")
L_ACTIVE = N_("active members, last 30 days")
L_STAGE = N_("stage")
L_WARNING = N_("early warning")
L_EVIDENCE = N_("evidence")
#: the last line of the life cycle's evidence: the rule the figures gave the stage by
L_RULE = N_("by the rule: {rule}")
L_NO_WARNING = N_("No early warning: nothing points to the group dying.")
L_HOUR = N_("hour")
L_WEEKDAY = N_("weekday")
L_DAY = N_("day")
L_WEEK = N_("week")
L_MONTH = N_("month")
L_COHORT = N_("join week")
L_WEEKS_AFTER = N_("weeks after joining")
L_RETAINED = N_("share still active")
L_COUNT = N_("count")
L_SCORE = N_("score")
L_MEMBER = N_("member")
L_SHARE = N_("share")
L_MEDIAN = N_("median first response")
L_P90 = N_("90th percentile")
L_WITHIN_1M = N_("answered within 1 minute")
L_QUESTIONS = N_("questions")
L_UNANSWERED = N_("unanswered")
L_SPAM_SHARE = N_("spam share")
L_NEGATIVE = N_("negative")
L_POSITIVE = N_("positive")
L_KEYWORD = N_("keyword")
L_INVITEES = N_("invitees")
L_REPLIES_PER_POST = N_("replies per post")
L_REACTIONS_PER_POST = N_("reactions per post")
L_POSTS = N_("posts")
L_LEADERS = N_("opinion leaders")
L_SOULS = N_("soul figures")
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
STAGES = {
    "new": N_("new"),
    "growing": N_("growing"),
    "mature": N_("mature"),
    "declining": N_("declining"),
    "dead": N_("dead"),
}
SEGMENTS = {
    "new_active": N_("New and active"),
    "core": N_("Core"),
    "drifting": N_("Drifting away"),
    "occasional": N_("Occasional"),
    "silent": N_("Silent"),
    "churned": N_("Gone"),
}
# what each segment means (docs/analytics.md) and what to do about it
SEGMENT_HELP = {
    "new_active": N_("joined in the last 14 days and posted in them: welcome them"),
    "core": N_(
        "in the top quarter of posters of the last 28 days and posted in the last 7: the "
        "members who carry the group"
    ),
    "drifting": N_(
        "were in the top quarter of posters and have been quiet for 7 to 28 days: the people "
        "to contact now"
    ),
    "occasional": N_("everyone else who has posted in the last 28 days"),
    "silent": N_("never posted: they read, or left without saying so"),
    "churned": N_("left the group, or posted before but nothing in the last 28 days"),
}
# plotly.js's own words in the report's language: month and day names, date formats (the date
# axes' ticks and hover labels) and the toolbar buttons the report keeps. plotly.js ships no
# locale but English in its bundle and nothing is fetched, so the page registers this itself.
MODEBAR_REMOVE = (
    "select2d",
    "lasso2d",
    "autoScale2d",
    "hoverClosestCartesian",
    "hoverCompareCartesian",
    "toggleSpikelines",
)
PLOTLY_LOCALES: dict[str, dict[str, Any]] = {
    "zh_CN": {
        "moduleType": "locale",
        "name": "zh-CN",
        "dictionary": {
            "Download plot as a PNG": "下载图表（PNG）",
            "Download plot": "下载图表",
            "Zoom": "缩放",
            "Pan": "平移",
            "Zoom in": "放大",
            "Zoom out": "缩小",
            "Reset axes": "重置坐标轴",
            "Autoscale": "自动缩放",
            "Double-click to zoom back out": "双击还原",
            "Taking snapshot - this may take a few seconds": "正在生成图片，请稍候",
            "Snapshot succeeded": "图片已生成",
            "Sorry, there was a problem downloading your snapshot!": "抱歉，下载图片时出错！",
        },
        "format": {
            "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
            "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
            "months": [f"{m}月" for m in range(1, 13)],
            "shortMonths": [f"{m}月" for m in range(1, 13)],
            "periods": ["上午", "下午"],
            "dateTime": "%Y年%-m月%-d日 %A %X",
            "date": "%Y-%m-%d",
            "time": "%H:%M:%S",
            "decimal": ".",
            "thousands": ",",
            "grouping": [3],
            "currency": ["¥", ""],
            "year": "%Y年",
            "month": "%Y年%-m月",
            "dayMonth": "%-m月%-d日",
            "dayMonthYear": "%Y年%-m月%-d日",
        },
    }
}
CONTENT_KINDS = {
    "text": N_("text"),
    "picture": N_("picture"),
    "video": N_("video"),
    "voice": N_("voice"),
    "sticker": N_("sticker"),
    "h5_link": N_("H5/web link"),
    "article_link": N_("article link"),
    "file": N_("file"),
    "netdisk_link": N_("net-disk link"),
    "other": N_("other"),
}
# how members joined (growth.joins_by_channel)
JOIN_CHANNELS = {
    "added": N_("added by a member"),
    "add": N_("added by a member"),
    "invite": N_("invited"),
    "invite_link": N_("invite link"),
    "link": N_("invite link"),
    "qr_code": N_("QR code"),
    "request": N_("join request"),
    "join": N_("joined by themselves"),
    "unknown": N_("unknown"),
}
# metric keys (metrics.json stays as it is) -> what a reader sees as a heading or column
KEYS = {
    "activity": N_("activity"),
    "active": N_("raised"),
    "active_last_28d": N_("active members, last 28 days"),
    "active_members": N_("active members"),
    "active_members_30d": N_("active members, last 30 days"),
    "active_prev_28d": N_("active members, 28 days before"),
    "active_ratio": N_("active members, last 28 days / 28 days before"),
    "age_days": N_("age (days)"),
    "answer_rate": N_("answer rate"),
    "answered": N_("answered"),
    "articulation_point": N_("cut vertex"),
    "articulation_points": N_("cut vertices"),
    "average": N_("average"),
    "baseline": N_("baseline"),
    "betweenness": N_("betweenness"),
    "by_generation": N_("invitees by generation"),
    "by_kind": N_("by content kind"),
    "claim_holds": N_("the usual ranking holds"),
    "claimed_ranking": N_("usual ranking"),
    "cohorts": N_("cohorts"),
    "count": N_("count"),
    "date": N_("date"),
    "days": N_("days"),
    "days_since_last_message": N_("days since the last message"),
    "departures": N_("departures"),
    "edges": N_("edges"),
    "engagement_per_post": N_("engagement per post"),
    "events": N_("events"),
    "evidence": N_("evidence"),
    "examples": N_("examples"),
    "figures": N_("figures"),
    "first": N_("first day"),
    "first_message": N_("first message"),
    "first_response": N_("first response"),
    "from": N_("from"),
    "generation": N_("generation"),
    "generations": N_("generations"),
    "horizon_weeks": N_("weeks followed"),
    "invited": N_("invited"),
    "invitee": N_("invitee"),
    "invitees": N_("invitees"),
    "inviter": N_("inviter"),
    "inviters": N_("inviters"),
    "inviters_count": N_("inviters"),
    "joins": N_("joins"),
    "joins_by_channel": N_("joins by channel"),
    "kind": N_("content kind"),
    "largest_component": N_("largest connected group"),
    "last": N_("last day"),
    "last_message": N_("last message"),
    "links": N_("reply links"),
    "measured_ranking": N_("measured ranking"),
    "median": N_("median"),
    "members": N_("members"),
    "message": N_("message"),
    "message_ratio": N_("messages, last 28 days / 28 days before"),
    "messages": N_("messages"),
    "messages_28d": N_("messages, last 28 days"),
    "messages_last_28d": N_("messages, last 28 days"),
    "messages_prev_28d": N_("messages, 28 days before"),
    "min_posts": N_("least posts to be ranked"),
    "month": N_("month"),
    "name": N_("name"),
    "negative": N_("negative"),
    "nodes": N_("nodes"),
    "now": N_("as of"),
    "opinion_leaders": N_("opinion leaders"),
    "p90": N_("90th percentile"),
    "pairwise_agreement": N_("pairwise agreement"),
    "people_seen": N_("people seen"),
    "positive": N_("positive"),
    "posters": N_("posters"),
    "posts": N_("posts"),
    "projected_weekly_messages_in_8_weeks": N_("projected weekly messages in 8 weeks"),
    "questions": N_("questions"),
    "reactions_per_post": N_("reactions per post"),
    "replies_per_post": N_("replies per post"),
    "replies_received": N_("replies received"),
    "retained": N_("share still active"),
    "resolution_s": N_("times written to the nearest"),
    "rule": N_("rule"),
    "sampled": N_("messages read"),
    "score": N_("score"),
    "scored": N_("messages scored"),
    "share": N_("share"),
    "share_of_their_messages": N_("share of their messages"),
    "size": N_("size"),
    "soul_figures": N_("soul figures"),
    "spam": N_("spam messages"),
    "spikes": N_("negative spikes"),
    "split": N_("share of members cut off without them"),
    "stage": N_("stage"),
    "started_by": N_("started by"),
    "text": N_("text"),
    "text_messages": N_("text messages"),
    "time": N_("time"),
    "time_zone": N_("time zone"),
    "top_offenders": N_("top offenders"),
    "tree": N_("invitation tree"),
    "unanswered": N_("unanswered"),
    "warning": N_("early warning"),
    "week": N_("week"),
    "weekly_change": N_("weekly change"),
    "weekly_messages_last_12": N_("messages per week, last 12 weeks"),
    "within_1min": N_("answered within 1 minute"),
    "word": N_("keyword"),
}
# a key that means something else in one area
AREA_KEYS = {
    ("activity", "active_ratio"): N_("share of members active in the last 30 days"),
    ("sentiment", "average"): N_("average mood (from -1, negative, to 1, positive)"),
}
L_GENERATION_N = N_("generation {n}")
# keys of a shown mapping whose keys are data, not names: how each of its keys is said
DATA_KEYS = {"by_generation": L_GENERATION_N}
L_ACTIVE_AFTER = N_("active {days} days after joining")
_ACTIVE_AFTER = re.compile(r"active_after_(\d+)d")
# columns whose values are one of a fixed set of words, and those sets
VALUE_COLUMNS = {"kind": CONTENT_KINDS, "stage": STAGES, "segment": SEGMENTS}
# columns of a table that hold a share (0-1): shown as a percentage
SHARE_COLUMNS = frozenset(
    {
        "share_of_their_messages",
        "share",
        "spam_share",
        "active_ratio",
        "split",
        "answer_rate",
        "within_1min",
        "active_after_7d",
        "active_after_30d",
        "pairwise_agreement",
    }
)
# a key of SHARE_COLUMNS that holds a ratio (can exceed 1) in one area
NOT_SHARES = frozenset({("lifecycle", "active_ratio")})
# durations in seconds (qa.first_response), said in s, min, h or d
DURATION_KEYS = frozenset({"median", "p90"})
# plotly date formats of the chart axes, per report language: a month's tick, a day's tick and
# a week (its Monday) in the hover label
DATE_FORMATS = {
    "zh_CN": {"month": "%Y年%-m月", "day": "%-m月%-d日", "week": "%Y年%-m月%-d日起的一周"},
    "en": {"month": "%b %Y", "day": "%b %-d", "week": "week of %b %-d, %Y"},
}
VALUE_LISTS = {"measured_ranking": CONTENT_KINDS, "claimed_ranking": CONTENT_KINDS}
VALUE_KEYS = {"joins_by_channel": JOIN_CHANNELS}
# keys whose values are the analytics' sentences (groupops.analytics.texts)
TEXTS = {"rule", "message", "evidence"}
SECONDS = N_("{n} s")
UNDER_A_MINUTE = N_("under 1 min")
MINUTES = N_("{n} min")
HOURS = N_("{n} h")
DAYS = N_("{n} d")


def key_label(key: Any, _: Gettext = english, area: str = "") -> str:
    """A metric key (of ``area``) as a reader sees it: translated, else with its underscores
    as spaces."""
    name = str(key)
    if (area, name) in AREA_KEYS:
        return _(AREA_KEYS[area, name])
    if name in KEYS:
        return _(KEYS[name])
    m = _ACTIVE_AFTER.fullmatch(name)
    if m:
        return _(L_ACTIVE_AFTER).format(days=m.group(1))
    return name.replace("_", " ")


def value_label(value: Any, words: Mapping[str, str], _: Gettext = english) -> Any:
    """One of a fixed set of words (content kinds, stages, ...) translated; else as it is."""
    if isinstance(value, str) and value in words:
        return _(words[value])
    if isinstance(value, list):
        return [value_label(v, words, _) for v in value]
    return value
