"""Reading an export's bytes as text: a stream in UTF-8 or GB18030 (:class:`Transcoded`,
:func:`text_stream`), lines each in UTF-8 or Windows-1252 (:class:`LineText`); reading in
another encoding than UTF-8 is told as a :class:`~groupops.importers.base.Note`."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import IO, Any

from groupops.i18n import N_
from groupops.importers.base import BOM, ImportFormatError, Note, Options

# -- encodings ---------------------------------------------------------------------------------

UTF8 = "utf-8"
GB18030 = "gb18030"
#: what the operator reads about an encoding
ENCODING_LABELS = {UTF8: "UTF-8", GB18030: "GB18030"}
NOT_UTF8 = N_("the file is not UTF-8 text (bytes no UTF-8 character is made of); save it as UTF-8")
NEITHER_UTF8_NOR_GB18030 = N_(
    "the file is neither UTF-8 nor GB18030 (GBK) text (bytes neither is made of); save it as UTF-8"
)
BROKEN_TEXT = N_(
    "the file reads as {encoding} up to here, then has bytes that are no {encoding} text"
    " (a damaged file?)"
)
#: the note of a file read in an encoding other than UTF-8
READ_AS = {GB18030: N_("{file}: not UTF-8; read as GB18030 (GBK)")}


class Transcoded(io.RawIOBase):
    """The text of a byte stream, as UTF-8 bytes, read in the first of ``encodings`` its bytes
    are (UTF-8, then e.g. GB18030 for what Excel on Chinese Windows saves). The choice is
    made on the first block that holds a byte other than ASCII (ASCII reads the same in all
    of them). Bytes that are text in none of them, or that break the chosen encoding later
    on, are an :class:`ImportFormatError` naming the file and the byte offset: nothing is
    replaced by U+FFFD. Reading in another encoding than UTF-8 is told in ``options``'s notes
    (:data:`READ_AS`). A UTF-8 byte-order mark is kept (the readers drop it)."""

    def __init__(
        self,
        raw: IO[bytes],
        file: str,
        encodings: tuple[str, ...] = (UTF8,),
        options: Options | None = None,
        block: int = 1 << 20,
    ) -> None:
        self.raw = raw
        self.file = file
        self.encodings = encodings
        self.options = options
        self.block = block
        self.encoding: str | None = None
        self._decoder: codecs.IncrementalDecoder | None = None
        self._pos = 0  # bytes of ``raw`` read so far
        self._out = b""
        self._at = 0  # bytes of ``_out`` handed out
        self._held = b""  # undecided bytes kept for the next block
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._at >= len(self._out) and not (self._eof and not self._held):
            self._out, self._at = self._fill(), 0
        n = min(len(buffer), len(self._out) - self._at)
        buffer[:n] = self._out[self._at : self._at + n]
        self._at += n
        return n

    def _fill(self) -> bytes:
        data = self.raw.read(self.block)
        start = self._pos - len(self._held)
        self._pos += len(data)
        final = not data
        if final:
            self._eof = True
        if self._decoder is None:
            data, self._held = self._held + data, b""
            if data.isascii() and not final:
                return data  # the same bytes in every candidate: not decided yet
            return self._decide(data, start, final)
        return self._decode(self._decoder, data, start, final)

    def _decide(self, data: bytes, start: int, final: bool) -> bytes:
        failed: list[UnicodeDecodeError] = []
        for encoding in self.encodings:
            decoder = codecs.getincrementaldecoder(encoding)("strict")
            try:
                text = decoder.decode(data, final)
            except UnicodeDecodeError as exc:
                failed.append(exc)
                continue
            if text.isascii() and not final:
                # its first other character is cut at the block's end: decide on more
                self._held = data
                return b""
            self.encoding, self._decoder = encoding, decoder
            if encoding == UTF8:
                return data
            if self.options is not None and encoding in READ_AS:
                self.options.note(Note(READ_AS[encoding], (("file", self.file),)))
            return text.encode()
        # where the candidate that read furthest stopped
        furthest = max(failed, key=lambda exc: exc.start)
        reason = NOT_UTF8 if len(self.encodings) == 1 else NEITHER_UTF8_NOR_GB18030
        raise ImportFormatError(reason, file=self.file, offset=start + furthest.start)

    def _decode(
        self, decoder: codecs.IncrementalDecoder, data: bytes, start: int, final: bool
    ) -> bytes:
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                BROKEN_TEXT,
                file=self.file,
                offset=start - pending + exc.start,
                encoding=ENCODING_LABELS.get(self.encoding or "", self.encoding),
            ) from None
        return data if self.encoding == UTF8 else text.encode()


def text_stream(
    raw: IO[bytes],
    file: str,
    encodings: tuple[str, ...] = (UTF8,),
    options: Options | None = None,
    newline: str | None = None,
) -> io.TextIOWrapper:
    """``raw`` as text (see :class:`Transcoded`; a BOM dropped, ``newline`` as for ``open``)."""
    buffered = io.BufferedReader(Transcoded(raw, file, encodings, options))
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", newline=newline)


def _windows_1252(data: bytes) -> str:
    """``data`` read as Windows-1252; the five bytes it leaves undefined as Latin-1."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return "".join(bytes((c,)).decode("cp1252", errors="ignore") or chr(c) for c in data)


READ_LINES_AS = N_("{file}: {lines} line(s) not in UTF-8, read as Windows-1252 (Latin-1)")


class LineText:
    """Lines of a byte stream, each decoded on its own: as UTF-8, else (a line another client
    wrote, as IRC logs mix them) as Windows-1252, the bytes it leaves undefined as Latin-1, so
    no line is lost and none holds U+FFFD. A BOM is dropped, CRLF/CR fold to LF, NUL is
    removed. Lines are counted exactly as the file counts them: every LF (or lone CR) ends
    one. ``fallback_lines`` counts the lines not read as UTF-8."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.fallback_lines = 0

    def __iter__(self) -> Iterator[str]:
        first = True
        for chunk in self.raw:
            if first:
                chunk = chunk.removeprefix(BOM)
                first = False
            for piece in chunk.splitlines() or [b""]:
                try:
                    line = piece.decode()
                except UnicodeDecodeError:
                    self.fallback_lines += 1
                    line = _windows_1252(piece)
                if "\x00" in line:
                    line = line.replace("\x00", "")
                yield line

    def note(self, file: str, options: Options) -> None:
        """Tell ``options`` how many lines were not UTF-8 (when any were)."""
        if self.fallback_lines:
            options.note(Note(READ_LINES_AS, (("file", file), ("lines", self.fallback_lines))))
