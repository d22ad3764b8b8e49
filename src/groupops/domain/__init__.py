"""Pure domain types: events, actions, errors. No I/O here."""

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import GroupopsError, InvalidEvent
from groupops.domain.events import ContentKind, Event, EventKind

__all__ = [
    "Action",
    "ActionKind",
    "ContentKind",
    "Event",
    "EventKind",
    "GroupopsError",
    "InvalidEvent",
]
