"""An event the engine cannot take is set aside in ``rejected_events`` as JSON with the reason
(QA code review finding 15: the App stored a Python repr that could not be read back)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.engine.core import BatchResult
from groupops.storage.tables import events, rejected_events
from tests.conftest import T0


def _msg(n: int, text: str) -> Event:
    return Event(
        "sandbox",
        f"e{n}",
        EventKind.MESSAGE,
        T0 + timedelta(seconds=n),
        chat_id="g1",
        user_id="u1",
        user_name="U1",
        message_id=str(n),
        text=text,
    )


def test_the_app_keeps_a_refused_event_as_json_with_the_reason(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(features=())
    handle = app.engine.handle

    def refusing(batch: Sequence[Event]) -> BatchResult:
        if any(e.text == "毒 poison" for e in batch):
            raise ValueError("cannot store this one")
        return handle(batch)

    monkeypatch.setattr(app.engine, "handle", refusing)

    async def go() -> None:
        await app.start(tick_every=3600)
        try:
            await asyncio.gather(
                app.commit(_msg(1, "before")),
                app.commit(_msg(2, "毒 poison")),
                app.commit(_msg(3, "after")),
            )
        finally:
            await app.stop()

    asyncio.run(go())
    with app.db.connect() as conn:
        kept = conn.execute(select(rejected_events)).all()
        stored = conn.execute(select(events.c.text).where(events.c.source == "sandbox")).all()
    assert sorted(r.text for r in stored) == ["after", "before"]
    assert len(kept) == 1
    raw = json.loads(kept[0].raw)
    assert raw["event_id"] == "e2" and raw["text"] == "毒 poison"
    assert kept[0].source == "sandbox"
    assert kept[0].error == "ValueError: cannot store this one"
