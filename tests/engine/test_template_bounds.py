"""An operator's template cannot exhaust the engine's memory or time (QA security W1): every
one of these built hundreds of megabytes, ran out of memory or never finished before."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from groupops.domain.errors import TemplateError
from groupops.engine.templates import MAX_OUTPUT, TemplateRenderer

VARS = {"name": "x" * 64, "group": "G"}

EXHAUSTING = {
    "a filter's width": "{{ name|center(300000000) }}",
    "indent by a long text": "{{ ('\\n' * 4000)|indent('y' * 4000, true, true) }}",
    "replace of every gap": "{{ name|replace('', name)|replace('', name)|replace('', name) }}",
    "printf width in a filter": "{{ '%300000000s'|format(name) }}",
    "printf width with %": "{{ '%300000000s' % name }}",
    "a filter that fills": "{{ name|batch(300000000, 'y')|list|length }}",
    "~ doubling": "{% set a = name %}" + "{% set a = a ~ a %}" * 40 + "{{ a|length }}",
    "+ doubling": "{% set a = name %}" + "{% set a = a + a %}" * 40 + "{{ a|length }}",
    "squaring a number": "{% set a = 9 ** 64 %}" + "{% set a = a * a %}" * 30 + "{{ a > 1 }}",
    "powers of powers": "{{ ((9 ** 64) ** 64) ** 64 }}",
    "nested loops": "{% for a in name %}{% for b in name %}{% for c in name %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "a loop building a block": "{% set b %}{% for a in name %}{% for c in name %}"
    "{% for d in name %}{{ name }}{% endfor %}{% endfor %}{% endfor %}{% endset %}{{ b|length }}",
}


@pytest.mark.parametrize("source", EXHAUSTING.values(), ids=EXHAUSTING.keys())
def test_a_template_that_would_exhaust_the_process_is_refused_quickly(source: str) -> None:
    renderer = TemplateRenderer()
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(TemplateError) as info:
            renderer.render(source, VARS, where="welcome.template")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "welcome.template" in str(info.value)
    assert time.monotonic() - started < 2
    assert peak < 20_000_000, peak  # bytes: the bounds hold a few megabytes at most


def test_ordinary_templates_keep_working() -> None:
    r = TemplateRenderer()
    rules = "1. 友善交流\n2. 不发广告\n" * 200  # 3,200 characters (welcome.rules: 4,000)
    vars_ = {**VARS, "name": "小明", "rules": rules}
    cases = [
        ("欢迎 {{ name }} 加入 {{ group }}！", "欢迎 小明 加入 G！"),
        ("{{ name|upper }} {{ name|length }} {{ name|default('朋友') }}", "小明 2 小明"),
        ("{% for c in name %}[{{ c }}]{% endfor %}", "[小][明]"),
        ("{% set who = name ~ '同学' %}{{ who }}", "小明同学"),
        ("{{ name ~ '!' * 3 }} {{ 2 ** 10 }} {{ 7 % 3 }}", "小明!!! 1024 1"),
        ("{{ name|center(8)|trim }}|{{ group|replace('G', 'Group') }}", "小明|Group"),
    ]
    for source, shown in cases:
        assert r.render(source, vars_, where="t") == shown
    quoted = r.render("{{ rules|replace('\n', '\n> ')|indent(2) }}", vars_, where="t")
    assert quoted.startswith("1. 友善交流\n  > 2. 不发广告\n  > 1. 友善交流\n")
    assert len(quoted) == MAX_OUTPUT  # 3,200 characters and 800 quotes: cut as before
    # a long output is cut at the platform's limit, as before
    long = r.render("{% for c in rules %}{{ c }}{{ c }}{% endfor %}", vars_, where="t")
    assert len(long) == MAX_OUTPUT


def test_a_filter_outside_the_list_is_refused_by_name() -> None:
    with pytest.raises(TemplateError, match="No filter named 'format'"):
        TemplateRenderer().render("{{ '%s'|format(name) }}", VARS, where="t")
