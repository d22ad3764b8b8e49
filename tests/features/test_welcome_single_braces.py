"""``{name}``, a placeholder in single braces (the style most Chinese bot tools use), is
refused when a template is saved, naming the fix ``{{ name }}`` (docs/features/welcome.md);
other text in braces stays as written."""

from __future__ import annotations

import pytest
import typer
from pydantic import ValidationError

from groupops.engine.templates import TemplateRenderer
from groupops.features.checkin.settings import CheckinSettings
from groupops.features.welcome.settings import WelcomeSettings
from tests.cli import error_line, run


@pytest.mark.parametrize("source", ["欢迎 {name} 加入 {{ group }}！", "欢迎 { name }！"])
def test_a_placeholder_in_single_braces_is_refused_with_the_fix(source: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WelcomeSettings(template=source)
    assert "{name} is not a placeholder: write {{ name }}" in str(caught.value)
    with pytest.raises(ValidationError, match=r"\{count\} is not a placeholder"):
        WelcomeSettings(burst_template="欢迎 {count} 位新朋友：{{ names }}")
    with pytest.raises(ValidationError, match=r"\{streak\} is not a placeholder"):
        CheckinSettings(reply_template="已连续 {streak} 天")


def test_other_braces_in_the_text_stay() -> None:
    source = '规则 {"a": 1} {x} {{ name }} {names} {{ "{name}" }}'
    assert WelcomeSettings(template=source).template == source
    shown = TemplateRenderer().render(source, {"name": "小明"}, where="welcome.template")
    assert shown == '规则 {"a": 1} {x} 小明 {names} {name}'


def test_the_refusal_reads_in_chinese(cli: typer.Typer, imported: str) -> None:
    url = ("--database-url", imported)
    template = "欢迎 {name} 加入 {{ group }}！"
    said = error_line(
        run(cli, "settings", "set", "welcome.template", template, "-g", "1", *url, lang="zh_CN")
    )
    assert "{name} 不是占位符：请写成 {{ name }}" in said, said
    assert '"template": null' in run(cli, "settings", "show", "-g", "1", *url).stdout
