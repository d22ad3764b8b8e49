"""metrics -> one self-contained HTML page.

Everything the page needs is inside it: the CSS, the figures as JSON, and plotly.js itself
(inlined once from the installed ``plotly`` package, never a CDN; no web fonts). Every string
that comes from a chat (names, texts, keywords) is escaped: the page text by Jinja2's
autoescape, chart labels by :func:`label` (plotly draws a small HTML subset in labels), and the
figure JSON by plotly, which writes ``<``, ``>`` and ``/`` as ``\\u`` escapes.

The renderer reads the metrics the analytics produce (``groupops.analytics.analyze``) area by
area; an area it has no chart for is still shown as tables, so every figure is on the page.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from groupops.analytics.texts import translate
from groupops.i18n import N_, Catalogs, english

Gettext = Callable[[str], str]
MAX_ROWS = 25  # rows per table on the page; metrics.json has them all

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
    "Messages and active members per day, the last {n} days with messages: {start} to {end} "
    "({zone} time)"
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
L_SEGMENT = N_("segment")
L_MEANING = N_("what it means")
T_FOOTER = N_("Made by groupops on {date}. Every figure is also in metrics.json.")
T_NO_DATA = N_("No data for this part.")
T_ALL_FIGURES = N_("All figures of this part")

L_MESSAGES = N_("messages")
L_MEMBERS = N_("members")
L_ACTIVE = N_("active members")
L_STAGE = N_("stage")
L_WARNING = N_("early warning")
L_EVIDENCE = N_("evidence")
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
    "split": N_("members cut off without them"),
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
AREA_KEYS = {("activity", "active_ratio"): N_("share of members active in the last 30 days")}
L_ACTIVE_AFTER = N_("active {days} days after joining")
_ACTIVE_AFTER = re.compile(r"active_after_(\d+)d")
# columns whose values are one of a fixed set of words, and those sets
VALUE_COLUMNS = {"kind": CONTENT_KINDS, "stage": STAGES, "segment": SEGMENTS}
# columns of a table that hold a share (0-1): shown as a percentage
SHARE_COLUMNS = frozenset({"share_of_their_messages", "share", "spam_share", "active_ratio"})
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


def label(value: Any) -> str:
    """A chat string made safe for a plotly label (plotly renders a subset of HTML there)."""
    return html.escape(str(value), quote=True)


# -- reading the metrics tolerantly ----------------------------------------------------------


def pick(obj: Any, *names: str) -> Any:
    """The first of ``names`` present in the mapping ``obj`` (None when none is)."""
    if isinstance(obj, Mapping):
        for name in names:
            if name in obj and obj[name] is not None:
                return obj[name]
    return None


def num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if isinstance(value, float) and not math.isfinite(value) else float(value)


def fmt(value: Any, _: Gettext | None = None) -> str:
    """A figure for people: thousands separated, floats to 3 significant places. With ``_``,
    the keys of a mapping are shown as :func:`key_label`."""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v, _) for v in value[:20]) + (" …" if len(value) > 20 else "")
    if isinstance(value, Mapping):
        items = list(value.items())[:12]
        if _ is None:
            return "; ".join(f"{k}: {fmt(v)}" for k, v in items)
        return "; ".join(f"{key_label(k, _)}: {fmt(v, _)}" for k, v in items)
    return str(value)


def pct(value: Any) -> str:
    v = num(value)
    return "–" if v is None else f"{v * 100:.1f}%"


def seconds(value: Any, _: Gettext = english, resolution: Any = 1) -> str:
    """A duration in the unit that suits it (s, min, h, d), units through ``_``; under a minute
    said as such when the times were written to the minute (``resolution`` 60 s)."""
    v = num(value)
    if v is None:
        return "–"
    if (num(resolution) or 1) >= 60 and v < 5400:  # whole minutes: no seconds to show
        return _(UNDER_A_MINUTE) if v < 60 else _(MINUTES).format(n=f"{v / 60:.0f}")
    if v < 90:
        return _(SECONDS).format(n=f"{v:.0f}")
    if v < 5400:
        return _(MINUTES).format(n=f"{v / 60:.1f}")
    if v < 172800:
        return _(HOURS).format(n=f"{v / 3600:.1f}")
    return _(DAYS).format(n=f"{v / 86400:.1f}")


def series(obj: Any) -> tuple[list[Any], dict[str, list[float | None]]]:
    """A time series in any of the usual shapes -> (x, {name: y}).

    Accepts a list of records (``[{"date": ..., "messages": ...}]``), a mapping of x to a
    number or to a record, or column lists (``{"x"/"dates": [...], "messages": [...]}``)."""
    xs: list[Any] = []
    ys: dict[str, list[float | None]] = {}
    xkeys = ("date", "day", "week", "month", "period", "start", "time", "x", "bucket")
    if isinstance(obj, Mapping):
        xcol = pick(obj, "dates", "days", "weeks", "months", "periods", "x", "index", "labels")
        if isinstance(xcol, list):
            xs = list(xcol)
            for k, v in obj.items():
                if (
                    isinstance(v, list)
                    and v is not xcol
                    and len(v) == len(xs)
                    and all(num(i) is not None or i is None for i in v)
                ):
                    ys[str(k)] = [num(i) for i in v]
            return xs, ys
        records: list[Any] = [
            {"x": k, **v} if isinstance(v, Mapping) else {"x": k, "value": v}
            for k, v in obj.items()
        ]
    elif isinstance(obj, list):
        records = list(obj)
    else:
        return xs, ys
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            if isinstance(rec, list | tuple) and len(rec) >= 2:
                xs.append(rec[0])
                ys.setdefault("value", [None] * i).append(num(rec[1]))
            continue
        x = pick(rec, *xkeys)
        xs.append(x)
        for k, v in rec.items():
            if k in xkeys:
                continue
            n = num(v)
            if n is not None or k in ys:
                ys.setdefault(str(k), [None] * (len(xs) - 1)).append(n)
        for values in ys.values():
            while len(values) < len(xs):
                values.append(None)
    return xs, ys


def records(obj: Any) -> list[Mapping[str, Any]]:
    """A list of records from a list of mappings, or from a mapping of name -> record/number."""
    if isinstance(obj, list):
        return [r for r in obj if isinstance(r, Mapping)]
    if isinstance(obj, Mapping):
        out: list[Mapping[str, Any]] = []
        for k, v in obj.items():
            out.append({"name": k, **v} if isinstance(v, Mapping) else {"name": k, "value": v})
        return out
    return []


# -- page building ----------------------------------------------------------------------------


class Page:
    """Collects blocks for one section; charts get unique ids."""

    def __init__(self, _: Gettext, lang: str = "en", zone: str = "UTC") -> None:
        self._ = _
        self.sections: list[dict[str, Any]] = []
        self.blocks: list[dict[str, Any]] = []
        self._ids = 0
        self.area = ""
        self.lang = lang
        self.zone = zone  # the zone of the metrics' days and hours

    def section(self, key: str, title: str, help: str = "") -> None:
        """A new part of the page; ``help`` says in one line what it means and how to act."""
        self.blocks = []
        self.area = key
        self.sections.append({"key": key, "title": title, "help": help, "blocks": self.blocks})

    def cards(self, items: Iterable[tuple[str, Any]]) -> None:
        shown = [(k, v) for k, v in items if v not in (None, "–")]
        if shown:
            self.blocks.append({"kind": "cards", "items": shown})

    def note(self, text: str, css: str = "") -> None:
        self.blocks.append({"kind": "note", "text": text, "css": css})

    def bullets(self, items: Sequence[Any], title: str = "") -> None:
        if items:
            self.blocks.append(
                {"kind": "list", "items": [fmt(i, self._) for i in items], "title": title}
            )

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> None:
        if not rows:
            return
        shown = [
            [
                c if isinstance(c, int | float) and not isinstance(c, bool) else fmt(c, self._)
                for c in r
            ]
            for r in rows[:MAX_ROWS]
        ]
        shown = [[fmt(c) if isinstance(c, float) else c for c in r] for r in shown]
        left = len(rows) - MAX_ROWS
        more = (
            "" if left <= 0 else self._(T_MORE_ONE) if left == 1 else self._(T_MORE).format(n=left)
        )
        self.blocks.append(
            {"kind": "table", "title": title, "columns": list(columns), "rows": shown, "more": more}
        )

    def records_table(self, recs: Sequence[Mapping[str, Any]], title: str = "") -> None:
        columns: list[str] = []
        for r in recs[:MAX_ROWS]:
            for k in r:
                if k not in columns:
                    columns.append(str(k))
        rows = [
            [
                pct(r.get(c))
                if c in SHARE_COLUMNS and num(r.get(c)) is not None
                else value_label(r.get(c), VALUE_COLUMNS.get(c, {}), self._)
                for c in columns
            ]
            for r in recs
        ]
        self.table([key_label(c, self._) for c in columns], rows, title)

    def chart(self, fig: Any) -> None:
        import plotly.io as pio

        self._ids += 1
        config: dict[str, Any] = {
            "displaylogo": False,
            "responsive": True,
            "modeBarButtonsToRemove": list(MODEBAR_REMOVE),
        }
        if self.lang in PLOTLY_LOCALES:
            config["locale"] = PLOTLY_LOCALES[self.lang]["name"]
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            div_id=f"chart-{self._ids}",
            config=config,
        )
        self.blocks.append({"kind": "chart", "html": Markup(div)})

    def figures(self, obj: Mapping[str, Any], title: str) -> None:
        """Every figure of an area, as tables in a closed <details>: nothing is left out."""
        rows: list[list[tuple[str, str]]] = []
        flat: list[tuple[str, str]] = []
        _ = self._
        for k, v in obj.items():
            if isinstance(v, list) and v and isinstance(v[0], Mapping):
                continue  # lists of records are tables of their own, below
            if k in VALUE_LISTS:
                v = value_label(v, VALUE_LISTS[k], _)
            elif k in VALUE_KEYS and isinstance(v, Mapping):
                v = {value_label(w, VALUE_KEYS[k], _): n for w, n in v.items()}
            elif k in TEXTS and isinstance(v, str):
                v = translate(v, _)
            elif k in TEXTS and isinstance(v, list):
                v = [translate(x, _) if isinstance(x, str) else x for x in v]
            flat.append((key_label(k, _, self.area), fmt(v, _)))
        if flat:
            rows.append(flat)
        if rows:
            self.blocks.append({"kind": "details", "title": title, "rows": rows})
        for k, v in obj.items():
            if isinstance(v, list) and v and isinstance(v[0], Mapping):
                self.records_table(v, title=key_label(k, _))


def _layout(fig: Any, **kw: Any) -> Any:
    layout: dict[str, Any] = {
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "height": 340,
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "legend": {"orientation": "h", "y": -0.2},
    }
    layout.update(kw)
    fig.update_layout(**layout)
    return fig


def _name(rec: Mapping[str, Any]) -> str:
    value = pick(rec, "name", "author_name", "user_name", "member", "author", "user", "user_id")
    return "" if value is None else str(value)


# -- the areas ------------------------------------------------------------------------------


def _overview(page: Page, m: Mapping[str, Any], _: Gettext) -> None:
    page.section("overview", _(T_OVERVIEW), _(T_OVERVIEW_HELP))
    ov = pick(m, "overview", "summary", "totals") or {}
    lc = pick(m, "lifecycle") or {}
    stage = pick(lc, "stage")
    page.cards(
        [
            (_(L_STAGE), _(STAGES[stage]) if stage in STAGES else stage),
            (_(L_MEMBERS), fmt(pick(ov, "members", "authors", "member_count"))),
            (_(L_MESSAGES), fmt(pick(ov, "messages", "message_count"))),
            (_(L_ACTIVE), fmt(pick(ov, "active_members", "active"))),
        ]
    )
    warning = pick(lc, "warning", "early_warning")
    _warning(page, warning, _)
    if isinstance(ov, Mapping):
        page.figures(ov, _(T_ALL_FIGURES))


def _warning(page: Page, warning: Any, _: Gettext) -> None:
    if isinstance(warning, Mapping):
        active = pick(warning, "active", "warn", "raised", "level")
        text = pick(warning, "message", "text", "reason", "reasons")
        if active in (False, None, "none", "ok") and not text:
            page.note(_(L_NO_WARNING), "ok")
        else:
            page.note(f"{_(L_WARNING)}: {warning_text(warning, _)}", "warning")
    elif warning:
        page.note(f"{_(L_WARNING)}: {warning_text(warning, _)}", "warning")
    elif warning is not None:
        page.note(_(L_NO_WARNING), "ok")


def warning_text(warning: Any, _: Gettext) -> str:
    """The early warning's reasons (or its flag) in the reader's language."""
    if isinstance(warning, Mapping):
        text = pick(warning, "message", "text", "reason", "reasons")
        if text is None:
            text = pick(warning, "active", "warn", "raised", "level")
        warning = text
    if isinstance(warning, str):
        return translate(warning, _)
    if isinstance(warning, list):
        return fmt([translate(w, _) if isinstance(w, str) else w for w in warning], _)
    return fmt(warning, _)


def _lifecycle(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    stage = pick(a, "stage")
    page.cards([(_(L_STAGE), _(STAGES[stage]) if stage in STAGES else stage)])
    evidence = pick(a, "evidence")
    if isinstance(evidence, list):
        page.bullets(
            [translate(e, _) if isinstance(e, str) else e for e in evidence], _(L_EVIDENCE)
        )
    elif isinstance(evidence, Mapping):
        page.table([_(L_EVIDENCE), ""], [[key_label(k, _), fmt(v, _)] for k, v in evidence.items()])
    _warning(page, pick(a, "warning", "early_warning"), _)
    rest = {k: v for k, v in a.items() if k not in ("stage", "evidence", "warning")}
    if rest:
        page.figures(rest, _(T_ALL_FIGURES))


def _per_day_title(xs: Sequence[Any], page: Page, first: Any, _: Gettext) -> str:
    """The per-day chart's title: its days, and that they are the last ones with messages when
    the series starts after the group's first day (the weeks and months cover everything)."""
    start, end, zone = fmt(xs[0]), fmt(xs[-1]), page.zone
    if first is not None and str(first) < str(xs[0]):
        return _(C_PER_DAY_CUT).format(n=f"{len(xs):,}", start=start, end=end, zone=zone)
    return _(C_PER_DAY).format(start=start, end=end, zone=zone)


def _activity(page: Page, a: Mapping[str, Any], _: Gettext, first: Any = None) -> None:
    import plotly.graph_objects as go

    for keys, unit in (
        (("per_day", "daily", "day", "days"), L_DAY),
        (("per_week", "weekly", "week", "weeks"), L_WEEK),
        (("per_month", "monthly", "month", "months"), L_MONTH),
    ):
        xs, ys = series(pick(a, *keys))
        if not xs or not ys:
            continue
        fig = go.Figure()
        for name, values in ys.items():
            fig.add_trace(go.Scatter(x=xs, y=values, mode="lines", name=label(key_label(name, _))))
        if unit == L_DAY:
            title = _per_day_title(xs, page, first, _)
        else:
            title = _(C_PER_WEEK if unit == L_WEEK else C_PER_MONTH).format(zone=page.zone)
        page.chart(_layout(fig, title=label(title), xaxis_title=_(unit)))
    heat = pick(a, "heatmap", "hour_weekday", "heatmap_hour_weekday")
    z = pick(heat, "counts", "z", "values", "matrix") if isinstance(heat, Mapping) else heat
    if isinstance(z, list) and z and isinstance(z[0], list):
        rows = len(z)
        days = [_(d) for d in WEEKDAYS]
        hour = _(C_HOUR).format(zone=page.zone)
        if rows == 7:  # weekday x hour
            fig = go.Figure(go.Heatmap(z=z, y=days, x=list(range(len(z[0]))), colorscale="Blues"))
            axes = {
                "xaxis_title": hour,
                "yaxis_title": _(L_WEEKDAY),
                "yaxis_autorange": "reversed",  # Monday on top, as a calendar reads
            }
        else:  # hour x weekday
            fig = go.Figure(
                go.Heatmap(z=z, x=days[: len(z[0])], y=list(range(rows)), colorscale="Blues")
            )
            axes = {"yaxis_title": hour, "xaxis_title": _(L_WEEKDAY)}
        fig.update_traces(colorbar_title_text=_(L_MESSAGES))
        title = _(C_HEATMAP).format(zone=page.zone)
        page.chart(_layout(fig, title=label(title), height=380, **axes))
    ret = pick(a, "retention", "cohorts", "retention_cohorts")
    cohorts = records(pick(ret, "cohorts") if isinstance(ret, Mapping) else ret)
    if cohorts:
        grid = [pick(c, "retained", "retention", "active_share", "shares") for c in cohorts]
        labels = [label(pick(c, "week", "cohort", "start", "name")) for c in cohorts]
        keep = [(lab, g) for lab, g in zip(labels, grid, strict=True) if isinstance(g, list)]
        if keep:
            keep = keep[-30:]
            fig = go.Figure(
                go.Heatmap(
                    z=[g for _lab, g in keep],
                    y=[lab for lab, _g in keep],
                    colorscale="Greens",
                    zmin=0,
                )
            )
            page.chart(
                _layout(
                    fig,
                    title=_(C_RETENTION),
                    xaxis_title=_(L_WEEKS_AFTER),
                    yaxis_title=_(L_COHORT),
                    height=420,
                )
            )
    scalars = {k: v for k, v in a.items() if not isinstance(v, list | Mapping)}
    if scalars:
        page.figures(scalars, _(T_ALL_FIGURES))


def _segments(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    import plotly.graph_objects as go

    counts = pick(a, "counts", "sizes")
    if not isinstance(counts, Mapping):
        counts = {
            k: (len(v) if isinstance(v, list) else v)
            for k, v in a.items()
            if k in SEGMENTS and (isinstance(v, list) or num(v) is not None)
        }
    if counts:
        names = [_(SEGMENTS[k]) if k in SEGMENTS else label(key_label(k, _)) for k in counts]
        meanings = [_(SEGMENT_HELP[k]) if k in SEGMENT_HELP else "" for k in counts]
        fig = go.Figure(
            go.Bar(
                x=names,
                y=[num(v) for v in counts.values()],
                hovertext=meanings,
                hovertemplate="%{x}: %{y}<br>%{hovertext}<extra></extra>",
            )
        )
        page.chart(_layout(fig, title=_(C_SEGMENTS), yaxis_title=_(L_MEMBERS)))
        page.table(
            [_(L_SEGMENT), _(L_MEMBERS), _(L_MEANING)],
            [
                [name, num(v), meaning]
                for name, v, meaning in zip(names, counts.values(), meanings, strict=True)
            ],
        )
    members = pick(a, "members")
    if isinstance(members, Mapping):
        for k, v in members.items():
            if isinstance(v, list):
                title = _(SEGMENTS[k]) if k in SEGMENTS else key_label(k, _)
                page.bullets([_name(x) if isinstance(x, Mapping) else x for x in v][:60], title)
    rest = {k: v for k, v in a.items() if k not in ("counts", "sizes", "members")}
    if rest:
        page.figures(rest, _(T_ALL_FIGURES))


def _top3(page: Page, a: Any, _: Gettext) -> None:
    rows: list[list[Any]] = []
    months = (
        a.items()
        if isinstance(a, Mapping)
        else ((pick(r, "month", "period"), pick(r, "top", "members", "top3")) for r in records(a))
    )
    for month, top in months:
        if isinstance(top, list):
            for rank, who in enumerate(top, 1):
                if isinstance(who, Mapping):
                    rows.append(
                        [month, rank, _name(who), num(pick(who, "messages", "count", "score"))]
                    )
                else:
                    rows.append([month, rank, str(who), None])
    rows.sort(key=lambda r: (str(r[0]), -int(r[1])), reverse=True)
    page.table([_(L_MONTH), "#", _(L_MEMBER), _(L_MESSAGES)], rows)


def _ranked_bar(
    page: Page,
    recs: Sequence[Mapping[str, Any]],
    value_keys: tuple[str, ...],
    title: str,
    _: Gettext,
) -> None:
    import plotly.graph_objects as go

    pairs = [(_name(r), num(pick(r, *value_keys))) for r in recs[:15]]
    shown = [(n, v) for n, v in pairs if v is not None]
    if shown:
        fig = go.Figure(
            go.Bar(
                x=[v for _n, v in shown][::-1],
                y=[label(n) for n, _v in shown][::-1],
                orientation="h",
            )
        )
        page.chart(_layout(fig, title=label(title), height=max(260, 24 * len(shown) + 80)))


def _graph(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    leaders = records(pick(a, "opinion_leaders", "leaders"))
    if leaders:
        _ranked_bar(page, leaders, ("score", "centrality", "pagerank", "value"), _(C_LEADERS), _)
        page.records_table(leaders, _(L_LEADERS))
    souls = records(pick(a, "soul_figures", "souls"))
    if souls:
        page.records_table(souls, _(L_SOULS))
    rest = {
        k: v
        for k, v in a.items()
        if k not in ("opinion_leaders", "leaders", "soul_figures", "souls")
    }
    if rest:
        page.figures(rest, _(T_ALL_FIGURES))


def _qa(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    frt = pick(a, "first_response", "frt", "first_response_time") or a
    step = pick(frt, "resolution_s") or 1
    page.cards(
        [
            (_(L_QUESTIONS), fmt(pick(a, "questions", "question_count"))),
            (_(L_MEDIAN), seconds(pick(frt, "median", "median_s", "median_seconds"), _, step)),
            (_(L_P90), seconds(pick(frt, "p90", "p90_s", "p90_seconds"), _, step)),
            (_(L_WITHIN_1M), pct(pick(frt, "within_1min", "share_within_1min", "within_60s"))),
            (_(L_UNANSWERED), fmt(pick(a, "unanswered_count", "unanswered_total"))),
        ]
    )
    unanswered = records(pick(a, "unanswered", "unanswered_questions"))
    if unanswered:
        page.records_table(unanswered, _(L_UNANSWERED))
    page.figures({k: v for k, v in a.items() if k not in ("unanswered",)}, _(T_ALL_FIGURES))


def _content(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    import plotly.graph_objects as go

    kinds = pick(a, "by_kind", "kinds", "per_kind") or a
    recs = records(kinds)
    if recs:
        names = [
            _(CONTENT_KINDS[str(r.get("name", r.get("kind")))])
            if str(r.get("name", r.get("kind"))) in CONTENT_KINDS
            else label(r.get("name", r.get("kind")))
            for r in recs
        ]
        fig = go.Figure()
        for keys, title in (
            (("replies_per_post", "replies"), L_REPLIES_PER_POST),
            (("reactions_per_post", "reactions"), L_REACTIONS_PER_POST),
        ):
            values = [num(pick(r, *keys)) for r in recs]
            if any(v is not None for v in values):
                fig.add_trace(go.Bar(x=names, y=values, name=_(title)))
        if fig.data:
            page.chart(_layout(fig, title=_(C_CONTENT), barmode="group"))
        page.records_table(recs)
    rest = {k: v for k, v in a.items() if k not in ("by_kind", "kinds", "per_kind")}
    if rest and kinds is not a:
        page.figures(rest, _(T_ALL_FIGURES))


def _spam(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    page.cards(
        [
            (_(L_SPAM_SHARE), pct(pick(a, "share", "spam_share"))),
            (_(L_MESSAGES), fmt(pick(a, "messages", "spam_messages", "count"))),
        ]
    )
    offenders = records(pick(a, "top_offenders", "offenders"))
    if offenders:
        page.records_table(offenders)
    page.figures(
        {k: v for k, v in a.items() if k not in ("top_offenders", "offenders")}, _(T_ALL_FIGURES)
    )


def _sentiment(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    import plotly.graph_objects as go

    xs, ys = series(pick(a, "over_time", "series", "per_week", "per_day", "timeline"))
    if xs and ys:
        # shares (0-1) on the left axis; the messages scored each week, a count, as bars on
        # their own right axis: on one axis the shares would be flat lines under the count
        fig = go.Figure()
        counts = {k: v for k, v in ys.items() if k in ("scored", "count", "messages")}
        mode = "lines+markers" if len(xs) <= 30 else "lines"  # a single week is a point
        for name, values in counts.items():
            fig.add_trace(
                go.Bar(
                    x=xs,
                    y=values,
                    name=label(key_label(name, _)),
                    yaxis="y2",
                    marker_color="rgba(160,170,185,0.35)",
                )
            )
        for name, values in ys.items():
            if name not in counts:
                fig.add_trace(go.Scatter(x=xs, y=values, mode=mode, name=label(key_label(name, _))))
        axes: dict[str, Any] = {"yaxis": {"tickformat": ".0%", "rangemode": "tozero"}}
        if counts:
            scored_label = KEYS["scored"]
            axes["yaxis2"] = {
                "overlaying": "y",
                "side": "right",
                "showgrid": False,
                "rangemode": "tozero",
                "title": {"text": _(scored_label)},
            }
        title = _(C_SENTIMENT).format(zone=page.zone)
        page.chart(
            _layout(fig, title=label(title), margin={"l": 50, "r": 60, "t": 40, "b": 40}, **axes)
        )
    spikes = records(pick(a, "spikes", "negative_spikes"))
    if spikes:
        page.records_table(spikes)
    page.figures(
        {
            k: v
            for k, v in a.items()
            if k not in ("over_time", "series", "spikes", "negative_spikes")
        },
        _(T_ALL_FIGURES),
    )


def _keywords(page: Page, a: Any, _: Gettext) -> None:
    import plotly.graph_objects as go

    recs = records(pick(a, "top", "keywords", "overall") if isinstance(a, Mapping) else a)
    pairs = [
        (
            str(pick(r, "word", "keyword", "term", "name")),
            num(pick(r, "count", "score", "weight", "value")),
        )
        for r in recs
    ]
    shown = [(w, v) for w, v in pairs if v is not None][:30]
    if shown:
        fig = go.Figure(
            go.Bar(
                x=[v for _w, v in shown][::-1],
                y=[label(w) for w, _v in shown][::-1],
                orientation="h",
            )
        )
        page.chart(_layout(fig, title=_(C_KEYWORDS), height=max(300, 20 * len(shown) + 80)))
        page.table([_(L_KEYWORD), _(L_COUNT)], [[w, v] for w, v in shown])
    if isinstance(a, Mapping):
        rest = {k: v for k, v in a.items() if k not in ("top", "keywords", "overall")}
        if rest:
            page.figures(rest, _(T_ALL_FIGURES))


def _growth(page: Page, a: Mapping[str, Any], _: Gettext) -> None:
    inviters = records(pick(a, "inviters", "top_inviters", "invitees_per_inviter"))
    if not inviters and not a.get("tree") and not num(a.get("invited")):
        # the export records no invitations (IRC, Telegram): say so, not tiles of zeros;
        # how members joined, when known, is still shown
        page.note(_(T_NO_DATA))
        if a.get("joins_by_channel"):
            page.figures({"joins_by_channel": a["joins_by_channel"]}, _(T_ALL_FIGURES))
        return
    if inviters:
        _ranked_bar(page, inviters, ("invitees", "count", "value"), _(C_INVITEES), _)
        page.records_table(inviters)
    page.figures(
        {
            k: v
            for k, v in a.items()
            if k not in ("inviters", "top_inviters", "invitees_per_inviter", "tree")
        },
        _(T_ALL_FIGURES),
    )


RENDERERS: dict[str, Callable[[Page, Any, Gettext], None]] = {
    "lifecycle": _lifecycle,
    "activity": _activity,
    "segments": _segments,
    "top3": _top3,
    "graph": _graph,
    "qa": _qa,
    "content": _content,
    "spam": _spam,
    "sentiment": _sentiment,
    "keywords": _keywords,
    "growth": _growth,
}
SKIP = {"overview", "summary", "totals", "meta", "files", "generated_at", "version"}


def render(
    metrics: Mapping[str, Any],
    *,
    lang: str = "en",
    catalogs: Catalogs | None = None,
    files: Sequence[str] = (),
    generated: datetime | None = None,
) -> str:
    """The report page for ``metrics``, in ``lang`` (``zh_CN`` or ``en``)."""
    import plotly
    import plotly.offline

    from groupops import __version__

    _ = (catalogs or Catalogs()).gettext(lang)
    ov = pick(metrics, "overview", "summary", "totals") or {}
    page = Page(_, lang, time_zone(metrics))
    _overview(page, metrics, _)
    titles = dict(AREAS)
    for area, title in AREAS:
        key = next((k for k in metrics if ALIASES.get(k, k) == area), None)
        if key is None:
            continue
        page.section(area, _(title), _(AREA_HELP[area]))
        value = metrics[key]
        if value in (None, {}, []):
            page.note(_(T_NO_DATA))
            continue
        if area == "activity" and isinstance(value, Mapping):
            _activity(page, value, _, pick(ov, "first", "start"))
        else:
            RENDERERS[area](page, value, _)
    for key, value in metrics.items():
        area = ALIASES.get(key, key)
        if area in titles or key in SKIP or area in SKIP:
            continue
        page.section(f"x-{len(page.sections)}", f"{_(T_OTHER)}: {key_label(key, _)}")
        if isinstance(value, Mapping):
            page.figures(value, _(T_ALL_FIGURES))
        elif isinstance(value, list):
            page.records_table(records(value))
        else:
            page.cards([(key_label(key, _), fmt(value, _))])
    when = generated or datetime.now(UTC)
    env = Environment(autoescape=True, keep_trailing_newline=True)
    template = env.from_string(
        resources.files("groupops.report").joinpath("template.html.j2").read_text(encoding="utf-8")
    )
    return template.render(
        html_lang="zh-CN" if lang == "zh_CN" else "en",
        version=__version__,
        title=_(T_TITLE),
        subtitle=_(T_SUBTITLE).format(
            messages=fmt(pick(ov, "messages", "message_count")),
            members=fmt(pick(ov, "members", "authors", "member_count")),
            start=fmt(pick(ov, "first", "start", "first_message", "from")),
            end=fmt(pick(ov, "last", "end", "last_message", "to")),
            files=", ".join(files) or "–",
        ),
        sections=page.sections,
        footer=_(T_FOOTER).format(date=when.strftime("%Y-%m-%d %H:%M UTC")),
        plotly_js=Markup(plotly.offline.get_plotlyjs()),
        plotly_locale=_script_json(PLOTLY_LOCALES.get(lang)),
    )


def time_zone(metrics: Mapping[str, Any]) -> str:
    """The zone of the metrics' days and hours (metrics made before they said one: UTC)."""
    for area in ("activity", "overview"):
        found = pick(pick(metrics, area), "time_zone")
        if isinstance(found, str) and found:
            return found
    return "UTC"


def _script_json(value: Any) -> Markup | None:
    """``value`` as JSON safe inside a <script> (no "<", ">", "&" a parser could read)."""
    if value is None:
        return None
    import json

    text = json.dumps(value, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    return Markup(text)
