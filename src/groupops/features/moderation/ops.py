"""What an operator does with moderation, as plain functions the CLI and the console call.

- :func:`moderation_log` lists decisions, newest first.
- :func:`undo_decision` reverts one: unmute / unban through the outbox, the offence no longer
  counts towards the ladder, the member comes off the blacklist where the decision put them on.
- :func:`blacklist_entries` lists a workspace's blacklist.
- :func:`known_ads_entries` lists the library of known ads (known_ads.py), and
  :func:`forget_known_ad` takes one text out of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import Conflict, InvalidOption, NotFound
from groupops.domain.time import utc
from groupops.engine.outbox import queue_actions
from groupops.features.moderation import reasons
from groupops.features.moderation.tables import (
    moderation_blacklist,
    moderation_decisions,
    moderation_known_ads,
)
from groupops.i18n import N_
from groupops.platforms.base import Capabilities
from groupops.storage.tables import groups, members, workspaces
from groupops.stored_texts import UNNAMED_OPERATOR

MAX_LOG = 1000
#: what an undo cannot revert (said in the operator's language by the undo command)
UNDO_NOTE = N_("removed messages cannot be brought back; everything else is reverted")

#: evidence groupops words itself, by key: stored as the key with its values (see
#: :func:`evidence`), so the log says it in the operator's language. The evidence a detector
#: quotes (the link, the phone number, the forbidden word) is stored as it was found.
EVIDENCE = {
    "flood": N_("{count} messages in {seconds} s"),
    "cross_group": N_("seen in {count} groups: {text}"),
    "blacklisted_in": N_("blacklisted for {rule} in {group} (decision #{decision})"),
    "on_blacklist": N_("on the workspace blacklist for {rule}"),
    "on_blacklist_by": N_("on the workspace blacklist for {rule} (decision #{decision})"),
    "known_ad": N_("a known ad (decision #{decision}): {text}"),
    "undid": N_("undid #{decision} ({rule}, {step})"),
    "undid_and_one": N_("undid #{decision} ({rule}, {step}) and 1 follow-up decision"),
    "undid_and_more": N_("undid #{decision} ({rule}, {step}) and {more} follow-up decisions"),
    # forget-ad's record: which text (the log's columns say forget_ad and who it was about)
    "forgot_ad": N_("known ad {id}, added by #{decision}"),
    "forgot_ad_alone": N_("known ad {id}"),
}
#: what a stored evidence of groupops' own words starts with (a detector's never does)
_EVIDENCE_MARK = '{"evidence": '


def evidence_of(key: str, **values: str | int) -> str:
    """Evidence in groupops' own words, as stored: the key of its text in :data:`EVIDENCE`
    and the values to fill in, as JSON."""
    assert key in EVIDENCE, key
    return json.dumps({"evidence": key, "values": values}, ensure_ascii=False)


def _undid(decision_id: int, rule: str, step: str, more: int) -> str:
    """The evidence of an undo: what it undid, and how many decisions that one led to."""
    if more == 0:
        return evidence_of("undid", decision=decision_id, rule=rule, step=step)
    if more == 1:
        return evidence_of("undid_and_one", decision=decision_id, rule=rule, step=step)
    return evidence_of("undid_and_more", decision=decision_id, rule=rule, step=step, more=more)


def read_evidence(stored: str | None) -> tuple[str, str | None, dict[str, Any]]:
    """A stored evidence as ``(English, template, values)``: the template (a msgid) and its
    values for evidence in groupops' own words; ``(stored, None, {})`` for the rest (quoted
    evidence, and rows written before evidence was stored this way)."""
    text = stored or ""
    if not text.startswith(_EVIDENCE_MARK):
        return text, None, {}
    try:
        parsed = json.loads(text)
        template = EVIDENCE[parsed["evidence"]]
        values = dict(parsed["values"])
        return template.format(**values), template, values
    except (ValueError, KeyError, TypeError, IndexError):
        return text, None, {}


@contextmanager
def _connection(db: Engine | Connection, *, write: bool) -> Iterator[Connection]:
    """A connection in a transaction: a new one from an Engine, or the caller's own."""
    if isinstance(db, Engine):
        if write:
            with db.begin() as conn:
                yield conn
        else:
            with db.connect() as conn:
                yield conn
                conn.rollback()
    else:
        yield db


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _row(r: Any) -> dict[str, Any]:
    english, template, values = read_evidence(r.evidence)
    return {
        "id": int(r.id),
        "created_at": _iso(r.created_at),
        "workspace_id": int(r.workspace_id),
        "group_id": r.group_id,
        "group": r.group_title or r.chat_id,
        "source": r.source,
        "chat_id": r.chat_id,
        "member_id": r.member_id,
        "member": r.member_name or r.user_name or r.user_id,
        "user_id": r.user_id,
        "rule": r.rule,
        "evidence": english,
        "evidence_template": template,
        "evidence_values": values,
        "step": r.step,
        "step_index": r.step_index,
        "actions": [a.get("kind") for a in (r.actions or [])],
        "message_id": r.message_id,
        "by": r.by,
        "parent_id": r.parent_id,
        "undo_of": r.undo_of,
        "undone_at": _iso(r.undone_at),
        "undone_by": r.undone_by,
    }


def moderation_log(
    db: Engine | Connection,
    group_id: int | None = None,
    limit: int = 50,
    *,
    member_id: int | None = None,
    workspace_id: int | None = None,
) -> list[dict[str, Any]]:
    """Decisions, newest first: who, where, which rule, the evidence, the step, the actions,
    when, and by whom ("auto" or an operator). Times are ISO 8601 UTC strings."""
    d = moderation_decisions.c
    q = (
        select(
            moderation_decisions,
            groups.c.title.label("group_title"),
            members.c.display_name.label("member_name"),
        )
        .select_from(
            moderation_decisions.outerjoin(groups, groups.c.id == d.group_id).outerjoin(
                members, members.c.id == d.member_id
            )
        )
        .order_by(d.id.desc())
        .limit(max(1, min(int(limit), MAX_LOG)))
    )
    if group_id is not None:
        q = q.where(d.group_id == group_id)
    if member_id is not None:
        q = q.where(d.member_id == member_id)
    if workspace_id is not None:
        q = q.where(d.workspace_id == workspace_id)
    with _connection(db, write=False) as conn:
        return [_row(r) for r in conn.execute(q).all()]


def blacklist_entries(
    db: Engine | Connection, workspace_id: int | None = None
) -> list[dict[str, Any]]:
    """The workspace blacklist: member, the rule they were listed for, the decision, when."""
    b = moderation_blacklist.c
    q = (
        select(moderation_blacklist, members.c.display_name)
        .select_from(moderation_blacklist.outerjoin(members, members.c.id == b.member_id))
        .order_by(b.created_at.desc())
    )
    if workspace_id is not None:
        q = q.where(b.workspace_id == workspace_id)
    with _connection(db, write=False) as conn:
        return [
            {
                "workspace_id": int(r.workspace_id),
                "member_id": int(r.member_id),
                "member": r.display_name or "",
                "rule": r.rule,
                "decision_id": r.decision_id,
                "created_at": _iso(r.created_at),
                "by": r.by,
            }
            for r in conn.execute(q).all()
        ]


#: where a known ad's refusal comes from (``groupops moderation forget-ad``)
KNOWN_ADS = N_("known ads")
#: how much of a known ad's fingerprint (a SHA-256, 64 hex digits) is its id in a listing
AD_ID_CHARS = 12
#: the least of an id :func:`forget_known_ad` takes (a start this short names one text)
AD_ID_LEAST = 8
FINGERPRINT_CHARS = 64
_HEX = frozenset("0123456789abcdef")


def _workspace_id(conn: Connection, slug: str | None) -> int | None:
    """The id of the workspace ``slug`` (None: every workspace); an unknown one is refused."""
    if slug is None:
        return None
    found = conn.execute(select(workspaces.c.id).where(workspaces.c.slug == slug)).scalar()
    if found is None:
        raise NotFound(N_("no workspace {slug!r}"), where=N_("workspace"), slug=slug)
    return int(found)


def _known_ads_query(now: datetime, workspace_id: int | None) -> Any:
    """The known ads in force at ``now`` with the decision that added each (when kept)."""
    k, d = moderation_known_ads.c, moderation_decisions.c
    q = (
        select(
            k.fingerprint,
            k.workspace_id,
            workspaces.c.slug,
            k.decision_id,
            k.sample,
            k.created_at,
            k.expires_at,
            d.rule,
            d.step,
            d.evidence,
            d.member_id,
            d.user_id,
            d.user_name,
            d.chat_id,
            d.message_id,
            groups.c.title.label("group_title"),
            members.c.display_name.label("member_name"),
        )
        .select_from(
            moderation_known_ads.join(workspaces, workspaces.c.id == k.workspace_id)
            .outerjoin(moderation_decisions, d.id == k.decision_id)
            .outerjoin(groups, groups.c.id == d.group_id)
            .outerjoin(members, members.c.id == d.member_id)
        )
        .where(k.expires_at > utc(now))
    )
    return q if workspace_id is None else q.where(k.workspace_id == workspace_id)


def _known_ad(r: Any) -> dict[str, Any]:
    english, template, values = read_evidence(r.evidence)
    return {
        "id": r.fingerprint[:AD_ID_CHARS],
        "fingerprint": r.fingerprint,
        "workspace_id": int(r.workspace_id),
        "workspace": r.slug,
        "created_at": _iso(r.created_at),
        "expires_at": _iso(r.expires_at),
        "decision_id": r.decision_id,
        "sample": r.sample,
        "rule": r.rule,
        "step": r.step,
        "group": r.group_title or r.chat_id,
        "member_id": r.member_id,
        "member": r.member_name or r.user_name or r.user_id,
        "message_id": r.message_id,
        "evidence": english if r.evidence is not None else None,
        "evidence_template": template,
        "evidence_values": values,
    }


def known_ads_entries(
    db: Engine | Connection,
    now: datetime,
    workspace: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    """The library of known ads in force at ``now`` (of the workspace ``workspace``, a slug, or
    of every one), newest first, at most ``limit``, and how many there are in all. The library
    keeps a text's fingerprint and its ``sample`` (its first 80 characters as compared; None
    for a text kept before revision 0019), not the whole text: each comes with the decision
    that added it (its rule, step, member, group and evidence; None where that decision is no
    longer kept). Its ``id`` is the start of the fingerprint, what :func:`forget_known_ad`
    takes."""
    k = moderation_known_ads.c
    with _connection(db, write=False) as conn:
        wid = _workspace_id(conn, workspace)
        q = _known_ads_query(now, wid)
        rows = conn.execute(
            q.order_by(k.created_at.desc(), k.fingerprint).limit(max(1, min(int(limit), MAX_LOG)))
        ).all()
        total = conn.execute(
            select(func.count()).select_from(q.with_only_columns(k.fingerprint).subquery())
        ).scalar_one()
    return [_known_ad(r) for r in rows], int(total)


#: the step and rule of the log's record of a ``forget-ad``: an operator took a text out of the
#: library of known ads (an entry of the log, as an undo is; it cannot be undone itself)
FORGET_AD = "forget_ad"


def _record_forget(conn: Connection, entry: dict[str, Any], by: str, now: datetime) -> int:
    """The moderation log's record of a known ad taken out (``step="forget_ad"``): who did it,
    when, which text (its id) and the decision that had added it, about that decision's group
    and member (forgetting the member drops it with their other decisions). Not counted, no
    action: the ladder, the undo and the totals pass over it."""
    d = moderation_decisions.c
    added = None
    if entry["decision_id"] is not None:
        added = conn.execute(
            select(moderation_decisions).where(d.id == entry["decision_id"])
        ).first()
    if added is None:
        evidence = evidence_of("forgot_ad_alone", id=entry["id"])
    else:
        evidence = evidence_of("forgot_ad", id=entry["id"], decision=int(added.id))
    return int(
        conn.execute(
            insert(moderation_decisions)
            .values(
                created_at=now,
                workspace_id=entry["workspace_id"],
                group_id=None if added is None else added.group_id,
                member_id=None if added is None else added.member_id,
                source="" if added is None else added.source,
                chat_id="" if added is None else added.chat_id,
                user_id="" if added is None else added.user_id,
                user_name="" if added is None else added.user_name,
                message_id="" if added is None else added.message_id,
                rule=FORGET_AD,
                evidence=evidence,
                step=FORGET_AD,
                actions=[],
                counted=False,
                by=by[:100],
            )
            .returning(d.id)
        ).scalar_one()
    )


def forget_known_ad(
    db: Engine | Connection,
    ad_id: str,
    now: datetime,
    workspace: str | None = None,
    *,
    by: str = UNNAMED_OPERATOR,
) -> dict[str, Any]:
    """Take one text out of the library of known ads: the operator says it is no ad (or it
    gets people kicked on sight who should not be). ``ad_id`` is its id as
    :func:`known_ads_entries` lists it (or more of its fingerprint, at least
    :data:`AD_ID_LEAST` characters); ``workspace`` (a slug) says where, when the same text is
    known in several. It is recorded in the moderation log (``step="forget_ad"``, ``by`` the
    operator; the entry's ``logged_as`` is the record's id). Nothing else changes: the decision
    that added it and the blacklist stay as they are (``undo`` that decision to lift them too).
    Returns the entry removed; raises :class:`NotFound` for an id no known ad in force has,
    :class:`InvalidOption` for one too short to name a single text, :class:`Conflict` for one
    naming several."""
    by = (by or "").strip()
    if not by:
        raise ValueError("say who forgets it: by= must name the operator")
    wanted = ad_id.strip().lower()
    if len(wanted) < AD_ID_LEAST and set(wanted) <= _HEX:
        raise InvalidOption(
            N_("{id!r} is too short for a known ad's id: give at least {least} characters"),
            where=KNOWN_ADS,
            id=ad_id,
            least=AD_ID_LEAST,
        )
    k = moderation_known_ads.c
    with _connection(db, write=True) as conn:
        wid = _workspace_id(conn, workspace)
        found = []
        if len(wanted) <= FINGERPRINT_CHARS and set(wanted) <= _HEX:  # no LIKE wildcard in it
            q = _known_ads_query(now, wid).where(k.fingerprint.like(f"{wanted}%"))
            found = [_known_ad(r) for r in conn.execute(q.order_by(k.workspace_id)).all()]
        if not found:
            raise NotFound(N_("no known ad {id}"), where=KNOWN_ADS, id=ad_id)
        if len({f["fingerprint"] for f in found}) > 1:
            raise Conflict(
                N_("{id} is the start of {count} known ads: give more of it"),
                where=KNOWN_ADS,
                id=ad_id,
                count=len(found),
            )
        if len(found) > 1:
            raise Conflict(
                N_("known ad {id} is in {count} workspaces ({workspaces}): name one"),
                where=KNOWN_ADS,
                id=ad_id,
                count=len(found),
                workspaces=", ".join(f["workspace"] for f in found),
            )
        [entry] = found
        conn.execute(
            delete(moderation_known_ads).where(
                k.workspace_id == entry["workspace_id"], k.fingerprint == entry["fingerprint"]
            )
        )
        entry["logged_as"] = _record_forget(conn, entry, by, utc(now))
    return entry


def _reverse(r: Any) -> Action | None:
    """The platform action that reverts one decision's step, if any."""
    if not r.user_id:
        return None
    why = reasons.UNDO.format(decision=r.id)
    if r.step == "mute":
        return Action(ActionKind.UNMUTE, r.source, r.chat_id, user_id=r.user_id, reason=why)
    if r.step in ("kick", "ban"):
        return Action(ActionKind.UNBAN, r.source, r.chat_id, user_id=r.user_id, reason=why)
    return None


def _forget_known_ads(conn: Connection, row: Any) -> int:
    """An undo drops the known ads (known_ads.py) its decision added and, for a ``known_ad``,
    the one that decision matched: the operator says the text is no ad. How many it dropped."""
    owners = {int(row.id)}
    if row.rule == "known_ad":
        matched = read_evidence(row.evidence)[2].get("decision")
        if isinstance(matched, int) and matched:
            owners.add(matched)
    k = moderation_known_ads.c
    res = conn.execute(
        delete(moderation_known_ads).where(
            k.workspace_id == row.workspace_id, k.decision_id.in_(sorted(owners))
        )
    )
    return int(res.rowcount or 0)


#: where an undo's refusal comes from (an operator's ``groupops undo``)
UNDO = N_("moderation undo")


def undo_decision(
    db: Engine | Connection,
    decision_id: int,
    by: str,
    now: datetime,
    *,
    capabilities_of: Callable[[str], Capabilities] | None = None,
) -> dict[str, Any]:
    """Revert one decision (and the kicks from other groups that followed from it).

    - a mute is lifted (UNMUTE), a kick or ban is lifted (UNBAN: the member may join again),
      through the outbox, delivered like any action;
    - the offence no longer counts towards the ladder (the member's warning count goes down);
    - the member comes off the workspace blacklist if this decision put them on it, or if it
      was a refused join of a blacklisted member.

    The undo is itself logged (``step="undo"``, ``by`` = the operator). Raises
    :class:`NotFound` for an unknown decision and :class:`Conflict` for one already undone or
    for an undo entry. Pass ``capabilities_of`` (``app.platforms.capabilities``) to turn what a
    platform cannot do into an owner task, as the engine does.
    """
    by = (by or "").strip()
    if not by:
        raise ValueError("say who undoes it: by= must name the operator")
    now = utc(now)
    d = moderation_decisions.c
    with _connection(db, write=True) as conn:
        row = conn.execute(select(moderation_decisions).where(d.id == decision_id)).first()
        if row is None:
            raise NotFound(N_("no moderation decision #{id}"), where=UNDO, id=decision_id)
        if row.step == "undo":
            raise Conflict(
                N_("decision #{id} is itself an undo (of #{of}); it cannot be undone"),
                where=UNDO,
                id=decision_id,
                of=row.undo_of,
            )
        if row.step == FORGET_AD:  # the library keeps no text to bring back
            raise Conflict(
                N_(
                    "decision #{id} records a known ad taken out of the library; it cannot be"
                    " undone (the text is known again when someone is blacklisted for it)"
                ),
                where=UNDO,
                id=decision_id,
            )
        if row.undone_at is not None:
            raise Conflict(
                N_("decision #{id} was already undone by {by} at {at}"),
                where=UNDO,
                id=decision_id,
                by=row.undone_by,
                at=row.undone_at.isoformat(),
            )
        children = conn.execute(
            select(moderation_decisions).where(d.parent_id == decision_id, d.undone_at.is_(None))
        ).all()
        targets = [row, *children]
        actions: list[tuple[Action, int | None]] = []
        for r in targets:
            action = _reverse(r)
            if action is not None:
                actions.append((action, r.group_id))
        ids = [int(r.id) for r in targets]
        conn.execute(
            update(moderation_decisions)
            .where(d.id.in_(ids))
            .values(undone_at=now, undone_by=by[:100])
        )
        removed = False
        if row.member_id is not None:
            b = moderation_blacklist.c
            # a refused join (or a kick because of the blacklist): let this person in again;
            # an ad that put them on the blacklist: take off what this decision put there
            cond = (
                b.member_id == row.member_id
                if row.rule == "blacklist"
                else (b.decision_id == decision_id)
            )
            res = conn.execute(
                delete(moderation_blacklist).where(
                    b.workspace_id == row.workspace_id, b.member_id == row.member_id, cond
                )
            )
            removed = bool(res.rowcount)
        forgotten = _forget_known_ads(conn, row)
        outbox_ids, task_ids = queue_actions(
            conn,
            actions,
            workspace_id=int(row.workspace_id),
            now=now,
            feature="moderation",
            capabilities_of=capabilities_of,
        )
        undo_id = conn.execute(
            insert(moderation_decisions)
            .values(
                created_at=now,
                workspace_id=row.workspace_id,
                group_id=row.group_id,
                member_id=row.member_id,
                source=row.source,
                chat_id=row.chat_id,
                user_id=row.user_id,
                user_name=row.user_name,
                message_id=row.message_id,
                rule="undo",
                evidence=_undid(decision_id, row.rule, row.step, len(children)),
                step="undo",
                actions=[a.to_json() for a, _ in actions],
                counted=False,
                by=by[:100],
                undo_of=decision_id,
            )
            .returning(d.id)
        ).scalar_one()
    return {
        "decision_id": decision_id,
        "undo_id": int(undo_id),
        "undone": ids,
        "actions": [a.to_json() for a, _ in actions],
        "outbox_ids": outbox_ids,
        "owner_task_ids": task_ids,
        "blacklist_removed": removed,
        "known_ads_removed": forgotten,
        "note": UNDO_NOTE,
    }
