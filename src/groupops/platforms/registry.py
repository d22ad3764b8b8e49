"""The adapters of one App, by source name."""

from __future__ import annotations

from groupops.domain.actions import ActionKind
from groupops.platforms.base import Capabilities, PlatformAdapter, RateLimits

#: what an unknown source (an import, a removed connection) can do: nothing but owner tasks
NO_PLATFORM = Capabilities("none", frozenset(), RateLimits())

__all__ = ["NO_PLATFORM", "ActionKind", "Platforms"]


class Platforms:
    def __init__(self) -> None:
        self._adapters: dict[str, PlatformAdapter] = {}

    def add(self, adapter: PlatformAdapter) -> None:
        self._adapters[adapter.source] = adapter

    def get(self, source: str) -> PlatformAdapter | None:
        return self._adapters.get(source)

    def capabilities(self, source: str) -> Capabilities:
        adapter = self._adapters.get(source)
        return adapter.capabilities if adapter else NO_PLATFORM

    def sources(self) -> list[str]:
        return list(self._adapters)
