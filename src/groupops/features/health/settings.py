"""Health alert settings: every field is explained in docs/features/health.md."""

from __future__ import annotations

from pydantic import Field

from groupops.features.base import FeatureSettings


class HealthSettings(FeatureSettings):
    #: the hour of the day (the group's time zone, 0-23) from which the day's look is taken
    hour: int = Field(default=9, ge=0, le=23)
    #: tell when the group's early warning appears
    alert_warning: bool = True
    #: tell when the group becomes declining
    alert_declining: bool = True
    #: tell when the group becomes dead
    alert_dead: bool = True

    def alerts(self) -> frozenset[str]:
        """What these settings tell the operator about (``report.health.concerns_of``'s
        words)."""
        wanted = {
            "warning": self.alert_warning,
            "declining": self.alert_declining,
            "dead": self.alert_dead,
        }
        return frozenset(name for name, on in wanted.items() if on)
