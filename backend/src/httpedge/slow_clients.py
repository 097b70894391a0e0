"""Timeouts for slow clients, for every aiohttp server (the ledger's `serve`, the gateway).

aiohttp has no header-read timeout: a client that sends half a request line and stalls (or
trickles one header a second) holds its connection until the keep-alive timer, and a handler
that reads a body waits for as long as the client takes to send it. Two small guards:

- ``GuardedAppRunner(app, head_timeout=N)``: an AppRunner whose connections are closed when
  a request head (request line and headers) has not fully arrived N seconds after the
  connection opened, or after the first byte of a further request on a kept-alive connection.
  A connection whose request is being handled is never cut by this timer.
- ``body_timeout_middleware(N, respond)``: reads the body within N seconds, or answers
  ``respond()`` (a 408) and closes the connection (after at most N more seconds of draining
  the unread body, aiohttp's "lingering close", which the runner bounds to N).

The head timer reads three attributes of aiohttp's RequestHandler (``_request_count``,
``_waiter``, ``_messages``), the ones aiohttp's own keep-alive timer uses; the tests in
backend/tests/api/test_slow_clients.py run the real server and fail if an aiohttp upgrade changes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler


class HeadTimeoutHandler(RequestHandler):
    """RequestHandler with a deadline for each request head."""

    head_timeout: float = 10.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()  # a new connection must deliver its first request head in time

    def data_received(self, data: bytes) -> None:
        heads_before = self._request_count
        super().data_received(data)
        if self._request_count > heads_before:
            self._disarm()  # a full head arrived; its handler (and the body timeout) take over
        elif data and self._head_timer is None and self._idle():
            self._arm()  # the first bytes of a further request on a kept-alive connection

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _idle(self) -> bool:
        """Waiting for a request head: no request queued and none being handled."""
        waiter = self._waiter
        return waiter is not None and not waiter.done() and not self._messages

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self._loop.call_later(self.head_timeout, self._expire)

    def _disarm(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
        self._head_timer = None

    def _expire(self) -> None:
        self._head_timer = None
        if self._idle():
            self.log_debug("closing a connection whose request head did not arrive in %.1f s", self.head_timeout)
            self.force_close()


class _HeadTimeoutServer(web.Server):
    head_timeout: float = 10.0

    def __call__(self) -> RequestHandler:
        handler = HeadTimeoutHandler(self, loop=self._loop, **self._kwargs)
        handler.head_timeout = self.head_timeout
        return handler


class GuardedAppRunner(web.AppRunner):
    """An AppRunner whose connections get a request-head deadline (see the module doc)."""

    def __init__(self, app: web.Application, *, head_timeout: float, **kwargs: Any) -> None:
        if not head_timeout > 0:
            raise ValueError("head_timeout must be positive")
        # After an early answer (408, 413) aiohttp drains the unread body ("lingering") for
        # 10 s by default before closing; a slow client gets no more than head_timeout of that.
        kwargs.setdefault("lingering_time", head_timeout)
        super().__init__(app, **kwargs)
        self._head_timeout = head_timeout

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # Same object, same state; only the protocol factory (__call__) differs.
        server.__class__ = _HeadTimeoutServer
        server.head_timeout = self._head_timeout  # type: ignore[attr-defined]
        return server


def body_timeout_middleware(seconds: float, respond: Callable[[], web.StreamResponse]):
    """Read every request body within `seconds` (bodies are small and bounded by
    client_max_size), so no handler waits on a client that stopped sending. On timeout the
    answer is ``respond()`` and the connection is closed (the rest of the body is unread)."""

    @web.middleware
    async def body_timeout(request: web.Request, handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                await asyncio.wait_for(request.read(), seconds)
            except TimeoutError:
                response = respond()
                response.force_close()
                return response
        return await handler(request)

    return body_timeout


async def serve_until_stopped(
    app: web.Application, *, host: str, port: int, head_timeout: float, reuse_port: bool = False, **runner_kwargs: Any
) -> None:
    """What web.run_app does, with the guarded runner: serve until SIGINT/SIGTERM, then clean up."""
    runner = GuardedAppRunner(app, head_timeout=head_timeout, handle_signals=True, **runner_kwargs)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_port=reuse_port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def run(app: web.Application, **kwargs: Any) -> None:
    """Blocking entry point for a command: serve_until_stopped, a signal ends it quietly."""
    try:
        asyncio.run(serve_until_stopped(app, **kwargs))
    except (web.GracefulExit, KeyboardInterrupt):
        pass
