"""A reverse proxy on 127.0.0.1 between the bot and the real Synapse: it forwards every request
as it is, and in "trouble" answers every request but ``/sync`` with 502 Bad Gateway, as a
reverse proxy does while the homeserver behind it is down (the Matrix side of the scenario's
platform trouble). It runs on its own event loop in a thread; the bot is another process."""

from __future__ import annotations

import asyncio
import threading

import aiohttp
from aiohttp import web

from tests.loopback import serve

#: hop-by-hop headers a proxy does not pass on
_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


class TroubleProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.trouble = False
        self.refused = 0
        #: the ``since`` of every /sync the bot asked, in order ("" for none)
        self.syncs: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _start(self) -> int:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=120), auto_decompress=False
        )
        app = web.Application(client_max_size=2**24)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner, port = await serve(app)
        return port

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/sync"):
            self.syncs.append(request.query.get("since", ""))
        if self.trouble and not request.path.endswith("/sync"):
            self.refused += 1
            return web.Response(status=502, text="<html><body>Bad Gateway</body></html>")
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        body = await request.read()
        async with self._session.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=body or None
        ) as answer:
            payload = await answer.read()
            out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
            return web.Response(status=answer.status, body=payload, headers=out)

    def stop(self) -> None:
        async def close() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            if self._session is not None:
                await self._session.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
