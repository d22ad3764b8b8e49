"""Lists of names in Chinese output are joined by the full-width comma (analyze's summary: the
month's top 3, the opinion leaders), not the English ", "."""

from __future__ import annotations

from groupops.i18n import Catalogs
from tests.report.sample import sample_metrics


def test_the_summary_lists_names_with_the_chinese_enumeration_comma() -> None:
    from groupops.report.commands import _summary

    zh = dict(_summary(sample_metrics(), Catalogs().gettext("zh_CN")))
    top = next(value for label, value in zh.items() if label.endswith("月度前三"))
    assert top.endswith("，小明，Alice") and ", " not in top, top
    assert "，" in zh["意见领袖"] and ", " not in zh["意见领袖"], zh
    en = dict(_summary(sample_metrics(), Catalogs().gettext("en")))
    assert en["top 3 of 2024-03"].endswith(", 小明, Alice")
