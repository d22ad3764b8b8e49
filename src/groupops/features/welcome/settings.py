"""Welcome settings: every field is explained in docs/features/welcome.md."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from groupops.domain.errors import TemplateError
from groupops.engine.templates import TemplateRenderer
from groupops.features.base import FeatureSettings
from groupops.features.registry import SettingValueError, command_words, keyword_list
from groupops.i18n import N_

#: what one newcomer's welcome (``template``) is rendered with
SAMPLE = {"name": "Alice", "group": "Group", "rules": "Be kind."}
#: what the combined welcome of a burst (``burst_template``) is rendered with: no ``name``
BURST_SAMPLE = {"names": "A, B", "count": "2", "group": "Group", "rules": "Be kind."}


def _check_template(value: str | None, sample: dict[str, str], where: str) -> str | None:
    """``value`` refused unless it renders with exactly the placeholders of its message: a
    single welcome naming ``{{ names }}`` would greet one newcomer with an empty name."""
    if value is not None:
        try:
            TemplateRenderer().check(value, sample, where=where)
        except TemplateError as exc:
            raise SettingValueError.of(exc) from None
    return value


class WelcomeSettings(FeatureSettings):
    #: welcome text; placeholders {{ name }}, {{ group }}, {{ rules }}. None = the default text
    template: str | None = None
    #: the group's rules, pushed to every newcomer
    rules: str = Field(default="", max_length=4000)
    #: send the rules privately where the platform allows (else they go in the group)
    rules_private: bool = True
    #: ask newcomers to introduce themselves
    intro_prompt: bool = True
    #: a newcomer's message at least this long (characters) counts as a self-introduction
    intro_min_chars: int = Field(default=15, ge=1, le=2000)
    #: how long after joining a first long message still counts as the introduction (hours)
    intro_window_hours: int = Field(default=72, ge=1, le=24 * 30)
    #: this many joins within burst_window_seconds is a burst: one combined welcome
    burst_threshold: int = Field(default=3, ge=2, le=1000)
    burst_window_seconds: int = Field(default=60, ge=5, le=3600)
    #: the longest a burst holds newcomers back (seconds): while joins keep coming, a combined
    #: welcome goes out once the first one held back has waited this long, and a new burst
    #: starts with the joins after it (a steady trickle never holds anyone for ever)
    burst_max_wait_seconds: int = Field(default=180, ge=60, le=86_400)
    #: combined welcome text; placeholders {{ names }}, {{ count }}, {{ group }}, {{ rules }}
    burst_template: str | None = None
    #: a member who comes back within this many hours of leaving, and was welcomed on a join
    #: within them, is not welcomed again (0: every join is welcomed)
    rejoin_quiet_hours: int = Field(default=24, ge=0, le=24 * 30)
    #: a message that is one of these gets the group's rules in reply
    rules_keywords: list[str] = Field(
        default_factory=lambda: ["群规", "/rules"],
        json_schema_extra=command_words(N_("the group's rules")),
    )
    #: a message that is one of these gets the list of what the bot answers in the group
    help_keywords: list[str] = Field(
        default_factory=lambda: ["帮助", "菜单", "/help"],
        json_schema_extra=command_words(N_("the commands I answer in this group")),
    )

    def offers(self, setting: str) -> bool:
        """The rules command only where there are rules to give."""
        return setting != "rules_keywords" or bool(self.rules.strip())

    @field_validator("template")
    @classmethod
    def _template_ok(cls, v: str | None) -> str | None:
        return _check_template(v, SAMPLE, "welcome.template")

    @field_validator("burst_template")
    @classmethod
    def _burst_ok(cls, v: str | None) -> str | None:
        return _check_template(v, BURST_SAMPLE, "welcome.burst_template")

    @field_validator("rules_keywords", "help_keywords")
    @classmethod
    def _words(cls, v: list[str], info: ValidationInfo) -> list[str]:
        return keyword_list(v, info, f"welcome.{info.field_name}")
