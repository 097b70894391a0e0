"""After PostgreSQL drops the pool's connections (a restart, a failover, an idle timeout),
the next request succeeds: connections are checked before use (pool_pre_ping), on the ORM
path and on the asyncpg status path alike."""

import asyncpg
import pytest

from .conftest import PG_ADMIN_URL, PG_TEST_DB
from .helpers import as_borrower, loan_number


async def terminate_pool_connections() -> int:
    """What a server restart does to the pool: every server connection to the test database ends."""
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            PG_TEST_DB,
        )
    finally:
        await conn.close()
    return len(rows)


@pytest.fixture
def pg_only(settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("the connections to drop are PostgreSQL's")


async def test_requests_succeed_after_the_servers_connections_are_terminated(pg_only, client, demo):
    headers = await as_borrower(client, "D1")
    status_url = f"/api/v1/loans/{loan_number('D1')}/status"
    assert (await client.get(status_url, headers=headers)).status == 200
    assert await terminate_pool_connections() >= 1
    resp = await client.get(status_url, headers=headers)  # asyncpg hot path
    assert resp.status == 200, await resp.text()
    assert await terminate_pool_connections() >= 1
    resp = await client.get(f"/api/v1/loans/{loan_number('D1')}/promises", headers=headers)  # ORM path
    assert resp.status == 200, await resp.text()
    assert await terminate_pool_connections() >= 1
    await as_borrower(client, "D2", "conv-2")  # a write on the ORM path
    assert await terminate_pool_connections() >= 1
    resp = await client.get("/healthz")
    assert resp.status == 200, await resp.text()


async def test_a_connection_lost_mid_request_on_the_asyncpg_path_is_503_not_500(pg_only, client, demo, monkeypatch):
    from ledger.services import status_pg

    headers = await as_borrower(client, "D1")

    async def dropped(*args, **kwargs):
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr(status_pg, "loan_status", dropped)
    resp = await client.get(f"/api/v1/loans/{loan_number('D1')}/status", headers=headers)
    assert resp.status == 503 and (await resp.json())["code"] == "temporarily_unavailable"
