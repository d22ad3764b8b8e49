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
from collections.abc import Sequence

from itsdangerous import BadSignature
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_csrf.middleware import CSRFMiddleware

from groupops.web.errors import error_body

PERSON_COOKIE = "groupops_person"
LANG_COOKIE = "groupops_lang"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"


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
        return JSONResponse(
            error_body(
                "csrf_failed",
                "missing or wrong CSRF token: send the csrftoken cookie's value"
                " in the X-CSRFToken header",
                field=CSRF_HEADER,
            ),
            status_code=403,
        )


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
    body = error_body("too_large", f"the request body is over {limit} bytes", field="body")
    response = JSONResponse(body, status_code=413, headers={"connection": "close"})
    await response(scope, receive, send)


class HostCheck:
    """Answers only requests whose ``Host`` names one of ``allowed`` (without the port), so a
    web page cannot reach a server on this machine by pointing a name of its own at 127.0.0.1
    (DNS rebinding: the browser would then treat the page and the server as one site, and
    hand it the CSRF cookie). Paths under ``exempt`` (the webhooks, which a proxy reaches under
    the public name) are not checked."""

    def __init__(self, app: ASGIApp, allowed: Sequence[str], exempt: str = "/hooks/") -> None:
        self.app = app
        self.allowed = frozenset(h.lower().strip("[]") for h in allowed)
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
        name = host[1 : host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
        if name in self.allowed:
            await self.app(scope, receive, send)
            return
        body = error_body(
            "bad_host",
            "this server answers under the names of this machine only"
            f" ({', '.join(sorted(self.allowed))}), not {host!r}",
            field="host",
        )
        await JSONResponse(body, status_code=400)(scope, receive, send)


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
