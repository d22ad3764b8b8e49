"""The simulator: a sandbox community of simulated people, Chinese and English speakers, who
join, chat, ask and answer, check in, advertise, flood and drift away.

``run_demo`` runs a month in accelerated time (``groupops demo``); ``run_live`` keeps the
community going in real time beside a running App (``groupops serve --demo``).
"""

from __future__ import annotations

from groupops.simulator.demo import DemoResult, run_demo, run_simulation
from groupops.simulator.live import run_live
from groupops.simulator.world import DemoError, DemoOptions

__all__ = ["DemoError", "DemoOptions", "DemoResult", "run_demo", "run_live", "run_simulation"]
