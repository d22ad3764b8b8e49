"""The sentences the analytics write into the metrics (life-cycle evidence, rules, warnings).

metrics.json keeps them in English, formatted from the templates here; the report shows them
in the reader's language with :func:`translate`, which reads a sentence back into its template
and arguments and formats the template's translation. A template's placeholders hold figures
(no spaces); one the templates do not know is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from groupops.i18n import N_

# life-cycle evidence
E_RECENT = N_("{recent} messages in the last 28 days")
E_RECENT_ONE = N_("1 message in the last 28 days")
E_LAST = N_("last message {days} days ago")
E_FIRST_SEEN = N_("first seen {days:.0f} days ago")
E_FIRST_SEEN_ONE = N_("first seen 1 day ago")  # English has a singular: "1 days" reads wrong
E_MESSAGES = N_("messages {before} -> {after}")
E_MESSAGES_CHANGE = N_("messages {before} -> {after} ({change:.0f}%)")
E_ACTIVE = N_("active members {before} -> {after}")
# the rule that gave the stage
R_DEAD = N_(
    "no message in the last 21 days, or fewer than 3 in the last 28 days, in a group 3 weeks"
    " old or more"
)
R_NEW = N_("the group is less than 4 weeks old")
R_GROWING = N_("last 4 weeks >= 1.25x the 4 before (messages or active members)")
R_DECLINING = N_("last 4 weeks <= 0.6x the messages of the 4 before")
R_MATURE = N_("steady: within 0.6x-1.25x of the previous 4 weeks")
# early-warning reasons, joined by SEPARATOR in the warning's message
W_HALVES = N_("activity halves every {weeks:.1f} weeks")
W_PROJECTED = N_("fewer than 1 message a week projected within 8 weeks")
W_FELL = N_("active members fell from {before} to {after} (last 2 weeks)")
SEPARATOR = "; "
L_SEPARATOR = N_("; ")

TEMPLATES = (
    E_RECENT,
    E_RECENT_ONE,
    E_LAST,
    E_FIRST_SEEN,
    E_FIRST_SEEN_ONE,
    E_MESSAGES,
    E_MESSAGES_CHANGE,
    E_ACTIVE,
    R_DEAD,
    R_NEW,
    R_GROWING,
    R_DECLINING,
    R_MATURE,
    W_HALVES,
    W_PROJECTED,
    W_FELL,
)
_FIELD = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def _pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    pos = 0
    for m in _FIELD.finditer(template):
        parts.append(re.escape(template[pos : m.start()]))
        parts.append(f"(?P<{m.group(1)}>\\S+)")
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts))


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((t, _pattern(t)) for t in TEMPLATES)


def _one(text: str, _: Callable[[str], str]) -> str:
    for template, pattern in _patterns():
        m = pattern.fullmatch(text)
        if m:
            # the figures are already formatted: drop the translation's format specs
            return _FIELD.sub(r"{\1}", _(template)).format(**m.groupdict())
    return text


def translate(text: str, _: Callable[[str], str]) -> str:
    """``text`` (one sentence, or reasons joined by SEPARATOR) in the language of ``_``."""
    return _(L_SEPARATOR).join(_one(part, _) for part in text.split(SEPARATOR))
