"""The Matrix adapter: a sync loop in, actions out, through matrix-nio (no end-to-end
encryption: the bot works in unencrypted rooms).

In: each ``/sync`` is translated (:mod:`.translate`) and handed to the engine in one batch; only
after that batch is committed is the sync position (``next_batch``) stored in
``connections.state``, so a restart replays nothing (and the engine's idempotent store makes a
replay harmless anyway: event_id = Matrix event id) and loses nothing (a timeline the homeserver
cut short is filled from ``/messages`` back to the stored position).

Out: :meth:`MatrixAdapter.perform` does one action. Sends and redactions carry a transaction id
derived from the outbox's idempotency key, so a retry after a time-out is not sent twice.
Matrix has no buttons, no invite links and no "restrict until": a mute lowers the member's power
level below what sending a message needs, and a mute with an end is lifted by this adapter's
loop when the time comes (kept in ``connections.state["mutes"]``, so a restart keeps it).

The class is put together from :mod:`.homeserver` (the connection, errors, secrets),
:mod:`.sync` (in; the invitations it refuses or declines and the rooms it leaves are
:mod:`.leaving`'s, the private chats people open with the bot :mod:`.private_chats`') and
:mod:`.deliver` (out); this module sets it up and runs its loop.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from dataclasses import replace

import aiohttp
from nio import AsyncClientConfig, LoginResponse

from groupops.domain.errors import NotFound, PlatformError
from groupops.engine.clock import Clock, RealClock
from groupops.engine.deadletters import ACCESS_REFUSED, LOGIN_FAILED, SYNC_NOT_HANDLED
from groupops.i18n import Catalogs
from groupops.platforms.base import Capabilities
from groupops.platforms.matrix.config import (
    ConnectionStore,
    MatrixConfig,
    network_reason,
    quiet_nio_validation,
)
from groupops.platforms.matrix.deliver import MATRIX_ACTIONS, Delivery
from groupops.platforms.matrix.homeserver import (
    CREATOR_LEVEL,
    RETRYABLE_ERRCODES,
    AccessRefused,
    CheckedClient,
    KeyedLocks,
    creators_of,
    log,
    secret_filter,
)
from groupops.platforms.matrix.sync import MAX_GAP_PAGES, SYNC_FILTER, Sync
from groupops.platforms.matrix.translate import Translator
from groupops.platforms.secrets import SecretFilter
from groupops.platforms.supervise import (
    DISABLED,
    Backoff,
    Handler,
    Health,
    Rejecter,
    changed_settings,
    stored_differs,
    unless_stopped,
    watch,
)

__all__ = [
    "ACCESS_REFUSED",
    "CREATOR_LEVEL",
    "DISABLED",
    "MATRIX_ACTIONS",
    "MAX_GAP_PAGES",
    "RETRYABLE_ERRCODES",
    "SYNC_FILTER",
    "AccessRefused",
    "Handler",
    "MatrixAdapter",
    "SecretFilter",
    "creators_of",
]


class MatrixAdapter(Sync, Delivery):
    """One Matrix account (a bot user) on one homeserver."""

    def __init__(
        self,
        config: MatrixConfig,
        *,
        store: ConnectionStore,
        handle: Handler | None = None,
        clock: Clock | None = None,
        reject: Rejecter | None = None,
    ) -> None:
        self.config = config
        self.source = config.source
        self.store = store
        self.handle = handle
        self.reject = reject
        self.clock = clock or RealClock()
        self.capabilities = Capabilities(
            platform="matrix",
            actions=MATRIX_ACTIONS,
            limits=config.limits,
            delete_max_age=None,
            join_attribution=True,  # the inviter of an invited member
            buttons=False,
        )
        self.translator = Translator(self.source, config.user_id)
        self.client = None
        self._state = {}
        self._full_state_done = False
        self._creators = {}
        self._unfetchable = OrderedDict()
        self._earlier_members = {}
        self._gone = set()
        self._gap_failures = {}
        self._catalogs = Catalogs()
        self._filter = secret_filter()
        self._lock = asyncio.Lock()  # one state write at a time (sync loop vs perform)
        self._power_locks = KeyedLocks()  # one power-levels change at a time per room
        self._dm_locks = KeyedLocks()  # one look for (or making of) a person's private room
        self._next_sync = asyncio.Event()
        self.health = Health(self.source, store, lambda: self._state, self.clock.now)

    # -- lifecycle -------------------------------------------------------------------------
    async def connect(self) -> None:
        """Log in (or restore the stored login) and load the sync position."""
        if self.client is not None:
            return
        stored_config, self._state = self.store.load()
        if stored_config.access_token and not self.config.access_token:
            self.config = stored_config
        self._filter.secrets = list(self.config.secrets())
        self._filter.install()
        quiet_nio_validation()
        if not self._state.get("txn_prefix"):
            self._state["txn_prefix"] = secrets.token_hex(4)
        client = CheckedClient(
            self.config.homeserver,
            self.config.user_id,
            config=AsyncClientConfig(
                max_limit_exceeded=0,  # a 429 comes back to us: the deliverer waits
                max_timeouts=0,
                request_timeout=self.config.request_timeout,
                store_sync_tokens=False,
            ),
        )
        if self.config.access_token:
            client.restore_login(
                self.config.user_id, self.config.device_id or "", self.config.access_token
            )
        else:
            try:
                answer = await client.login(self.config.password, device_name="groupops")
            except (aiohttp.ClientError, TimeoutError) as exc:
                await client.close()
                self._filter.remove()
                raise PlatformError(
                    LOGIN_FAILED, where=self.source, reason=network_reason(exc)
                ) from None
            if not isinstance(answer, LoginResponse):
                await client.close()
                self._filter.remove()
                raise self._error(answer, "login")
            self.config = self.config.with_login(answer.access_token, answer.device_id)
            self._filter.secrets = list(self.config.secrets())
            self.store.save_config(self.config)
        self.client = client
        # a new client holds no room: its first sync is a full one (every room the bot is
        # in), as a start's is, whatever the one before held (a reload, a login refused)
        self._full_state_done, self._gone = False, set()
        self.store.save_state(self._state)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None
        self._filter.remove()

    async def run(self, stop: asyncio.Event, *, timeout_ms: int | None = None) -> None:
        """Sync until ``stop`` is set. Every failure is logged as one line and tried again
        after a growing pause (1 s to a minute; five minutes for a refused login). A change of
        the stored connection (``groupops connect matrix`` again, ``groupops connections
        disable``) is taken up while running."""
        backoff = Backoff(self.health, self._settings_changed)
        while not stop.is_set():
            try:
                try:
                    await self.reload()
                except NotFound:
                    log.warning("%s: the connection was removed; stopped", self.source)
                    return
                if not self.config.enabled:
                    await watch(stop, None, self._settings_changed)
                    continue
                if self.client is None:
                    await self.connect()
                await self.lift_due_mutes()
                wait = self.config.sync_timeout_ms if timeout_ms is None else timeout_ms
                if not await unless_stopped(self.sync_once(wait), stop):
                    break
                backoff.ok()
                continue
            except PlatformError as exc:
                error: PlatformError = exc
            except Exception as exc:  # the engine, the database, a bug: retry the same sync
                error = PlatformError(
                    SYNC_NOT_HANDLED,
                    where=self.source,
                    error=f"{type(exc).__name__}: {self._scrub(str(exc))}",
                )
            refused = isinstance(error, AccessRefused)
            if refused:
                await self.close()  # the next try restores the (maybe new) stored login
            await backoff.failed(stop, error, refused=refused)

    def _settings_changed(self) -> bool:
        return stored_differs(self.store, self.config)

    async def reload(self) -> bool:
        """Take up the stored settings if they changed (a new login from ``groupops connect
        matrix``, disabled or enabled): True if they did. Raises NotFound if the connection is
        gone."""
        config = changed_settings(self.store, self.config, self.source)
        if config is None:
            return False
        await self.close()
        self.config = config
        self.capabilities = replace(self.capabilities, limits=config.limits)
        return True
