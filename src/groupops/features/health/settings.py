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
    #: a group that was told about counts as recovered (and a later fall is told again) only
    #: after the day's looks found it needing nobody this many days in a row: a group hovering
    #: around a threshold is told once, not at every crossing
    recovery_days: int = Field(default=7, ge=1, le=365)

    def alerts(self) -> frozenset[str]:
        """What these settings tell the operator about (``report.health.concerns_of``'s
        words)."""
        wanted = {
            "warning": self.alert_warning,
            "declining": self.alert_declining,
            "dead": self.alert_dead,
        }
        return frozenset(name for name, on in wanted.items() if on)
