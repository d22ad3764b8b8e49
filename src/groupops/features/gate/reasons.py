"""Why the gate acts: the reasons it stores, in English, with its actions (an owner task says
them: ``kick u2 (gate: no answer in time (failed gates: 1))``). Defined once here, as msgids:
the gate stores them and the CLI (groupops.stored_texts) reads them back from the stored text to
say them in the operator's language, so a rewording here changes both."""

from __future__ import annotations

from groupops.i18n import N_

RAID = N_("gate: raid")
AFTER_JOINING = N_("gate: the question comes after joining")
UNTIL_ANSWERED = N_("gate: until the newcomer answers")
NOT_ANSWERED = N_("gate: the newcomer has not answered yet")
WRONG_ANSWERS = N_("gate: wrong answers")
NO_ANSWER = N_("gate: no answer in time")
LEFT_UNANSWERED = N_("gate: left again without answering")
ANSWERED = N_("gate: answered")
TURNED_OFF = N_("gate: turned off")
#: a removal's reason (one of the above) with the member's failed gates in the workspace
FAILED_GATES = N_("{reason} (failed gates: {count})")

#: every reason the gate stores, in the order the CLI tries them
REASONS = (
    RAID,
    AFTER_JOINING,
    UNTIL_ANSWERED,
    NOT_ANSWERED,
    WRONG_ANSWERS,
    NO_ANSWER,
    LEFT_UNANSWERED,
    ANSWERED,
    TURNED_OFF,
    FAILED_GATES,
)
