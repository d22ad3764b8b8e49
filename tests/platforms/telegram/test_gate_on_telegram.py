"""The join gate on Telegram, end to end through the adapter, the engine and the deliverer:
a newcomer is muted and gets the question with inline buttons; pressing the right one comes
back as a button event, and the gate lifts the mute (the buttons convention both sides share)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.settings_admin import set_setting
from groupops.features.gate.tables import gate_challenges
from tests.platforms.telegram.conftest import GROUP, run, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

ALICE = FakeBotApi.person(501, "Alice")


def test_newcomer_muted_answers_with_a_button_and_is_let_in(make_app: Callable[..., App]) -> None:
    app = make_app(features=("groupops.features.gate:GateFeature",))
    clock = app.clock
    assert isinstance(clock, ManualClock)
    app.deliverer.monotonic = lambda: clock.now().timestamp()

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            set_setting(app.db, app.registry, feature="gate", key="enabled", value=True)
            fake.join(GROUP, ALICE)
            await adapter.poll_once()
            await app.deliver()
            assert fake.members[(GROUP, 501)]["status"] == "restricted"
            prompt = fake.sent(GROUP)[-1]
            rows = prompt["reply_markup"]["inline_keyboard"]
            with app.db.connect() as conn:
                answer = conn.execute(select(gate_challenges.c.answer)).scalar_one()
            right = rows[answer - 1][0]["callback_data"]
            fake.press(GROUP, ALICE, prompt["message_id"], right)
            await adapter.poll_once()
            clock.advance(timedelta(seconds=4))  # the group's send limit: 2 at once, then 18/min
            await app.deliver()
            assert fake.answered  # the button's spinner was stopped
            assert fake.members[(GROUP, 501)]["status"] == "member"  # unmuted
            assert fake.members[(GROUP, 501)]["permissions"]["can_send_messages"] is True
            with app.db.connect() as conn:
                status = conn.execute(select(gate_challenges.c.status)).scalar_one()
            assert status == "passed"

    run(go())
