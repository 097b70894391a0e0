"""Fuzz the gateway's HTTP and WebSocket inputs (borrower chat, agent desk, WeChat) in-process.

Builds the real app with ``gateway.web.init_app`` and a fake Rasa (the gateway tests' helpers,
package huanxin_testkit in backend/tests/support), so no stack needs to run; SQLite in a
temporary directory by default, PostgreSQL with --postgres. Prints inputs and statuses per
endpoint, the seed and the first failing input; exits 1 when any input got a 5xx, crashed a
handler, hung or broke the app.

    backend/.venv/bin/python bench/fuzz_gateway.py --examples 5000 [--seed N] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from gateway.keys import Overrides
from gateway.settings import GatewaySettings
from gateway.web import init_app

REPO = Path(__file__).resolve().parents[1]
# The one path edit: a script run by its path, and the test kit is not installed (pytest finds it
# through backend/pyproject.toml's pythonpath). The gateway itself comes from the backend environment.
sys.path.insert(0, str(REPO / "backend" / "tests" / "support"))

from huanxin_testkit.gw_fake_rasa import make_fake_rasa  # noqa: E402 - found through the path edit above
from huanxin_testkit.gw_fakes import (  # noqa: E402 - found through the path edit above
    FakeAudit,
    FakeClock,
    FakeWeChatClient,
    create_schema,
    fresh_pg_database,
)
from huanxin_testkit.gw_fuzz import ENDPOINTS, fuzz  # noqa: E402 - found through the path edit above
from huanxin_testkit.gw_helpers import WECHAT_TOKEN  # noqa: E402 - found through the path edit above


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="huanxin-fuzz-") as tmp:
        if args.postgres:
            url = await fresh_pg_database(args.postgres_db)
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'gateway.sqlite3'}"
            await create_schema(url)
        rasa = TestServer(make_fake_rasa("rasa-fuzz", jitter_s=args.rasa_jitter))
        await rasa.start_server()
        clock = FakeClock()
        clock.now = datetime.now(UTC)  # signed WeChat timestamps are fresh on either clock
        settings = GatewaySettings(
            database_url=url,
            rasa_urls=(str(rasa.make_url("")).rstrip("/"),),
            wechat_token=WECHAT_TOKEN,
            session_ttl_s=3600,
            handback_intent="handback",
            wechat_reply_deadline_s=args.wechat_deadline,
        )
        client = TestClient(
            TestServer(init_app(settings, Overrides(clock=clock, audit=FakeAudit(), wechat_client=FakeWeChatClient())))
        )
        await client.start_server()

        def progress(index, report) -> None:
            if args.progress and (index + 1) % args.progress == 0:
                print(
                    f"  {index + 1}/{args.examples} inputs, {len(report.failures)} failures",
                    file=sys.stderr,
                    flush=True,
                )

        try:
            report = await fuzz(
                client,
                args.examples,
                args.seed,
                endpoints=args.endpoint or None,
                timeout_s=args.timeout,
                clock=clock,
                progress=progress,
            )
        finally:
            await client.close()
            await rasa.close()
    print(f"database: {'postgresql' if args.postgres else 'sqlite'}")
    print(report.render())
    print(
        f"reproduce: backend/.venv/bin/python bench/fuzz_gateway.py --examples {args.examples} --seed {args.seed}"
        + (f" --postgres --postgres-db {args.postgres_db}" if args.postgres else "")
        + (f" --rasa-jitter {args.rasa_jitter} --wechat-deadline {args.wechat_deadline}" if args.rasa_jitter else "")
        + "".join(f" --endpoint {e}" for e in args.endpoint or [])
    )
    return 1 if report.failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="number of inputs (round-robin over endpoints)")
    parser.add_argument("--seed", type=int, default=None, help="seed (random when omitted; always printed)")
    parser.add_argument(
        "--endpoint", action="append", choices=[e.name for e in ENDPOINTS], help="only this endpoint (repeatable)"
    )
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432 instead of SQLite")
    parser.add_argument(
        "--postgres-db",
        default=os.environ.get("HUANXIN_PG_FUZZ_DB", "huanxin_fuzz"),
        help="database to (re)create the schema in (default huanxin_fuzz; it is wiped)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before an input counts as a hang")
    parser.add_argument(
        "--rasa-jitter",
        type=float,
        default=0.0,
        help="the fake Rasa waits up to this many seconds per turn (with a short --wechat-deadline "
        "it exercises WeChat's late replies through the customer-service API)",
    )
    parser.add_argument("--wechat-deadline", type=float, default=4.5, help="WECHAT_REPLY_DEADLINE for the run")
    parser.add_argument("--progress", type=int, default=500, help="print progress every N inputs (0: never)")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = secrets.randbelow(2**32)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
