"""How the web chat is set up: one frozen object, built by `groupops serve` or a test."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from groupops.features.registry import DEFAULT_FEATURES
from groupops.web.chat import DEMO_GROUPS


@dataclass(frozen=True)
class WebConfig:
    #: database URL (None: GROUPOPS_DATABASE_URL, else the SQLite file var/groupops.db)
    database_url: str | None = None
    #: secret that signs the CSRF and identity cookies; a random one per process by default
    #: (browsers then simply get new cookies after a restart)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    #: features the App runs (the built-ins by default)
    features: Sequence[str] = DEFAULT_FEATURES
    #: load features other packages declare as entry points
    extensions: bool = True
    #: sandbox groups made sure to exist at start: (chat id, title)
    groups: tuple[tuple[str, str], ...] = DEMO_GROUPS
    #: seconds between clock ticks of the live engine (scheduled work reacts to ticks)
    tick_every: float = 20.0
    #: the largest request body accepted, in bytes
    max_body: int = 64 * 1024
    #: mark the cookies (CSRF, identity, language) Secure: the browser sends them over HTTPS
    #: only (``groupops serve --secure-cookies``, when the page is reached through TLS)
    secure_cookies: bool = False
    #: message catalogues (None: the installed ones)
    locale_dir: Path | None = None
    #: run on a clock the page (and POST /api/clock/advance) can move forward
    #: (``groupops serve --movable-clock``); the real clock otherwise
    movable_clock: bool = False
    #: serve the web chat (the page and its API); False: only the platforms' webhooks
    #: (``/hooks/...``) answer, for a server the internet reaches (``groupops serve`` decides)
    web_chat: bool = True
    #: the names the web chat answers under (the ``Host`` header, without the port); None:
    #: any. serve on a loopback address gives the machine's own (DNS rebinding)
    allowed_hosts: tuple[str, ...] | None = None
