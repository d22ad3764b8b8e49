"""Whether the bot can reach the people ``notify.to`` names, as far as groupops knows before
writing to them: on Telegram a bot may write only to a person who has started it (opened a
chat with the bot and pressed Start; the connection keeps who has, ``started`` in its state).
``groupops settings set notify.to`` says so at once, rather than the operator finding the
messages among the dead letters later."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from groupops.features.notify.settings import NotifySettings
from groupops.i18n import N_
from groupops.storage.tables import connections, groups, workspaces

NOT_STARTED = N_(
    "Note: {bot} cannot write to {user} yet: on Telegram a bot may write only to people who"
    " have started it. {user} opens a chat with {bot} and presses Start (the bot is told,"
    " and writes from then on)."
)


def not_started(
    db: Engine, to: Sequence[str], *, group: int | None = None, workspace: str = "default"
) -> list[tuple[str, str]]:
    """The (Telegram connection, user id) pairs of the people ``to`` names that the
    connection cannot write to yet: the connections of ``group`` (its own only) or else of
    ``workspace`` (all its Telegram ones)."""
    c = connections.c
    with db.connect() as conn:
        if group is not None:
            source = conn.execute(select(groups.c.source).where(groups.c.id == group)).scalar()
            found = conn.execute(
                select(c.id, c.state).where(c.id == source, c.platform == "telegram")
            ).all()
        else:
            found = conn.execute(
                select(c.id, c.state)
                .join(workspaces, workspaces.c.id == c.workspace_id)
                .where(workspaces.c.slug == workspace, c.platform == "telegram")
                .order_by(c.id)
            ).all()
        conn.rollback()
    settings = NotifySettings(to=list(to))
    out: list[tuple[str, str]] = []
    for source, state in found:
        started = {str(u) for u in (state or {}).get("started", ())}
        out.extend(
            (str(source), user) for user in settings.recipients(str(source)) if user not in started
        )
    return out


def bot_name(source: str) -> str:
    """How a person finds the bot of Telegram connection ``source``: ``@its_username``."""
    return "@" + source.partition(":")[2]
