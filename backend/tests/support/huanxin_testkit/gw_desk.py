"""Helpers for the desk tests: raw login posts (no cookie jar), a second client address, a gateway
with desk settings of its own."""

from __future__ import annotations

import aiohttp

from gateway.desk_web import LOGIN_CSRF_COOKIE

from .gw_helpers import WECHAT_TOKEN


async def post_login(client, username: str, password: str, session: aiohttp.ClientSession | None = None):
    """One login attempt with a double-submit CSRF pair of its own; returns (status, headers)."""
    own = session is None
    session = session or aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    try:
        async with session.post(
            client.make_url("/desk/login"),
            allow_redirects=False,
            data={"username": username, "password": password, "csrf": "pair"},
            headers={"Cookie": f"{LOGIN_CSRF_COOKIE}=pair"},
        ) as resp:
            await resp.read()
            return resp.status, resp.headers
    finally:
        if own:
            await session.close()


def from_address(address: str) -> aiohttp.ClientSession:
    """A client session whose connections come from another loopback address."""
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(), connector=aiohttp.TCPConnector(local_addr=(address, 0))
    )


def gateway_factory(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa):
    """Like the make_gateway fixture, plus desk settings and an account reader of the test's own."""
    from gateway.keys import Overrides
    from gateway.settings import DeskSettings, GatewaySettings
    from gateway.web import init_app

    async def make(desk: dict | None = None, accounts=None, **settings_overrides):
        values = {
            "database_url": database_url,
            "rasa_urls": (str(fake_rasa.make_url("")).rstrip("/"),),
            "wechat_token": WECHAT_TOKEN,
            "session_ttl_s": 3600,
            "handback_intent": "handback",
            "desk": DeskSettings.from_env(desk or {}),
        }
        values.update(settings_overrides)
        app = init_app(
            GatewaySettings(**values),
            Overrides(clock=clock, audit=audit, wechat_client=wechat_client, accounts=accounts),
        )
        return await aiohttp_client(app)

    return make
