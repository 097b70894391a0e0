"""`python -m gateway [serve]` starts the gateway. Desk accounts (passwords from
GATEWAY_AGENT_PASSWORD or asked for; every change is written to the ledger's audit log):

  create-agent NAME --role agent|supervisor|analyst   create, or update (a new password ends its sessions)
  set-password NAME                           new password; every desk session of NAME ends
  deactivate-agent NAME                       sessions end, logins refused (open desks close)
  reactivate-agent NAME                       logins allowed again
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys

from .settings import GatewaySettings, SettingsError


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


async def _with_auth(settings: GatewaySettings, action):
    """Run ``action(auth)`` with a DeskAuth on its own engine, auditing into the ledger's log."""
    from ledger.desk_door import DeskDoor, create_engine, create_session_factory

    from .agents import DeskAuth
    from .ledger_bridge import LedgerAuditLog

    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    auth = DeskAuth(sessions, settings.session_ttl_s, audit=LedgerAuditLog(sessions, DeskDoor(sessions)))
    try:
        return await action(auth)
    finally:
        auth.close()
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="start the gateway on GATEWAY_HOST:GATEWAY_PORT (default 127.0.0.1:8090)")
    agent = sub.add_parser("create-agent", help="create or update an agent desk account")
    agent.add_argument("username")
    agent.add_argument("--role", choices=("agent", "supervisor", "analyst"), default="agent")
    agent.add_argument("--display-name")
    for name, text in (
        ("set-password", "set a new password; every desk session of the agent ends"),
        ("deactivate-agent", "end the agent's sessions and refuse its logins"),
        ("reactivate-agent", "allow a deactivated agent to log in again"),
    ):
        sub.add_parser(name, help=text).add_argument("username")
    args = parser.parse_args(argv)
    try:
        settings = GatewaySettings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command in ("create-agent", "set-password", "deactivate-agent", "reactivate-agent"):
        return _account_command(settings, args)
    from .web import init_app, server_options

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    print(f"gateway on http://{settings.host}:{settings.port} (Rasa: {', '.join(settings.rasa_urls)})", flush=True)
    from httpedge import slow_clients

    slow_clients.run(
        init_app(settings),
        host=settings.host,
        port=settings.port,
        head_timeout=settings.client_timeout_s,
        **server_options(settings),
    )
    return 0


def _account_command(settings: GatewaySettings, args: argparse.Namespace) -> int:
    from .agents import AgentError

    actor = _actor()
    try:
        if args.command in ("create-agent", "set-password"):
            password = os.environ.get("GATEWAY_AGENT_PASSWORD") or getpass.getpass("password: ")
            if args.command == "create-agent":
                asyncio.run(
                    _with_auth(
                        settings,
                        lambda auth: auth.create_agent(
                            args.username, password, args.role, args.display_name, actor=actor
                        ),
                    )
                )
                print(f"agent {args.username} ({args.role}) saved")
            else:
                ended = asyncio.run(
                    _with_auth(settings, lambda auth: auth.set_password(args.username, password, actor))
                )
                print(f"password of {args.username} changed; {ended} session(s) ended")
        else:
            active = args.command == "reactivate-agent"
            ended = asyncio.run(_with_auth(settings, lambda auth: auth.set_active(args.username, active, actor)))
            print(f"agent {args.username} {'reactivated' if active else f'deactivated; {ended} session(s) ended'}")
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
