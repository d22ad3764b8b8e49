"""Task notification settings: every field is explained in docs/features/notify.md."""

from __future__ import annotations

from pydantic import Field, field_validator

from groupops.features.base import FeatureSettings
from groupops.features.registry import SettingValueError
from groupops.i18n import N_, language_code
from groupops.platforms.connections import LIVE_PLATFORMS

#: the platforms a recipient may be named on (``telegram:123456789``)
PLATFORMS = ("sandbox", *LIVE_PLATFORMS)
#: the most recipients one group (or the workspace) may name
MOST_RECIPIENTS = 20


def platform_of(source: str) -> str:
    """The platform of a ``source`` (``telegram:mybot`` -> ``telegram``, ``sandbox``)."""
    return source.partition(":")[0]


def recipient(entry: str) -> tuple[str, str]:
    """A recipient as the settings hold it: (its platform, or "" for the group's own
    platform, whichever it is; the user's id there). ``telegram:123456789`` names a Telegram
    user; ``123456789`` and ``@olga:example.org`` (a Matrix id: ``@olga`` is no platform) name
    a user on the platform of the group whose task it is."""
    head, sep, rest = entry.partition(":")
    if sep and head in PLATFORMS:
        return head, rest
    return "", entry


class NotifySettings(FeatureSettings):
    #: who is told: user ids, each on the group's own platform (``123456789``) or on the
    #: platform named before it (``telegram:123456789``, ``matrix:@olga:example.org``)
    to: list[str] = Field(default_factory=list)
    #: at most one private message to a person this often (minutes); the tasks made
    #: meanwhile come together in the next one. 0: every minute's tick may send one
    every_minutes: int = Field(default=10, ge=0, le=24 * 60)
    #: the messages' language (zh_CN or en); "" for the language of the task's group
    language: str = ""
    #: each day from this hour (0-23, the group's time zone) a person is reminded, in one
    #: message, of the tasks they were told of that are still open; None: no reminders
    remind_hour: int | None = Field(default=None, ge=0, le=23)

    @field_validator("to", mode="before")
    @classmethod
    def _numbers_are_ids(cls, v: object) -> object:
        """A Telegram id typed as a number (``[123456789]``) is that id."""
        if isinstance(v, list):
            return [str(x) if isinstance(x, int) and not isinstance(x, bool) else x for x in v]
        return v

    @field_validator("to")
    @classmethod
    def _to_ok(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for raw in v:
            entry = raw.strip()
            user = recipient(entry)[1]
            if not user.strip() or len(entry) > 255 or any(c.isspace() for c in user):
                raise SettingValueError(
                    N_(
                        "{entry!r} is not a user id: give one like 123456789,"
                        " telegram:123456789 or matrix:@olga:example.org"
                    ),
                    where="to",
                    entry=raw,
                )
            if entry not in out:
                out.append(entry)
        if len(out) > MOST_RECIPIENTS:
            raise SettingValueError(
                N_("at most {most} recipients"), where="to", most=MOST_RECIPIENTS
            )
        return out

    @field_validator("language")
    @classmethod
    def _language_ok(cls, v: str) -> str:
        """A language as operators write it (``zh``, ``zh-CN``: ``zh_CN``), or "" for the
        group's."""
        v = v.strip()
        code = language_code(v) if v else ""
        if code is None:
            raise SettingValueError(
                N_('{language!r} is not a language groupops speaks: zh_CN, en or ""'),
                where="language",
                language=v,
            )
        return code

    def recipients(self, source: str) -> list[str]:
        """The user ids told about a task of a group on ``source``: those named for its
        platform, and the plain ones that can be a user there (a workspace with Telegram and
        Matrix groups naming ``123456789`` and ``@olga:example.org`` tells each on their own
        platform, rather than queueing messages no homeserver or Bot API could deliver)."""
        if not self.enabled:
            return []
        mine = platform_of(source)
        return [
            user
            for platform, user in map(recipient, self.to)
            if platform == mine or (not platform and could_be_user(mine, user))
        ]


def could_be_user(platform: str, user: str) -> bool:
    """Whether ``user`` can be a user id on ``platform``: a Telegram id is a number, a Matrix
    id ``@name:server``; the sandbox (and a platform this does not know) takes any."""
    if platform == "telegram":
        return user.isascii() and user.isdigit()
    if platform == "matrix":
        return user.startswith("@") and ":" in user
    return True
