"""The bot's own messages taken back when moderation removes the member's message they answered.

A check-in's reply quotes the check-in's goal: for a cross-group spam found out later ("打卡
加微信 abc123" posted in several groups) it repeats the ad. When moderation removes such a
message, every message the bot posted, or was about to post, because of it goes too: those its
event caused (the outbox's ``cause_seq``) and those of the events derived from it (its
``checked_in``). A message whose ``Action.data`` has ``OWN_WITHDRAWAL`` is left to the feature
that sent it: a level-up announcement goes only if the level is lost with the removed
message's points (points, :func:`caused_by` and :func:`withdraw`).

- not sent yet (``pending``): withdrawn, never sent (status ``withdrawn``);
- sent (``delivered``): a ``delete`` of the bot's message, named by the platform id the
  delivery returned (``result.platform_message_id``);
- being sent (``sending``: claimed by a deliverer): a ``delete`` naming the outbox row
  (``data["withdraws"]``); the deliverer fills in the platform id once the row is delivered,
  and tries again later while it is not (engine.deliverer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, GroupInfo, RemovedMessage
from groupops.i18n import N_
from groupops.storage.tables import outbox

#: ``Action.data`` key of a ``delete`` of the bot's own message: the outbox id of that message,
#: whose platform id the deliverer reads when it sends the ``delete``
WITHDRAWS = "withdraws"
#: ``Action.data`` key of a message :func:`withdraw_replies` leaves to the feature that sent it
#: (a level-up announcement stays while the level is still reached: points)
OWN_WITHDRAWAL = "own_withdrawal"
#: the outbox status of a message withdrawn before it was sent
WITHDRAWN = "withdrawn"
#: why (the outbox's last_error, the delete's reason)
WITHDRAWN_WHY = N_("withdrawn: moderation removed the message it answered")
#: a ``delete`` of a message still being sent waits (the deliverer tries again later)
NOT_SENT_YET = N_("outbox {id} is not sent yet: deleted once it is")

#: the bot's messages in a group: what a member reads there
_IN_THE_GROUP = (ActionKind.SEND.value, ActionKind.REPLY.value)
_o = outbox.c
#: the bot's messages caused by some events in a chat (ix_outbox_cause: a few index steps)
_CAUSED = (
    select(_o.id, _o.status, _o.result, _o.payload).where(
        _o.source == bindparam("src"),
        _o.chat_id == bindparam("chat"),
        _o.cause_seq.in_(bindparam("seqs", expanding=True)),
        _o.kind.in_(_IN_THE_GROUP),
    )
    # no ORDER BY id: SQLite would walk the chat's every row in ix_outbox_chat's order for it
    # (the few rows found are put in order in Python)
)
_WITHDRAW = (
    update(outbox)
    .where(_o.id == bindparam("oid"), _o.status == "pending")
    .values(status=WITHDRAWN, claimed_until=None, last_error=WITHDRAWN_WHY)
)


@dataclass(frozen=True, slots=True)
class Caused:
    """One of the bot's messages in a group caused by an event, as the outbox has it."""

    id: int
    status: str
    #: the delivery's result (``platform_message_id``), None before
    result: Mapping[str, Any] | None
    #: the action's ``data``
    data: Mapping[str, Any]


def caused_by(ctx: BatchContext, group: GroupInfo, seqs: Sequence[int]) -> list[Caused]:
    """The bot's messages in ``group`` that the events ``seqs`` caused, oldest first."""
    params = {"src": group.source, "chat": group.chat_id, "seqs": list(seqs)}
    found = [
        Caused(int(oid), str(status), result, (payload or {}).get("data") or {})
        for oid, status, result, payload in ctx.conn.execute(_CAUSED, params)
    ]
    return sorted(found, key=lambda c: c.id)


def message_seqs(ctx: BatchContext, message: RemovedMessage) -> list[int]:
    """The events of a removed message: its own and those derived from it (its check-in)."""
    return [message.seq, *(seq for seq, _ in ctx.derived_from(message, EventKind.CHECKED_IN))]


def withdraw(ctx: BatchContext, group: GroupInfo, caused: Iterable[Caused]) -> int:
    """Take back these messages of the bot's in ``group``: one not sent yet is never sent, one
    sent is deleted (see the module's docstring); how many."""
    taken = 0
    for c in caused:
        if c.status == "pending" and ctx.conn.execute(_WITHDRAW, {"oid": c.id}).rowcount == 1:
            taken += 1
            continue
        if c.status == "delivered":
            platform_id = str((c.result or {}).get("platform_message_id") or "")
            if not platform_id:
                continue  # the platform named no message: nothing to delete
            data: dict[str, int] = {}
        elif c.status in ("pending", "sending"):
            # claimed by a deliverer (or just now): deleted once it is delivered (the
            # deliverer puts its platform id in the place of this one)
            platform_id, data = f"outbox:{c.id}", {WITHDRAWS: c.id}
        else:
            continue  # dead, rerouted or withdrawn: never posted in the group
        delete = Action(
            ActionKind.DELETE,
            group.source,
            group.chat_id,
            message_id=platform_id,
            reason=WITHDRAWN_WHY,
            data=data,
        )
        ctx.emit_for_group(delete, group)
        taken += 1
    return taken


def withdraw_replies(ctx: BatchContext, group: GroupInfo, message: RemovedMessage) -> int:
    """Take back the bot's messages in ``group`` caused by ``message`` (a member's message
    moderation removes) or by an event derived from it, but those marked ``OWN_WITHDRAWAL``;
    how many."""
    caused = caused_by(ctx, group, message_seqs(ctx, message))
    return withdraw(ctx, group, (c for c in caused if OWN_WITHDRAWAL not in c.data))
