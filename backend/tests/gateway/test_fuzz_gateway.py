"""The gateway fuzzer (gw_fuzz.py), bounded: a few hundred seeded inputs over every endpoint of
the table must give no 5xx, no unhandled exception in the server log, no hang. The long run is
bench/fuzz_gateway.py (e.g. --examples 5000, --postgres).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from huanxin_testkit.gw_fakes import fresh_pg_database
from huanxin_testkit.gw_fuzz import ENDPOINTS, fuzz

SEED = int(os.environ.get("HUANXIN_FUZZ_SEED", "20261130"))  # set it to replay another run


async def run(client, clock, examples: int):
    clock.now = datetime.now(UTC)  # signed WeChat timestamps are fresh on either clock
    report = await fuzz(client, examples, SEED, clock=clock)
    assert all(s.inputs > 0 for s in report.stats.values()), "every endpoint of the table got inputs"
    assert not report.failures, report.render()
    return report


async def test_fuzzed_inputs_get_no_5xx_and_crash_nothing_on_sqlite(make_gateway, clock):
    await run(await make_gateway(), clock, 20 * len(ENDPOINTS))


async def test_fuzzed_inputs_get_no_5xx_and_crash_nothing_on_postgresql(make_gateway, clock):
    try:
        url = await fresh_pg_database(os.environ.get("HUANXIN_PG_GATEWAY_DB", "test_gateway"))
    except OSError:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    await run(await make_gateway(database_url=url), clock, 10 * len(ENDPOINTS))
