"""What a message is checked for, in order: the text of a known ad (known_ads.py); forbidden
content (invites, links, phone numbers, contact requests, keywords: detectors.py), and in a
newcomer's first ``newcomer_hours`` in strict mode any link or link card; then a flood (too
many messages in a short time, counted in memory per member and group); then the same text
posted across the workspace's groups (copies.py). The first finding is what the ladder
punishes."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select

from groupops.domain.events import ContentKind, EventKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming, Named
from groupops.features.commands import command_words, is_command
from groupops.features.moderation import known_ads
from groupops.features.moderation.copies import Copy, CopyBook
from groupops.features.moderation.decisions import Batch
from groupops.features.moderation.detectors import (
    Finding,
    KeywordMatcher,
    Text,
    detect_any_link,
    detect_contacts,
    detect_invites,
    detect_links,
    detect_phones,
    fingerprint,
    snippet,
)
from groupops.features.moderation.known_ads import KnownAds
from groupops.features.moderation.memory import StagedDeques
from groupops.features.moderation.ops import evidence_of
from groupops.features.moderation.settings import ModerationSettings
from groupops.features.moderation.tables import moderation_decisions
from groupops.storage.tables import events

#: a member's recent messages in a group, (time, seq) oldest first, per (group, member); kept
#: in the order of their latest message, changed by a batch only once it commits (memory.py)
Windows = StagedDeques[tuple[int, int], tuple[datetime, int]]
#: compiled keyword lists by (zh keywords, en keywords)
Matchers = dict[tuple[tuple[str, ...], tuple[str, ...]], KeywordMatcher]

#: content a newcomer in strict mode may not share (cards of links, articles, net disks, files)
LINK_KINDS = frozenset(
    {ContentKind.H5_LINK, ContentKind.ARTICLE_LINK, ContentKind.NETDISK_LINK, ContentKind.FILE}
)
#: how many earlier copies of a cross-group spam one decision removes at most
MAX_COPY_DELETES = 50


_e, _d = events.c, moderation_decisions.c
#: built once (a statement built per call costs several times its run on SQLite)
_STORED_WINDOW = (
    select(_e.member_id, _e.occurred_at, _e.seq, _e.text)
    .where(
        _e.group_id == bindparam("g"),
        _e.occurred_at > bindparam("start"),
        _e.kind == EventKind.MESSAGE.value,
        _e.seq < bindparam("seq"),
        _e.member_id.is_not(None),
    )
    .order_by(_e.seq)
)
_LAST_FLOODS = (
    select(_d.member_id, func.max(_d.event_seq).label("seq"))
    .where(_d.group_id == bindparam("g"), _d.rule == "flood", _d.event_seq >= bindparam("seq"))
    .group_by(_d.member_id)
)


def _settings(ctx: BatchContext, feature: Named, group: GroupInfo) -> ModerationSettings:
    return ctx.settings(feature, group, ModerationSettings)


def prepare(
    ctx: BatchContext,
    feature: Named,
    batch: Sequence[Incoming],
    warm: dict[int, int],
    recent: Windows,
) -> Batch:
    """Normalise the batch's texts and read the copies their fingerprints need, at once; read
    the flood windows of groups not read yet (``warm``: group -> the window read, seconds)."""
    state = Batch()
    wanted: dict[int, set[str]] = {}
    known: dict[int, set[str]] = {}  # fingerprints looked up in the library of known ads
    since: datetime | None = None
    cold: dict[int, tuple[GroupInfo, Incoming]] = {}  # group -> its first message here
    for item in batch:
        group, event = item.group, item.event
        if group is None or item.member_id is None or item.is_admin:
            continue
        if event.kind == EventKind.MESSAGE and group.id not in cold:
            cold[group.id] = (group, item)
        if event.kind == EventKind.MESSAGE and event.message_id:
            state.messages[(event.source, event.chat_id, event.message_id)] = item
        if event.kind not in (EventKind.MESSAGE, EventKind.MESSAGE_EDITED):
            continue
        if not event.text.strip():
            continue
        text = state.texts[item.seq] = Text.of(event.text)
        s = _settings(ctx, feature, group)
        if known_ads.candidate(text, s):
            known.setdefault(group.workspace_id, set()).add(fingerprint(text))
        if event.kind != EventKind.MESSAGE or not s.detect_cross_group:
            continue
        if len(text.squeezed) < s.cross_group_min_chars:
            continue
        wanted.setdefault(group.workspace_id, set()).add(fingerprint(text))
        start = event.occurred_at - timedelta(seconds=s.cross_group_window_seconds)
        since = start if since is None else min(since, start)
    state.book = CopyBook.load(ctx.conn, wanted, since)
    state.known = KnownAds.load(ctx.conn, known, ctx.now) if known else KnownAds()
    for group, first in cold.values():
        s = _settings(ctx, feature, group)
        if s.detect_flood and warm.get(group.id, 0) < s.flood_seconds:
            read_windows(
                ctx, group, first.event.occurred_at, first.seq, s.flood_seconds, warm, recent
            )
    return state


def read_windows(
    ctx: BatchContext,
    group: GroupInfo,
    until: datetime,
    seq: int | None,
    seconds: int,
    warm: dict[int, int],
    recent: Windows,
) -> None:
    """Read the group's flood windows from storage once per process: messages stored
    before ``seq`` (this batch's first; None: all) that a flood of ``seconds`` ending at
    ``until`` could still count, minus those already punished as a flood (the bot may have
    restarted in the middle of one). From then on every message passes through this
    feature, so the windows stay complete in memory. What is read is committed already, so
    it is kept at once, whatever becomes of the running batch."""
    start = until - timedelta(seconds=seconds)
    params = {"g": group.id, "start": start, "seq": seq if seq is not None else 2**62}
    rows = ctx.conn.execute(_STORED_WINDOW, params).all()
    warm[group.id] = seconds
    if not rows:
        return
    punished = {
        int(r.member_id): int(r.seq or 0)
        for r in ctx.conn.execute(_LAST_FLOODS, {"g": group.id, "seq": int(rows[0].seq)})
    }
    words = command_words(ctx, group)
    for r in rows:
        mid, seq = int(r.member_id), int(r.seq)
        if seq <= punished.get(mid, 0) or words.matches(r.text or ""):
            continue  # punished already, or a command (no flood: see examine)
        window = recent.known.setdefault((group.id, mid), deque())
        if all(seq != known for _, known in window):
            window.append((r.occurred_at, seq))


def examine(
    ctx: BatchContext,
    item: Incoming,
    group: GroupInfo,
    s: ModerationSettings,
    state: Batch,
    recent: Windows,
    matchers: Matchers,
) -> tuple[Finding, list[Copy]] | None:
    """The message's first finding, with the earlier copies it removes too (cross-group
    spam); None when the message is fine."""
    event = item.event
    assert item.member_id is not None
    when = event.occurred_at
    newcomer = (
        item.joined_at is not None
        and s.newcomer_hours > 0
        and when - item.joined_at < timedelta(hours=s.newcomer_hours)
    )
    text = state.texts.get(item.seq)
    # a known ad first: its author is the advertiser blacklisted for it, not a first offender
    finding = state.known.check(group, s, text)
    if finding is not None:
        return finding, []
    finding = _content(text, event.content_kind, s, newcomer, matchers)
    copies: list[Copy] = []
    if event.kind == EventKind.MESSAGE:
        # a command the bot answers ("签到", "/points") is no flood: a newcomer trying
        # them one after another must not be warned for it
        flooding = s.detect_flood and not is_command(ctx, group, event.text)
        flood = _flood(recent, item, group, s) if flooding else None
        finding = finding or flood
        if finding is None and text is not None and s.detect_cross_group:
            found = _cross_group(item, group, text, s, state.book)
            if found is not None:
                finding, copies = found
    if finding is None:
        return None
    return finding, copies


def _matcher(matchers: Matchers, s: ModerationSettings) -> KeywordMatcher:
    key = (tuple(s.keywords_zh), tuple(s.keywords_en))
    matcher = matchers.get(key)
    if matcher is None:
        if len(matchers) > 256:
            matchers.clear()
        matcher = matchers[key] = KeywordMatcher.build(*key)
    return matcher


def _content(
    text: Text | None, kind: ContentKind, s: ModerationSettings, newcomer: bool, matchers: Matchers
) -> Finding | None:
    strict = newcomer and s.newcomer_strict
    if text is not None:
        if s.detect_invites and (found := detect_invites(text, s.allowed_domains)):
            return found
        if strict and (found := detect_any_link(text)):
            return found
        if s.detect_links and (found := detect_links(text, s.allowed_domains)):
            return found
        if s.detect_phones and (found := detect_phones(text)):
            return found
        if s.detect_contacts and (found := detect_contacts(text)):
            return found
        if s.detect_keywords and (s.keywords_zh or s.keywords_en):
            found = _matcher(matchers, s).find(text)
            if found:
                return found
    if strict and kind in LINK_KINDS:
        return Finding("newcomer_link", kind.value)
    return None


def _flood(
    recent: Windows, item: Incoming, group: GroupInfo, s: ModerationSettings
) -> Finding | None:
    assert item.member_id is not None
    key = (group.id, item.member_id)
    when = item.event.occurred_at
    # a copy for this batch, moved to the end: the windows stay in the order of their latest
    # message, so the tick finds the stale ones at the front instead of looking at every one
    window = recent.change(key)
    window.append((when, item.seq))
    start = when - timedelta(seconds=s.flood_seconds)
    while window and window[0][0] <= start:
        window.popleft()
    while len(window) > s.flood_messages:
        window.popleft()
    if len(window) >= s.flood_messages:
        window.clear()  # the next flood needs flood_messages new messages
        return Finding(
            "flood", evidence_of("flood", count=s.flood_messages, seconds=s.flood_seconds)
        )
    return None


def _cross_group(
    item: Incoming, group: GroupInfo, text: Text, s: ModerationSettings, book: CopyBook
) -> tuple[Finding, list[Copy]] | None:
    if len(text.squeezed) < s.cross_group_min_chars:
        return None
    event = item.event
    fp = fingerprint(text)
    window = timedelta(seconds=s.cross_group_window_seconds)
    copy = Copy(
        None,
        group.id,
        item.member_id,
        event.source,
        event.chat_id,
        event.message_id,
        event.occurred_at,
    )
    seen_in, earlier = book.add(group.workspace_id, fp, copy, window)
    if seen_in < s.cross_group_min_groups:
        return None
    book.remove(group.workspace_id, fp, window, event.occurred_at)
    found = evidence_of("cross_group", count=seen_in, text=snippet(text.norm, 80))
    return Finding("cross_group", found), earlier[:MAX_COPY_DELETES]


def drop_stale(recent: Windows, stale: datetime) -> None:
    """Forget the flood windows whose latest message is before ``stale``."""
    recent.drop_stale(lambda q: not q or q[-1][0] < stale)
