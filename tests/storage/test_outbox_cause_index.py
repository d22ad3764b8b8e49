"""The bot's messages caused by a removed message are found through ix_outbox_cause (migration
0018), not by reading every outbox row of the chat (engine.withdraw)."""

from __future__ import annotations

from collections.abc import Callable

from groupops.engine.app import App
from groupops.engine.withdraw import _CAUSED


def test_the_messages_an_event_caused_are_read_through_their_index(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=())
    if app.db.dialect.name != "sqlite":
        return  # the plan is SQLite's (PostgreSQL's planner chooses by its statistics)
    query = _CAUSED.params(src="sandbox", chat="g1", seqs=[7, 9])
    sql = query.compile(app.db, compile_kwargs={"literal_binds": True})
    with app.db.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    details = "\n".join(str(row[-1]) for row in plan)
    assert "ix_outbox_cause" in details, details
