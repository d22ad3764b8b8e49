"""Bad input: a typed error or safe output, and nothing already stored is lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from groupops.domain.errors import InvalidEvent, TemplateError
from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.engine.templates import TemplateRenderer
from groupops.features.welcome.settings import WelcomeSettings
from tests.conftest import T0

GOOD: dict[str, Any] = {
    "source": "sandbox",
    "event_id": "e1",
    "kind": "message",
    "occurred_at": "2026-11-02T01:00:00+00:00",
    "chat_id": "g1",
    "user_id": "u1",
    "text": "hi",
}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"occurred_at": "2026-11-02T01:00:00"}, "naive datetime"),
        ({"occurred_at": "yesterday"}, "not ISO 8601"),
        ({"kind": "explode"}, "'explode' is not a valid EventKind"),
        ({"event_id": ""}, "event_id must be a non-empty string"),
        ({"source": "x" * 300}, "source longer than 255"),
        ({"chat_id": ""}, "message needs a chat_id"),
        ({"user_id": ""}, "message needs a user_id"),
        ({"text": "a\x00b"}, "NUL"),
        ({"text": 42}, "text must be a string"),
        ({"is_admin": "yes"}, "is_admin must be a boolean"),
        ({"data": [1, 2]}, "data must be an object"),
        ({"colour": "red"}, "unknown fields ['colour']"),
        ({"content_kind": "hologram"}, "'hologram' is not a valid ContentKind"),
    ],
)
def test_malformed_event_is_a_typed_error_naming_the_problem(
    change: dict[str, Any], needle: str
) -> None:
    with pytest.raises(InvalidEvent) as info:
        Event.from_json({**GOOD, **change})
    assert needle in str(info.value)
    assert info.value.code == "invalid_event"


def test_missing_fields_and_non_objects() -> None:
    with pytest.raises(InvalidEvent, match=r"missing fields \['occurred_at'\]"):
        Event.from_json({k: v for k, v in GOOD.items() if k != "occurred_at"})
    with pytest.raises(InvalidEvent, match="expected a JSON object"):
        Event.from_json([GOOD])  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from([*sorted(GOOD), "data", "is_admin", "zzz"]), json_values))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_no_json_object_crashes_the_event_parser(raw: dict[str, Any]) -> None:
    try:
        event = Event.from_json({**GOOD, **raw})
    except InvalidEvent:
        return
    assert event.occurred_at.tzinfo is not None
    assert Event.from_json(event.to_json()) == event  # what is accepted round-trips


@given(st.text())
@settings(max_examples=200)
def test_any_unicode_text_round_trips(text: str) -> None:
    try:
        event = Event.from_json({**GOOD, "text": text})
    except InvalidEvent as exc:
        assert "\x00" in text and "NUL" in str(exc)
        return
    assert event.text == text


BROKEN_UTF8 = b"\xff\xfe broken".decode("utf-8", "replace")


def test_any_unicode_and_a_1mb_message_go_through_the_engine(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=("groupops.features.welcome:WelcomeFeature",))
    texts = [
        "",
        "😀" * 1000,
        "\u202eevil\u202c",
        "👨‍👩‍👧‍👦",
        "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
        "مرحبا",
        "𝕳𝖊𝖑𝖑𝖔",
        "加我微信" * 250_000,
    ]
    assert len(texts[-1]) == 1_000_000
    evs = [
        Event(
            "sandbox",
            f"u{i}",
            EventKind.MESSAGE,
            T0 + timedelta(seconds=i),
            chat_id="g1",
            user_id="u1",
            message_id=str(i),
            text=t,
        )
        for i, t in enumerate(texts)
    ]
    result = app.handle(evs)
    assert result.stored == len(texts) and result.feature_errors == 0
    from sqlalchemy import select

    from groupops.storage.tables import events

    with app.db.connect() as conn:
        stored = [r[0] for r in conn.execute(select(events.c.text).order_by(events.c.seq))]
    assert stored == texts  # nothing truncated, nothing lost


ATTACKS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ name.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].system('id') }}",
    "{{ config.items() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ 'a' * 100000000 }}",
    "{{ 9 ** 999999 }}",
    "{% for i in range(100000000) %}x{% endfor %}",
    "{{ request }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{{ name|attr('__class__') }}",
    "{{ unknown_variable }}",
    "{% if %}",
]


@pytest.mark.parametrize("source", ATTACKS)
def test_template_injection_is_refused_with_a_typed_error(source: str) -> None:
    renderer = TemplateRenderer()
    with pytest.raises(TemplateError) as info:
        renderer.render(source, {"name": "Ann", "group": "G"}, where="welcome.template")
    assert "welcome.template" in str(info.value)


def test_template_safe_output_and_settings_validation() -> None:
    renderer = TemplateRenderer()
    with pytest.raises(TemplateError, match="unsafe"):  # str.format runs sandboxed too
        renderer.render("{{ name.format(name.__class__) }}", {"name": "{0}"}, where="t")
    out = renderer.render(
        "Hi {{ name }}! {{ name|upper }} {{ group }}",
        {"name": "<b>{{x}}</b>", "group": "G"},
        where="t",
    )
    assert out == "Hi <b>{{x}}</b>! <B>{{X}}</B> G"  # member text is data, never a template
    assert len(renderer.render("{{ 'ab' * 2000 }}", {}, where="t")) <= 4096
    with pytest.raises(ValidationError, match="unknown placeholder 'nmae'; available: "):
        WelcomeSettings(template="Hi {{ nmae }}")
    with pytest.raises(ValidationError, match="extra"):
        WelcomeSettings.model_validate({"templte": "x"})
    assert WelcomeSettings(template="Hi {{ name }} of {{ group }}").template


def test_naive_datetimes_never_reach_storage() -> None:
    with pytest.raises(InvalidEvent, match="naive"):
        Event("s", "e", EventKind.TICK, datetime(2026, 1, 1))
