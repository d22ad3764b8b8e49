"""Check-in settings: every field is explained in docs/features/checkin.md."""

from __future__ import annotations

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from groupops.domain.errors import TemplateError
from groupops.engine.templates import TemplateRenderer
from groupops.features.base import FeatureSettings
from groupops.features.registry import SettingValueError, command_words, keyword_list
from groupops.i18n import N_

SAMPLE = {
    "name": "Alice",
    "group": "Group",
    "streak": "7",
    "total": "12",
    "rank": "3",
    "goal": "read 20 pages",
    "cards": "1",
}


def _words(values: list[str], info: ValidationInfo, where: str) -> list[str]:
    cleaned = keyword_list(values, info, where)
    if not cleaned:
        raise SettingValueError(N_("at least one keyword is needed"), where=where)
    for v in cleaned:
        if len(v) > 32:
            raise SettingValueError(
                N_("keyword {keyword!r} is longer than 32 characters"), where=where, keyword=v[:40]
            )
    return cleaned


class Gift(BaseModel):
    """A reward for reaching a streak length."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the streak (days in a row) that earns it
    streak: int = Field(ge=2, le=3650)
    #: bonus points (the points feature adds them to the member's balance)
    points: int = Field(default=0, ge=0, le=1_000_000)
    #: make-up cards (补签卡) given
    cards: int = Field(default=0, ge=0, le=100)
    #: extra words announced with the gift, e.g. "a free e-book"; empty = none
    text: str = Field(default="", max_length=500)


DEFAULT_GIFTS = (
    Gift(streak=7, points=20, cards=1),
    Gift(streak=21, points=60, cards=1),
    Gift(streak=30, points=100, cards=2),
)


class CheckinSettings(FeatureSettings):
    #: a message that is (or starts with) one of these checks in; text after it is the goal
    keywords: list[str] = Field(
        default_factory=lambda: ["签到", "打卡", "/checkin"],
        json_schema_extra=command_words(N_("check in for today (a goal may follow)")),
    )
    #: a message that is one of these uses a make-up card for the last missed day
    makeup_keywords: list[str] = Field(
        default_factory=lambda: ["补签", "/makeup"],
        json_schema_extra=command_words(N_("use a make-up card for your last missed day")),
    )
    #: a message that is one of these shows today's check-in ranking
    ranking_keywords: list[str] = Field(
        default_factory=lambda: ["签到排行", "打卡排行", "/checkin_rank"],
        json_schema_extra=command_words(N_("today's check-in ranking")),
    )
    #: goal check-ins: a check-in must say what was done ("打卡 读了20页")
    goal_required: bool = False
    #: the least characters of content a goal check-in needs
    goal_min_chars: int = Field(default=2, ge=1, le=500)
    #: reply to each check-in (streak, rank of the day, gift)
    reply: bool = True
    #: reply text; placeholders {{ name }} {{ streak }} {{ total }} {{ rank }} {{ goal }}
    #: {{ cards }} {{ group }}. None (or empty text) = the default text, with its goal line
    reply_template: str | None = None
    #: rewards at these streak lengths
    gifts: list[Gift] = Field(default_factory=lambda: list(DEFAULT_GIFTS))
    #: after the longest gift, start the gifts again (a 37-day streak earns the 7-day gift)
    gifts_repeat: bool = True
    #: how many days back a make-up card can fill
    makeup_max_days: int = Field(default=3, ge=1, le=30)
    #: make-up cards a member starts with
    starting_cards: int = Field(default=0, ge=0, le=100)
    #: how many members today's ranking shows
    ranking_size: int = Field(default=10, ge=1, le=50)

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, v: list[str], info: ValidationInfo) -> list[str]:
        return _words(v, info, "checkin.keywords")

    @field_validator("makeup_keywords", "ranking_keywords")
    @classmethod
    def _other_words(cls, v: list[str], info: ValidationInfo) -> list[str]:
        return keyword_list(v, info, f"checkin.{info.field_name}")

    @field_validator("reply_template")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            return None  # empty text (or only spaces) is no template: the built-in reply
        if v is not None:
            try:
                TemplateRenderer().check(v, SAMPLE, where="checkin.reply_template")
            except TemplateError as exc:
                raise SettingValueError.of(exc) from None
        return v

    @model_validator(mode="after")
    def _distinct(self) -> CheckinSettings:
        streaks = [g.streak for g in self.gifts]
        if len(set(streaks)) != len(streaks):
            raise SettingValueError(
                N_("two gifts for the same streak length"), where="checkin.gifts"
            )
        return self
