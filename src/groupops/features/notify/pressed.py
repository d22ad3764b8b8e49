"""The buttons under a task message: a person closes a task from the chat where they were
told of it, as ``groupops tasks done ID`` / ``groupops tasks dismiss ID`` would.

``task:done:<id>`` marks the task done, ``task:dismiss:<id>`` dismisses it (its reason: who
did it, from the task message). Only a person the task's group names in ``notify.to`` (on the
platform the press comes from) may: a press by anyone else (a forged one: Telegram takes a
client's word for a button's data) changes nothing. The bot says in a private message what
the press did, or that the task was already closed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from groupops.domain.actions import Action, ActionKind
from groupops.engine.context import BatchContext, Incoming, Named
from groupops.features.notify.whom import group_of, groups_of, language_of, settings_for
from groupops.i18n import N_
from groupops.storage.tables import owner_tasks

PREFIX = "task:"
DONE, DISMISS = "done", "dismiss"

#: the buttons: under a message of one task, and under each task of a list
DONE_BUTTON = N_("✅ Done")
DISMISS_BUTTON = N_("🚫 Not needed")
DONE_NTH = N_("✅ #{id}")
DISMISS_NTH = N_("🚫 #{id}")
#: what the bot says to the person who pressed
MARKED_DONE = N_("✅ Task #{id} is marked done.")
MARKED_DISMISSED = N_("Task #{id} is dismissed.")
ALREADY = N_("Task #{id} was already closed ({status}).")
STATUS = {"done": N_("done"), "dismissed": N_("dismissed")}
#: ``owner_tasks.reason`` of a task dismissed with the button
DISMISSED_BY = N_("dismissed by {name} from the task message")

_t = owner_tasks.c


def buttons(task_ids: list[int], t: Any) -> list[list[dict[str, str]]]:
    """The buttons under a message telling ``task_ids`` (``t``: its language's gettext)."""
    if len(task_ids) == 1:
        (one,) = task_ids
        return [
            [
                {"text": t(DONE_BUTTON), "data": f"{PREFIX}{DONE}:{one}"},
                {"text": t(DISMISS_BUTTON), "data": f"{PREFIX}{DISMISS}:{one}"},
            ]
        ]
    return [
        [
            {"text": t(DONE_NTH).format(id=i), "data": f"{PREFIX}{DONE}:{i}"},
            {"text": t(DISMISS_NTH).format(id=i), "data": f"{PREFIX}{DISMISS}:{i}"},
        ]
        for i in task_ids
    ]


def pressed(ctx: BatchContext, feature: Named, item: Incoming) -> bool:
    """Handle a press of a task button (False: not one of them)."""
    event = item.event
    raw = str(event.data.get("button_data", ""))
    if not raw.startswith(PREFIX):
        return False
    what, _, number = raw[len(PREFIX) :].partition(":")
    if what not in (DONE, DISMISS) or not number.isdigit() or len(number) > 18:
        return True
    task = ctx.conn.execute(select(owner_tasks).where(_t.id == int(number))).first()
    if task is None or str(task.source) != event.source:
        return True
    group = group_of(groups_of(ctx, [] if task.group_id is None else [task.group_id]), task)
    s = settings_for(ctx, feature, group, task)
    if s is None or event.user_id not in s.recipients(str(task.source)):
        return True  # not theirs to close
    t = ctx.catalogs.gettext(language_of(s, group))
    if task.status != "open":
        said = t(ALREADY).format(id=task.id, status=t(STATUS.get(task.status, task.status)))
    else:
        values: dict[str, Any] = {"status": "done" if what == DONE else "dismissed"}
        if what == DISMISS:
            who = event.user_name or event.user_id
            values["reason"] = t(DISMISSED_BY).format(name=who)[:500]
        ctx.conn.execute(
            update(owner_tasks)
            .where(_t.id == task.id, _t.status == "open")
            .values(done_at=ctx.now, **values)
        )
        said = t(MARKED_DONE if what == DONE else MARKED_DISMISSED).format(id=task.id)
    chat = event.chat_id if item.group is not None else str(task.chat_id)
    ctx.emit(
        Action(
            ActionKind.DIRECT_MESSAGE,
            event.source,
            chat,
            user_id=event.user_id,
            text=said,
            data={"private_only": True},
        ),
        item,
    )
    return True
