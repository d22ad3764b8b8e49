"""The Telegram adapter's cost: import time and memory in fresh interpreters (median of
``--runs``), for the adapter as shipped (python-telegram-bot) and, when given an interpreter that
has it, for aiogram 3 (the other candidate); and how fast updates are translated.

    .venv/bin/python bench/telegram_adapter.py [--runs 5] [--aiogram-python /tmp/venv/bin/python]

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--aiogram-python", default="", help="an interpreter with aiogram 3")
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


if __name__ == "__main__":
    main()
