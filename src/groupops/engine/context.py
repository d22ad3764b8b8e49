"""What a feature sees while it handles a batch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import Connection, insert, select

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import Event, EventKind
from groupops.platforms.base import Capabilities
from groupops.storage.tables import feature_marks

if TYPE_CHECKING:
    from groupops.engine.templates import TemplateRenderer
    from groupops.features.base import Feature, FeatureSettings
    from groupops.i18n import Catalogs

S = TypeVar("S", bound="FeatureSettings")
T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class Incoming:
    """One stored event with what the engine resolved about it."""

    seq: int
    event: Event
    group: GroupInfo | None
    member_id: int | None
    is_admin: bool = False
    joined_at: datetime | None = None


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

    def emit_for_group(self, action: Action, group: GroupInfo) -> None:
        self.actions.append(Emitted(action, self.feature, None, group.id))

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

    def settings(self, feature: Named, group: GroupInfo, model: type[S]) -> S:
        """``feature``'s settings in ``group``: the workspace's defaults, then the group's own,
        validated by ``model`` (kept until they change)."""
        workspace_part = group.workspace_settings.get(feature.name, {})
        group_part = group.settings.get(feature.name, {})
        return self.cached(
            feature.name,
            group,
            model,
            lambda: model.model_validate({**dict(workspace_part), **dict(group_part)}),
            section=feature.name,
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
