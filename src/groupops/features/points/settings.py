"""Points settings: every field is explained in docs/features/points.md."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from groupops.features.base import FeatureSettings
from groupops.features.registry import (
    PYDANTIC_SAYS,
    SettingValueError,
    command_words,
    keyword_list,
    setting_being_set,
)
from groupops.i18n import N_

#: the setting the level checks name
LEVELS = "points.levels"
#: how many leaders the month's end names and rewards (monthly_rewards has one item for each)
TOP_PLACES = 3


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the level's name as members see it
    name: str = Field(min_length=1, max_length=64)
    #: points needed (all-time balance in this group)
    points: int = Field(ge=0, le=100_000_000)


def level_of(levels: Sequence[Level], points: int) -> int:
    """The level ``points`` reach: the index of the last of ``levels`` (in order of points, the
    first needing 0) they need no more than; 0 for none or fewer."""
    return max((i for i, lv in enumerate(levels) if lv.points <= points), default=0)


class MonthlyReward(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: bonus points added to the winner's balance (they do not count in the next race)
    points: int = Field(default=0, ge=0, le=1_000_000)
    #: what the winner gets, in words, e.g. "a signed book"; empty = points only
    text: str = Field(default="", max_length=500)


DEFAULT_LEVELS = (
    Level(name=N_("Newcomer"), points=0),
    Level(name=N_("Regular"), points=50),
    Level(name=N_("Active"), points=200),
    Level(name=N_("Core member"), points=600),
    Level(name=N_("Legend"), points=1500),
)

DEFAULT_REWARDS = (
    MonthlyReward(points=100),
    MonthlyReward(points=60),
    MonthlyReward(points=30),
)


class PointsSettings(FeatureSettings):
    #: points for a check-in (streak gifts from check-in settings come on top)
    checkin_points: int = Field(default=5, ge=0, le=10_000)
    #: points for a check-in filled in with a make-up card
    makeup_points: int = Field(default=0, ge=0, le=10_000)
    #: points for a message
    message_points: int = Field(default=1, ge=0, le=10_000)
    #: points for a reply to someone else's message (instead of message_points)
    reply_points: int = Field(default=2, ge=0, le=10_000)
    #: a member earns for a message or reply at most once per this many seconds
    message_cooldown_seconds: int = Field(default=60, ge=0, le=86_400)
    #: messages shorter than this (characters, spaces not counted) earn nothing
    message_min_chars: int = Field(default=2, ge=1, le=1000)
    #: points to a message's author for each other member who reacts to it (once a member)
    reaction_points: int = Field(default=1, ge=0, le=10_000)
    #: the most points a member can earn from reactions in one day (group's time zone)
    reaction_daily_cap: int = Field(default=20, ge=0, le=1_000_000)
    #: admins earn points and appear on leaderboards
    include_admins: bool = False
    #: the levels, by points needed (the first must need 0)
    levels: list[Level] = Field(default_factory=lambda: list(DEFAULT_LEVELS))
    #: announce in the group when a member reaches a new level
    announce_levels: bool = True
    #: at each month's end (group's time zone) announce the top 3 and give these rewards
    monthly_top: bool = True
    #: the rewards of the 1st, 2nd and 3rd (at most TOP_PLACES items)
    monthly_rewards: list[MonthlyReward] = Field(default_factory=lambda: list(DEFAULT_REWARDS))
    #: commands: a member's own points and level / the month's leaderboard
    points_keywords: list[str] = Field(
        default_factory=lambda: ["积分", "我的积分", "/points"],
        json_schema_extra=command_words(N_("your points, level and place this month")),
    )
    leaderboard_keywords: list[str] = Field(
        default_factory=lambda: ["积分榜", "排行榜", "/top"],
        json_schema_extra=command_words(N_("this month's points leaderboard")),
    )
    #: how many members the leaderboard command shows
    leaderboard_size: int = Field(default=10, ge=1, le=50)

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[Level], info: ValidationInfo) -> list[Level]:
        if not v:
            raise SettingValueError(N_("at least one level is needed"), where=LEVELS)
        ordered = sorted(v, key=lambda lv: lv.points)
        if ordered[0].points != 0:
            raise SettingValueError(N_("the first level must need 0 points"), where=LEVELS)
        if len({lv.points for lv in v}) != len(v):
            raise SettingValueError(N_("two levels need the same points"), where=LEVELS)
        names = [lv.name.strip() for lv in v]
        if setting_being_set(info) == "levels" and len(set(names)) != len(names):
            twice = next(n for n in names if names.count(n) > 1)
            raise SettingValueError(N_("two levels are named {name!r}"), where=LEVELS, name=twice)
        return ordered

    @field_validator("monthly_rewards")
    @classmethod
    def _rewards(cls, v: list[MonthlyReward], info: ValidationInfo) -> list[MonthlyReward]:
        """One reward a place of the top 3: more is refused when an operator sets them; a
        longer list stored before (up to 10 were taken, the rest never used) is read as its
        first 3, so it does not turn points off in the group."""
        if len(v) <= TOP_PLACES:
            return v
        if setting_being_set(info) == "monthly_rewards":
            raise SettingValueError(
                PYDANTIC_SAYS["too_long"],
                where="points.monthly_rewards",
                max_length=TOP_PLACES,
                actual_length=len(v),
            )
        return v[:TOP_PLACES]

    @field_validator("points_keywords", "leaderboard_keywords")
    @classmethod
    def _words(cls, v: list[str], info: ValidationInfo) -> list[str]:
        return keyword_list(v, info, f"points.{info.field_name}")
