"""BatchContext.cached: what a feature (or the engine) builds from a group's settings is kept
across batches and made again only when those settings change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from groupops.engine.app import App
from groupops.engine.context import GroupInfo


def group_of(settings: dict[str, object], defaults: dict[str, object]) -> GroupInfo:
    return GroupInfo(1, 1, "sandbox", "g1", "g1", "UTC", "en", settings, defaults)


def test_kept_until_its_settings_change(make_app: Callable[..., App]) -> None:
    app = make_app(features=())
    built: list[str] = []

    def build(what: str) -> Callable[[], str]:
        def made() -> str:
            built.append(what)
            return what

        return made

    group = group_of({"echo": {"prefix": "> "}, "other": {"x": 1}}, {"echo": {"y": 2}})
    with app.db.connect() as conn:
        ctx = app.engine._context(conn)
        assert ctx.cached("k", group, str, build("first"), section="echo") == "first"
        assert ctx.cached("k", group, str, build("again"), section="echo") == "first"
        # equal parts, as the directory reloads them: still kept
        reloaded = group_of({"echo": {"prefix": "> "}, "other": {"x": 1}}, {"echo": {"y": 2}})
        assert ctx.cached("k", reloaded, str, build("reloaded"), section="echo") == "first"
        # another feature's settings changed: not what it is made from
        other = replace(reloaded, settings={**reloaded.settings, "other": {"x": 5}})
        assert ctx.cached("k", other, str, build("other"), section="echo") == "first"
        # without a section it is made from every feature's settings
        assert ctx.cached("all", reloaded, str, build("all")) == "all"
        assert ctx.cached("all", other, str, build("all again")) == "all again"
        # its own settings changed: made again
        changed = replace(other, settings={**other.settings, "echo": {"prefix": "» "}})
        assert ctx.cached("k", changed, str, build("changed"), section="echo") == "changed"
        # the defaults changed: made again
        default = replace(changed, workspace_settings={"echo": {"y": 3}})
        assert ctx.cached("k", default, str, build("defaults"), section="echo") == "defaults"
        # another kind under the same key is not handed out as this one
        assert ctx.cached("k", default, int, lambda: 7, section="echo") == 7
        conn.rollback()
    assert built == ["first", "all", "all again", "changed", "defaults"]


def test_asked_again_in_a_batch_answers_as_the_kept_value_would(
    make_app: Callable[..., App],
) -> None:
    """A batch remembers its answers for the very group object it was asked about (features
    ask per event): switching kinds or sections under one key, or the group's settings
    changing, is answered exactly as the kept values across batches are."""
    app = make_app(features=())
    built: list[str] = []

    def build(what: str) -> Callable[[], str]:
        def made() -> str:
            built.append(what)
            return what

        return made

    group = group_of({"echo": {"prefix": "> "}, "other": {"x": 1}}, {})
    with app.db.connect() as conn:
        ctx = app.engine._context(conn)
        first = ctx.cached("k", group, str, build("first"), section="echo")
        assert ctx.cached("k", group, str, build("again"), section="echo") is first
        assert ctx.cached("k", group, int, lambda: 7, section="echo") == 7
        assert ctx.cached("k", group, str, build("after int"), section="echo") == "after int"
        assert ctx.cached("k", group, str, build("other"), section="other") == "other"
        assert ctx.cached("k", group, str, build("echo"), section="echo") == "echo"
        assert ctx.cached("k", group, str, build("kept"), section="echo") == "echo"
        changed = replace(group, settings={**group.settings, "echo": {"prefix": "» "}})
        assert ctx.cached("k", changed, str, build("changed"), section="echo") == "changed"
        assert ctx.cached("k", group, str, build("back"), section="echo") == "back"
        # the next batch: the kept value, made from the settings it last saw
        later = app.engine._context(conn)
        assert later.cached("k", group, str, build("later"), section="echo") == "back"
        conn.rollback()
    assert built == ["first", "after int", "other", "echo", "changed", "back"]


def test_a_features_settings_are_its_kept_value(make_app: Callable[..., App]) -> None:
    """BatchContext.settings is cached() under the feature's name and section: the workspace's
    defaults then the group's own, validated once while they stay, made again when they
    change, and never another kind or section kept under the same key."""
    from tests.engine.fakes import EchoFeature, EchoSettings

    app = make_app(features=())
    feature = EchoFeature()
    group = group_of({"echo": {"prefix": "> "}}, {"echo": {"prefix": "ws "}})
    with app.db.connect() as conn:
        ctx = app.engine._context(conn)
        # the same key, another kind and another section: not handed out as the settings
        assert ctx.cached("echo", group, str, lambda: "not settings", section="other") == (
            "not settings"
        )
        first = ctx.settings(feature, group, EchoSettings)
        assert first.prefix == "> "
        assert ctx.settings(feature, group, EchoSettings) is first
        assert ctx.cached("echo", group, EchoSettings, lambda: EchoSettings(), section="echo") is (
            first
        )
        reloaded = group_of({"echo": {"prefix": "> "}}, {"echo": {"prefix": "ws "}})
        assert app.engine._context(conn).settings(feature, reloaded, EchoSettings) is first
        defaults_only = replace(group, settings={})
        assert ctx.settings(feature, defaults_only, EchoSettings).prefix == "ws "
        # another kind in its very section for the very group: made again as the settings
        assert ctx.cached("echo", group, str, lambda: "a str", section="echo") == "a str"
        again = ctx.settings(feature, group, EchoSettings)
        assert type(again) is EchoSettings and again.prefix == "> "
        assert ctx.settings(feature, group, EchoSettings) is again
        conn.rollback()
