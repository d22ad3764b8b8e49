"""The connections of all platforms, as an operator sees them (never with their secrets)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine, select, update

from groupops.domain.errors import Conflict, GroupopsError, InvalidOption, NotFound
from groupops.engine.directory import Directory
from groupops.i18n import N_
from groupops.storage.tables import connections, workspaces

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from groupops.web.runtime import Companion


_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
DEFAULT_WORKSPACE = "default"


def check_workspace(slug: str) -> str:
    """A workspace slug as ``--workspace`` takes it: letters, digits, ``_ . -``."""
    if not _SLUG.match(slug):
        raise InvalidOption(
            N_(
                "{slug!r} is not a workspace slug: use letters, digits, _ . or - (e.g."
                " brand-a), at most 100"
            ),
            where="--workspace",
            slug=slug,
        )
    return slug


def refuse_move(db: Engine, source: str, workspace: str | None) -> None:
    """A connection stays in the workspace it was made in (its groups and members belong
    there): another ``workspace`` for an existing one is refused, naming where it is."""
    if workspace is None:
        return
    check_workspace(workspace)
    with db.connect() as conn:
        _refuse_move(conn, source, workspace)


def _refuse_move(conn: Connection, source: str, workspace: str | None) -> str | None:
    current = conn.execute(
        select(workspaces.c.slug)
        .join(connections, connections.c.workspace_id == workspaces.c.id)
        .where(connections.c.id == source)
    ).scalar()
    if current is not None and workspace is not None and workspace != current:
        raise Conflict(
            N_(
                "{source} is connected in workspace {current}, not {wanted}: its groups and"
                " members belong there (leave out --workspace, or give --workspace {current})"
            ),
            where="--workspace",
            source=source,
            current=current,
            wanted=workspace,
        )
    return None if current is None else str(current)


#: the connection settings a new group of the connection starts with (see Directory.group)
GROUP_DEFAULTS = ("group_language", "group_timezone")


def store_connection(
    db: Engine,
    source: str,
    platform: str,
    config: dict[str, Any],
    now: datetime,
    workspace: str | None = None,
    keep: Collection[str] = (),
) -> str:
    """Create the connection's row in ``workspace`` (``default`` if None) or update its
    settings (the state is kept); the slug of its workspace. Another ``workspace`` for an
    existing connection is refused (:func:`refuse_move`). ``keep`` names the settings the
    operator did not give on this connect: a stored value of theirs stays (``config`` holds
    the defaults, which only a new connection starts with)."""
    if workspace is not None:
        check_workspace(workspace)
    with db.begin() as conn:
        current = _refuse_move(conn, source, workspace)
        if current is None:
            current = workspace or DEFAULT_WORKSPACE
            Directory(default_workspace=current).source_workspace(conn, source, now)
        stored = conn.execute(
            select(connections.c.config).where(connections.c.id == source)
        ).scalar()
        config = {**config}
        for key in GROUP_DEFAULTS:  # not given again: what was stored stays
            if not config.get(key) and isinstance(stored, dict) and stored.get(key):
                config[key] = stored[key]
        for key in keep:
            if isinstance(stored, dict) and key in stored:
                config[key] = stored[key]
        conn.execute(
            update(connections)
            .where(connections.c.id == source)
            .values(platform=platform, config=config)
        )
    return current


class Settings(Protocol):
    """A live connection's settings (TelegramConfig, MatrixConfig)."""

    def to_json(self) -> dict[str, Any]: ...


ConfigT = TypeVar("ConfigT", bound=Settings)


class ConnectionStore(Generic[ConfigT]):
    """A live connection's row: its settings (with secrets, read with ``parse``) and its state
    (the stream position, and what the adapter keeps: who started a Telegram bot, the mutes
    to lift and the DM rooms of a Matrix one, its health). Each platform names its own
    (``telegram.ConnectionStore``, ``matrix.ConnectionStore``)."""

    def __init__(
        self,
        db: Engine,
        source: str,
        *,
        platform: str,
        parse: Callable[[Mapping[str, Any]], ConfigT],
    ) -> None:
        self.db = db
        self.source = source
        self.platform = platform
        self.parse = parse

    def ensure(
        self,
        config: ConfigT,
        now: datetime,
        workspace: str | None = None,
        keep: Collection[str] = (),
    ) -> str:
        """Create the row (in ``workspace``, ``default`` if None) or update its settings; the
        state is kept, and so are the stored settings named in ``keep`` (not given again).
        The slug of the connection's workspace; another one is refused."""
        return store_connection(
            self.db, self.source, self.platform, config.to_json(), now, workspace, keep
        )

    def load(self) -> tuple[ConfigT, dict[str, Any]]:
        """The settings and the state; NotFound if the connection is gone."""
        with self.db.connect() as conn:
            row = conn.execute(
                select(connections.c.config, connections.c.state).where(
                    connections.c.id == self.source
                )
            ).first()
        if row is None:
            raise NotFound(
                N_("no connection {source!r}"), where=N_("connections"), source=self.source
            )
        return self.parse(row.config or {}), dict(row.state or {})

    def state(self) -> dict[str, Any]:
        return self.load()[1]

    def save_state(self, state: Mapping[str, Any]) -> None:
        with self.db.begin() as conn:
            conn.execute(
                update(connections).where(connections.c.id == self.source).values(state=dict(state))
            )

    def save_config(self, config: ConfigT) -> None:
        with self.db.begin() as conn:
            conn.execute(
                update(connections)
                .where(connections.c.id == self.source)
                .values(config=config.to_json())
            )


def workspace_of(db: Engine, source: str) -> str:
    with db.connect() as conn:
        return str(
            conn.execute(
                select(workspaces.c.slug)
                .join(connections, connections.c.workspace_id == workspaces.c.id)
                .where(connections.c.id == source)
            ).scalar()
        )


def receiving(platform: str, config: dict[str, Any]) -> str:
    """How the connection receives: ``polling`` or ``webhook`` (Telegram), ``sync`` (Matrix)."""
    if platform == "telegram":
        return str(config.get("mode") or "polling")
    if platform == "matrix":
        return "sync"
    return ""


def health_of(config: dict[str, Any], state: dict[str, Any]) -> tuple[str, str, str]:
    """(status, since, last error): ``disabled``; ``ok`` or ``failing`` as the running serve
    last stored it; ``""`` for a connection serve never ran."""
    if config.get("enabled") is False:
        return "disabled", "", ""
    health = state.get("health") or {}
    return (
        str(health.get("status") or ""),
        str(health.get("since") or ""),
        str(health.get("error") or ""),
    )


def list_connections(db: Engine) -> list[dict[str, Any]]:
    """Every connection, without its secrets: how it receives (polling, webhook, sync), its
    health as the running serve last stored it, and whether it is synced (it has a stored
    position in the platform's stream: a restart continues from there)."""
    with db.connect() as conn:
        rows = conn.execute(
            select(
                connections.c.id,
                connections.c.platform,
                connections.c.created_at,
                connections.c.config,
                connections.c.state,
                workspaces.c.slug,
            )
            .join(workspaces, workspaces.c.id == connections.c.workspace_id)
            .order_by(connections.c.id)
        ).all()
    found = []
    for r in rows:
        config, state = dict(r.config or {}), dict(r.state or {})
        status, since, error = health_of(config, state)
        found.append(
            {
                "id": r.id,
                "platform": r.platform,
                "workspace": r.slug,
                "created_at": r.created_at,
                "receives": receiving(r.platform, config),
                "health": status,
                "health_since": since,
                "last_error": error,
                "synced": bool(state.get("next_batch") or state.get("offset")),
                "may_add": may_add(r.platform, config),
                "refused": refusals(state),
            }
        )
    return found


def may_add(platform: str, config: dict[str, Any]) -> list[str]:
    """Who may bring the bot into a group: Telegram's ``added_by``, Matrix's ``invited_by``
    (empty: anyone)."""
    key = {"telegram": "added_by", "matrix": "invited_by"}.get(platform, "")
    return [str(v) for v in config.get(key) or ()] if key else []


#: why a chat was turned away (``refusals``' ``why``): brought in by someone not on the
#: connection's list (Telegram's ``added_by``, Matrix's ``invited_by``), an invitation to a
#: group past the connection's ``max_groups``, or to a private chat past its
#: ``max_private_chats`` (Matrix; the record's ``why``)
NOT_ON_LIST, TOO_MANY_GROUPS = "not on the list", "too many groups"
TOO_MANY_PRIVATE_CHATS = "too many private chats"
#: the ``why`` a record may say
WHYS = (NOT_ON_LIST, TOO_MANY_GROUPS, TOO_MANY_PRIVATE_CHATS)


def why_of(record: Mapping[str, Any]) -> str:
    """Why a refused record (or row of :func:`refusals`) was turned away: its ``why`` when
    one of ``WHYS``, else ``NOT_ON_LIST`` (a record kept before the why was said, Telegram's)."""
    why = record.get("why")
    return str(why) if why in WHYS else NOT_ON_LIST


def is_direct(record: Mapping[str, Any]) -> bool:
    """Whether a refused record (or row of :func:`refusals`) is a private chat's (Matrix: an
    invitation marked ``is_direct``), not a group's."""
    return record.get("direct") is True or record.get("why") == TOO_MANY_PRIVATE_CHATS


def refusals(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The chats the bot was brought into and turned away, latest first: the chat, its
    title, who (id and name), when, why (one of ``WHYS``), whether it was a private chat
    (``direct``), and whether the bot is out (``left``; else the last error)."""
    refused = state.get("refused") or {}
    if not isinstance(refused, dict):
        return []
    rows = [
        {
            "chat_id": str(chat_id),
            "title": str(r.get("title") or ""),
            "by": str(r.get("by") or ""),
            "by_name": str(r.get("by_name") or ""),
            "at": str(r.get("at") or ""),
            "why": why_of(r),
            "direct": is_direct(r),
            "left": bool(r.get("left")),
            "error": str(r.get("error") or ""),
        }
        for chat_id, r in refused.items()
        if isinstance(r, dict)
    ]
    return sorted(rows, key=lambda r: r["at"], reverse=True)


LIVE_PLATFORMS = ("telegram", "matrix")


def set_enabled(db: Engine, source: str, enabled: bool) -> bool:
    """Turn a Telegram or Matrix connection on or off (``enabled`` in its settings); a running
    serve stops or starts it within seconds. False if it already was so."""
    with db.begin() as conn:
        row = conn.execute(
            select(connections.c.platform, connections.c.config).where(connections.c.id == source)
        ).first()
        if row is None:
            raise NotFound(
                N_("no connection {source!r} (see groupops connections)"),
                where=N_("connections"),
                source=source,
            )
        if row.platform not in LIVE_PLATFORMS:
            raise InvalidOption(
                N_("{source} is not a Telegram or Matrix connection: it cannot be turned off"),
                where=N_("connections"),
                source=source,
            )
        config = dict(row.config or {})
        if config.get("enabled", True) is enabled:
            return False
        config["enabled"] = enabled
        conn.execute(update(connections).where(connections.c.id == source).values(config=config))
    return True


def live_companions(db: Engine) -> list[Companion]:
    """What ``groupops serve`` runs beside the sandbox: one companion per stored connection of
    a platform that has a live adapter (Matrix, Telegram; each platform adds its own)."""
    from groupops.platforms import matrix, telegram

    with db.connect() as conn:
        rows = conn.execute(
            select(connections.c.id, connections.c.platform).order_by(connections.c.id)
        ).all()
    found: list[Companion] = []
    for r in rows:
        if r.platform == matrix.config.PLATFORM and r.id.startswith("matrix:"):
            try:
                matrix.ConnectionStore(db, r.id).load()
            except GroupopsError as exc:  # a half-made connection must not stop the server
                log.error("connection %s is not usable: %s", r.id, exc.message)
                continue
            found.append(matrix.companion(r.id))
        elif r.platform == telegram.PLATFORM and r.id.startswith("telegram:"):
            try:
                telegram.ConnectionStore(db, r.id).load()
            except GroupopsError as exc:
                log.error("connection %s is not usable: %s", r.id, exc.message)
                continue
            found.append(telegram.companion(r.id))
    return found
