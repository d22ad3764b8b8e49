"""The Telegram adapter's cost: import time and memory in fresh interpreters (median of
``--runs``), for the adapter as shipped (python-telegram-bot) and, when given an interpreter that
has it, for aiogram 3 (the other candidate); how fast updates are translated; and how fast the
deliverer gets a broadcast out through the real client library.

    .venv/bin/python bench/telegram_adapter.py [--runs 5] [--aiogram-python /tmp/venv/bin/python]
                                               [--groups 60] [--round-trip 0.1]

Delivery: one message to each of ``--groups`` groups (a month-end top 3 in every group of a
workspace), sent by the App's deliverer through python-telegram-bot to the fake Bot API of the
tests (tests/platforms/telegram/fake_bot_api.py) answering each request after ``--round-trip``
seconds, with Telegram's limits (30 messages a second per bot). In the same run, the baseline:
the same deliverer sending to one group at a time (CHATS_AT_ONCE = 1), as it did before.

Figures are printed side by side with ratios; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import importlib, json, sys, time
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
r0 = rss(); t0 = time.perf_counter()
for name in sys.argv[1].split(","):
    importlib.import_module(name)
print(json.dumps({"seconds": time.perf_counter() - t0, "mb": rss() - r0}))
"""


def measure(python: str, modules: str, runs: int) -> dict[str, float]:
    got = []
    for _ in range(runs):
        out = subprocess.run(
            [python, "-c", PROBE, modules], capture_output=True, text=True, check=True, cwd=REPO
        )
        got.append(json.loads(out.stdout))
    return {
        "seconds": statistics.median(g["seconds"] for g in got),
        "mb": statistics.median(g["mb"] for g in got),
    }


def translate_rate(n: int = 100_000) -> float:
    sys.path.insert(0, str(REPO / "src"))
    from groupops.platforms.telegram.translate import Translator

    chat = {"id": -1001, "type": "supergroup", "title": "g"}
    updates = [
        {
            "update_id": i,
            "message": {
                "message_id": i,
                "date": 1_700_000_000 + i,
                "chat": chat,
                "from": {"id": 10 + i % 50, "is_bot": False, "first_name": "A"},
                "text": "hello https://example.com" if i % 5 == 0 else "hello",
            },
        }
        for i in range(n)
    ]
    t = Translator("telegram:bench")
    t0 = time.perf_counter()
    for u in updates:
        t.translate(u)
    return n / (time.perf_counter() - t0)


def delivery_seconds(groups: int, round_trip: float, chats_at_once: int) -> float:
    """Seconds from the first send to the last delivery of one message to each group."""
    import asyncio
    import tempfile

    sys.path.insert(0, str(REPO / "src"))
    sys.path.insert(0, str(REPO))
    from sqlalchemy import select
    from tests.platforms.telegram.fake_bot_api import FakeBotApi

    from groupops.domain.actions import Action, ActionKind
    from groupops.engine.app import App
    from groupops.engine.outbox import queue_actions
    from groupops.platforms.telegram import ConnectionStore, TelegramAdapter, TelegramConfig
    from groupops.platforms.telegram.config import identify
    from groupops.storage.tables import outbox

    token = "7000001:AAHbenchTOKENbenchTOKEN_abcdefghij012"
    chats = [-1001000000000 - i for i in range(groups)]

    async def go(app: App) -> float:
        fake = await FakeBotApi(token, round_trip=round_trip).start()
        for chat in chats:
            fake.add_chat(chat, f"Group {chat}")
        settings = await identify(TelegramConfig(token, base_url=fake.base_url, poll_timeout=0))
        store = ConnectionStore(app.db, settings.source)
        store.ensure(settings, app.clock.now())
        adapter = TelegramAdapter(settings, store=store, handle=app.handle, clock=app.clock)
        app.platforms.add(adapter)
        await adapter.connect()
        try:
            with app.db.begin() as conn:
                queue_actions(
                    conn,
                    [
                        (Action(ActionKind.SEND, settings.source, str(c), text="🏆 top 3"), None)
                        for c in chats
                    ],
                    workspace_id=1,
                    now=app.clock.now(),
                    feature="bench",
                    capabilities_of=app.platforms.capabilities,
                )
            app.deliverer.CHATS_AT_ONCE = chats_at_once
            t0 = time.perf_counter()
            while True:
                if not await app.deliver():
                    await asyncio.sleep(0.01)  # the bot's bucket refills
                with app.db.connect() as conn:
                    left = conn.execute(
                        select(outbox.c.id).where(outbox.c.status != "delivered").limit(1)
                    ).first()
                if left is None:
                    return time.perf_counter() - t0
        finally:
            await adapter.close()
            await fake.stop()

    with tempfile.TemporaryDirectory(prefix="groupops-bench-") as tmp:
        app = App.create(f"sqlite:///{tmp}/bench.db", features=(), extensions=False)
        try:
            return asyncio.run(go(app))
        finally:
            app.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--aiogram-python", default="", help="an interpreter with aiogram 3")
    ap.add_argument("--groups", type=int, default=60, help="delivery: groups, one message each")
    ap.add_argument("--round-trip", type=float, default=0.1, help="delivery: seconds an answer")
    args = ap.parse_args()
    rows = {
        "python-telegram-bot (telegram, telegram.request)": measure(
            sys.executable, "telegram,telegram.request", args.runs
        ),
        "groupops.platforms.telegram (adapter + PTB)": measure(
            sys.executable, "groupops.platforms.telegram", args.runs
        ),
    }
    if args.aiogram_python:
        rows["aiogram 3 (aiogram, aiohttp session)"] = measure(
            args.aiogram_python, "aiogram,aiogram.client.session.aiohttp", args.runs
        )
    base = rows["python-telegram-bot (telegram, telegram.request)"]
    print(f"{'import':52} {'seconds':>8} {'RSS MB':>8} {'x PTB':>6}")
    for name, r in rows.items():
        ratio = r["seconds"] / base["seconds"] if base["seconds"] else 0
        print(f"{name:52} {r['seconds']:8.3f} {r['mb']:8.1f} {ratio:6.1f}")
    print(f"translation: {translate_rate():,.0f} message updates/s")
    side = delivery_seconds(args.groups, args.round_trip, 16)
    one = delivery_seconds(args.groups, args.round_trip, 1)
    print(
        f"delivery of one message to each of {args.groups} groups, {args.round_trip * 1000:.0f} ms"
        f" a round trip: 16 groups at once {side:.2f} s ({args.groups / side:,.1f} messages/s);"
        f" one group at a time (baseline) {one:.2f} s ({args.groups / one:,.1f} messages/s);"
        f" {one / side:.1f}x"
    )


if __name__ == "__main__":
    main()
