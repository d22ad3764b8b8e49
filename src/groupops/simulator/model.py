"""The accelerated demo's fixed terms: its clock (zone, start, slices, ticks, the day's
rhythm), its options, and the small records the simulation keeps (an act to do, a person's seat
in a group, the progress passed to the caller)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from groupops.domain.errors import GroupopsError, InvalidSettings
from groupops.engine.app import App
from groupops.i18n import N_

ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_START = date(2026, 11, 1)
#: the hour of the first simulated morning (local time)
START_HOUR = 6
#: how long the gate gives a newcomer (set below), and how long they wait for its question
GATE_TIMEOUT = 600
GATE_PATIENCE = timedelta(seconds=GATE_TIMEOUT)
#: simulated time is cut in slices: what people do in one slice is one engine batch, and
#: the bot's answers reach them at its end
SLICE = timedelta(minutes=4)
#: the clock ticks at least this often (scheduled work runs on ticks: month-end top 3 ...)
HEARTBEAT = timedelta(minutes=60)
#: after a join the clock also ticks when the combined welcome of a burst is due and when
#: the gate's time for an answer is up
TICKS_AFTER_JOIN = (timedelta(minutes=2), timedelta(seconds=GATE_TIMEOUT + 60))
#: people per day of the local clock: quiet nights, peaks at 9:00, lunch and 21:00
# fmt: off
HOUR_WEIGHTS = (
    0.25, 0.08, 0.03, 0.02, 0.02, 0.05, 0.3, 0.8, 1.2, 1.6, 1.1, 1.0,
    1.4, 1.2, 1.0, 0.8, 0.8, 0.9, 1.0, 1.2, 1.6, 1.9, 1.4, 0.7,
)
# fmt: on

RULES: dict[str, str] = {
    "course": "1. 只聊学习相关内容\n2. 禁止广告和外链\n3. 提问前先搜索，回答请友善",
    "brand": "1. 欢迎分享咖啡体验\n2. 禁止广告、拉群和私下交易\n3. 每天签到领积分",
    "creators": "1. 分享原创作品，尊重版权\n2. 禁止广告和刷屏\n3. 点评请对事不对人",
}


def start_instant(day: date) -> datetime:
    """The demo's first moment: ``START_HOUR`` local time on ``day``, in UTC."""
    return datetime.combine(day, time(START_HOUR), ZONE).astimezone(UTC)


class DemoError(GroupopsError):
    code = "demo_error"


@dataclass(frozen=True)
class DemoOptions:
    days: float = 30.0
    seed: int = 1
    members: int = 300
    start: date = DEFAULT_START
    #: bots that rush into one group at once, a third of the way in (raid mode's business)
    raid_bots: int = 12

    def check(self) -> None:
        if not 0 < self.days <= 366:
            raise InvalidSettings(
                N_("--days {days} must be above 0 and at most 366"), where="demo", days=self.days
            )
        if not 10 <= self.members <= 5000:
            raise InvalidSettings(
                N_("--members {members} must be 10 to 5000"), where="demo", members=self.members
            )


@dataclass(order=True)
class Act:
    at: datetime
    order: int
    kind: str = field(compare=False)
    uid: str = field(compare=False, default="")
    chat: str = field(compare=False, default="")
    text: str = field(compare=False, default="")
    reply_to: str = field(compare=False, default="")
    arg: int = field(compare=False, default=0)


@dataclass
class Seat:
    """One person in one group, as they themselves see it."""

    status: str = "out"  # out gate in gone
    joined_at: datetime | None = None
    muted_until: datetime | None = None
    tries: int = 0


@dataclass
class Progress:
    """Where the month is: passed to the progress callback after every slice."""

    app: App
    now: datetime
    start: datetime
    end: datetime
    slices: int
