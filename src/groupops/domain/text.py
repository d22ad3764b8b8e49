"""Cutting a text to what a place can show: one rule for listings, the report's quotes and the
bot's rendered templates."""

from __future__ import annotations

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """``text``, at most ``limit`` characters: the last an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    """``text`` with its runs of white space (line breaks too) as one space, then clipped."""
    return clip(" ".join(text.split()), limit)
