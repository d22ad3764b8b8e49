"""What a member can ask the bot about the group itself: 群规 (``rules_keywords``: the group's
rules) and 帮助 / 菜单 (``help_keywords``: every command the bot answers in the group, each with
its words and what it does, read from the settings of the features enabled there, so a renamed
or added keyword shows at once). Both are answered in the group, as a reply; a member asking
again within a minute gets no second answer (:class:`~groupops.features.commands.Answers`).
A message is one of them only when it is the keyword and nothing more ("群规" yes, "群规是什么"
no), as the points commands are matched."""

from __future__ import annotations

from collections.abc import Callable

from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.commands import WORDS_APART, Answers, group_settings, offered_commands
from groupops.features.keywords import is_keyword, may_match
from groupops.features.welcome.settings import WelcomeSettings
from groupops.i18n import N_

RULES_HEADER = N_("The rules of {{ group }}:")
NO_RULES = N_("{{ group }} has no written rules yet.")
HELP_HEADER = N_("What you can ask me in {{ group }}:")
#: one command of the help list: its words (joined by " / "), what it does
HELP_LINE = N_("{words}: {does}")


def rules_text(
    ctx: BatchContext, group: GroupInfo, s: WelcomeSettings, t: Callable[[str], str]
) -> str:
    """The rules as the bot posts them: a line naming the group, then the operator's text."""
    header = ctx.templates.render(t(RULES_HEADER), {"group": group.title}, where="welcome.rules")
    return f"{header}\n{s.rules}"


def answer(
    answers: Answers, ctx: BatchContext, item: Incoming, group: GroupInfo, s: WelcomeSettings
) -> bool:
    """Answer the message when it is one of the group's rules or help keywords (True); False
    when it is neither."""
    text = item.event.text
    if not may_match(text, s.rules_keywords, s.help_keywords):
        return False  # most messages: neither command
    if is_keyword(text, s.rules_keywords):
        what = "rules"
    elif is_keyword(text, s.help_keywords):
        what = "help"
    else:
        return False
    if item.member_id is not None and not answers.due(
        group.id, item.member_id, what, item.event.occurred_at
    ):
        return True
    t = ctx.gettext(group)
    if what == "help":
        ctx.reply(item, help_text(ctx, group, t))
    elif s.rules.strip():
        ctx.reply(item, rules_text(ctx, group, s, t))
    else:
        ctx.reply(item, ctx.templates.render(t(NO_RULES), {"group": group.title}, where="welcome"))
    return True


def help_text(ctx: BatchContext, group: GroupInfo, t: Callable[[str], str]) -> str:
    """The commands of every feature enabled in ``group``, in the engine's order of features,
    each as its words and what it does (:func:`~groupops.features.commands.offered_commands`:
    the rules command only when the group has rules)."""
    lines = [ctx.templates.render(t(HELP_HEADER), {"group": group.title}, where="welcome")]
    for command in offered_commands(group_settings(ctx, group)):
        joined = WORDS_APART.join(command.words)
        does = command.does
        lines.append(t(HELP_LINE).format(words=joined, does=t(does)) if does else joined)
    return "\n".join(lines)
