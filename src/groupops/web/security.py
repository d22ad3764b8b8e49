"""The web chat's defences: CSRF, who a browser is, body size, and security headers.

CSRF: starlette-csrf's double-submit cookie. The page's script reads the ``csrftoken`` cookie
and sends it back in the ``X-CSRFToken`` header; a cross-site page can make the browser send
the cookie but cannot read it, so it cannot forge the header. The cookie is signed with the
server's secret, so a token an attacker plants (a sibling sub-domain setting cookies) fails
too. Two changes over the library: refusals are JSON in the API's error shape, and a cookie
signed by an earlier secret (the server restarted with a new random secret) is replaced
instead of failing every request for ever.

Identity: no accounts in the sandbox. A browser that joins gets an HMAC-signed cookie holding a
random user id; the API never takes a user id from the request body, so nobody posts as
somebody else.
"""

from __future__ import annotations

import hashlib
import hmac
import http.cookies
import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from itsdangerous import BadSignature
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_csrf.middleware import CSRFMiddleware

from groupops.domain.errors import GroupopsError
from groupops.i18n import LANGUAGES, N_, Catalogs
from groupops.web.errors import BadHost, Busy, CsrfFailed, TooLarge, body_of, status_of

PERSON_COOKIE = "groupops_person"
LANG_COOKIE = "groupops_lang"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"

#: the refusals the defences below answer, in the page's language like every answer
CSRF_FAILED = N_(
    "missing or wrong CSRF token: send the csrftoken cookie's value in the X-CSRFToken header"
)
BODY_TOO_LARGE = N_("the request body is over {limit} bytes")
ALL_CONNECTIONS_OPEN = N_(
    "the server has {limit} connections open, as many as it takes at once: try again in a moment"
)
NOT_THIS_HOST = N_("this server answers under {names} only, not {host!r}")


def language_of(request: Request) -> str:
    """?lang= first, then the saved choice, then the browser's languages; Chinese by default."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return str(candidate)
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return "zh_CN"


def catalogs_of(web: object) -> Catalogs:
    """The message catalogues of the running web chat ``web`` (its runtime's: serve's
    --locale), the installed ones before it has started."""
    runtime = getattr(getattr(web, "state", None), "runtime", None)
    return runtime.catalogs if runtime is not None else Catalogs()


def gettext_for(request: Request, web: object = None) -> Callable[[str], str]:
    """The gettext of the language ``request`` is answered in (:func:`language_of`), from the
    catalogues of ``web`` (the web app; the request's own by default)."""
    return catalogs_of(web if web is not None else request.scope.get("app")).gettext(
        language_of(request)
    )


async def refuse(
    error: GroupopsError,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    web: object = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer ``error`` in the API's error shape, its message in the request's language (the
    defences below answer before any route, as the routes' own errors do)."""
    gettext = gettext_for(Request(scope), web)
    response = JSONResponse(body_of(error, gettext), status_code=status_of(error), headers=headers)
    await response(scope, receive, send)


class JSONCSRFMiddleware(CSRFMiddleware):
    async def send(self, message: Message, send: Send, scope: Scope) -> None:
        cookie = Request(scope).cookies.get(self.cookie_name)
        if (
            cookie is not None
            and not self._valid(cookie)
            and message["type"] == "http.response.start"
        ):
            # signed with another secret: issue a fresh token, as if there were none
            headers = MutableHeaders(scope=message)
            headers.append("set-cookie", self._cookie())
            await send(message)
            return
        await super().send(message, send, scope)

    def _cookie(self) -> str:
        cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        cookie[self.cookie_name] = self._generate_csrf_token()
        cookie[self.cookie_name]["path"] = self.cookie_path
        cookie[self.cookie_name]["secure"] = self.cookie_secure
        cookie[self.cookie_name]["httponly"] = self.cookie_httponly
        cookie[self.cookie_name]["samesite"] = self.cookie_samesite
        return cookie.output(header="").strip()

    def _valid(self, token: str) -> bool:
        try:
            self.serializer.loads(token)
        except BadSignature:
            return False
        return True

    def _get_error_response(self, request: Request) -> Response:
        error = CsrfFailed(CSRF_FAILED)
        return JSONResponse(body_of(error, gettext_for(request)), status_code=status_of(error))


class PersonCookie:
    """Signs and reads the identity cookie (HMAC-SHA256 over the user id)."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"groupops-person:" + secret.encode()).digest()

    def _sign(self, user_id: str) -> str:
        return hmac.new(self._key, user_id.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> tuple[str, str]:
        """A new user id and the cookie value that proves it."""
        user_id = "web-" + secrets.token_hex(8)
        return user_id, f"{user_id}.{self._sign(user_id)}"

    def read(self, value: str | None) -> str | None:
        if not value:
            return None
        user_id, _, signature = value.rpartition(".")
        if not user_id or not hmac.compare_digest(signature, self._sign(user_id)):
            return None
        return user_id


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413 before the app sees them: at once
    by Content-Length, else while the body streams in (it is held, at most ``limit`` bytes, and
    handed on whole).

    Paths starting with a prefix of ``wider`` (a platform's webhook: Telegram posts updates
    that may be larger than any browser's request) get that prefix's limit, and their bodies
    are counted, never held: the route reads the body itself, after checking the secret its
    platform sends in a header, so a post without the secret is refused before a byte of its
    body is read (one that streams without Content-Length would otherwise be held up to the
    limit first). A body growing past the limit while the route reads it ends the request
    with 413; the route sees the client gone."""

    def __init__(self, app: ASGIApp, limit: int, wider: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.wider = dict(wider or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = next((n for p, n in self.wider.items() if path.startswith(p)), None)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > (limit or self.limit):
                await _refuse(limit or self.limit, scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
        elif limit is not None:
            await self._counted(limit, scope, receive, send)
        else:
            await self._held(scope, receive, send)

    async def _held(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.limit:
                await _refuse(self.limit, scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": bytes(body), "more_body": False}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return whole
            return await receive()

        await self.app(scope, replay, send)

    async def _counted(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0
        started = False
        refused = False

        async def counting() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        await _refuse(limit, scope, receive, send)
                    return {"type": "http.disconnect"}  # the route stops reading
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if refused:
                return  # 413 went out instead
            started = True
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except Exception:
            if not refused:
                raise
            # the route failed on the body cut short (starlette's ClientDisconnect): answered


async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    too_large = TooLarge(BODY_TOO_LARGE, limit=limit)
    await refuse(too_large, scope, receive, send, headers={"connection": "close"})


class ServerLoad(Protocol):
    """What a server tells of its load (uvicorn's ``Server.server_state``)."""

    connections: Any  # the connections open (a set)
    tasks: Any  # the requests being answered (a set), this one among them


class ConnectionLimit:
    """At most ``limit`` connections open at once, browsers' and platforms' together: while
    that many are open (an idle keep-alive counts), a request is answered 503 at once, in the
    visitor's language, so slow or idle connections cannot pile up. It counts as uvicorn's
    ``limit_concurrency`` does (which answers in English plain text, outside any app), from
    the load of the server it is :meth:`watching`; it wraps the whole web app."""

    def __init__(self, web: ASGIApp, limit: int) -> None:
        self.web = web
        self.limit = limit
        self.load: ServerLoad | None = None

    def watching(self, load: ServerLoad) -> None:
        self.load = load

    def _full(self) -> bool:
        load = self.load
        # this request's own task is among the tasks already (uvicorn counts before it)
        return load is not None and (
            len(load.connections) >= self.limit or len(load.tasks) > self.limit
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._full():
            busy = Busy(ALL_CONNECTIONS_OPEN, limit=self.limit)
            await refuse(busy, scope, receive, send, web=self.web, headers={"connection": "close"})
            return
        await self.web(scope, receive, send)


def host_name(value: str) -> str:
    """The name a Host value names, without its port: ``[::1]:8000`` is ``::1``,
    ``LocalHost:8000`` is ``localhost``."""
    host = value.strip().strip('"').lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def named_hosts(headers: Sequence[tuple[bytes, bytes]]) -> Iterator[tuple[str, str]]:
    """Every host a request names, with the header naming it: its ``Host`` (empty when it
    has none), then each a proxy passed on (``X-Forwarded-Host: a, b``; ``Forwarded:
    host=a;proto=https``)."""
    given = {
        name: [v.decode("latin-1") for k, v in headers if k == name.encode()]
        for name in ("host", "x-forwarded-host", "forwarded")
    }
    yield "host", (given["host"] or [""])[0]
    for value in given["x-forwarded-host"]:
        for host in value.split(","):
            yield "x-forwarded-host", host.strip()
    for value in given["forwarded"]:
        for element in value.split(","):
            for pair in element.split(";"):
                key, _, host = pair.partition("=")
                if key.strip().lower() == "host":
                    yield "forwarded", host.strip()


class HostCheck:
    """Answers only requests whose every named host (:func:`named_hosts`: the ``Host``, and
    the original host a reverse proxy passes on in ``X-Forwarded-Host`` or ``Forwarded``) is
    one of ``allowed`` (without the port), so a web page cannot reach a server on this
    machine by pointing a name of its own at 127.0.0.1 (DNS rebinding: the browser would then
    treat the page and the server as one site, and hand it the CSRF cookie), directly or
    through a proxy here that passes the name on. A forwarded name only ever refuses more,
    never admits a Host that is not allowed, so it is read from whoever sends it (no proxy
    needs to be trusted). Paths under ``exempt`` (the webhooks, which a proxy reaches under
    the public name) are not checked."""

    def __init__(self, app: ASGIApp, allowed: Sequence[str], exempt: str = "/hooks/") -> None:
        self.app = app
        self.allowed = frozenset(host_name(h) for h in allowed)
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        named = named_hosts(scope["headers"])
        wrong = next(((h, host) for h, host in named if host_name(host) not in self.allowed), None)
        if wrong is None:
            await self.app(scope, receive, send)
            return
        header, host = wrong
        names = ", ".join(sorted(self.allowed))
        bad = BadHost(NOT_THIS_HOST, field=header, names=names, host=host)
        await refuse(bad, scope, receive, send)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)


class SecurityHeaders:
    """A strict Content-Security-Policy (no inline script runs, whatever a name contains) and
    friends, on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
