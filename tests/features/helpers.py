"""A feature's test group on the sandbox platform, and what the bot queued for it.

Each feature's tests build the same thing: an App running a few features on the test database
(ManualClock), sandbox chats with an admin and some members, the feature's settings for those
groups, the groups' language and zone, and an empty outbox to start from. ``feature_app`` is
that; a test file keeps its own ``setup`` for what differs (its features, chats, defaults).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, select

from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.features.registry import FeatureRegistry
from groupops.platforms.sandbox import SandboxAdapter
from groupops.platforms.sandbox.adapter import SANDBOX_CAPABILITIES
from groupops.storage.tables import groups, identities, outbox

#: the members who join the first chat after its admin (user id, name)
PEOPLE = (("u1", "Ann"), ("u2", "Bob"), ("u3", "Chen"))


def feature_app(
    make_app: Callable[..., App],
    features: tuple[str, ...],
    chats: Mapping[str, str],
    *,
    feature: str = "",
    settings: Mapping[str, Any] | None = None,
    people: Sequence[tuple[str, str]] = PEOPLE,
    language: str = "en",
    timezone: str | None = None,
    buttons: bool = True,
) -> App:
    """An App running ``features``, with ``chats`` (chat id: title) on the sandbox, in that
    order groups 1, 2, … of the engine, each joined by its admin ("admin"); ``people`` join
    the first one. Every group gets ``feature``'s ``settings``, ``language`` and ``timezone``
    (None: the default zone). The outbox is empty when it is returned. ``buttons=False``: a
    platform like Matrix, with no buttons under messages."""
    app = make_app(features=features)
    if not buttons:
        caps = replace(SANDBOX_CAPABILITIES, buttons=False)
        app.platforms.add(SandboxAdapter(app.db, app.clock, capabilities=caps))
    for chat, title in chats.items():
        app.sandbox.create_chat(chat, title)
    for chat in chats:
        app.handle([app.sandbox.join(chat, "admin", "Admin", is_admin=True)])
    first = next(iter(chats))
    for uid, name in people:
        app.handle([app.sandbox.join(first, uid, name)])
    registry = FeatureRegistry.load(features, extensions=False)
    for n in range(1, len(chats) + 1):
        ref = str(n)
        settings_admin.set_group_profile(app.db, ref, language=language, timezone=timezone)
        for key, value in (settings or {}).items():
            settings_admin.set_setting(
                app.db, registry, feature=feature, key=key, value=value, group_ref=ref
            )
    app.engine.directory.invalidate()
    clear(app)
    return app


def clear(app: App) -> None:
    """Forget what the bot queued so far (nothing is delivered)."""
    with app.db.begin() as conn:
        conn.execute(outbox.delete())


def said(app: App) -> list[str]:
    """The texts the bot queued since the last look, in order; the outbox is emptied."""
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    clear(app)
    return [r.payload["text"] for r in rows if r.payload.get("text")]


def clock(app: App) -> ManualClock:
    """The App's ManualClock (``make_app`` gives every App one)."""
    assert isinstance(app.clock, ManualClock)
    return app.clock


def group_and_member(conn: Connection, chat: str, user: str) -> tuple[int, int]:
    """The id of the group of ``chat`` and of the member of ``user``."""
    gid = conn.execute(select(groups.c.id).where(groups.c.chat_id == chat)).scalar_one()
    mid = conn.execute(
        select(identities.c.member_id).where(identities.c.user_id == user)
    ).scalar_one()
    return int(gid), int(mid)
