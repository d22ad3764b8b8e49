"""Time from a member's message to the bot's reaction, on a real Synapse on 127.0.0.1.

The whole path is measured: member's client -> Synapse -> the adapter's /sync -> the engine
(one transaction, a feature that answers "pong N" to "ping N") -> the outbox -> the deliverer
-> the adapter's send -> Synapse -> the member's /sync. One message at a time, so each figure
is one round trip. Also: the adapter's import time and memory (in fresh interpreters).

    .venv/bin/python bench/matrix_latency.py [--messages 1000]

Synapse is started the same way as the tests do (``make synapse`` installs it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from groupops.domain.actions import Action, ActionKind  # noqa: E402
from groupops.domain.events import EventKind  # noqa: E402
from groupops.engine.context import BatchContext, Incoming  # noqa: E402
from groupops.features.base import FeatureSettings  # noqa: E402


class PongFeature:
    """Answers "ping N" with "pong N": the smallest reaction a feature can have."""

    name: ClassVar[str] = "bench_pong"
    order: ClassVar[int] = 50
    settings_model: ClassVar[type[FeatureSettings]] = FeatureSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset({EventKind.MESSAGE})

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for item in batch:
            e = item.event
            if e.text.startswith("ping "):
                answer = "pong " + e.text[5:]
                ctx.emit(Action(ActionKind.SEND, e.source, e.chat_id, text=answer), item)

    def delete_member_data(self, conn: Any, member_id: int) -> None:
        return None


def _probe(code: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


IMPORT_PROBE = """
import json, resource, time
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
import groupops.platforms.matrix
t1 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": t1 - t0, "rss_mib": r1 / 1024, "added_mib": (r1 - r0) / 1024}))
"""

BASE_PROBE = """
import json, resource, time
t0 = time.perf_counter()
import groupops.engine.app
t1 = time.perf_counter()
print(json.dumps({"seconds": t1 - t0,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


async def round_trips(n: int, workdir: Path) -> dict[str, Any]:
    from tests.platforms.matrix.conftest import Person, new_account
    from tests.platforms.matrix.helpers import bot_room
    from tests.platforms.matrix.synapse import Synapse, synapse_available

    from groupops.engine.app import App
    from groupops.platforms.matrix import ConnectionStore, MatrixAdapter, MatrixConfig

    reason = synapse_available()
    if reason:
        raise SystemExit(f"Synapse is not available: {reason}")
    server = Synapse(workdir / "synapse")
    t0 = time.perf_counter()
    server.start()
    started_in = time.perf_counter() - t0
    try:
        app = App.create(
            f"sqlite:///{workdir}/bench.db", features=("__main__:PongFeature",), extensions=False
        )
        bot = new_account(server, "bot")
        config = MatrixConfig(
            server.url,
            bot.user_id,
            password=bot.password,
            per_second=1000.0,
            per_chat_per_minute=600_000.0,
            burst=1000,
            sync_timeout_ms=30_000,
        )
        store = ConnectionStore(app.db, config.source)
        store.ensure(config, app.clock.now())
        adapter = MatrixAdapter(config, store=store, handle=app.handle, clock=app.clock)
        app.platforms.add(adapter)
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter, "bench")
        member = await Person(server, new_account(server, "member")).login()
        await member.join(room)
        await app.start(tick_every=3600)
        stop = asyncio.Event()
        syncing = asyncio.create_task(adapter.run(stop))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        latencies: list[float] = []
        for i in range(n):
            t = time.perf_counter()
            await member.say(room, f"ping {i}")
            want = f"pong {i}"
            while True:
                raws = await member.events(room, 30_000)
                if any(
                    r["sender"] == bot.user_id and r["content"].get("body") == want for r in raws
                ):
                    break
            latencies.append(time.perf_counter() - t)
        stop.set()
        await asyncio.wait_for(syncing, 40)
        await app.stop()
        await adapter.close()
        await member.close()
        app.close()
    finally:
        server.stop()
    latencies.sort()
    return {
        "synapse_start_seconds": round(started_in, 2),
        "messages": n,
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "rss_before_mib": round(rss_before, 1),
        "rss_after_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    base = _probe(BASE_PROBE)
    matrix = _probe(IMPORT_PROBE)
    print(f"import groupops.engine.app: {base['seconds']:.3f} s, RSS {base['rss_mib']:.0f} MiB")
    print(
        f"import groupops.platforms.matrix: {matrix['seconds']:.3f} s,"
        f" RSS {matrix['rss_mib']:.0f} MiB (+{matrix['added_mib']:.0f} MiB for the import)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(round_trips(args.messages, Path(tmp)))
    print(f"Synapse started in {r['synapse_start_seconds']} s")
    print(
        f"message -> bot's reaction over {r['messages']} messages:"
        f" median {r['median_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms"
    )
    print(f"bench process RSS: {r['rss_before_mib']} MiB before, {r['rss_after_mib']} MiB after")


if __name__ == "__main__":
    main()
