"""Decisions as a batch makes them: what one handle() call shares (the batch's texts, copies,
strikes and the members it already muted or removed), a decision's row in
``moderation_decisions`` (most written together at the batch's end), and a removal told to the
directory. Reading and undoing them is ops.py's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from groupops.domain.actions import Action
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.moderation.copies import CopyBook
from groupops.features.moderation.detectors import Text
from groupops.features.moderation.known_ads import KnownAds
from groupops.features.moderation.tables import moderation_decisions
from groupops.storage.bulk import Bulk

_d = moderation_decisions.c
#: built once (a statement built per call costs several times its run on SQLite)
_LOG = insert(moderation_decisions).returning(_d.id)
_LOGS = Bulk(insert(moderation_decisions))


@dataclass
class Batch:
    """What one handle() call shares: texts in normal form, the copies across groups, the
    known ads, and the members already muted or removed in this batch."""

    texts: dict[int, Text] = field(default_factory=dict)
    book: CopyBook = field(default_factory=CopyBook)
    #: the known ads among the batch's fingerprints (known_ads.py)
    known: KnownAds = field(default_factory=KnownAds)
    escalated: set[tuple[int, int]] = field(default_factory=set)
    #: (group, member) removed in this batch, by a decision there or by the blacklist
    removed: set[tuple[int, int]] = field(default_factory=set)
    #: (group, member) -> their counted strikes, read once a batch and counted on here
    strikes: dict[tuple[int, int], int] = field(default_factory=dict)
    #: decisions whose id nobody needs, written together (see log)
    logs: list[dict[str, Any]] = field(default_factory=list)
    #: the batch's messages by (source, chat, message id): a copy removed here is suppressed
    messages: dict[tuple[str, str, str], Incoming] = field(default_factory=dict)
    #: earlier messages (source, chat, message id) taken back in this batch (removed.py)
    taken_back: set[tuple[str, str, str]] = field(default_factory=set)


def log(
    ctx: BatchContext,
    state: Batch,
    group: GroupInfo,
    item: Incoming | None,
    *,
    rule: str,
    evidence: str,
    step: str,
    actions: Sequence[Action],
    index: int | None = None,
    counted: bool = False,
    parent_id: int | None = None,
    target: tuple[str, str, str, int] | None = None,
    later: bool = False,
) -> int:
    """Record a decision; returns its id. With ``later`` it is written with the batch's
    others at the end of handle() (one statement for all), and the id is 0. Decisions
    keep their order: one written now first writes those waiting."""
    if item is not None:
        e = item.event
        source, chat_id, user_id, member_id = e.source, e.chat_id, e.user_id, item.member_id
        user_name, message_id, seq = e.user_name, e.message_id, item.seq
    else:
        assert target is not None
        source, chat_id, user_id, member_id = target
        user_name, message_id, seq = "", "", None
    row = {
        "created_at": ctx.now,
        "workspace_id": group.workspace_id,
        "group_id": group.id,
        "member_id": member_id,
        "source": source,
        "chat_id": chat_id,
        "user_id": user_id,
        "user_name": user_name,
        "message_id": message_id,
        "event_seq": seq,
        "rule": rule,
        "evidence": evidence,
        "step": step,
        "step_index": index,
        "actions": [a.to_json() for a in actions],
        "counted": counted,
        "by": "auto",
        "parent_id": parent_id,
    }
    if later:
        state.logs.append(row)
        return 0
    write_logs(ctx, state)
    return int(ctx.conn.execute(_LOG, row).scalar_one())


def write_logs(ctx: BatchContext, state: Batch) -> None:
    """Write the decisions waiting (see log)."""
    if state.logs:
        _LOGS.run(ctx.conn, state.logs)
        state.logs = []


def kicked(ctx: BatchContext, group: GroupInfo, user_id: str, decision_id: int, rule: str) -> None:
    """Tell the directory (and later features) that the member is out of the group."""
    ctx.derive_removed(
        group, user_id, f"moderation:{decision_id}", {"rule": rule, "decision_id": decision_id}
    )
