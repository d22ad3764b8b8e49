"""The analytics fast path: an export's messages and membership changes as flat arrays.

Building one frozen, validated :class:`~groupops.domain.events.Event` costs several times more
than parsing its line, so for WhatsApp (the format of the large exports) the columns come
straight from the parser's records. Other formats go through :func:`groupops.importers.read`.
Rows are in file order; the arrays line up index by index.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import tzinfo
from operator import itemgetter
from pathlib import Path

import numpy as np
import numpy.typing as npt

from groupops.domain.events import ContentKind, EventKind

KINDS = (EventKind.MESSAGE, EventKind.MEMBER_JOINED, EventKind.MEMBER_LEFT)
CONTENT_KINDS = tuple(ContentKind)


@dataclass
class Columns:
    """One row per event.

    * ``time``: int64 seconds since 1970 UTC; ``kind``: uint8 index into :data:`KINDS`;
    * ``author``: int32 index into ``authors`` (user ids), ``author_names`` the display names;
    * ``content``: uint8 index into :data:`CONTENT_KINDS`;
    * ``message_id``: the event's message id (line number for line formats, else platform id;
      "" for joins/departures); ``line``: int64 line (line formats) or -1;
    * ``text``: list of str; ``reply_to``: explicit reply target message id or "";
    * ``inviter``: for joins, int32 index into ``authors`` of who added them, or -1;
    * ``chat``: the chat id of each row (exports can hold several chats).
    """

    fmt: str
    file: str
    time: npt.NDArray[np.int64]
    kind: npt.NDArray[np.uint8]
    author: npt.NDArray[np.int32]
    content: npt.NDArray[np.uint8]
    line: npt.NDArray[np.int64]
    inviter: npt.NDArray[np.int32]
    text: list[str]
    message_id: list[str]
    reply_to: list[str]
    chat: list[str]
    authors: list[str] = field(default_factory=list)
    author_names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.time.shape[0])


def read_columns(path: str | Path, tz: str | tzinfo | None = None) -> Columns:
    """Every event of one export as :class:`Columns` (see ``groupops.importers.read``)."""
    from groupops.importers import detect, read
    from groupops.importers.base import Options
    from groupops.importers.text import user_key

    path = Path(path)
    fmt = detect(path)
    times: list[int] = []
    kinds: list[int] = []
    authors_idx: list[int] = []
    contents: list[int] = []
    lines: list[int] = []
    inviters: list[int] = []
    texts: list[str] = []
    mids: list[str] = []
    replies: list[str] = []
    chats: list[str] = []
    ids: dict[str, int] = {}
    names: list[str] = []
    kind_index = {k: i for i, k in enumerate(KINDS)}
    content_index = {k: i for i, k in enumerate(CONTENT_KINDS)}

    def author_of(uid: str, name: str) -> int:
        found = ids.get(uid)
        if found is None:
            found = ids[uid] = len(ids)
            names.append(name)
        return found

    if fmt == "whatsapp":
        from groupops.importers import whatsapp_reader

        reader = whatsapp_reader.WhatsAppReader(path, Options.make(tz))
        # records as tuples, then one C-level map(itemgetter) per column rather than seven
        # appends a row; the cyclic GC is paused meanwhile (it would rescan the growing list
        # of tuples again and again: that cost more than the parsing)
        gc_was = gc.isenabled()
        gc.disable()
        try:
            recs = list(reader.records())
            r_line, r_epoch, r_kind, r_author, r_text, r_content, r_extra = (
                list(map(itemgetter(i), recs)) for i in range(7)
            )
        finally:
            if gc_was:
                gc.enable()
        del recs
        code = {whatsapp_reader.MESSAGE: 0, whatsapp_reader.JOINED: 1, whatsapp_reader.LEFT: 2}
        for raw_name in dict.fromkeys(r_author):
            author_of(user_key(raw_name) or "unknown", raw_name)
        by_name = {
            raw_name: ids[user_key(raw_name) or "unknown"] for raw_name in dict.fromkeys(r_author)
        }
        times = list(r_epoch)
        kinds = [code[k] for k in r_kind]
        authors_idx = list(map(by_name.__getitem__, r_author))
        contents = list(map(content_index.__getitem__, r_content))
        lines = list(r_line)
        texts = list(r_text)
        mids = list(map(str, r_line))
        replies = [""] * len(lines)
        inviters = [-1] * len(lines)
        for i in [i for i, k in enumerate(r_kind) if k != whatsapp_reader.MESSAGE]:
            mids[i] = ""
            x = r_extra[i]
            if x and x.get("inviter_user_id"):
                inviters[i] = author_of(str(x["inviter_user_id"]), str(x.get("inviter_name", "")))
        chats = [reader.chat_id] * len(lines)
    else:
        for e in read(path, tz, fmt):
            times.append(int(e.occurred_at.timestamp()))
            kinds.append(kind_index[e.kind])
            authors_idx.append(author_of(e.user_id, e.user_name))
            contents.append(content_index[e.content_kind])
            ln = e.data.get("line")
            lines.append(int(ln) if isinstance(ln, int) else -1)
            texts.append(e.text)
            mids.append(e.message_id)
            replies.append(e.reply_to_message_id)
            chats.append(e.chat_id)
            inv = e.data.get("inviter_user_id")
            inviters.append(
                author_of(str(inv), str(e.data.get("inviter_name", inv))) if inv else -1
            )
    return Columns(
        fmt=fmt,
        file=path.name,
        time=np.asarray(times, dtype=np.int64),
        kind=np.asarray(kinds, dtype=np.uint8),
        author=np.asarray(authors_idx, dtype=np.int32),
        content=np.asarray(contents, dtype=np.uint8),
        line=np.asarray(lines, dtype=np.int64),
        inviter=np.asarray(inviters, dtype=np.int32),
        text=texts,
        message_id=mids,
        reply_to=replies,
        chat=chats,
        authors=list(ids),
        author_names=names,
    )
