"""docs/features/welcome.md names the filters a template may use: exactly the allow-list."""

from __future__ import annotations

import re

from groupops.engine.templates import FILTERS
from tests.conftest import REPO


def test_the_welcome_page_lists_exactly_the_allowed_filters() -> None:
    page = (REPO / "docs" / "features" / "welcome.md").read_text(encoding="utf-8")
    found = re.search(r"so do these Jinja filters\s*\(`[^`]*`\):\s*(.*?)\.\s+Any other", page, re.S)
    assert found, "the welcome page no longer lists the template filters"
    listed = {name.strip() for name in found.group(1).split(",")}
    assert listed == set(FILTERS)
