"""Moderation settings: every field is explained in docs/features/moderation.md."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from groupops.features.base import FeatureSettings
from groupops.features.moderation.detectors import KeywordMatcher, Text, normalise
from groupops.features.registry import SettingsRefused, SettingValueError
from groupops.i18n import N_

#: rule names, as they appear in the log and in ``blacklist_rules``
RULES = (
    "link",
    "invite",
    "phone",
    "contact",
    "keyword",
    "flood",
    "cross_group",
    "newcomer_link",
)
Rule = Literal[
    "link", "invite", "phone", "contact", "keyword", "flood", "cross_group", "newcomer_link"
]

MAX_KEYWORDS = 500
MAX_KEYWORD_LEN = 100
MIN_MUTE = 60
MAX_MUTE = 366 * 24 * 3600
_STEP = re.compile(r"^(warn|kick|ban|mute)(?::(\d{1,8})([smhd]?))?$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DOMAIN = re.compile(r"^[a-z0-9\-]+(?:\.[a-z0-9\-]+)+(?:/\S*)?$")


def parse_step(raw: str) -> tuple[str, int]:
    """'warn' -> ('warn', 0); 'mute:3600', 'mute:1h', 'mute:30m', 'mute:1d' -> ('mute', secs)."""
    m = _STEP.match(raw.strip().lower()) if isinstance(raw, str) else None
    if m is None:
        raise SettingValueError(
            N_(
                "ladder step {step!r} is not one of: warn, mute:<seconds> (or mute:30m, mute:1h,"
                " mute:1d), kick, ban"
            ),
            step=raw,
        )
    kind, amount, unit = m.groups()
    if kind != "mute":
        if amount is not None:
            raise SettingValueError(
                N_("ladder step {step!r}: only mute takes a duration"), step=raw
            )
        return kind, 0
    if amount is None:
        raise SettingValueError(
            N_("ladder step {step!r}: say how long, e.g. mute:3600 or mute:1h"), step=raw
        )
    seconds = int(amount) * _UNIT[unit]
    if not MIN_MUTE <= seconds <= MAX_MUTE:
        raise SettingValueError(
            N_("ladder step {step!r}: a mute lasts from 1 minute to 366 days"), step=raw
        )
    return "mute", seconds


def _keywords(values: list[str], field: str) -> list[str]:
    if len(values) > MAX_KEYWORDS:
        raise SettingValueError(N_("at most {most} keywords"), where=field, most=MAX_KEYWORDS)
    out: list[str] = []
    for raw in values:
        kw = raw.strip()
        if not kw or not normalise(kw).strip("* "):
            raise SettingValueError(N_("empty keyword"), where=field)
        if len(kw) > MAX_KEYWORD_LEN:
            raise SettingValueError(
                N_("keyword {start!r}… is over {most} characters"),
                where=field,
                start=kw[:20],
                most=MAX_KEYWORD_LEN,
            )
        if "\x00" in kw:
            raise SettingValueError(N_("keyword contains a NUL character"), where=field)
        if kw not in out:
            out.append(kw)
    return out


class ModerationSettings(FeatureSettings):
    # -- what happens to a rule breaker --------------------------------------------------------
    #: the steps, one per offence counted in the group: "warn", "mute:<seconds>" (or mute:30m,
    #: mute:1h, mute:1d), "kick", "ban". Past the last step, the last step repeats.
    ladder: list[str] = Field(
        default_factory=lambda: ["warn", "warn", "mute:3600", "kick"], min_length=1, max_length=10
    )
    #: an offence stops counting towards the ladder this many days after it happened
    warning_ttl_days: int = Field(default=30, ge=1, le=365)
    #: remove the offending message (always recommended; the log keeps a snippet)
    delete_offending_message: bool = True
    #: say in the group what happened and why (warning, mute, kick), naming the member
    notify: bool = True
    #: at most this many such notices per group per minute; during a spam raid the removals
    #: go on silently instead of the bot flooding the group itself
    notices_per_minute: int = Field(default=6, ge=1, le=60)

    # -- detectors: switch each one on or off --------------------------------------------------
    #: links to sites not in allowed_domains (http/https/www and bare domains like abc.com,
    #: abc．com, "abc点com")
    detect_links: bool = True
    #: invitations to other groups: t.me/+..., t.me/joinchat, chat.whatsapp.com, discord.gg,
    #: WeChat/QQ group links and QR hints, "加群", "扫码进群"
    detect_invites: bool = True
    #: phone numbers: Chinese mobiles (138 1234 5678, 138-1234-5678) and +xx international ones
    detect_phones: bool = True
    #: contact baits: "加我微信", "加v", "vx", "威信", "私聊", "DM me", "PM me", "whatsapp me"...
    detect_contacts: bool = True
    #: the operator's keywords below
    detect_keywords: bool = True
    #: floods: flood_messages messages within flood_seconds from one member in one group
    detect_flood: bool = True
    #: the same text posted in cross_group_min_groups groups of the workspace in a short time
    detect_cross_group: bool = True

    # -- keyword lists ---------------------------------------------------------------------
    #: Chinese keywords: found anywhere in a message, ignoring spaces, width and case
    keywords_zh: list[str] = Field(default_factory=list)
    #: English keywords: found as whole words, ignoring case; end one with * to match words
    #: that start with it ("crypto*" also finds "cryptocurrency")
    keywords_en: list[str] = Field(default_factory=list)
    #: sites members may link to: a domain ("example.com", also its subdomains) or a link
    #: prefix ("t.me/our_group"); they pass the link and invite detectors
    allowed_domains: list[str] = Field(default_factory=list, max_length=500)

    # -- floods and copies across groups ----------------------------------------------------
    #: this many messages ...
    flood_messages: int = Field(default=6, ge=2, le=100)
    #: ... within this many seconds from one member in one group is a flood
    flood_seconds: int = Field(default=10, ge=1, le=3600)
    #: the same text seen in this many groups of the workspace ...
    cross_group_min_groups: int = Field(default=3, ge=2, le=100)
    #: ... within this many seconds is spam (the earlier copies are removed too)
    cross_group_window_seconds: int = Field(default=600, ge=10, le=86400)
    #: only messages at least this long (characters, spaces not counted) are compared, so
    #: "hello" or "签到" in several groups is never spam
    cross_group_min_chars: int = Field(default=12, ge=4, le=1000)

    # -- newcomers -------------------------------------------------------------------------
    #: a member counts as a newcomer for this many hours after joining the group
    newcomer_hours: int = Field(default=24, ge=0, le=24 * 30)
    #: stricter rules for newcomers: any link, even to an allowed site, and any shared link,
    #: article or net-disk card is treated as an ad
    newcomer_strict: bool = True

    # -- the workspace-wide blacklist ------------------------------------------------------
    #: a member kicked or banned for one of blacklist_rules goes on the workspace's blacklist:
    #: refused in every group of the workspace when they join
    blacklist: bool = True
    #: the rules that count as advertising for the blacklist
    blacklist_rules: list[Rule] = Field(
        default_factory=lambda: [  # type: ignore[arg-type]
            "link",
            "invite",
            "phone",
            "contact",
            "cross_group",
            "newcomer_link",
        ]
    )
    #: what happens to a blacklisted member who joins: removed ("kick") or also barred ("ban")
    blacklist_action: Literal["kick", "ban"] = "kick"
    #: when a member is blacklisted, also remove them from the workspace's other groups
    blacklist_kick_everywhere: bool = True
    #: keep the text of an ad whose author was blacklisted for it this many days (the library
    #: of known ads, known_ads.py): the same text again, from anyone, is removed and its author
    #: gets blacklist_action at once; 0 turns the library off
    known_ads_days: int = Field(default=30, ge=0, le=365)

    def forbidden_in(self, text: str) -> tuple[str, str] | None:
        """The operator keyword of ``keywords_zh`` or ``keywords_en`` that a message of
        ``text`` would be punished for, with its setting; found as the keyword detector finds
        it (built-in detectors are not the operator's to clash with a command keyword)."""
        if not (self.enabled and self.detect_keywords):
            return None
        message = Text.of(text)
        for field in ("keywords_zh", "keywords_en"):
            words: list[str] = getattr(self, field)
            found = KeywordMatcher.build(words, []).find(message) if words else None
            if found is not None:
                return f"moderation.{field}", found.evidence
        return None

    @field_validator("ladder")
    @classmethod
    def _ladder_ok(cls, v: list[str]) -> list[str]:
        out = []
        for raw in v:
            kind, seconds = parse_step(raw)
            out.append(f"mute:{seconds}" if kind == "mute" else kind)
        return out

    @field_validator("keywords_zh")
    @classmethod
    def _zh_ok(cls, v: list[str]) -> list[str]:
        return _keywords(v, "keywords_zh")

    @field_validator("keywords_en")
    @classmethod
    def _en_ok(cls, v: list[str]) -> list[str]:
        return _keywords(v, "keywords_en")

    @field_validator("allowed_domains")
    @classmethod
    def _domains_ok(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for raw in v:
            entry = normalise(raw)
            for prefix in ("https://", "http://"):
                entry = entry.removeprefix(prefix)
            entry = entry.removeprefix("www.").rstrip("/")
            if not _DOMAIN.match(entry):
                raise SettingValueError(
                    N_(
                        "{entry!r} is not a domain like example.com"
                        " or a link prefix like t.me/our_group"
                    ),
                    where="allowed_domains",
                    entry=raw,
                )
            if entry not in out:
                out.append(entry)
        return out

    def steps(self) -> list[tuple[str, int]]:
        return [parse_step(s) for s in self.ladder]


def parse_settings(raw: object) -> ModerationSettings:
    """Validate operator input; any problem is an :class:`InvalidSettings` saying which field."""
    try:
        return ModerationSettings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsRefused(exc, default="settings", where="moderation") from None
