"""Who is told of an owner task, and in which language: what the task messages (``digest``)
and the buttons under them (``pressed``) both ask of a task."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from groupops.engine.context import BatchContext, GroupInfo, Named
from groupops.features.base import tick_settings
from groupops.features.notify.settings import NotifySettings


def key_of(source: str, user: str) -> str:
    """The short key of a person in their mark (a connection and a user id may be long)."""
    return hashlib.sha256(f"{source}\n{user}".encode()).hexdigest()[:20]


def groups_of(ctx: BatchContext, ids: Collection[int]) -> dict[int, GroupInfo]:
    """The groups ``ids`` as features see them: those the bot is in from the batch's, the
    others (the bot removed: the task says so) read."""
    from groupops.engine.directory import group_infos

    found = {g.id: g for g in ctx.all_groups() if g.id in ids}
    missing = sorted(set(ids) - set(found))
    if missing:
        found.update((g.id, g) for g in group_infos(ctx.conn, missing))
    return found


def group_of(infos: Mapping[int, GroupInfo], task: Any) -> GroupInfo | None:
    """The group of ``task`` (an ``owner_tasks`` row) among ``infos``; None for a task of no
    group."""
    return infos.get(int(task.group_id)) if task.group_id is not None else None


def settings_for(
    ctx: BatchContext, feature: Named, group: GroupInfo | None, task: Any
) -> NotifySettings | None:
    """The settings that say who is told of ``task``: its group's (a group the bot left
    too: its removal is a task), else its workspace's defaults."""
    if group is not None:
        return tick_settings(ctx, feature, group, NotifySettings)
    for other in ctx.all_groups():
        if other.workspace_id == int(task.workspace_id):
            try:
                return NotifySettings.model_validate(other.workspace_settings.get(feature.name, {}))
            except ValueError:
                return NotifySettings()
    return None


def people_of(
    ctx: BatchContext, feature: Named, tasks: Sequence[Any], infos: Mapping[int, GroupInfo]
) -> Iterator[tuple[Any, str, str, NotifySettings, GroupInfo | None]]:
    """For each of ``tasks`` (in order), each person told of it: (the task, the person's key,
    their user id, the settings naming them, the task's group)."""
    for task in tasks:
        group = group_of(infos, task)
        s = settings_for(ctx, feature, group, task)
        if s is None:
            continue
        for user in s.recipients(str(task.source)):
            yield task, key_of(str(task.source), user), user, s, group


def language_of(s: NotifySettings, group: GroupInfo | None) -> str:
    """The language a person is written to in: the setting's, else the group's."""
    return s.language or (group.language if group is not None else "")
