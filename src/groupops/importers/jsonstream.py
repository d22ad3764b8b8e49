"""Stream the items of the arrays inside a large JSON export, one at a time (flat memory)."""

from __future__ import annotations

import json
import mmap
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import ijson  # type: ignore[import-untyped]

from groupops.importers.base import CountingReader, ImportFormatError, MalformedJson

_SCALARS = {"string", "number", "boolean", "null"}
#: the key of a container item's 0-based position among its siblings (``chats.list``'s third
#: chat: 2) in the ``meta`` :func:`stream_items` yields for it
POSITION = "@position"


def stream_items(
    raw: IO[bytes], name: str | Path, containers: tuple[str, ...], array: str = "messages"
) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """See :func:`_stream_items`. A one-chat document (its ``messages`` array at the top) takes
    a faster road: its header is read, then the file is read again with ijson's C item builder
    (about 4x faster than building items from parse events in Python)."""
    path = Path(str(name))
    if "" in containers and path.is_file():
        meta = _top_meta(raw, path, array)
        if meta is not None:
            with path.open("rb") as again:
                counter = CountingReader(again)
                try:
                    for item in ijson.items(counter, array + ".item", use_float=True):
                        yield "", meta, item
                except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
                    raise MalformedJson(exc, file=path.name, offset=counter.count) from None
            return
        raw.seek(0)
    yield from _stream_items(raw, name, containers, array)


def _top_meta(raw: IO[bytes], path: Path, array: str) -> dict[str, Any] | None:
    """The top-level fields before the ``array`` (scalars, and ``channel``/``guild``), or None
    when the document is not a one-chat export (e.g. a full-account one)."""
    counter = CountingReader(raw)
    meta: dict[str, Any] = {}
    sub: Any = None
    depth = 0
    key = ""
    try:
        for prefix, event, value in ijson.parse(counter, use_float=True):
            if sub is not None:
                sub.event(event, value)
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
                    if depth == 0:
                        meta[key] = sub.value
                        sub = None
                continue
            if prefix == array and event == "start_array":
                return meta
            if "." in prefix or (prefix and prefix != array and event in ("start_array",)):
                if prefix.split(".", 1)[0] in ("chats", "left_chats"):
                    return None
                continue
            if not prefix:
                continue
            if event in _SCALARS:
                meta[prefix] = value
            elif event == "start_map" and prefix in ("channel", "guild"):
                sub = ijson.ObjectBuilder()
                sub.event(event, value)
                key = prefix
                depth = 1
            elif event == "start_map" and prefix in ("chats", "left_chats"):
                return None
    except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson(exc, file=path.name, offset=counter.count) from None
    return None


def _stream_items(
    raw: IO[bytes], name: str | Path, containers: tuple[str, ...], array: str = "messages"
) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """Yield ``(container, meta, item)`` for every item of ``<container>.<array>``.

    ``container`` is one of ``containers`` ("" for the top level, e.g. ``chats.list.item``);
    ``meta`` holds the container's scalar fields and small objects read so far (e.g. ``name``,
    ``id``; for DiscordChatExporter also ``channel``/``guild``), keyed without the prefix, and
    under :data:`POSITION` the container's position in its array.
    A malformed or truncated document is an :class:`ImportFormatError` with the byte offset.
    """
    counter = CountingReader(raw)
    targets = {(c + "." if c else "") + array + ".item": c for c in containers}
    starts = {c for c in containers if c}
    metas: dict[str, dict[str, Any]] = {c: {} for c in containers}
    positions: dict[str, int] = {}
    builder: Any = None
    sub: Any = None  # a small object of the container being built (e.g. "channel")
    sub_key = ""
    depth = 0
    current = ""
    try:
        for prefix, event, value in ijson.parse(counter, use_float=True):
            if builder is not None:
                builder.event(event, value)
                if event == "start_map" or event == "start_array":
                    depth += 1
                elif event == "end_map" or event == "end_array":
                    depth -= 1
                    if depth == 0:
                        yield current, metas[current], builder.value
                        builder = None
                continue
            if sub is not None:
                sub.event(event, value)
                if event == "start_map" or event == "start_array":
                    depth += 1
                elif event == "end_map" or event == "end_array":
                    depth -= 1
                    if depth == 0:
                        container, _, key = sub_key.rpartition(".")
                        metas.setdefault(container, {})[key] = sub.value
                        sub = None
                continue
            if event == "start_map" and prefix in targets:
                current = targets[prefix]
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                depth = 1
                continue
            if event == "start_map" and prefix in starts:
                position = positions[prefix] = positions.get(prefix, -1) + 1
                metas[prefix] = {POSITION: position}
                continue
            container, _, key = prefix.rpartition(".")
            if container in metas and key != array:
                if event in _SCALARS:
                    metas[container][key] = value
                elif event == "start_map" and key in ("channel", "guild"):
                    sub = ijson.ObjectBuilder()
                    sub.event(event, value)
                    sub_key = prefix
                    depth = 1
    except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson(exc, file=Path(str(name)).name, offset=counter.count) from None


#: a JSON string, or one of the characters that open, close or separate values
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]:,]', re.DOTALL)
_SPACE = re.compile(rb"[ \t\r\n]*")


def message_error(
    path: Path, reasons: tuple[str, str], index: int, msg: Any, steps: Sequence[str | int]
) -> ImportFormatError:
    """The error about an export's message at 0-based ``index`` (at ``steps``, see
    :func:`value_offset`): ``reasons`` (without an id, with one) filled with its 1-based
    ``position`` and its ``message_id`` when it has one, at the byte where it starts."""
    mid = msg.get("id") if isinstance(msg, dict) else None
    params: dict[str, Any] = {"position": index + 1}
    if mid is not None:
        params["message_id"] = mid
    return ImportFormatError(
        reasons[0] if mid is None else reasons[1],
        file=path.name,
        offset=value_offset(path, steps),
        **params,
    )


def value_offset(path: Path, steps: Sequence[str | int]) -> int | None:
    """The byte offset where the value at ``steps`` starts (object keys and 0-based array
    positions from the top, e.g. ``("messages", 1)`` for a Telegram chat's second message), or
    None when the file has no such value. A scan of the whole file without building anything:
    for an error message (the streaming parser reads in blocks and cannot say where an item
    began)."""
    if not steps:
        return None
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _scan(buf, steps)
    except (OSError, ValueError):  # an empty file cannot be mapped
        return None


def _scan(buf: Any, steps: Sequence[str | int]) -> int | None:
    # one frame per open container: [is array, current index or key, its path is steps[:depth],
    # an object expects a key]
    stack: list[list[Any]] = []
    last = len(steps) - 1

    def hit(end: int) -> int | None:
        """The value after the separator ending at ``end``, if it is the one wanted."""
        depth = len(stack) - 1
        frame = stack[depth]
        if frame[2] and depth == last and frame[1] == steps[depth]:
            start = _SPACE.match(buf, end)
            return start.end() if start else end
        return None

    for m in _TOKEN.finditer(buf):
        tok = m.group()
        if tok[:1] == b'"':
            if stack and not stack[-1][0] and stack[-1][3]:
                try:
                    stack[-1][1] = json.loads(tok)
                except ValueError:
                    stack[-1][1] = None
            continue
        if tok in (b"{", b"["):
            depth = len(stack)
            if depth == 0:
                matches = True
            else:
                parent = stack[-1]
                matches = parent[2] and depth - 1 < len(steps) and parent[1] == steps[depth - 1]
            stack.append([tok == b"[", 0 if tok == b"[" else None, matches, tok == b"{"])
            if tok == b"[" and (found := hit(m.end())) is not None:
                return found if buf[found : found + 1] != b"]" else None
        elif tok in (b"}", b"]"):
            if not stack:
                return None
            stack.pop()
        elif not stack:
            return None
        elif tok == b",":
            frame = stack[-1]
            if frame[0]:
                frame[1] += 1
                if (found := hit(m.end())) is not None:
                    return found
            else:
                frame[3] = True
        else:  # ":"
            frame = stack[-1]
            frame[3] = False
            if (found := hit(m.end())) is not None:
                return found
    return None
