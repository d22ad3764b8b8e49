"""Every setting of every built-in feature is explained in the feature's page in docs/features
(the operator's reference): a setting added without a word there fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from groupops.features.registry import DEFAULT_FEATURES, FeatureRegistry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "features"
REGISTRY = FeatureRegistry.load(DEFAULT_FEATURES, extensions=False)


@pytest.mark.parametrize("name", sorted(REGISTRY.by_name))
def test_every_setting_has_a_row_in_its_page(name: str) -> None:
    page = DOCS / f"{name}.md"
    assert page.is_file(), f"docs/features/{name}.md is missing"
    text = page.read_text(encoding="utf-8")
    fields = REGISTRY.by_name[name].settings_model.model_fields
    # a settings table row starts with the name in backquotes: | `name` | default | meaning |
    rows = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| `")}
    missing = [key for key in fields if f"`{key}`" not in rows]
    assert missing == [], f"docs/features/{name}.md has no row for {missing}"
