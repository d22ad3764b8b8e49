"""Live mode (placeholder, replaced below)."""

from __future__ import annotations

import asyncio
from typing import Any


async def run_live(app: Any, *, seed: int = 1, stop: asyncio.Event) -> None:
    await stop.wait()
