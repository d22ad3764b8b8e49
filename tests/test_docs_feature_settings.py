"""Each feature page's settings table (docs/features/NAME.md, under "## Settings") tells the
truth the settings model holds: every row names a setting the model has, its default column
is the model's default, and its words give the limits the model sets (the ``ge``/``le`` of a
number, the most characters of a text, the fewest and most items of a list, those of the
fields of a list's items) and every choice of a setting of fixed words. A default or a limit
changed in code without its page, or a row left for a setting that is gone, fails here.
(tests/features/test_settings_documented.py checks that every setting has a row.)"""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from groupops.features.registry import DEFAULT_FEATURES, FeatureRegistry

DOCS = Path(__file__).resolve().parents[1] / "docs" / "features"
REGISTRY = FeatureRegistry.load(DEFAULT_FEATURES, extensions=False)
FEATURES = sorted(REGISTRY.by_name)


def settings_rows(name: str) -> dict[str, tuple[str, str]]:
    """The rows of the page's settings table: setting -> (default cell, the words)."""
    text = (DOCS / f"{name}.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        assert len(cells) == 3, f"docs/features/{name}.md: a settings row of 3 cells: {line}"
        setting = cells[0].strip("`")
        assert setting not in rows, f"docs/features/{name}.md: two rows for {setting}"
        rows[setting] = (cells[1], cells[2])
    return rows


def plain_numbers(text: str) -> str:
    """``86,400`` as ``86400``: the pages write large numbers with thousands separators."""
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)


def says(text: str, value: object) -> bool:
    """Whether ``text`` holds ``value`` as a word or number of its own."""
    word = re.escape(str(value))
    return re.search(rf"(?<![\w.]){word}(?![\w])", plain_numbers(text)) is not None


def shown_default(value: object) -> list[str]:
    """How a default cell may write ``value``."""
    if value is None:
        return []  # a text with a built-in one: the cell says "built-in ..."
    if value == "":
        return ["empty"]
    if isinstance(value, bool | int | float):
        return [f"`{json.dumps(value)}`"]
    if isinstance(value, str):
        return [f"`{value}`", f"`{json.dumps(value, ensure_ascii=False)}`"]
    if isinstance(value, list) and not value:
        return ["`[]`", "empty"]
    return [f"`{json.dumps(value, ensure_ascii=False)}`"]


def limits(info: FieldInfo) -> list[int]:
    """The numbers a field's constraints hold (annotated_types' Ge, Le, MinLen, MaxLen ...)."""
    found = {
        int(bound)
        for rule in info.metadata
        for attr in ("ge", "le", "gt", "lt", "min_length", "max_length")
        if (bound := getattr(rule, attr, None)) is not None
    }
    return sorted(found)


def item_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a list's items (``list[Gift]``), else None."""
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def choices(annotation: Any) -> tuple[str, ...]:
    """The words of a ``Literal`` setting, or of the items of a list of them."""
    if typing.get_origin(annotation) is list:
        (annotation,) = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    return ()


def fields(name: str) -> dict[str, FieldInfo]:
    return dict(REGISTRY.by_name[name].settings_model.model_fields)


@pytest.mark.parametrize("name", FEATURES)
def test_every_row_is_a_setting(name: str) -> None:
    gone = sorted(set(settings_rows(name)) - set(fields(name)))
    assert gone == [], f"docs/features/{name}.md has rows for settings the code lacks: {gone}"


@pytest.mark.parametrize("name", FEATURES)
def test_every_default_is_the_models(name: str) -> None:
    rows = settings_rows(name)
    wrong = []
    for key, info in fields(name).items():
        if key not in rows:
            continue  # test_settings_documented names it
        cell = rows[key][0]
        default = info.get_default(call_default_factory=True)
        if default is None:  # a text with a built-in one, or a setting off until set
            ok = "built-in" in cell or cell.startswith("`null`")
        elif isinstance(default, list) and default and isinstance(default[0], BaseModel):
            # a list of items (gifts, levels, rewards) is said in words: each item's values
            ok = all(
                says(cell, v)
                for item in default
                for v in item.model_dump().values()
                if v not in ("", 0)
            )
        else:
            ok = cell in shown_default(default)
        if not ok:
            wrong.append(f"{key}: the page says {cell}, the code {default!r}")
    assert wrong == [], f"docs/features/{name}.md: " + "; ".join(wrong)


@pytest.mark.parametrize("name", FEATURES)
def test_every_limit_and_choice_is_said(name: str) -> None:
    rows = settings_rows(name)
    missing = []
    for key, info in fields(name).items():
        if key not in rows:
            continue
        words = " ".join(rows[key])
        wanted = [str(n) for n in limits(info)]
        model = item_model(info.annotation)
        if model is not None:
            wanted += [str(n) for sub in model.model_fields.values() for n in limits(sub)]
        absent = [n for n in dict.fromkeys(wanted) if not says(words, n)]
        absent += [  # a word in backquotes, or quoted in the default's JSON list
            f"`{c}`"
            for c in choices(info.annotation)
            if f"`{c}`" not in words and f'"{c}"' not in words
        ]
        if absent:
            missing.append(f"{key} ({', '.join(absent)})")
    assert missing == [], f"docs/features/{name}.md does not say: " + "; ".join(missing)


def test_the_helpers_read_a_row_as_the_pages_write_it() -> None:
    """A limit written 86,400 is 86400; a number inside another one is not it."""
    assert says("0 to 86,400, one day", 86400)
    assert not says("up to 1000 characters", 100)
    assert shown_default(["签到"]) == ['`["签到"]`']
