"""The library of known ads (已知广告库): an advertiser blacklisted for a message, who comes back
with a second account and posts the very same ad, is recognised by the text.

When a member is put on the workspace blacklist for a message (blacklist.py: kicked or banned
for one of ``blacklist_rules``), the message's fingerprint (detectors.fingerprint, the same as
the cross-group copies': spaces, punctuation, width and case do not count) is kept for the
workspace for ``known_ads_days``. A later message or edit in any group of the workspace with a
known fingerprint, at least ``cross_group_min_chars`` long, is the rule ``known_ad``: removed,
and its author gets ``blacklist_action`` at once (and goes on the blacklist), whatever the
ladder says. Undoing the decision that added a fingerprint, or one of ``known_ad``, drops it:
the operator says the text is no ad. So does ``groupops moderation forget-ad`` (ops.py), which
drops the one text and nothing else; forgetting a member (:func:`forget_member`) drops the
texts their decisions added. The library keeps a fingerprint and the start of the text (its
``sample``, for an operator to recognise it), never the whole text.

Cheap per message: the batch's fingerprints are looked up in one query per workspace
(prepare), then found in memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from groupops.engine.context import BatchContext, GroupInfo
from groupops.features.moderation.detectors import Finding, Text, fingerprint, snippet
from groupops.features.moderation.ops import evidence_of
from groupops.features.moderation.settings import ModerationSettings
from groupops.features.moderation.tables import moderation_decisions, moderation_known_ads
from groupops.storage.db import driver_cursor
from groupops.storage.types import sqlite_text

#: the rule of a message with a known ad's text
RULE = "known_ad"
#: how much of a text is quoted: in a known_ad's evidence, and as the sample the library keeps
#: for an operator to recognise it (the same as a cross-group copy's evidence)
SAMPLE_CHARS = 80
CHUNK = 400

_k = moderation_known_ads.c
#: built once (a statement built per call costs more than its run)
_LOAD = select(_k.fingerprint, _k.decision_id).where(
    _k.workspace_id == bindparam("ws"),
    _k.fingerprint.in_(bindparam("fps", expanding=True)),
    _k.expires_at > bindparam("now"),
)
#: the same on SQLite's own cursor (as copies.py: an IN list expanded per call costs more)
_SQLITE_LOAD = (
    "SELECT fingerprint, decision_id FROM moderation_known_ads WHERE workspace_id = ?"
    " AND fingerprint IN (SELECT value FROM json_each(?)) AND expires_at > ?"
)


def _rows(conn: Connection, ws: int, fps: list[str], now: datetime) -> list[Any]:
    if conn.dialect.name != "sqlite":
        return list(conn.execute(_LOAD, {"ws": ws, "fps": fps, "now": now}).all())
    with driver_cursor(conn) as cursor:
        return list(cursor.execute(_SQLITE_LOAD, (ws, json.dumps(fps), sqlite_text(now))))


def candidate(text: Text, s: ModerationSettings) -> bool:
    """Whether a message of ``text`` is looked up (and would be kept) in the library."""
    return s.known_ads_days > 0 and len(text.squeezed) >= s.cross_group_min_chars


@dataclass
class KnownAds:
    """The known fingerprints among a batch's messages: (workspace, fingerprint) -> the
    decision that added it (0: none kept)."""

    found: dict[tuple[int, str], int] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, wanted: dict[int, set[str]], now: datetime) -> KnownAds:
        known = cls()
        for ws, fps in wanted.items():
            ordered = sorted(fps)
            for start in range(0, len(ordered), CHUNK):
                for fp, decision_id in _rows(conn, ws, ordered[start : start + CHUNK], now):
                    known.found[(ws, fp)] = int(decision_id or 0)
        return known

    def check(self, group: GroupInfo, s: ModerationSettings, text: Text | None) -> Finding | None:
        """The finding ``known_ad`` when ``text`` is a known ad in the group's workspace."""
        if text is None or not candidate(text, s):
            return None
        decision_id = self.found.get((group.workspace_id, fingerprint(text)))
        if decision_id is None:
            return None
        found = evidence_of(RULE, decision=decision_id, text=snippet(text.norm, SAMPLE_CHARS))
        return Finding(RULE, found)

    def remember(
        self,
        ctx: BatchContext,
        group: GroupInfo,
        s: ModerationSettings,
        text: Text | None,
        rule: str,
        decision_id: int,
    ) -> None:
        """Keep the fingerprint of ``text``, whose author decision ``decision_id`` just
        blacklisted for ``rule``, for ``known_ads_days``, with the start of the text (its
        sample, the author's words: forgetting them drops it with the row). A known ad seen
        again is kept that long from now, still owned by the decision that first added it (and
        with its sample: none is taken from a second account's message, whose words would
        outlive that account's forgetting)."""
        if text is None or not candidate(text, s):
            return
        ws, fp = group.workspace_id, fingerprint(text)
        expires = ctx.now + timedelta(days=s.known_ads_days)
        where = (_k.workspace_id == ws, _k.fingerprint == fp)
        if rule == RULE:
            ctx.conn.execute(update(moderation_known_ads).where(*where).values(expires_at=expires))
            return
        # a fingerprint kept by an earlier decision (expired, or in a group where the library
        # is off when it was posted) is owned by this one from now on
        ctx.conn.execute(delete(moderation_known_ads).where(*where))
        ctx.conn.execute(
            insert(moderation_known_ads).values(
                workspace_id=ws,
                fingerprint=fp,
                decision_id=decision_id,
                sample=snippet(text.norm, SAMPLE_CHARS),
                created_at=ctx.now,
                expires_at=expires,
            )
        )
        self.found[(ws, fp)] = decision_id


def ladder_settings(s: ModerationSettings) -> ModerationSettings:
    """The settings a ``known_ad`` is punished with: one step, ``blacklist_action``, and the
    rule blacklists (the author is the advertiser who was blacklisted, on another account)."""
    return s.model_copy(
        update={"ladder": [s.blacklist_action], "blacklist_rules": [*s.blacklist_rules, RULE]}
    )


def drop_expired(conn: Connection, now: datetime) -> None:
    """At the clock's tick: forget the known ads past their time."""
    conn.execute(delete(moderation_known_ads).where(_k.expires_at <= now.astimezone(UTC)))


def forget_member(conn: Connection, member_id: int) -> None:
    """A member forgotten (``delete_member_data``): the fingerprints of their messages, kept
    by the decisions that blacklisted them, go too. Before their decisions are deleted (the
    rows are found through them)."""
    d = moderation_decisions.c
    theirs = select(d.id).where(d.member_id == member_id)
    conn.execute(delete(moderation_known_ads).where(_k.decision_id.in_(theirs)))
