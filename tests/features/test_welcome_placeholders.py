"""A welcome template names only what its message has: one newcomer's welcome has a name, a
burst's combined welcome has names and a count (docs/features/welcome.md: unknown
placeholders are refused when saved)."""

from __future__ import annotations

import pytest
import typer
from pydantic import ValidationError

from groupops.engine.templates import TemplateRenderer
from groupops.features.welcome.settings import WelcomeSettings
from tests.cli import error_line, run


@pytest.mark.parametrize("placeholder", ["names", "count"])
def test_the_single_welcome_refuses_the_bursts_placeholders(placeholder: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WelcomeSettings(template=f"欢迎 {{{{ {placeholder} }}}}")
    said = str(caught.value)
    assert f"unknown placeholder '{placeholder}'; available: group, name, rules" in said


def test_the_burst_welcome_refuses_one_newcomers_name() -> None:
    with pytest.raises(ValidationError) as caught:
        WelcomeSettings(burst_template="Welcome {{ name }}")
    said = str(caught.value)
    assert "unknown placeholder 'name'; available: count, group, names, rules" in said


def test_each_template_keeps_its_own_placeholders() -> None:
    # accepted: each names only its own message's placeholders
    s = WelcomeSettings(
        template="Hi {{ name }}, welcome to {{ group }}. {{ rules }}",
        burst_template="Welcome our {{ count }} newcomers {{ names }} to {{ group }}! {{ rules }}",
    )
    # and each renders with the variables its message has (as the welcome feature passes them)
    renderer = TemplateRenderer()
    common = {"group": "Python 学习群", "rules": "Be kind."}
    assert s.template is not None and s.burst_template is not None
    one = renderer.render(s.template, {**common, "name": "Ann"}, where="welcome.template")
    assert one == "Hi Ann, welcome to Python 学习群. Be kind."
    many = {**common, "names": "Ann, Bob", "count": "2"}
    burst = renderer.render(s.burst_template, many, where="welcome.burst_template")
    assert burst == "Welcome our 2 newcomers Ann, Bob to Python 学习群! Be kind."


def test_settings_set_refuses_names_in_the_single_welcome(cli: typer.Typer, imported: str) -> None:
    url = ("--database-url", imported)
    res = run(cli, "settings", "set", "welcome.template", "欢迎 {{ names }}", "-g", "1", *url)
    said = error_line(res)
    assert said == (
        "error [invalid_settings] group 1 welcome.template: unknown placeholder 'names';"
        " available: group, name, rules"
    ), said
    ok = run(cli, "settings", "set", "welcome.burst_template", "欢迎 {{ names }}", "-g", "1", *url)
    assert ok.exit_code == 0, ok.output
    shown = run(cli, "settings", "show", "-g", "1", *url).stdout
    assert '"template": null' in shown and '"burst_template": "欢迎 {{ names }}"' in shown
