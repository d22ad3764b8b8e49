"""``settings set --help`` names every built-in feature, in both languages: an operator reads
there which ``feature.`` prefixes there are (a feature added without it was missing)."""

from __future__ import annotations

import pytest
import typer

from groupops.features.registry import DEFAULT_FEATURES, FeatureRegistry
from tests.cli import run


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_help_of_settings_set_names_every_feature(cli: typer.Typer, lang: str) -> None:
    shown = run(cli, "settings", "set", "--help", lang=lang, COLUMNS="400")
    assert shown.exit_code == 0
    text = " ".join(shown.output.split())
    names = FeatureRegistry.load(DEFAULT_FEATURES, extensions=False).by_name
    assert names and all(name in text for name in names), sorted(names)
