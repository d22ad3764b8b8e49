"""WhatsApp chat exports: the ``.txt`` and the ``.zip`` WhatsApp shares (``_chat.txt`` inside).

Layouts (detected from the first lines, then one compiled regex for the whole file):

* iOS ``[d/m/yy, HH:MM:SS] Name: text`` (also without the comma, with ``.`` in the time, time
  first as in Vietnamese ``[HH:MM:SS, d/m/yy]``);
* Android ``d/m/yy, HH:MM - Name: text`` (``.``/``-``/``/`` dates, two- or four-digit years);
* the old ``d/m/yy HH:MM: Name: text``.

Any digits (Arabic-Indic, Persian, Devanagari, Thai...), direction marks anywhere in the stamp,
12-hour clocks with localized AM/PM markers before or after the time, Buddhist-era years
(2565, or two-digit 65) and Japanese-era years (``R4/3/18``, ``令和4/3/18``, ``H31/4/30``), CRLF,
a BOM. Day/month order is inferred over the whole file: a first pass collects the distinct date
strings (cheap: a C-level findall), then a value over 12 decides, else the order under which the
dates run forward, else month-first only for a US-style 12-hour English clock.

Times are local to the exporting phone: ``Options.tz`` says which zone (default UTC).

Records come from :class:`~groupops.importers.whatsapp_reader.WhatsAppReader`; :func:`events`
turns them into Events, and the analytics fast path (:func:`event_columns`) takes its batches of
columns as they are, no Event and no tuple a message.

The stamps (layouts and dates) are in :mod:`groupops.importers.whatsapp_stamps`, the reader in
:mod:`groupops.importers.whatsapp_reader`, the texts of every language in
:mod:`groupops.importers.whatsapp_text` (media, deleted messages, calls, AM/PM) and
:mod:`groupops.importers.whatsapp_system` (system lines).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import compress, repeat
from pathlib import Path
from typing import Any

from groupops.domain.events import MAX_NAME_LEN, ContentKind, Event, EventKind
from groupops.importers.base import (
    MAX_EPOCH,
    MIN_EPOCH,
    OUT_OF_RANGE,
    ImportFormatError,
    Options,
    utc_at,
)
from groupops.importers.events import trusted_event
from groupops.importers.text import user_key
from groupops.importers.whatsapp_reader import JOINED, LEFT, MESSAGE, WhatsAppReader

FORMAT = "whatsapp"
SOURCE = "import:whatsapp"


_KINDS = {MESSAGE: EventKind.MESSAGE, JOINED: EventKind.MEMBER_JOINED, LEFT: EventKind.MEMBER_LEFT}


@dataclass
class EventColumns:
    """What :func:`events` yields, as parallel lists instead of Event objects (building those
    costs more than parsing the lines): row ``i`` holds the fields of the ``i``-th Event.
    ``data`` has, for the rows that carry any, the Event's ``data`` beyond ``file`` and
    ``line`` (media, inviter, ``via``, ...). For the analytics of large exports."""

    epoch: list[int]  # occurred_at as seconds since 1970 UTC
    kind: list[EventKind]
    user_id: list[str]
    user_name: list[str]
    message_id: list[str]
    text: list[str]
    content: list[ContentKind]
    data: dict[int, dict[str, Any]]
    messages: int = 0
    #: the chat's id (every row's ``chat_id``), part of each row's event id
    chat: str = ""

    def __len__(self) -> int:
        return len(self.epoch)

    def event_ids(self, chat: str | None = None) -> list[str]:
        """Each row's ``event_id``, as :func:`events` makes it (:class:`ContentIds`); with
        ``chat``, as if the rows were of that chat (``""``: ids that ignore the chat)."""
        ids = ContentIds(self.chat if chat is None else chat)
        kinds = [k.value for k in self.kind]
        return list(map(ids.next, self.epoch, kinds, self.user_id, self.text))

    def only(self, rows: list[int]) -> EventColumns:
        """The columns of ``rows`` (indices, ascending) alone."""
        new_index = {old: new for new, old in enumerate(rows)}
        kinds = [self.kind[i] for i in rows]
        return EventColumns(
            epoch=[self.epoch[i] for i in rows],
            kind=kinds,
            user_id=[self.user_id[i] for i in rows],
            user_name=[self.user_name[i] for i in rows],
            message_id=[self.message_id[i] for i in rows],
            text=[self.text[i] for i in rows],
            content=[self.content[i] for i in rows],
            data={new_index[i]: d for i, d in self.data.items() if i in new_index},
            messages=sum(1 for k in kinds if k is EventKind.MESSAGE),
            chat=self.chat,
        )


class ContentIds:
    """Event ids made of what an event is, not where it sits in its file: the chat, the minute,
    and a digest of kind, author and text (with ``.1``, ``.2`` for the further identical ones
    of that minute). Two exports of one chat (the ``.txt`` and the ``.zip``, last month's and
    this month's, one that WhatsApp cut to its latest messages) give their shared messages
    the same ids, so importing both stores each once."""

    def __init__(self, chat: str) -> None:
        self.prefix = hashlib.blake2b(chat.encode(), digest_size=6).hexdigest()
        self.seen: dict[tuple[int, str], int] = {}
        self.minute = -1

    def next(self, epoch: int, kind: str, user_id: str, text: str) -> str:
        raw = f"{kind}\0{user_id}\0{text}".encode()
        digest = hashlib.blake2b(raw, digest_size=8).hexdigest()
        if epoch != self.minute:
            self.minute = epoch
            if len(self.seen) > 4096:  # identical ones share a minute: keep only recent ones
                self.seen.clear()
        key = (epoch, digest)
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        return f"{self.prefix}:{epoch}:{digest}.{n}" if n else f"{self.prefix}:{epoch}:{digest}"


def event_columns(
    path: Path,
    options: Options,
    progress: Callable[[int], None] | None = None,
) -> EventColumns:
    """:func:`events` as :class:`EventColumns`: the same values, a few C-level passes over
    the reader's columns (:meth:`WhatsAppReader.batches`) instead of one Event per record.
    ``progress`` gets the number of records read so far, every 20,000 (told when the block
    of the file that holds them is read) and at the end."""
    import gc
    from operator import ne

    reader = WhatsAppReader(path, options)
    out = EventColumns([], [], [], [], [], [], [], {}, chat=reader.chat_id)
    uid_of: dict[str, str] = {}
    name_of: dict[str, str] = {}
    kinds = _KINDS
    # the cyclic GC is paused meanwhile (it would rescan the growing lists)
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for batch in reader.batches():
            base = len(out.epoch)
            epochs = batch.epoch
            if min(epochs) < MIN_EPOCH or max(epochs) > MAX_EPOCH:  # as events() refuses it
                bad = next(i for i, e in enumerate(epochs) if not MIN_EPOCH <= e <= MAX_EPOCH)
                raise ImportFormatError(
                    OUT_OF_RANGE, file=reader.opener.label, line=batch.line[bad]
                )
            out.epoch += epochs
            others = list(compress(range(len(epochs)), map(ne, batch.kind, repeat(MESSAGE))))
            kind = [EventKind.MESSAGE] * len(epochs)
            for j in others:
                kind[j] = kinds[batch.kind[j]]
            out.kind += kind
            authors = batch.author
            for a in dict.fromkeys(authors):
                if a not in uid_of:
                    uid_of[a] = user_key(a) or "unknown"
                    name_of[a] = a[:MAX_NAME_LEN]
            out.user_id += map(uid_of.__getitem__, authors)
            out.user_name += map(name_of.__getitem__, authors)
            mids = list(map(str, batch.line))
            for j in others:
                mids[j] = ""
            out.messages += len(mids) - len(others)
            out.message_id += mids
            out.text += batch.text
            out.content += batch.content
            for j, x in batch.extra.items():
                if x:
                    out.data[base + j] = dict(x)
            if progress is not None:
                for n in range(base + _STEP - base % _STEP, len(out.epoch) + 1, _STEP):
                    progress(n)
    finally:
        if gc_was:
            gc.enable()
    if progress is not None and len(out.epoch) % _STEP:
        progress(len(out.epoch))
    return out


_STEP = 20_000  # records between two calls of event_columns' progress


def events(path: Path, options: Options) -> Iterator[Event]:
    """The file's Events (``event_id`` from what each event is: :class:`ContentIds`)."""
    reader = WhatsAppReader(path, options)
    chat, fname, label = reader.chat_id, path.name, reader.opener.label
    ids = ContentIds(chat)
    users: dict[str, str] = {}
    moments: dict[int, datetime] = {}  # one datetime per distinct second, not per message
    for line, epoch, kind, author, text, content, extra in reader.records():
        data: dict[str, Any] = {"file": fname, "line": line}
        if extra:
            data.update(extra)
        when = moments.get(epoch)
        if when is None:
            if len(moments) > 200_000:
                moments.clear()
            when = moments[epoch] = utc_at(epoch, label, line)
        uid = users.get(author)
        if uid is None:
            uid = users[author] = user_key(author) or "unknown"
        yield trusted_event(
            SOURCE,
            ids.next(epoch, _KINDS[kind].value, uid, text),
            _KINDS[kind],
            when,
            chat,
            uid,
            author,
            str(line) if kind == MESSAGE else "",
            text,
            content,
            data,
        )
