"""Welcome templates show members only the documented placeholders, as they are
(docs/features/welcome.md "Templates are safe"): ``{{ self }}``, ``{{ name.format }}`` or
``{{ name.encode() }}`` are refused when saved and never rendered from an older stored value."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import typer
from pydantic import ValidationError
from sqlalchemy import select, update

from groupops.domain.errors import TemplateError
from groupops.engine.app import App
from groupops.engine.templates import TemplateRenderer
from groupops.features.welcome.settings import WelcomeSettings
from groupops.storage.tables import feature_errors, groups, outbox
from tests.cli import error_line, run
from tests.features.test_welcome import setup

VARS = {"name": "格式测试", "group": "G", "rules": "R"}


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("{{ self }}", "unknown placeholder 'self'; available: group, name, rules"),
        ("{{ loop }}", "unknown placeholder 'loop'"),
        ("你好 {{ name.format }}", "{{ name.format }} is unsafe"),
        ("{{ name.encode() }}", "{{ name.encode() }} is unsafe"),
        ("{{ name[0] }}", "{{ name[…] }} is unsafe"),
        ("{{ group.__doc__ }}", "like {{ group }}"),
        ("{% for c in name %}{{ loop.index }}{% endfor %}", "{{ loop.index }} is unsafe"),
        ("{% macro m() %}x{% endmacro %}{{ m }}", "{% macro %} is not allowed"),
        (
            "{% if false %}{{ nmae }}{% endif %}",
            "unknown placeholder 'nmae'",
        ),  # even when not reached
    ],
)
def test_only_the_placeholders_themselves_are_accepted(source: str, said: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WelcomeSettings(template=source)
    assert said in str(caught.value)
    with pytest.raises(TemplateError):  # stored before this check: never rendered either
        TemplateRenderer().render(source, VARS, where="welcome.template")


def test_filters_loops_and_braces_in_text_stay_allowed() -> None:
    r = TemplateRenderer()
    for source, shown in [
        ("Hi {{ name|upper }} ({{ name|length }})", "Hi 格式测试 (4)"),
        ("{% for c in name %}[{{ c }}]{% endfor %}", "[格][式][测][试]"),
        ("{% set who = name %}{% if who %}{{ who }}{% endif %}", "格式测试"),
    ]:
        assert WelcomeSettings(template=source).template == source
        assert r.render(source, VARS, where="welcome.template") == shown


def test_the_refusals_read_in_chinese(cli: typer.Typer, imported: str) -> None:
    url = ("--database-url", imported)

    def refused(template: str) -> str:
        res = run(
            cli, "settings", "set", "welcome.template", template, "-g", "1", *url, lang="zh_CN"
        )
        return error_line(res)

    said = refused("你好 {{ name.format }}")
    assert "{{ name.format }} 不安全：占位符只能单独写，例如 {{ name }}" in said, said
    said = refused("{% macro m() %}{% endmacro %}")
    assert "模板中不允许使用 {% macro %}" in said, said
    shown = run(cli, "settings", "show", "-g", "1", *url).stdout
    assert '"template": null' in shown  # nothing was saved


def test_a_template_stored_before_the_check_shows_members_nothing(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app, intro_prompt=False)
    with app.db.begin() as conn:
        stored = conn.execute(select(groups.c.settings).where(groups.c.id == 1)).scalar_one()
        welcome = {**stored.get("welcome", {}), "template": "{{ self }} {{ name.encode() }}"}
        conn.execute(
            update(groups).where(groups.c.id == 1).values(settings={**stored, "welcome": welcome})
        )
    app.engine.directory.invalidate()
    app.handle([app.sandbox.join("g1", "u1", "格式测试")])
    with app.db.connect() as conn:
        texts = [r.payload["text"] for r in conn.execute(select(outbox))]
    assert not any("TemplateReference" in t or "b'" in t for t in texts), texts
    with app.db.connect() as conn:  # welcome is off in the group until the template is fixed
        errors = conn.execute(select(feature_errors.c.error)).scalars().all()
    assert any("invalid settings" in e and "welcome.template" in e for e in errors), errors
