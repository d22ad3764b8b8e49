"""The Telegram webhook: Telegram posts each update to the bot's URL with the secret given in
``setWebhook`` in the ``X-Telegram-Bot-Api-Secret-Token`` header.

A request without that header is refused with 401, one with another value with 403 (compared in
constant time); only then is the body read. A body that is not an update is refused with 400;
an update the engine could not store gets 500, so Telegram delivers it again later. An update
whose content the adapter cannot read gets 200 (the adapter logs and skips it): Telegram would
post it again for ever, and the updates after it wait.

Mount :func:`telegram_webhook_route` in any Starlette/FastAPI app (``routes.append(...)`` or
``app.router.routes.append(...)``), or serve :func:`telegram_webhook_app` on its own.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from groupops.platforms.telegram.adapter import TelegramAdapter
from groupops.platforms.telegram.config import webhook_path

__all__ = ["SECRET_HEADER", "telegram_webhook_app", "telegram_webhook_route", "webhook_path"]

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000  # bytes: an update is a few kilobytes

#: finds the adapter of a bot by the username in the path (None: no such bot here)
Lookup = Callable[[str], TelegramAdapter | None]


def _check(request: Request, adapter: TelegramAdapter | None) -> Response | None:
    given = request.headers.get(SECRET_HEADER)
    if adapter is None:
        return JSONResponse({"ok": False, "error": "unknown bot"}, status_code=404)
    expected = adapter.config.webhook_secret
    if not given:
        return JSONResponse({"ok": False, "error": "missing secret token"}, status_code=401)
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return JSONResponse({"ok": False, "error": "wrong secret token"}, status_code=403)
    if not adapter.config.enabled:  # turned off: Telegram keeps the update and posts it again
        return JSONResponse({"ok": False, "error": "connection disabled"}, status_code=503)
    return None


async def _endpoint(request: Request, lookup: Lookup, fixed: str) -> Response:
    adapter = lookup(str(request.path_params.get("username", fixed)))
    refused = _check(request, adapter)
    if refused is not None:
        return refused
    assert adapter is not None
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return JSONResponse({"ok": False, "error": "too large"}, status_code=413)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"ok": False, "error": "too large"}, status_code=413)
    try:
        update = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return JSONResponse({"ok": False, "error": "not JSON"}, status_code=400)
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return JSONResponse({"ok": False, "error": "not an update"}, status_code=400)
    try:
        await adapter.process([update])
    except Exception as exc:  # the engine or database failed: Telegram will post it again
        log.error("%s: webhook update not handled: %s", adapter.source, type(exc).__name__)
        return JSONResponse({"ok": False, "error": "not handled, retry"}, status_code=500)
    return JSONResponse({"ok": True})


def telegram_webhook_route(
    adapters: Mapping[str, TelegramAdapter] | Lookup, path: str = webhook_path("{username}")
) -> Route:
    """A route ``POST /hooks/telegram/{username}`` for the given bots (by username, or a
    function finding one), to mount in the web app. With a ``path`` of one bot
    (``webhook_path("mybot")``) the lookup is asked for that bot's username."""
    lookup: Lookup = adapters.get if isinstance(adapters, Mapping) else adapters
    fixed = path.rstrip("/").rsplit("/", 1)[-1]

    async def endpoint(request: Request) -> Response:
        return await _endpoint(request, lookup, fixed)

    return Route(path, endpoint, methods=["POST"], name=f"telegram_webhook:{fixed}")


def telegram_webhook_app(adapters: Mapping[str, TelegramAdapter] | Lookup) -> Starlette:
    """An ASGI app serving only the webhook route."""
    return Starlette(routes=[telegram_webhook_route(adapters)])
