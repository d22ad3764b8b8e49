"""The engine starts without the importers and the analytics: they load on first use (an
import, an analysis, a feature's daily health look), not with the features that run every
batch. The health feature once named imported history through ``groupops.importers``, whose
package loads every importer and numpy (~0.25 s) into ``serve``, ``demo`` and every command
that opens the engine."""

from __future__ import annotations

import subprocess
import sys
import textwrap

STARTED = textwrap.dedent(
    """
    import sys
    from groupops.engine.app import App

    app = App.create("sqlite://")
    app.engine.tick()
    later = ("numpy", "groupops.importers", "groupops.analytics")
    print(sorted(m for m in later if m in sys.modules))
    """
)


def test_the_engine_and_its_features_start_without_importers_or_analytics() -> None:
    done = subprocess.run(
        [sys.executable, "-c", STARTED], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.splitlines()[-1] == "[]", done.stdout
