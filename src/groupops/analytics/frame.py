"""The analytics' one internal form: a group's events as columnar numpy arrays.

Events (live, from the ``events`` table, or imported) are converted once, in one pass, into a
:class:`Frame`; every metric then works on arrays, never per message in Python again (except
the few text passes that must look at characters: addressing, questions, keywords).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any

import numpy as np
import numpy.typing as npt

from groupops.domain.events import ContentKind, Event, EventKind

MESSAGE, JOINED, LEFT = 0, 1, 2
#: the analytics' code of each event kind they read
KIND_CODE = {
    EventKind.MESSAGE: MESSAGE,
    EventKind.MEMBER_JOINED: JOINED,
    EventKind.MEMBER_LEFT: LEFT,
}
CONTENT_KINDS: tuple[ContentKind, ...] = tuple(ContentKind)
_CONTENT_CODE = {k: i for i, k in enumerate(CONTENT_KINDS)}

IntArray = npt.NDArray[np.int64]


def distinct(values: IntArray) -> IntArray:
    """``np.unique(values)`` (1-D) by sorting: numpy 2.3+ finds the distinct values of a plain
    ``np.unique`` call by hashing, which for ~1M mostly distinct integers costs ~0.8 s
    against ~0.01 s for a sort, and is slower on repeated values too (1M people ids: ~5x).
    Every plain ``np.unique`` of the analytics goes through this."""
    s = np.sort(values)
    keep = np.ones(s.shape[0], dtype=np.bool_)
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


@dataclass
class Frame:
    """One row per event (messages, joins, departures), sorted by time (stable).

    * ``time``: int64 seconds since 1970 UTC; ``kind``: 0 message, 1 joined, 2 left;
    * ``author``: int64 index into ``authors`` (user ids) / ``names`` (display names);
    * ``content``: index into :data:`CONTENT_KINDS`; ``text``: list of str;
    * ``message_id``: the platform's id (str); ``reply_to``: explicit reply target ids
      (list of lists; empty where the platform recorded none); ``reactions``: int64;
    * ``inviter``: for joins, author index of who added them, or -1; ``via``: join channel;
    * ``bots``: the author indices of bots (an importer flags their posts ``data["bot"]``):
      their posts are messages, but they are no members.
    """

    time: IntArray
    kind: IntArray
    author: IntArray
    content: IntArray
    reactions: IntArray
    inviter: IntArray
    text: list[str]
    message_id: list[str]
    reply_to: list[list[str]]
    via: list[str]
    authors: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    bots: frozenset[int] = frozenset()

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def messages(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.kind == MESSAGE, dtype=np.bool_)

    def take(self, order: npt.NDArray[np.int64]) -> Frame:
        idx = order.tolist()
        return Frame(
            time=self.time[order],
            kind=self.kind[order],
            author=self.author[order],
            content=self.content[order],
            reactions=self.reactions[order],
            inviter=self.inviter[order],
            text=[self.text[i] for i in idx],
            message_id=[self.message_id[i] for i in idx],
            reply_to=[self.reply_to[i] for i in idx],
            via=[self.via[i] for i in idx],
            authors=self.authors,
            names=self.names,
            bots=self.bots,
        )


_NO_REPLY: list[str] = []  # shared by every row without a recorded reply: never mutated


class FrameBuilder:
    """Collects rows (events one at a time, or an importer's columns in bulk) and builds the
    :class:`Frame`. Author indices follow the order in which people first appear (a join's
    inviter just before the joiner); a person's name is the first one given that differs
    from their id."""

    def __init__(self) -> None:
        self.time: list[int] = []
        self.kind: list[int] = []
        self.author: list[int] = []
        self.content: list[int] = []
        self.reactions: list[int] = []
        self.inviter: list[int] = []
        self.text: list[str] = []
        self.message_id: list[str] = []
        self.reply_to: list[list[str]] = []
        self.via: list[str] = []
        self.ids: dict[str, int] = {}
        self.names: list[str] = []
        self.bots: set[int] = set()

    def who(self, uid: str, name: str) -> int:
        found = self.ids.get(uid)
        if found is None:
            found = self.ids[uid] = len(self.names)
            self.names.append(name or uid)
        elif name and self.names[found] == uid:
            self.names[found] = name
        return found

    def add(
        self,
        *,
        time: int,
        kind: int,
        uid: str,
        name: str,
        content: int,
        text: str,
        message_id: str,
        reply_to: list[str],
        reactions: int,
        inviter: int,
        via: str,
    ) -> None:
        self.time.append(time)
        self.kind.append(kind)
        self.author.append(self.who(uid, name))
        self.content.append(content)
        self.text.append(text)
        self.message_id.append(message_id)
        self.reply_to.append(reply_to)
        self.reactions.append(reactions)
        self.inviter.append(inviter)
        self.via.append(via)

    def add_event(self, e: Event) -> bool:
        """One event; False (and nothing added) for kinds the analytics skip."""
        code = KIND_CODE.get(e.kind)
        if code is None:
            return False
        data = e.data
        inviter = -1
        if code == JOINED:
            inv = data.get("inviter_user_id") or data.get("inviter_id")
            if inv:
                inviter = self.who(str(inv), str(data.get("inviter_name", "") or inv))
        self.add(
            time=int(e.occurred_at.timestamp()),
            kind=code,
            uid=e.user_id or "?",
            name=e.user_name,
            content=_CONTENT_CODE[e.content_kind],
            text=e.text,
            message_id=e.message_id,
            reply_to=_reply_list(data, e.reply_to_message_id),
            reactions=_int(data.get("reactions", 0)),
            inviter=inviter,
            via=str(data.get("via", "") or ""),
        )
        if data and code == MESSAGE and data.get("bot"):
            self.bots.add(self.author[-1])
        return True

    def add_columns(self, cols: Any) -> None:
        """An importer's event columns (``groupops.importers.whatsapp.EventColumns``: lists
        ``epoch``, ``kind``, ``user_id``, ``user_name``, ``message_id``, ``text``,
        ``content`` and the per-row ``data`` of the rows that have any; no recorded reply ids
        beyond ``data``): the same rows :meth:`add_event` makes of those events, in a few
        C-level passes. The builder may keep the columns' ``text`` and ``message_id`` lists:
        the columns are its own after this."""
        codes: list[int | None] = list(map(KIND_CODE.get, cols.kind))
        keep: list[int] | None = None
        if None in codes:
            keep = [i for i, c in enumerate(codes) if c is not None]
        epoch, uids, names = cols.epoch, cols.user_id, cols.user_name
        mids, texts, contents = cols.message_id, cols.text, cols.content
        data: dict[int, Any] = cols.data
        if keep is not None:
            epoch, uids, names, mids, texts, contents, codes = (
                [col[i] for i in keep] for col in (epoch, uids, names, mids, texts, contents, codes)
            )
            new_row = {old: new for new, old in enumerate(keep)}
            data = {new_row[i]: d for i, d in data.items() if i in new_row}
        n = len(codes)
        if "" in dict.fromkeys(uids):
            uids = [u or "?" for u in uids]
        inviter = [-1] * n
        via = [""] * n
        reactions = [0] * n
        reply_to = [_NO_REPLY] * n
        invited: dict[int, tuple[str, str]] = {}
        bots: list[int] = []
        for i in sorted(data):
            d = data[i]
            if codes[i] == MESSAGE and d.get("bot"):
                bots.append(i)
            if codes[i] == JOINED:
                inv = d.get("inviter_user_id") or d.get("inviter_id")
                if inv:
                    invited[i] = (str(inv), str(d.get("inviter_name", "") or inv))
            found = _reply_list(d, "")
            if found:
                reply_to[i] = found
            reactions[i] = _int(d.get("reactions", 0))
            via[i] = str(d.get("via", "") or "")
        # who() in the order add_event calls it (a join's inviter first), once per distinct
        # (id, name): a repeated pair changes nothing
        pairs: Iterable[tuple[str, str]]
        if invited:
            parts: list[Iterable[tuple[str, str]]] = []
            prev = 0
            for i, pair in invited.items():
                parts.append(zip(islice(uids, prev, i), islice(names, prev, i), strict=True))
                parts.append((pair,))
                prev = i
            parts.append(zip(islice(uids, prev, None), islice(names, prev, None), strict=True))
            pairs = chain.from_iterable(parts)
        else:
            pairs = zip(uids, names, strict=True)
        who = self.who
        for uid, name in dict.fromkeys(pairs):
            who(uid, name)
        ids = self.ids
        for i, (uid, _name) in invited.items():
            inviter[i] = ids[uid]
        self.bots.update(ids[uids[i]] for i in bots)
        if not self.time:
            # the first rows: the big lists are taken over, not copied (peak memory)
            self.time, self.text, self.message_id = epoch, texts, mids
        else:
            self.time.extend(epoch)
            self.text.extend(texts)
            self.message_id.extend(mids)
        self.kind.extend(codes)  # type: ignore[arg-type]  # no None left
        self.author.extend(map(ids.__getitem__, uids))
        self.content.extend(map(_CONTENT_CODE.__getitem__, contents))
        self.reply_to.extend(reply_to)
        self.reactions.extend(reactions)
        self.inviter.extend(inviter)
        self.via.extend(via)

    def __len__(self) -> int:
        return len(self.time)

    def _array(self, name: str) -> IntArray:
        """One number column as an array; the list goes at once (peak memory)."""
        out = np.asarray(getattr(self, name), dtype=np.int64)
        setattr(self, name, [])
        return out

    def build(self) -> Frame:
        """The frame; the builder is spent after (its number lists are emptied)."""
        t = self._array("time")
        frame = Frame(
            time=t,
            kind=self._array("kind"),
            author=self._array("author"),
            content=self._array("content"),
            reactions=self._array("reactions"),
            inviter=self._array("inviter"),
            text=self.text,
            message_id=self.message_id,
            reply_to=self.reply_to,
            via=self.via,
            authors=list(self.ids),
            names=self.names,
            bots=frozenset(self.bots),
        )
        if len(t) > 1 and bool(np.any(np.diff(t) < 0)):
            frame = frame.take(np.argsort(t, kind="stable"))
        return frame


_Builder = FrameBuilder


def _reply_list(data: Any, explicit: str) -> list[str]:
    found = data.get("reply_to") if hasattr(data, "get") else None
    if isinstance(found, list | tuple):
        out = [str(x) for x in found if str(x)]
        if out:
            return out
    return [explicit] if explicit else []


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, list | tuple | dict):
        return len(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def from_events(events: Iterable[Event], progress: Callable[[int], None] | None = None) -> Frame:
    """Convert events (any order) to a :class:`Frame`; kinds other than messages, joins and
    departures are skipped. ``progress`` is called with the running count every 50k events."""
    b = FrameBuilder()
    add = b.add_event
    count = 0
    for e in events:
        count += 1
        if progress is not None and count % 50_000 == 0:
            progress(count)
        add(e)
    if progress is not None:
        progress(count)
    return b.build()


def from_columns(cols: Any) -> Frame:
    """Convert the importers' ``Columns`` (``groupops.importers.columns``) to a Frame."""
    n = len(cols)
    names = list(cols.author_names) or list(cols.authors)
    authors = list(cols.authors)
    content_map = np.asarray(
        [_CONTENT_CODE[ContentKind(k)] for k in _columns_content_kinds()], dtype=np.int64
    )
    frame = Frame(
        time=np.asarray(cols.time, dtype=np.int64),
        kind=np.asarray(cols.kind, dtype=np.int64),
        author=np.asarray(cols.author, dtype=np.int64),
        content=content_map[np.asarray(cols.content, dtype=np.int64)],
        reactions=np.zeros(n, dtype=np.int64),
        inviter=np.asarray(cols.inviter, dtype=np.int64),
        text=list(cols.text),
        message_id=list(cols.message_id),
        reply_to=[[r] if r else [] for r in cols.reply_to],
        via=[""] * n,
        authors=authors,
        names=names,
    )
    return frame


def _columns_content_kinds() -> tuple[ContentKind, ...]:
    try:
        from groupops.importers.columns import CONTENT_KINDS as imported

        return tuple(imported)
    except ImportError:  # pragma: no cover - the importers ship with the package
        return CONTENT_KINDS


_ADDRESS = re.compile(r"^\s*@?([^\s:,>]{1,40})\s*[:,>]")
_AT = re.compile(r"@([^\s@:,，。!?！？]{1,40})")
_QUESTION_EN = re.compile(
    r"\s*(?:how|what|why|where|when|who|which|is|are|can|could|does|do|did|should|would|"
    r"will|anyone|any ?one|has|have)\b",
    re.IGNORECASE,
)
_QUESTION_ZH = re.compile(
    r"[？?]|吗[。！!…~～]*$|(?:怎么|怎样|为什么|为啥|什么|哪里|哪个|哪儿|多少|如何|"
    r"能不能|可不可以|是不是|有没有|请问|求助|谁知道|咋)"
)


def text_features(frame: Frame) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """One pass over the texts: the author each message addresses (``nick: ...``, ``nick,``,
    ``@name``; -1 when none) and whether it is a question."""
    lookup: dict[str, int] = {}
    for i, name in enumerate(frame.names):
        for key in {name.lower(), frame.authors[i].lower() if i < len(frame.authors) else ""}:
            if len(key) >= 2:
                lookup.setdefault(key, i)
        first = name.split()[0].lower() if name.split() else ""
        if len(first) >= 3:
            lookup.setdefault(first, i)
    n = len(frame)
    addr = np.full(n, -1, dtype=np.int64)
    question = np.zeros(n, dtype=np.bool_)
    get = lookup.get
    addr_m = _ADDRESS.match
    at_s = _AT.search
    qz = _QUESTION_ZH.search
    qe = _QUESTION_EN.match
    for i, t in enumerate(frame.text):
        if not t:
            continue
        m = addr_m(t)
        found = get(m.group(1).lower()) if m else None
        if found is None and "@" in t:
            m = at_s(t)
            if m:
                found = get(m.group(1).lower())
        if found is not None:
            addr[i] = found
        if "?" in t or "？" in t or qe(t) or (not t.isascii() and qz(t)):
            question[i] = True
    return addr, question
