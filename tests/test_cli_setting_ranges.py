"""A setting out of its range says the whole range its field allows ("from 1 to 10", "1 到 10
之间"), read from the settings model's constraints, not only the end it crossed ("at least 1",
which left the operator to find the other end by trying); a field with one end still says
that end. Also a setting inside a list (checkin.gifts' streak) and the web API's numbers."""

from __future__ import annotations

import pytest
import typer
from pydantic import BaseModel, Field, ValidationError

from groupops.features.registry import SettingsRefused, pydantic_said
from groupops.i18n import Catalogs
from tests.cli import error_line, run

ZH = Catalogs().gettext("zh_CN")


@pytest.mark.parametrize(
    ("name", "value", "english", "chinese"),
    [
        ("gate.max_attempts", "0", "from 1 to 10", "1 到 10 之间"),
        ("gate.max_attempts", "11", "from 1 to 10", "1 到 10 之间"),
        ("moderation.flood_seconds", "0", "from 1 to 3600", "1 到 3600 之间"),
        ("welcome.burst_window_seconds", "4000", "from 5 to 3600", "5 到 3600 之间"),
    ],
)
def test_a_setting_out_of_range_says_the_whole_range_in_both_languages(
    cli: typer.Typer, imported: str, name: str, value: str, english: str, chinese: str
) -> None:
    args = ("settings", "set", name, value, "-g", "1", "--database-url", imported)
    en = error_line(run(cli, *args))
    assert en == f"error [invalid_settings] group 1 {name}: {english}", en
    zh = error_line(run(cli, *args, lang="zh_CN"))
    assert zh == f"错误 [invalid_settings] 群 1 {name}：{chinese}", zh


def test_a_setting_inside_a_list_says_its_own_range(cli: typer.Typer, imported: str) -> None:
    gifts = '[{"streak": 1, "points": 5}]'
    args = ("settings", "set", "checkin.gifts", gifts, "-g", "1", "--database-url", imported)
    en = error_line(run(cli, *args))
    assert en.endswith("checkin.gifts: gifts.0.streak: from 2 to 3650"), en
    zh = error_line(run(cli, *args, lang="zh_CN"))
    assert zh.endswith("checkin.gifts：gifts.0.streak：2 到 3650 之间"), zh


class _OneEnd(BaseModel):
    least: int = Field(default=1, ge=1)
    open_above: int = Field(default=1, gt=0, lt=100)


def test_one_end_is_said_as_that_end_and_open_ends_in_words() -> None:
    with pytest.raises(ValidationError) as caught:
        _OneEnd.model_validate({"least": 0, "open_above": 100})
    refused = SettingsRefused(caught.value, default="x", model=_OneEnd)
    assert refused.localized_message(lambda s: s) == (
        "least: at least 1; open_above: more than 0 and less than 100"
    )
    assert refused.localized_message(ZH) == "least：最小 1；open_above：须大于 0 且小于 100"
    error = {"type": "less_than_equal", "loc": ("x",), "msg": "?", "ctx": {"le": 5}}
    said = pydantic_said(error, {"le": 5})
    assert said is not None and said.localized_message(ZH) == "最大 5"
    said = pydantic_said(error, {"ge": 2, "le": 5})
    assert said is not None and said.localized_message(ZH) == "2 到 5 之间"
