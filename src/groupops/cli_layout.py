"""How a help page is laid out, in both languages, at any width (80 columns included).

Typer draws a help page with rich, and rich breaks a line only at a space: a Chinese sentence
(no spaces) is one long "word", cut with "…" in a narrow column, and a column of value kinds
(``<pending|sending|delivered|dead|rerouted>``) as wide as the help beside it leaves the help
a third of the terminal. Within :func:`help_layout` a help page

- breaks Chinese between any two characters, never before a closing sign (``，。：）``) nor
  after an opening one (``（“``), and between Chinese and a Latin word; a value kind's list
  after each ``|``; a word too long for its column folds onto the next line, never cut;
- gives the options' help what the names and value kinds leave (the kinds at most
  :data:`KIND_CELLS` wide, folded at ``|`` past it);
- reads a docstring's later paragraphs as paragraphs: their single line breaks (where the
  source was wrapped) are spaces, as Typer already does for the first paragraph.
"""

from __future__ import annotations

import inspect
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich import text as rich_text
from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions
from rich.table import Table
from rich.text import Text

#: the widest an options table's value-kind column is (``<int range> [x>=1]`` fits)
KIND_CELLS = 20
#: signs a line may not begin with (a closing bracket, a comma, a full stop, a colon)
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…·～%,.;:?!)]}>|")
#: signs a line may not end with (an opening bracket or quote)
NO_LINE_END = frozenset("（《「『【〔〈“‘([{<")


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _may_break_before(text: str, i: int) -> bool:
    """Whether a line may start at ``text[i]`` (``0 < i < len(text)``)."""
    before, here = text[i - 1], text[i]
    if here.isspace():
        return False
    if before.isspace():
        return True
    if here in NO_LINE_START or before in NO_LINE_END:
        return False
    return before == "|" or _wide(before) or _wide(here)


def line_breaks(text: str, width: int, fold: bool = True) -> list[int]:
    """Where to break ``text`` into lines at most ``width`` cells wide (rich's
    ``divide_line``, with the break opportunities of :mod:`this module <groupops.cli_layout>`):
    the offsets the lines after the first start at. A piece wider than ``width`` folds."""
    del fold  # a help page never cuts a word: it folds
    starts = [0, *(i for i in range(1, len(text)) if _may_break_before(text, i))]
    ends = [*starts[1:], len(text)]
    breaks: list[int] = []
    used, line_start = 0, 0
    for start, end in zip(starts, ends, strict=True):
        piece = text[start:end]
        word = piece.rstrip()
        shown, full = cell_len(word), cell_len(piece)
        # a line may end in a space past the edge: rich strips it, but counting characters,
        # not cells, so on a line with Chinese on it the space stays and the line is cut "…"
        line = text[line_start:end]
        space_stays = len(line) < cell_len(line)
        if used and (used + shown > width or (space_stays and used + full > width)):
            breaks.append(start)
            used, line_start = 0, start
        if shown > width:  # longer than a line: folded, its last part starts the next line
            chunks = chop_cells(word, width)
            for chunk in chunks[:-1]:
                start += len(chunk)
                breaks.append(start)
            used, line_start = full - shown + cell_len(chunks[-1]), start
            continue
        used += full
    return [b for b in breaks if 0 < b < len(text)]


def reflowed(paragraph: str) -> str:
    """A paragraph whose source was wrapped, as one line: a line break between two words is
    a space, between Chinese characters nothing. A ``\\b`` paragraph (Typer's "keep my line
    breaks") stays as written."""
    if paragraph.startswith("\b"):
        return paragraph
    lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
    said = lines[0] if lines else ""
    for line in lines[1:]:
        joined = _wide(said[-1]) or _wide(line[0])
        said += line if joined else " " + line
    return said


def _paragraphs(paragraphs: list[str], markup_mode: Any) -> str:
    """Typer's ``_fix_linebreaks``, each paragraph :func:`reflowed`."""
    del markup_mode
    return "\n\n".join(reflowed(p) for p in paragraphs)


def _command_help(shown: Callable[..., Any]) -> Callable[..., Any]:
    """Typer's ``_make_command_help`` (a command's line in its group's list), its first
    paragraph :func:`reflowed` (Typer keeps its line breaks in rich mode)."""

    def said(*, help_text: str, markup_mode: Any) -> Any:
        first = inspect.cleandoc(help_text).split("\n\n")[0]
        return shown(help_text=reflowed(first), markup_mode=markup_mode)

    return said


class _HelpTable(Table):
    """Typer's options table (and commands table, left as Typer lays it), its value-kind
    column at most :data:`KIND_CELLS` wide and an option's negative form (``--no-progress``)
    under it rather than in a column of its own, so the help beside them has the rest."""

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        cells = list(renderables)
        # Typer's options row: [required,] long, short, negative long, negative short, kind, help
        if (
            len(cells) in (6, 7)
            and isinstance(cells[-6], Text)
            and isinstance(cells[-4], Text)
            and cells[-4].plain
        ):
            cells[-6] = Text("\n").join([cells[-6], cells[-4]])
            cells[-4] = Text("")
        super().add_row(*cells, **kwargs)

    def _calculate_column_widths(self, console: Console, options: ConsoleOptions) -> list[int]:
        columns = self.columns
        if len(columns) >= 2 and not any(c.ratio for c in columns):  # an options table
            kinds = columns[-2]
            kinds.max_width = min(kinds.max_width or KIND_CELLS, KIND_CELLS)
        return super()._calculate_column_widths(console, options)


@contextmanager
def lines_broken_between_characters() -> Iterator[None]:
    """Within the block rich breaks every text's lines with :func:`line_breaks` (Chinese
    between characters): the listings print their tables so (``入群时间`` / ``（Asia/Shanghai）``
    rather than ``入群时间（Asia/Shan`` / ``ghai）``)."""
    with _swapped((rich_text, "divide_line", line_breaks)):
        yield


@contextmanager
def help_layout() -> Iterator[None]:
    """Within the block every help page Typer prints is laid out as this module says."""
    from typer import rich_utils

    shown: Callable[..., None] = rich_utils.rich_format_help

    def laid_out(*args: Any, **kwargs: Any) -> None:
        with _swapped(
            (rich_text, "divide_line", line_breaks),
            (rich_utils, "Table", _HelpTable),
            (rich_utils, "_fix_linebreaks", _paragraphs),
            (rich_utils, "_make_command_help", _command_help(rich_utils._make_command_help)),
        ):
            shown(*args, **kwargs)

    with _swapped((rich_utils, "rich_format_help", laid_out)):
        yield


@contextmanager
def _swapped(*swaps: tuple[Any, str, Any]) -> Iterator[None]:
    saved = [(obj, attr, getattr(obj, attr)) for obj, attr, _ in swaps]
    for obj, attr, value in swaps:
        setattr(obj, attr, value)
    try:
        yield
    finally:
        for obj, attr, value in reversed(saved):
            setattr(obj, attr, value)
