"""Forgetting a person on the sandbox: it is groupops' own stand-in for a platform's servers,
so the messages it keeps by or about someone forgotten go too (a real platform keeps its own
copies)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, and_, delete, false, or_, select

from groupops.engine.outbox import aimed_at
from groupops.platforms.sandbox.adapter import BOT_ID
from groupops.platforms.sandbox.tables import sandbox_deliveries, sandbox_messages

_CHUNK = 500


def forget_person(
    conn: Connection,
    people: Collection[tuple[str, str]],
    delivery_keys: Collection[str] = (),
) -> int:
    """Delete, in ``conn``'s transaction, what the sandbox keeps by or about ``people``
    (``(source, user_id)`` pairs, one person's identities): every line they wrote (their joins
    and departures too), the bot's private messages to them, the platform's notices about them
    ("u1 muted"), and the bot's lines its deliveries posted for an action aimed at them or one
    of ``delivery_keys`` (the idempotency keys of the actions forget removed: those answering
    them), with those deliveries. Lines said to others that only mention them by name stay, as
    other people's messages do, and so does the person's account in the chats (name, status),
    as on a real platform: if they write again, they come back as a new member. Returns the
    lines deleted. Line ids are never handed out again (AUTOINCREMENT), so no event id is
    reused."""
    if not people and not delivery_keys:
        return 0
    d, m = sandbox_deliveries.c, sandbox_messages.c
    keys = list(delivery_keys)
    theirs = or_(
        aimed_at(d.action, d.source, people),
        *(d.key.in_(keys[i : i + _CHUNK]) for i in range(0, len(keys), _CHUNK)),
    )
    posted = [
        int(mid)
        for result in conn.execute(select(d.result).where(theirs)).scalars()
        if (mid := str((result or {}).get("platform_message_id", ""))).isdigit()
    ]
    conn.execute(delete(sandbox_deliveries).where(theirs))
    by_them = [and_(m.source == src, m.user_id == uid) for src, uid in people]
    to_them = [and_(m.source == src, m.to_user_id == uid) for src, uid in people]
    notices = [
        and_(m.source == src, m.kind == "system", m.text.startswith(f"{uid} ", autoescape=True))
        for src, uid in people
    ]
    lines = int(
        conn.execute(
            delete(sandbox_messages).where(
                or_(false(), *by_them, *to_them, and_(m.user_id == BOT_ID, or_(false(), *notices)))
            )
        ).rowcount
        or 0
    )
    for start in range(0, len(posted), _CHUNK):
        lines += int(
            conn.execute(
                delete(sandbox_messages).where(m.id.in_(posted[start : start + _CHUNK]))
            ).rowcount
            or 0
        )
    return lines
