"""What a feature sees while it handles a batch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from sqlalchemy import Connection, bindparam, insert, select

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import Event, EventKind
from groupops.platforms.base import Capabilities
from groupops.storage.bulk import One
from groupops.storage.tables import events, feature_marks

if TYPE_CHECKING:
    from groupops.engine.templates import TemplateRenderer
    from groupops.features.base import Feature, FeatureSettings
    from groupops.i18n import Catalogs

S = TypeVar("S", bound="FeatureSettings")
T = TypeVar("T")
#: no answer kept (``BatchContext._answered``): a kept value may itself be None
_NONE: Any = object()


#: ``data["by"]`` of a ``message_deleted`` that moderation derives when it removes a message
#: other features already counted (see :meth:`BatchContext.removed_message`)
REMOVED_BY_MODERATION = "moderation"

_e = events.c
#: the stored message a removal names (uses ix_events_message)
_REMOVED_MESSAGE = One(
    select(_e.seq, _e.group_id, _e.member_id, _e.occurred_at)
    .where(
        _e.source == bindparam("src"),
        _e.chat_id == bindparam("chat"),
        _e.message_id == bindparam("msg"),
        _e.kind == EventKind.MESSAGE.value,
    )
    .order_by(_e.seq)
    .limit(1)
)
#: the events of a kind derived at a message's time in its group (uses ix_events_group_kind_time)
_DERIVED_AT = select(_e.seq, _e.payload).where(
    _e.group_id == bindparam("g"),
    _e.kind == bindparam("kind"),
    _e.occurred_at == bindparam("at"),
    _e.member_id == bindparam("m"),
)


class Named(Protocol):
    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class GroupInfo:
    id: int
    workspace_id: int
    source: str
    chat_id: str
    title: str
    timezone: str
    language: str
    settings: Mapping[str, Any]
    workspace_settings: Mapping[str, Any]
    #: whether the bot is in the group, as the platform last said (``groups.bot_in_chat``):
    #: while it is not, the engine gives features no scheduled work there and sends nothing
    bot_in_chat: bool = True


@dataclass(frozen=True, slots=True)
class Incoming:
    """One stored event with what the engine resolved about it."""

    seq: int
    event: Event
    group: GroupInfo | None
    member_id: int | None
    is_admin: bool = False
    joined_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RemovedMessage:
    """A message moderation removed after other features had counted it, as stored."""

    seq: int
    group_id: int
    member_id: int
    occurred_at: datetime


@dataclass(slots=True)
class Emitted:
    action: Action
    feature: str
    cause_seq: int | None
    group_id: int | None


@dataclass
class BatchContext:
    conn: Connection
    now: datetime
    catalogs: Catalogs
    templates: TemplateRenderer
    capabilities_of: Callable[[str], Capabilities]
    groups_of_workspace: Callable[[int], list[GroupInfo]]
    all_groups: Callable[[], list[GroupInfo]]
    feature: str = ""
    actions: list[Emitted] = field(default_factory=list)
    derived: list[Event] = field(default_factory=list)
    suppressed: set[int] = field(default_factory=set)
    #: validated settings by (feature, group), with the raw parts they came from: shared by
    #: the engine's batches, so a group's settings are validated again only when they change
    settings_cache: dict[tuple[str, int], tuple[Any, Any, Any]] = field(default_factory=dict)
    bad_settings: set[tuple[str, int]] = field(default_factory=set)
    #: the features the engine runs
    features: tuple[Feature, ...] = ()
    #: this batch's answers of ``cached``, by (key, group id): (the group, the section, the
    #: value). Features ask once or more an event (~130k times in 30k events); while the
    #: group is the very same object its settings are too, and so is the answer
    _answers: dict[tuple[str, int], tuple[GroupInfo, str | None, Any]] = field(
        default_factory=dict, init=False, repr=False
    )

    # -- what features call ---------------------------------------------------------------
    def emit(self, action: Action, cause: Incoming | None = None) -> None:
        group_id = cause.group.id if cause and cause.group else None
        self.actions.append(Emitted(action, self.feature, cause.seq if cause else None, group_id))

    def reply(self, item: Incoming, text: str) -> None:
        """Answer the event: a reply to its message, or a plain message in its chat when the
        event names no message."""
        e = item.event
        if e.message_id:
            action = Action(
                ActionKind.REPLY,
                e.source,
                e.chat_id,
                user_id=e.user_id,
                message_id=e.message_id,
                text=text,
            )
        else:
            action = Action(ActionKind.SEND, e.source, e.chat_id, text=text)
        self.emit(action, item)

    def emit_for_group(
        self, action: Action, group: GroupInfo, cause_seq: int | None = None
    ) -> None:
        """An action in ``group`` that no event of the batch answers; ``cause_seq``: the
        stored event it is because of, if any (a level-up: the event that paid the points),
        found again by it when moderation removes that event's message (engine.withdraw)."""
        self.actions.append(Emitted(action, self.feature, cause_seq, group.id))

    def derive(self, event: Event) -> None:
        """Publish an event of groupops' own (e.g. ``checked_in``) for the features after."""
        self.derived.append(event)

    def derive_removed(
        self, group: GroupInfo, user_id: str, event_id: str, data: dict[str, Any]
    ) -> None:
        """The bot removed ``user_id`` from ``group`` (a kick or ban it just emitted): a
        ``member_kicked`` tells the directory (the membership ends now, not when or if the
        platform reports it) and the features after."""
        self.derive(
            Event(
                group.source,
                event_id,
                EventKind.MEMBER_KICKED,
                self.now,
                chat_id=group.chat_id,
                user_id=user_id,
                data=data,
            )
        )

    def removed_message(self, item: Incoming) -> RemovedMessage | None:
        """The message a ``message_deleted`` of moderation's names, as stored; None for a
        platform's deletion (a member deleting their own message takes nothing back) or a
        message never stored with its group and member.

        Moderation suppresses an offence in the batch it arrives in, so nothing counts it; but
        the first copies of a cross-group spam were posted (and counted) in earlier batches. For
        each, moderation derives a ``message_deleted`` naming the message with ``data["by"] ==
        REMOVED_BY_MODERATION``; the features that counted it take back what it earned (points:
        its message or reply points; welcome: the introduction it was taken for)."""
        event = item.event
        if event.kind != EventKind.MESSAGE_DELETED or event.data.get("by") != REMOVED_BY_MODERATION:
            return None
        return self.stored_message(event.source, event.chat_id, event.message_id)

    def stored_message(self, source: str, chat_id: str, message_id: str) -> RemovedMessage | None:
        """The member's message named by its platform id, as stored (None: never stored with
        its group and member)."""
        params = {"src": source, "chat": chat_id, "msg": message_id}
        row = _REMOVED_MESSAGE.first(self.conn, params)
        if row is None:
            return None
        seq, group_id, member_id, occurred_at = row
        if group_id is None or member_id is None:
            return None
        return RemovedMessage(int(seq), int(group_id), int(member_id), occurred_at)

    def derived_from(
        self, message: RemovedMessage, kind: EventKind
    ) -> list[tuple[int, Mapping[str, Any]]]:
        """The events of ``kind`` a feature derived from ``message`` (a ``checked_in``: they
        carry its time, its member and its seq as ``data["cause_seq"]``), as (seq, data)."""
        params = {
            "g": message.group_id,
            "kind": kind.value,
            "at": message.occurred_at,
            "m": message.member_id,
        }
        found = []
        for seq, payload in self.conn.execute(_DERIVED_AT, params):
            data = (payload or {}).get("data") or {}
            if data.get("cause_seq") == message.seq:
                found.append((int(seq), data))
        return found

    def suppress(self, item: Incoming) -> None:
        """Later features will not see this event (a removed ad earns no points)."""
        self.suppressed.add(item.seq)

    def cached(
        self,
        key: str,
        group: GroupInfo,
        kind: type[T],
        build: Callable[[], T],
        *,
        section: str | None = None,
    ) -> T:
        """What ``build`` makes for ``group``, kept under ``key`` (shared by the engine's
        batches) and made again only when the settings it is made from change: those of the
        feature ``section``, or without it every feature's. A kept value that is not a
        ``kind`` (another model under the same key) is made again too."""
        found = self._answered(key, group, section, kind)
        if found is not _NONE:
            return cast(T, found)
        value = self._cached(key, group, kind, build, section)
        self._answers[(key, group.id)] = (group, section, value)
        return value

    def _cached(
        self,
        key: str,
        group: GroupInfo,
        kind: type[T],
        build: Callable[[], T],
        section: str | None,
    ) -> T:
        workspace_part: Mapping[str, Any] = group.workspace_settings
        group_part: Mapping[str, Any] = group.settings
        if section is not None:
            workspace_part = workspace_part.get(section, {})
            group_part = group_part.get(section, {})
        cache_key = (key, group.id)
        kept = self.settings_cache.get(cache_key)
        if kept is not None:
            was_workspace, was_group, value = kept
            if type(value) is kind:
                # the same parts (or equal ones: the directory reloads groups every few seconds)
                if was_workspace is workspace_part and was_group is group_part:
                    return value
                if was_workspace == workspace_part and was_group == group_part:
                    self.settings_cache[cache_key] = (workspace_part, group_part, value)
                    return value
        made = build()
        self.settings_cache[cache_key] = (workspace_part, group_part, made)
        return made

    def _answered(self, key: str, group: GroupInfo, section: str | None, kind: type) -> Any:
        """This batch's answer of ``cached`` for ``key`` in ``group`` when it still holds (the
        very same group object, the same section, a ``kind``); else ``_NONE``."""
        answer = self._answers.get((key, group.id))
        if (
            answer is not None
            and answer[0] is group
            and answer[1] == section
            and type(answer[2]) is kind
        ):
            return answer[2]
        return _NONE

    def settings(self, feature: Named, group: GroupInfo, model: type[S]) -> S:
        """``feature``'s settings in ``group``: the workspace's defaults, then the group's own,
        validated by ``model`` (kept until they change)."""
        name = feature.name
        # cached()'s first look, without making its build function: most calls (several an
        # event) find the batch's answer
        found = self._answered(name, group, name, model)
        if found is not _NONE:
            return cast(S, found)
        return self.cached(
            name,
            group,
            model,
            lambda: model.model_validate(
                {**group.workspace_settings.get(name, {}), **group.settings.get(name, {})}
            ),
            section=name,
        )

    def capabilities(self, source: str) -> Capabilities:
        return self.capabilities_of(source)

    def gettext(self, group: GroupInfo) -> Callable[[str], str]:
        return self.catalogs.gettext(group.language)

    def mark_once(self, group_id: int, mark: str) -> bool:
        """True the first time ``mark`` is set for this feature and group (scheduled work)."""
        exists = self.conn.execute(
            select(feature_marks.c.mark).where(
                feature_marks.c.feature == self.feature,
                feature_marks.c.group_id == group_id,
                feature_marks.c.mark == mark,
            )
        ).first()
        if exists:
            return False
        self.conn.execute(
            insert(feature_marks).values(
                feature=self.feature, group_id=group_id, mark=mark, created_at=self.now
            )
        )
        return True
