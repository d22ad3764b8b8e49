"""The FastAPI application of the sandbox web chat.

Its lifespan starts the live runtime (``start_live``) and stops it; nothing lives at module
level. Middleware, outermost first: security headers, the Host check (serve on a loopback
address), body limit, CSRF.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from groupops.domain.errors import GroupopsError
from groupops.engine.app import App
from groupops.i18n import N_
from groupops.web.config import WebConfig
from groupops.web.errors import InvalidInput, body_of, error_body, status_of
from groupops.web.routes import api, pages
from groupops.web.runtime import Companion, build_app, start_live
from groupops.web.security import (
    CSRF_COOKIE,
    CSRF_HEADER,
    BodyLimit,
    HostCheck,
    JSONCSRFMiddleware,
    SecurityHeaders,
    catalogs_of,
    gettext_for,
    language_of,
)

HERE = Path(__file__).parent


def _field(loc: Sequence[object]) -> str:
    """The request field a validation error is about: ``("body", "name")`` -> ``name``."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "body")


async def _typed_error(request: Request, exc: Exception) -> JSONResponse:
    """A typed error as JSON, its message in the page's language (the page shows it as is)."""
    assert isinstance(exc, GroupopsError)
    return JSONResponse(body_of(exc, gettext_for(request)), status_code=status_of(exc))


def _bounds(request: Request, loc: Sequence[Any]) -> dict[str, Any]:
    """The ends of the range of the request field ``loc`` names: a field of the route's body
    (``("body", "message_id")``), or a query or path parameter (``("query", "after")``)."""
    from groupops.features.registry import bounds_of, constraints_at

    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if not loc or dependant is None:
        return {}
    where, rest = loc[0], list(loc[1:])
    if where == "body":
        body = getattr(route, "body_field", None)
        model = body.field_info.annotation if body is not None else None
        if isinstance(model, type) and issubclass(model, BaseModel):
            return bounds_of(constraints_at(model, rest))
        return {}
    params = {"query": dependant.query_params, "path": dependant.path_params}.get(str(where), [])
    named = [p for p in params if len(rest) == 1 and p.alias == rest[0]]
    return bounds_of(named[0].field_info.metadata) if named else {}


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    if first.get("type") == "json_invalid":  # pydantic names it body.0, "JSON decode error"
        ctx: Any = first.get("ctx") or {}
        reason = str(ctx.get("error", "")) or "JSON decode error"
        not_json = InvalidInput(
            N_("the request body is not valid JSON: {reason}"), field="body", reason=reason
        )
        return await _typed_error(request, not_json)
    from groupops.domain.errors import PLACED
    from groupops.features.registry import BOUND_ERRORS, pydantic_said

    field = _field(first.get("loc", ()))
    catalogs = catalogs_of(request.app)
    language = language_of(request)
    gettext = catalogs.gettext(language)
    # pydantic's commonest checks in the page's language; a number out of range as the range
    bounds = _bounds(request, first.get("loc", ())) if first.get("type") in BOUND_ERRORS else {}
    said = pydantic_said(first, bounds)
    problem = said.localized_message(gettext) if said else str(first.get("msg", "invalid"))
    message = gettext(PLACED).format(where=field, text=problem)
    if len(errors) > 1:  # the first is said, then how many more there are
        more = len(errors) - 1
        ngettext = catalogs.ngettext(language)
        message = ngettext(
            "{message} (and {n} more problem)", "{message} (and {n} more problems)", more
        ).format(message=message, n=more)
    return JSONResponse(error_body("invalid_input", message, field=field), status_code=422)


#: the largest body a platform webhook may post (the route itself may refuse less)
HOOK_MAX_BODY = 1_000_000


def create_web_app(
    config: WebConfig | None = None,
    *,
    companions: Sequence[Companion] = (),
    app_factory: Callable[[WebConfig], App] = build_app,
) -> FastAPI:
    """The web chat for ``config``; the App is created when the server starts, not before."""
    cfg = config or WebConfig()

    @asynccontextmanager
    async def lifespan(web: FastAPI) -> AsyncIterator[None]:
        runtime = await start_live(cfg, companions, app_factory=app_factory)
        web.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.stop()

    web = FastAPI(
        title="groupops sandbox chat",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json" if cfg.web_chat else None,
    )
    if cfg.web_chat:  # off: a public server answers its webhooks and nothing else
        web.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
        web.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
        web.include_router(pages)
        web.include_router(api)
    for companion in companions:
        web.router.routes.extend(companion.routes)
    web.add_exception_handler(GroupopsError, _typed_error)
    web.add_exception_handler(RequestValidationError, _invalid_request)
    web.add_middleware(
        JSONCSRFMiddleware,
        secret=cfg.secret,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=cfg.secure_cookies,
        cookie_samesite="strict",
        # platform webhooks are called by servers, not browsers, and prove themselves with a
        # secret of their own (Telegram's X-Telegram-Bot-Api-Secret-Token)
        exempt_urls=[re.compile(r"^/hooks/")],
    )
    # webhooks (/hooks/...) read their bodies themselves, after their secret: BodyLimit only
    # counts them, to Telegram's 1 MB, and holds nothing
    web.add_middleware(BodyLimit, limit=cfg.max_body, wider={"/hooks/": HOOK_MAX_BODY})
    if cfg.allowed_hosts is not None:
        web.add_middleware(HostCheck, allowed=cfg.allowed_hosts)
    web.add_middleware(SecurityHeaders)
    return web
