"""``groupops health``: every live group's life cycle and early warning in one list, the
groups needing the operator first — the same judgement as ``analyze --group`` gives each,
from the group's last twelve weeks of events and three times from before them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from groupops.domain.events import Event
from groupops.engine.app import App
from groupops.report.health import group_health, lifecycle_of
from groupops.report.pipeline import analyze_group
from tests.analytics.helpers import T0, days, joined, left, msg

NOW = T0 + days(400)


def _in(chat: str, events: list[Event]) -> list[Event]:
    return [dataclasses.replace(e, chat_id=chat) for e in events]


def _daily(users: list[str], first: float, last: float, every: float = 1.0) -> list[Event]:
    """Messages of ``users`` from ``first`` to ``last`` days before NOW, one each per
    ``every`` days."""
    out = []
    k = first
    while k >= last:
        out += [msg(u, NOW - days(k) + days(0.01 * i), f"day {k}") for i, u in enumerate(users)]
        k -= every
    return out


#: histories whose answers differ when the weeks before the window are not accounted for
SHAPES: dict[str, list[Event]] = {
    # every day for 200 days: mature
    "steady": [
        joined("a", NOW - days(201)),
        joined("b", NOW - days(201)),
        *_daily(["a", "b"], 200, 0.5),
    ],
    # busy 300-200 days ago, silent, back in the last ten days: old, so growing, not new
    "revived": [
        joined("c", NOW - days(301)),
        *_daily(["c"], 300, 200),
        *_daily(["c", "d"], 10, 0.5),
    ],
    # nothing for 200 days: dead, and since when
    "gone quiet": [joined("e", NOW - days(260)), *_daily(["e", "f"], 250, 200)],
    # half a year ago one message, then daily for the last three weeks: the warning's trend
    # is read over weeks counted from the first message
    "sparse start": [msg("g", NOW - days(180)), *_daily(["g", "h"], 21, 0.5)],
    # busy, then a few a week: declining (and warned)
    "fading": [joined(u, NOW - days(90)) for u in "ijkl"]
    + _daily(["i", "j", "k", "l"], 84, 28)
    + _daily(["i"], 27, 1, every=4),
    # ten days old
    "new": [joined("m", NOW - days(10)), joined("n", NOW - days(9)), *_daily(["m", "n"], 9, 1)],
    # one left, the other still talks
    "with a departure": [
        joined("o", NOW - days(120)),
        joined("p", NOW - days(120)),
        *_daily(["o", "p"], 119, 30),
        left("p", NOW - days(29)),
        *_daily(["o"], 28, 0.5),
    ],
}


@pytest.fixture
def live(make_app: Callable[..., App], db: Engine) -> dict[str, int]:
    """The shapes as live groups of one workspace: their ids by name."""
    app = make_app(features=(), start=T0)
    for i, (_name, events) in enumerate(SHAPES.items()):
        app.handle(_in(f"chat-{i}", events))
    app.close()
    from sqlalchemy import select

    from groupops.storage.tables import groups

    with db.connect() as conn:
        ids = {r.chat_id: int(r.id) for r in conn.execute(select(groups.c.id, groups.c.chat_id))}
    return {name: ids[f"chat-{i}"] for i, name in enumerate(SHAPES)}


def test_the_judgement_is_the_whole_historys(db: Engine, live: dict[str, int]) -> None:
    """For every shape, the stage, its evidence, the figures and the warning are exactly those
    of the full analysis (``analyze --group``) as of the same moment."""
    from groupops.engine.admin import find_group

    for name, gid in live.items():
        whole = analyze_group(db, str(gid), now=NOW).metrics["lifecycle"]
        with db.connect() as conn:
            zone = find_group(db, str(gid)).timezone
            windowed = lifecycle_of(conn, gid, zone, NOW)
        assert windowed == whole, name
    stages = {name: row["stage"] for name, row in _by_name(db, live).items()}
    assert stages == {
        "steady": "mature",
        "revived": "growing",
        "gone quiet": "dead",
        "sparse start": "growing",
        "fading": "declining",
        "new": "new",
        "with a departure": "declining",  # half the messages: one of two left
    }


def _by_name(db: Engine, live: dict[str, int]) -> dict[str, dict[str, Any]]:
    rows = {r["id"]: r for r in group_health(db, now=NOW)}
    return {name: rows[gid] for name, gid in live.items()}


def test_the_groups_needing_the_operator_come_first(db: Engine, live: dict[str, int]) -> None:
    rows = group_health(db, now=NOW)
    names = {gid: name for name, gid in live.items()}
    order = [names[r["id"]] for r in rows]
    warned = [names[r["id"]] for r in rows if r["warning"]["active"]]
    assert warned and order[: len(warned)] == warned  # an early warning first
    rest = [r["stage"] for r in rows[len(warned) :]]
    rank = {"declining": 1, "dead": 2, "new": 3, "mature": 3, "growing": 4}
    assert [rank[s] for s in rest] == sorted(rank[s] for s in rest)
    assert order.index("gone quiet") > order.index("fading")
    assert rows[-1]["stage"] == "growing"
    # one group only
    (one,) = group_health(db, now=NOW, only=[live["new"]])
    assert one["id"] == live["new"] and one["stage"] == "new"


def test_health_command(cli: Any, database_url: str, live: dict[str, int]) -> None:
    """The command: the table in English and Chinese, --json with every figure, --concerns,
    one group, and an unknown group refused in one line. Its "now" is the present: every
    shape is far in the past then, so all are dead but the list is still whole."""
    runner = CliRunner()
    args = ["health", "--database-url", database_url]
    run = runner.invoke(cli, [*args, "--json"])
    assert run.exit_code == 0, run.output
    rows = json.loads(run.output)
    assert {r["id"] for r in rows} == set(live.values())
    assert all(r["stage"] == "dead" for r in rows)  # years later: nothing since
    assert {"messages_last_28d", "active_prev_28d", "evidence", "rule"} <= set(rows[0])
    table = runner.invoke(cli, [*args, "--lang", "en"])
    assert table.exit_code == 0 and "groups' health as of" in table.output
    quiet = f"{rows[0]['days_since_last_message']:g}"  # days since the last message
    assert "dead" in table.output and quiet in table.output
    zh = runner.invoke(cli, [*args, "--lang", "zh_CN"])
    assert zh.exit_code == 0, zh.output
    for said in ("群健康", "阶段", "沉寂", "预警", "无"):
        assert said in zh.output, said
    only = runner.invoke(cli, [*args, "--json", "--group", str(live["new"])])
    assert [r["id"] for r in json.loads(only.output)] == [live["new"]]
    concerns = runner.invoke(cli, [*args, "--json", "--concerns"])
    assert len(json.loads(concerns.output)) == len(live)  # the dead are concerns
    missing = runner.invoke(cli, [*args, "--group", "99"])
    assert missing.exit_code == 2 and "no group '99'" in missing.output


def test_all_well_is_said(cli: Any, database_url: str, make_app: Callable[..., App]) -> None:
    """--concerns with nothing to worry about: one sentence, not an empty table."""
    now = datetime.now(NOW.tzinfo)
    app = make_app(features=(), start=now - days(60))
    app.handle(
        _in(
            "busy",
            [joined("q", now - days(60)), joined("r", now - days(60))]
            + [
                msg(u, now - days(k) + days(0.01 * i), "hi")
                for k in range(59, 0, -1)
                for i, u in enumerate("qr")
            ],
        )
    )
    app.close()
    run = CliRunner().invoke(
        cli, ["health", "--database-url", database_url, "--concerns", "--lang", "en"]
    )
    assert run.exit_code == 0 and "No group has an early warning" in run.output, run.output


def test_a_database_ahead_of_the_clock_is_judged_as_of_its_latest_event(
    cli: Any, database_url: str, make_app: Callable[..., App]
) -> None:
    """The demo's simulated days and ``serve --movable-clock`` store events after the present:
    judged at the present, the group's last message was a negative number of days ago.
    ``health`` judges such a database as of its latest event (and says so in its title)."""
    ahead = datetime.now(NOW.tzinfo) + days(20)
    app = make_app(features=(), start=ahead - days(30))
    app.handle(
        _in(
            "demo",
            [joined("s", ahead - days(30))]
            + [msg("s", ahead - days(k), "hi") for k in range(29, 1, -1)],
        )
    )
    app.close()
    args = ["health", "--database-url", database_url]
    run = CliRunner().invoke(cli, [*args, "--json"])
    assert run.exit_code == 0, run.output
    (row,) = json.loads(run.output)
    assert row["days_since_last_message"] == 0  # judged at the present: -18
    table = CliRunner().invoke(cli, [*args, "--lang", "en"])
    assert (ahead - days(2)).strftime("as of %Y-%m-%d") in table.output, table.output


def test_imported_history_is_listed_last_and_is_no_concern(
    cli: Any, database_url: str, live: dict[str, int], make_app: Callable[..., App], tmp_path: Path
) -> None:
    """A group of `groupops import` is judged and listed like the others, marked as imported
    history and after the groups the bot runs; never among --concerns (the health alerts tell
    nothing about it either): it is over, nothing can be done there."""
    from groupops.importers.store import import_file

    export = tmp_path / "WhatsApp Chat with Runners.txt"
    export.write_text("1/5/23, 10:03 - Bob: hello\n1/5/23, 10:04 - Ann: hi\n", encoding="utf-8")
    app = make_app(features=())
    import_file(app.engine, export)
    app.close()
    runner = CliRunner()
    args = ["health", "--database-url", database_url]
    rows = json.loads(runner.invoke(cli, [*args, "--json"]).output)
    assert [r["imported"] for r in rows] == [False] * len(live) + [True]
    imported = rows[-1]
    assert imported["stage"] == "dead" and imported["title"] == "Runners"
    table = runner.invoke(cli, [*args, "--lang", "en"])
    last = table.output.split(f"│ {imported['id']} ")[1]  # its title cell wraps in 80 columns
    assert "Runners (imported" in last and "history)" in last, table.output
    concerns = json.loads(runner.invoke(cli, [*args, "--json", "--concerns"]).output)
    assert {r["id"] for r in concerns} == set(live.values())  # dead, all but the import


def test_a_group_the_bot_left_is_listed_last_and_is_no_concern(
    cli: Any, database_url: str, live: dict[str, int], make_app: Callable[..., App]
) -> None:
    """A group the bot left (or was removed from) is still judged and listed, marked so and
    after the groups the bot runs, but never among --concerns: nothing can be done there
    through the bot (its own owner task asks to add the bot back; the health alerts skip it)."""
    from groupops.domain.events import EventKind

    fading = list(SHAPES).index("fading")
    app = make_app(features=())
    app.handle(
        [
            Event(
                "test",
                "bot-out",
                EventKind.BOT_RIGHTS_CHANGED,
                NOW,
                chat_id=f"chat-{fading}",
                user_id="admin",
                data={"status": "kicked", "in_chat": False},
            )
        ]
    )
    app.close()
    args = ["health", "--database-url", database_url]
    rows = json.loads(CliRunner().invoke(cli, [*args, "--json"]).output)
    assert [r["bot_left"] for r in rows] == [False] * (len(live) - 1) + [True]
    assert rows[-1]["id"] == live["fading"]
    concerns = json.loads(CliRunner().invoke(cli, [*args, "--json", "--concerns"]).output)
    assert live["fading"] not in {r["id"] for r in concerns}
    assert len(concerns) == len(live) - 1  # the others: dead, so concerns
    zh = CliRunner().invoke(cli, [*args, "--lang", "zh_CN"]).output
    assert "（机器人已离开）" in zh
