"""Whether a message is a command to the bot in a group: one answer for every feature.

A command is a message that starts with ``/`` (``/checkin``, ``/points``, a bot command of any
platform), or that is, or starts with, a command keyword of a feature enabled in the group, as
its settings there say: every settings field marked ``COMMAND_WORDS``
(``registry.command_word_fields``, the same fields ``settings set`` keeps apart: check-in's
``keywords``, ``makeup_keywords`` and ``ranking_keywords``, points' ``points_keywords`` and
``leaderboard_keywords``, and an extension's own). Moderation's ``keywords_zh``/``keywords_en``
are words it forbids, not commands, and are not marked. The features are those the engine runs
(``BatchContext.features``).
A keyword is matched the way check-in matches its own: ignoring case, and text may follow it
(a check-in's goal, "签到 读了20页");
after a keyword in Latin letters there must be a break ("/checkin read", not "/checking").

The welcome feature does not take a command for a self-introduction, and moderation does not
count one towards a flood. Both run on every message, so the keywords of a group are gathered
once and kept beside the validated settings (``BatchContext.cached``), until the group's
settings change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError

from groupops.features.kept import Kept
from groupops.features.registry import command_word_fields, command_word_help

if TYPE_CHECKING:
    from groupops.engine.context import BatchContext, GroupInfo
    from groupops.features.base import Feature, FeatureSettings

#: what every bot command starts with
COMMAND_PREFIX = "/"
#: after a Latin keyword, what may come before the rest (a goal, the bot's @name)
_BREAK = re.compile(r"[\s:：,，.。!！?？\-—@]")
#: where a group's keywords are kept in the settings cache (no feature has this name)
_CACHE_KEY = "(commands)"


@dataclass(frozen=True, slots=True)
class CommandWords:
    """A group's command keywords, lower-case, longest first."""

    words: tuple[str, ...] = ()

    def matches(self, text: str) -> bool:
        """Whether ``text`` is a command (see the module's docstring)."""
        low = text.strip().lower()
        if not low:
            return False
        if low.startswith(COMMAND_PREFIX):
            return True
        if not self.words or not low.startswith(self.words):  # most messages: no keyword
            return False
        for word in self.words:
            if low.startswith(word):
                rest = low[len(word) :]
                if not rest or not word.isascii() or _BREAK.match(rest):
                    return True
        return False


def group_settings(
    ctx: BatchContext, group: GroupInfo
) -> Iterator[tuple[Feature, FeatureSettings]]:
    """Each feature the engine runs with its settings in ``group``, in the engine's order; one
    whose settings there do not validate is left out (the engine reports it and runs the
    feature nowhere there)."""
    for feature in ctx.features:
        try:
            yield feature, ctx.settings(feature, group, feature.settings_model)
        except ValidationError:
            continue


def _gather(ctx: BatchContext, group: GroupInfo) -> CommandWords:
    words: set[str] = set()
    for feature, settings in group_settings(ctx, group):
        if not settings.enabled:
            continue
        for name in command_word_fields(feature.settings_model):
            value = getattr(settings, name, None)
            if isinstance(value, list | tuple):
                words.update(w.strip().lower() for w in value if isinstance(w, str) and w.strip())
    return CommandWords(tuple(sorted(words, key=lambda w: (-len(w), w))))


def command_words(ctx: BatchContext, group: GroupInfo) -> CommandWords:
    """The group's command keywords, gathered again only when its settings change."""
    return ctx.cached(_CACHE_KEY, group, CommandWords, lambda: _gather(ctx, group))


def is_command(ctx: BatchContext, group: GroupInfo, text: str) -> bool:
    """Whether ``text`` is a command to the bot in ``group`` (see the module's docstring)."""
    return command_words(ctx, group).matches(text)


#: between the words of one command where they are shown together (the help list)
WORDS_APART = " / "


@dataclass(frozen=True, slots=True)
class Offered:
    """One command offered to members: its words as the settings list them, and what it does
    (a message id to translate; None when its settings field does not say)."""

    feature: str
    setting: str
    words: tuple[str, ...]
    does: str | None


def offered_commands(settings: Iterable[tuple[Feature, FeatureSettings]]) -> list[Offered]:
    """The commands members are offered, from each feature's (validated) settings in the
    order given (the engine's order of features): every field marked ``COMMAND_WORDS`` of a
    feature enabled there that lists words and has something to give
    (:meth:`~groupops.features.base.FeatureSettings.offers`). What the help command lists in a
    group (welcome's ``help_keywords``) and what a platform's command menu shows (Telegram's
    "/" menu, from a workspace's defaults) alike."""
    out: list[Offered] = []
    for feature, values in settings:
        if not values.enabled:
            continue
        for name, does in command_word_help(feature.settings_model):
            words = tuple(w for w in getattr(values, name, None) or () if isinstance(w, str))
            if words and values.offers(name):
                out.append(Offered(feature.name, name, words, does))
    return out


#: a member who repeats a command gets its answer at most once in this long (an answer that
#: changes nothing: a board, their points, a refusal; docs/features/checkin.md)
ANSWER_EVERY = timedelta(minutes=1)


class Answers:
    """When the bot last answered each member's commands, so that a member repeating one
    ("签到" twenty times, "积分" in a loop) cannot make it flood the group: commands are no
    flood for moderation (a newcomer trying them is not warned), and every answer would take
    a place in the group's queue at the platform's pace, ahead of welcomes and the join gate's
    questions.

    Kept in memory by (group, member, what) (``Kept``: what a ``handle()`` call answered is
    staged at :meth:`end`, kept once the batch commits, dropped with a rollback or a call
    that raised), so a restart may answer a repeat once more. ``what`` names the answer; its
    value is the time of the last answer, or a day for an answer given once a day."""

    def __init__(self, limit: int = 200_000) -> None:
        self._kept: Kept[tuple[int, int, str], datetime | date] = Kept(limit)

    def begin(self) -> None:
        """A ``handle()`` call starts: forget what a call that raised answered."""
        self._kept.begin_call()

    def end(self) -> None:
        self._kept.end_call()

    def committed(self) -> None:
        self._kept.committed()

    def rolled_back(self) -> None:
        self._kept.rolled_back()

    def forget_member(self, member_id: int) -> None:
        self._kept.forget(lambda key: key[1] == member_id)

    def due(self, group_id: int, member_id: int, what: str, at: datetime) -> bool:
        """Whether the member's command ``what`` is answered at ``at``: not answered in the
        last :data:`ANSWER_EVERY` (then it counts as answered now)."""
        key = (group_id, member_id, what)
        last = self._kept.get(key)
        if isinstance(last, datetime) and timedelta(0) <= at - last < ANSWER_EVERY:
            return False
        self._kept.note(key, at)
        return True

    def due_once_on(self, group_id: int, member_id: int, what: str, day: date) -> bool:
        """Whether the member's command ``what`` is answered on ``day`` (the group's calendar
        day): the first time that day only."""
        key = (group_id, member_id, what)
        if self._kept.get(key) == day:
            return False
        self._kept.note(key, day)
        return True
