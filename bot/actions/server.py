"""The action server's entry point: ``python -m actions.server [--port N]`` (run from bot/).

rasa_sdk's own server (``python -m rasa_sdk``) answers anyone on 0.0.0.0 with CORS "*". This
one builds the same Sanic app (``rasa_sdk.endpoint.create_app``) and adds what the trust
boundary needs (shared protocol 5):
- every request but ``GET /health`` must carry ``X-Action-Secret`` equal to
  ACTION_SERVER_SECRET (constant-time comparison), else 401 and nothing runs; Rasa sends the
  header from bot/endpoints.yml (``action_endpoint.headers``);
- it listens on 127.0.0.1 unless ACTION_SERVER_HOST says otherwise (docker: 0.0.0.0);
- no CORS: only Rasa calls it, never a browser;
- it refuses to start without ACTION_SERVER_SECRET;
- a background task records the escalations the ledger could not take (actions/outbox.py);
- the third-party classifier (actions/third_party.py) is trained before it listens.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from sanic import Sanic, response
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Action-Secret"
OPEN_PATHS = {"/health"}
DEFAULT_HOST = "127.0.0.1"
OUTBOX_INTERVAL_S = 5.0


def listen_host(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("ACTION_SERVER_HOST") or DEFAULT_HOST


def check_action_secret(request: Any, secret: str) -> HTTPResponse | None:
    """None when the request may go on; a 401 answer otherwise."""
    if request.path in OPEN_PATHS:
        return None
    given = request.headers.get(SECRET_HEADER) or ""
    if given and hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8")):
        return None
    return response.json({"error": "unauthorized"}, status=401)


async def flush_outbox_forever(interval_s: float = OUTBOX_INTERVAL_S) -> None:
    from actions.base import log_crash
    from actions.ledger_client import default_client
    from actions.outbox import default_outbox

    while True:
        await asyncio.sleep(interval_s)
        try:
            await default_outbox().flush(default_client())
        except Exception as exc:  # noqa: BLE001 - the loop must survive anything
            log_crash("escalation outbox", exc)


def create_app(secret: str, action_package: str = "actions", auto_reload: bool = False) -> Sanic:
    from rasa_sdk.endpoint import create_app as create_sdk_app

    if not secret:
        raise ValueError("ACTION_SERVER_SECRET is empty")
    app = create_sdk_app(action_package, cors_origins=None, auto_reload=auto_reload)

    @app.middleware("request")
    async def require_secret(request):  # Sanic's request
        return check_action_secret(request, secret)

    app.add_task(flush_outbox_forever())
    return app


def main(argv: list[str] | None = None) -> None:
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_argument_parser, create_ssl_context
    from rasa_sdk.plugin import plugin_manager

    parser = create_argument_parser()
    parser.set_defaults(actions="actions", port=int(os.environ.get("ACTION_SERVER_PORT") or 5055))
    args = parser.parse_args(argv)
    secret = os.environ.get("ACTION_SERVER_SECRET", "")
    if not secret:
        print(
            "error: ACTION_SERVER_SECRET is not set: the action server only answers Rasa, which sends "
            "it in the X-Action-Secret header (bot/endpoints.yml). scripts/env.sh generates it in "
            ".env.local.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    app = create_app(secret, args.actions, args.auto_reload)
    from actions.third_party import warm_up

    warm_up()  # the third-party classifier is trained now, not on the first message
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = listen_host()
    logger.info(
        "action server on %s://%s:%s (X-Action-Secret required)", "https" if ssl_context else "http", host, args.port
    )
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
