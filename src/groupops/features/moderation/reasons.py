"""Why moderation acts: the reasons it stores, in English, with its actions (an owner task
says them: ``kick u2 (moderation: flood (6 messages in 10 s))``). Defined once here, as
msgids: moderation stores them and the CLI (groupops.stored_texts) reads them back from the
stored text to say them in the operator's language, so a rewording here changes both. The
evidence inside a finding's reason is worded by ops.EVIDENCE."""

from __future__ import annotations

from groupops.i18n import N_

#: a detector's finding (ladder.py): its rule and evidence
FINDING = N_("moderation: {rule} ({evidence})")
#: a removal from the workspace's other groups (blacklist.py)
BLACKLISTED_IN = N_("moderation: blacklisted for {rule} in {group}")
#: the reverse of a decision (ops.py: undo)
UNDO = N_("undo of moderation decision #{decision}")
#: a listed member joining again (blacklist.py)
BLACKLISTED = N_("blacklisted")

#: every reason moderation stores, in the order the CLI tries them
REASONS = (FINDING, BLACKLISTED_IN, UNDO, BLACKLISTED)
