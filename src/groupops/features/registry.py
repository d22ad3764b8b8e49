"""Feature registry: built-ins through the same mechanism as extensions.

Built-ins are listed in ``DEFAULT_FEATURES``; extensions declare an entry point in the
``groupops.features`` group. Both go through :func:`load_feature`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from groupops.domain.errors import GroupopsError
from groupops.features.base import Feature

DEFAULT_FEATURES: tuple[str, ...] = (
    "groupops.features.moderation:ModerationFeature",
    "groupops.features.gate:GateFeature",
    "groupops.features.welcome:WelcomeFeature",
    "groupops.features.checkin:CheckinFeature",
    "groupops.features.points:PointsFeature",
)


class FeatureLoadError(GroupopsError):
    code = "feature_load_error"


def load_feature(spec: str) -> Feature:
    module_name, _, attr = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise FeatureLoadError(f"cannot load feature {spec!r}: {exc}") from exc
    feature: Feature = cls()
    for needed in ("name", "order", "settings_model", "handles", "handle", "delete_member_data"):
        if not hasattr(feature, needed):
            raise FeatureLoadError(f"feature {spec!r} lacks {needed!r}")
    return feature


class FeatureRegistry:
    def __init__(self, features: list[Feature]) -> None:
        names = [f.name for f in features]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise FeatureLoadError(f"features registered twice: {sorted(dupes)}")
        self.features = sorted(features, key=lambda f: (f.order, f.name))
        self.by_name = {f.name: f for f in self.features}

    @classmethod
    def load(
        cls, specs: tuple[str, ...] = DEFAULT_FEATURES, *, extensions: bool = True
    ) -> FeatureRegistry:
        all_specs = list(specs)
        if extensions:
            all_specs += [ep.value for ep in entry_points(group="groupops.features")]
        return cls([load_feature(s) for s in dict.fromkeys(all_specs)])
