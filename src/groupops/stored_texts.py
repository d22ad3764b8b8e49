"""Texts groupops stored for later (in English, or in the group's language) said again in an
operator's language, wherever they are shown (the command line's listings; the web console
can use the same): moderation's words and evidence (:func:`log_word`, :func:`evidence_text`),
the reasons the features write on their actions (:func:`reason_said`), what an owner task
asks for (:func:`task_text`), who undid a decision (:func:`who_undid`) and a connection's
stored error (:func:`error_said`, over the outbox's
:func:`~groupops.engine.deadletters.error_words`).
Each is read back from the stored text with the very msgids that wrote it (:func:`retold`);
text groupops did not write stays as it is. No terminal here: the CLI's layout is in
:mod:`groupops.cli_output`."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from groupops.domain.text import one_line
from groupops.domain.time import minute
from groupops.i18n import LANGUAGES, N_, Catalogs, english

#: moderation's words in the log (its steps, the actions they took, the rules broken) in the
#: operator's language; the English is the stored word itself, and ``--json`` keeps it
LOG_WORDS = {
    "warn": N_("warn"),
    "mute": N_("mute"),
    "unmute": N_("unmute"),
    "kick": N_("kick"),
    "ban": N_("ban"),
    "unban": N_("unban"),
    "undo": N_("undo"),
    "delete": N_("delete"),
    "send": N_("send"),
    "reply": N_("reply"),
    "direct_message": N_("direct_message"),
    "link": N_("link"),
    "invite": N_("invite"),
    "phone": N_("phone"),
    "contact": N_("contact"),
    "keyword": N_("keyword"),
    "flood": N_("flood"),
    "cross_group": N_("cross_group"),
    "newcomer_link": N_("newcomer_link"),
    "known_ad": N_("known_ad"),
    "blacklist": N_("blacklist"),
    "forget_ad": N_("forget_ad"),  # an operator took a known ad out of the library
}


#: who undid a decision when ``undo`` was not told (``--by``): stored as this word, said as
#: "an operator" in the operator's language
UNNAMED_OPERATOR = "operator"
AN_OPERATOR = N_("an operator")


def who_undid(by: object, t: Callable[[str], str] = english) -> str:
    """Who undid a decision as the log keeps it, in the language of ``t``."""
    if by == UNNAMED_OPERATOR:
        return t(AN_OPERATOR)
    return str(by) if by else "?"


def log_word(value: object, t: Callable[[str], str] = english) -> str:
    """One of moderation's words (:data:`LOG_WORDS`: a step, an action, a rule) in the
    language of ``t``; any other value as it is."""
    text = "" if value is None else str(value)
    return t(LOG_WORDS[text]) if text in LOG_WORDS else text


#: how a value is read back from a stored English text, by its name in the template (a
#: number, a word of :data:`LOG_WORDS`); any other value is text up to what follows it
_VALUE_PATTERNS = {
    **dict.fromkeys(("count", "seconds", "decision", "more"), r"\d+"),
    **dict.fromkeys(("rule", "step"), r"\w+"),
}


def template_reader(
    template: str, values: Mapping[str, str], other: str = ".+?"
) -> re.Pattern[str]:
    """A pattern matching (``fullmatch``) what ``template`` (a ``str.format`` text: a msgid,
    or its rendering in a language) made, each value a named group: read by its pattern in
    ``values`` (by the value's name), any other by ``other`` (text, as little as fits
    by default). The one reader of stored texts: :func:`retold` here, the outbox's
    :func:`~groupops.engine.deadletters.error_words` with its own ``values``."""
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile(
        "".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>{values.get(p, other)})"
            for i, p in enumerate(parts)
        ),
        re.DOTALL,
    )


@functools.cache
def _reader(template: str) -> re.Pattern[str]:
    """A pattern matching what ``template`` made in English, each value a named group."""
    return template_reader(template, _VALUE_PATTERNS)


def retold(
    text: str,
    templates: Sequence[str],
    t: Callable[[str], str],
    values: Callable[[str, str], str] = lambda name, value: value,
    written: Callable[[str], str] = english,
) -> str | None:
    """``text``, stored from one of ``templates`` (msgids: what the engine wrote, or an older
    version) in the language of ``written`` (English by default), said again in the language
    of ``t``, each value read back from it and passed through ``values`` (its name, its
    text); None when no template made it (a person's words, text of a newer kind), which is
    then shown as it is."""
    for template in templates:
        found = _reader(written(template)).fullmatch(text)
        if found:
            read = {name: values(name, value) for name, value in found.groupdict().items()}
            try:
                return str(t(template).format(**read))
            except (KeyError, IndexError, ValueError):
                return None  # a broken translation: the English
    return None


def evidence_said(text: str, t: Callable[[str], str] = english) -> str:
    """Evidence in groupops' own words as rows stored before moderation kept its template
    (``6 messages in 10 s``), in the language of ``t``; quoted evidence (the link, the word
    found) as it is."""
    from groupops.features.moderation.ops import EVIDENCE

    def value(name: str, value: str) -> str:
        return log_word(value, t) if name in ("rule", "step") else value

    return retold(text, tuple(EVIDENCE.values()), t, value) or text


def evidence_text(row: dict[str, Any], t: Callable[[str], str] = english) -> str:
    """A moderation decision's evidence (a row of the log) in the language of ``t``: evidence
    in groupops' own words comes as a template with its values (a rule or step among them
    said as a word, :func:`log_word`); rows stored before are read back from their English
    (:func:`evidence_said`); quoted evidence as it is. Whole: a listing cuts it to its width."""
    evidence = str(row.get("evidence") or "")
    template, values = row.get("evidence_template"), row.get("evidence_values")
    if not template or not isinstance(values, dict):
        return evidence_said(evidence, t)
    shown = {k: log_word(v, t) if k in ("rule", "step") else v for k, v in values.items()}
    try:
        return str(t(template).format(**shown))
    except (KeyError, IndexError, ValueError):
        return evidence  # a broken translation: the English


def action_reasons() -> tuple[str, ...]:
    """The reasons the features write on their actions, stored in English with the action (an
    owner task says it: ``kick u2 (gate: no answer in time (failed gates: 1))``), said in the
    operator's language; the values in braces are read back from the stored text. The very
    msgids each feature stores with (features/gate/reasons.py, features/moderation/reasons.py),
    so a rewording there is read here too."""
    from groupops.features.gate import reasons as gate
    from groupops.features.moderation import reasons as moderation

    return (*gate.REASONS, *moderation.REASONS)


def reason_said(text: str, t: Callable[[str], str] = english) -> str:
    """An action's stored reason in the language of ``t`` when a feature wrote it in its own
    words (:func:`action_reasons`, with the rule and the evidence inside it said too); any
    other reason (a person's, a newer one) as it is."""

    def value(name: str, value: str) -> str:
        if name == "rule":
            return log_word(value, t)
        if name == "evidence":
            return evidence_said(value, t)
        return reason_said(value, t) if name == "reason" else value

    return retold(text, action_reasons(), t, value) or text


#: an owner task made from an action its platform cannot take, said from that action in the
#: operator's language (the stored text is English, with an ISO time): what to do and to whom,
#: what to send, until when (to the minute, UTC), and why
TASK_DO = N_("{what} {target}")
TASK_SAYING = N_("{task}: {text}")
TASK_UNTIL = N_("{task} until {until} UTC")
TASK_WHY = N_("{task} ({reason})")


def task_text(row: dict[str, Any], t: Callable[[str], str] = english) -> str:
    """What an owner task asks for, as a listing says it in the language of ``t``: from its
    stored action (``mute u42 until 2026-11-24 12:00 UTC (flood)``), else its stored text (a
    feature's own task, or an action groupops cannot read)."""
    from groupops.engine.deadletters import KIND_WORDS

    action = row.get("action")
    stored = str(row.get("text") or "")
    if not isinstance(action, dict):
        return stored
    kind = str(action.get("kind") or "")
    if kind == "owner_task":
        return bot_task_said(action, stored, t) or health_task_said(action, t) or stored
    if kind not in KIND_WORDS:
        return stored
    target = str(action.get("user_id") or action.get("message_id") or "")
    said = t(TASK_DO).format(what=t(KIND_WORDS[kind]), target=target).strip()
    if action.get("text"):
        said = t(TASK_SAYING).format(task=said, text=one_line(str(action["text"]), 60))
    if action.get("until"):
        said = t(TASK_UNTIL).format(task=said, until=minute(action["until"]))
    if action.get("reason"):  # the feature's own words in the operator's language
        reason = reason_said(str(action["reason"]), t)
        said = t(TASK_WHY).format(task=said, reason=one_line(reason, 60))
    return said


def bot_task_said(action: dict[str, Any], stored: str, t: Callable[[str], str]) -> str | None:
    """A task groupops made about the bot itself (removed from a group, lacking rights there:
    engine/bot.py), stored in the group's language, said in the language of ``t``: read back
    from its text in whichever language it was written, the rights and what stops working
    said again from those the task names; None for any other task."""
    from groupops.engine import bot

    data = action.get("data")
    if not isinstance(data, dict) or data.get("bot") not in (bot.REMOVED, bot.RIGHTS):
        return None
    lacking = [str(r) for r in data.get("rights") or [] if isinstance(r, str)]
    rights = effects = ""
    try:
        rights, effects = bot.rights_words(lacking, t) if lacking else ("", "")
    except KeyError:  # a right this version does not know: the words as stored
        lacking = []

    def value(name: str, value: str) -> str:
        if lacking and name in ("rights", "effects"):
            return rights if name == "rights" else effects
        return value

    templates = (
        bot.REMOVED_BY,
        bot.BANNED_BY,
        bot.REMOVED_NO_ONE,
        bot.LEFT,
        bot.LACKS_BY,
        bot.LACKS,
    )
    catalogs = Catalogs()
    for language in LANGUAGES:  # the group's language when the task was made
        said = retold(stored, templates, t, value, catalogs.gettext(language))
        if said is not None:
            return said
    return None


def health_task_said(action: dict[str, Any], t: Callable[[str], str]) -> str | None:
    """A health alert (a group that started dying: features/health), said again in the
    language of ``t`` from what it was made of; None for any other task."""
    from groupops.features.health.alerts import alert_of, alert_said

    data = alert_of(action)
    return None if data is None else alert_said(data, t)


#: the platform's call a connection's stored error starts with, after the connection's id
#: (``getUpdates: failed: …``; none, ``: failed: …``, for a poll the Bot API library made)
_CALL = re.compile(r"(\w*): ")


def error_said(error: str, source: str, t: Callable[[str], str]) -> str:
    """A connection's stored error (its last failure, a group it could not leave) in the
    language of ``t``: groupops' own words said as the outbox's dead letters say them
    (:func:`~groupops.engine.deadletters.error_words`), after the call that failed, which
    stays as it is, like the platform's words; text it does not know stays whole."""
    from groupops.engine.deadletters import error_words

    said = error_words({"last_error": error, "source": source}, t)
    if said != error:
        return said
    shown = error.removeprefix(f"{source} ")  # a refusal's names the connection first
    call = _CALL.match(shown)
    if call:
        rest = shown[call.end() :]
        rest_said = error_words({"last_error": rest, "source": source}, t)
        if rest_said != rest:
            return f"{call[1]}: {rest_said}" if call[1] else rest_said
    return error
