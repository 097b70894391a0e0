"""`python -m gateway [serve]` starts the gateway; `python -m gateway create-agent NAME --role agent|supervisor`
creates or updates a desk account (password from GATEWAY_AGENT_PASSWORD or asked for)."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys

from aiohttp import web

from .settings import GatewaySettings, SettingsError


async def _create_agent(settings: GatewaySettings, username: str, role: str, display_name: str | None, password: str) -> None:
    from ledger.db.session import create_engine, create_session_factory

    from .agents import DeskAuth

    engine = create_engine(settings.database_url)
    try:
        await DeskAuth(create_session_factory(engine), settings.session_ttl_s).create_agent(username, password, role, display_name)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="start the gateway on GATEWAY_HOST:GATEWAY_PORT (default 127.0.0.1:8090)")
    agent = sub.add_parser("create-agent", help="create or update an agent desk account")
    agent.add_argument("username")
    agent.add_argument("--role", choices=("agent", "supervisor"), default="agent")
    agent.add_argument("--display-name")
    args = parser.parse_args(argv)
    try:
        settings = GatewaySettings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "create-agent":
        password = os.environ.get("GATEWAY_AGENT_PASSWORD") or getpass.getpass("password: ")
        from .agents import AgentError

        try:
            asyncio.run(_create_agent(settings, args.username, args.role, args.display_name, password))
        except AgentError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"agent {args.username} ({args.role}) saved")
        return 0
    from .web import init_app, server_options

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    print(f"gateway on http://{settings.host}:{settings.port} (Rasa: {', '.join(settings.rasa_urls)})", flush=True)
    web.run_app(init_app(settings), host=settings.host, port=settings.port, print=None, **server_options(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
