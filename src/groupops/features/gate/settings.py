"""Join gate settings: every field is explained in docs/features/gate.md."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from groupops.features.base import FeatureSettings
from groupops.features.registry import SettingValueError
from groupops.i18n import N_


class GateSettings(FeatureSettings):
    #: the gate is opt-in: a group turns it on
    enabled: bool = False
    #: "captcha": a small sum with buttons; "quiz": the operator's own question
    mode: Literal["captcha", "quiz"] = "captcha"
    #: the quiz question (mode "quiz"), something only a real member of the community knows
    question: str = Field(default="", max_length=500)
    #: the quiz's possible answers, shown as buttons (or numbered where a platform has none)
    options: list[str] = Field(default_factory=list, max_length=8)
    #: which of ``options`` is right, counted from 1
    answer: int = Field(default=1, ge=1, le=8)
    #: how long a newcomer has to answer before being removed
    timeout_seconds: int = Field(default=300, ge=30, le=24 * 3600)
    #: wrong answers allowed before the newcomer is removed
    max_attempts: int = Field(default=2, ge=1, le=10)
    #: after this many failed gates in the workspace a person is banned, not just removed
    ban_after_failures: int = Field(default=3, ge=1, le=100)
    #: a member who left with their question unanswered and joins again within this many
    #: minutes of that join is held (muted, their messages removed) but not asked again in
    #: the group: the question already there answers it (0: the question is posted at every join)
    rejoin_quiet_minutes: int = Field(default=60, ge=0, le=24 * 60)
    #: leaving without answering again within this many hours of leaving without answering
    #: counts as a failed gate (towards ``ban_after_failures``); the first time counts nothing
    #: (0: leaving without answering never counts)
    rejoin_window_hours: int = Field(default=24, ge=0, le=24 * 30)
    #: close the group to new joins when joins spike
    raid_mode: bool = True
    #: this many joins within ``raid_window_seconds`` is a raid
    raid_joins: int = Field(default=10, ge=3, le=10_000)
    raid_window_seconds: int = Field(default=60, ge=10, le=3600)
    #: how long the group stays closed to new joins after a raid starts
    raid_close_minutes: int = Field(default=30, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _quiz_complete(self) -> GateSettings:
        if self.mode == "quiz":
            if not self.question.strip():
                raise SettingValueError(N_("mode 'quiz' needs a question"))
            if len(self.options) < 2:
                raise SettingValueError(N_("mode 'quiz' needs at least two options"))
        if any(not o.strip() or len(o) > 100 for o in self.options):
            raise SettingValueError(N_("each option must be 1 to 100 characters"))
        if self.options and self.answer > len(self.options):
            raise SettingValueError(
                N_("answer {answer} is not one of the {count} options"),
                answer=self.answer,
                count=len(self.options),
            )
        return self
