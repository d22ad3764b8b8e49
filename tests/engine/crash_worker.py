"""A bot process for the crash test: feeds N events in batches and delivers after each.

Run twice (or killed and run again) with the same arguments, it re-feeds every event from the
start, as a platform re-delivers what was not acknowledged.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from tests.conftest import T0

FEATURES = ("groupops.features.welcome:WelcomeFeature", "tests.engine.fakes:EchoFeature")


def scripted_events(n: int) -> list[Event]:
    out = []
    for i in range(n):
        at = T0 + timedelta(seconds=10 * i)  # joins 100 s apart: no welcome burst
        chat = f"c{i % 2}"
        if i % 10 == 0:
            out.append(
                Event(
                    "sandbox",
                    f"j{i}",
                    EventKind.MEMBER_JOINED,
                    at,
                    chat_id=chat,
                    user_id=f"u{i}",
                    user_name=f"User {i}",
                )
            )
        else:
            out.append(
                Event(
                    "sandbox",
                    f"m{i}",
                    EventKind.MESSAGE,
                    at,
                    chat_id=chat,
                    user_id=f"u{i - i % 10}",
                    message_id=str(i),
                    text=f"message {i}",
                )
            )
    return out


def main(url: str, n: int, batch: int) -> None:
    app = App.create(url, features=FEATURES, extensions=False)
    for chat in ("c0", "c1"):
        app.sandbox.create_chat(chat, chat)
    app.deliverer.recover()
    evs = scripted_events(n)
    for start in range(0, n, batch):
        result = app.handle(evs[start : start + batch])
        asyncio.run(app.deliver())
        print(f"batch {start // batch} stored {result.stored}", flush=True)
    while asyncio.run(app.deliver()):
        pass
    print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
