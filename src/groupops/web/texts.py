"""Every text the web page shows, marked for Babel and translated per request.

The page's template and its script read the same translated dictionary (``texts(gettext)``);
placeholders in braces are filled in by the script, never by string-built HTML.
"""

from __future__ import annotations

from collections.abc import Callable

from groupops.i18n import N_

UI: dict[str, str] = {
    "title": N_("groupops sandbox chat"),
    "tagline": N_(
        "A practice community: join a group under any name and try the bot's welcome,"
        " check-ins and moderation."
    ),
    "language": N_("Language"),
    "groups": N_("Groups"),
    "member": N_("1 member"),
    "members": N_("{n} members"),
    "no_groups": N_("No sandbox groups yet."),
    "pick": N_("Pick a group to see its conversation and join it."),
    "your_name": N_("Your name"),
    "join": N_("Join"),
    "joined_as": N_("You are in this group as {name}."),
    "leave": N_("Leave group"),
    "placeholder": N_("Type a message (try 签到 to check in)"),
    "send": N_("Send"),
    "you": N_("you"),
    "bot": N_("bot"),
    "private": N_("only you see this"),
    "removed": N_("This message was removed."),
    "empty": N_("No messages yet: say hello."),
    "event_joined": N_("{name} joined"),
    "event_left": N_("{name} left"),
    "event_muted": N_("{name} was muted"),
    "event_kicked": N_("{name} was removed from the group"),
    "event_banned": N_("{name} was banned from the group"),
    "event_renamed": N_("{name} renamed the group to “{title}”"),
    "status_none": N_("Join this group to chat with its members and the bot."),
    "status_muted": N_("You are muted until {time} ({zone}): your messages will not be sent."),
    "status_kicked": N_("You were removed from this group."),
    "status_banned": N_("You are banned from this group."),
    "status_left": N_("You left this group. Join again to chat."),
    "refused": N_("Not sent: {reason}"),
    "failed": N_("Something went wrong: {reason}"),
    "offline": N_("The server does not answer; retrying…"),
    "name_hint": N_("1 to 64 characters"),
    "joined_as_admin": N_("You are in this group as {name}, an admin."),
    "make_admin": N_("Make me an admin"),
    "drop_admin": N_("Stop being an admin"),
    "rename": N_("Rename group"),
    "new_title": N_("New group name"),
    "save_title": N_("Rename"),
    "cancel": N_("Cancel"),
    "not_renamed": N_("Not renamed: {reason}"),
    "react": N_("React with 👍"),
    "react_with": N_("React with {emoji}"),
    "take_back": N_("Take back your {emoji}"),
    "clock_now": N_("Simulated time: {time} ({zone})"),
    "clock_move": N_("Move the clock forward"),
    "plus_hour": N_("+1 hour"),
    "plus_day": N_("+1 day"),
    "next_month": N_("To next month"),
    "question_answered": N_("Answered"),
    "question_expired": N_("Time is up"),
    "question_closed": N_("Closed: the newcomer left or was removed"),
    "reply": N_("Reply"),
    "reply_title": N_("Reply to this message (or double-click it)"),
    "replying_to": N_("Replying to {name}"),
    "cancel_reply": N_("Cancel the reply"),
    "quote_deleted": N_("Message deleted"),
    "quote_show": N_("Show the message this replies to"),
    "quote_gone": N_("The message this replies to is no longer in the chat."),
    "reply_gone": N_(
        "Not sent: {reason}. The reply is cancelled: send again to post the message on its own."
    ),
}


def texts(gettext: Callable[[str], str]) -> dict[str, str]:
    """The page's texts in one language."""
    return {key: gettext(message) for key, message in UI.items()}
