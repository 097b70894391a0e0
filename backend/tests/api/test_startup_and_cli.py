"""Start-up refuses a bad policy file or missing secrets; the CLI commands work."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import ledger
from ledger.domain.errors import PolicyError
from ledger.policy_file import DEFAULT_POLICY_FILE
from ledger.settings import Settings, SettingsError
from ledger.web.app import init_app

DEFAULT_POLICY = Path(ledger.__file__).parent / DEFAULT_POLICY_FILE


def bad_policy(tmp_path) -> Path:
    text_ = DEFAULT_POLICY.read_text(encoding="utf-8")
    assert "lock_minutes:" in text_
    path = tmp_path / "policy.yaml"
    path.write_text(text_.replace("lock_minutes:", "lock_minutez:", 1), encoding="utf-8")
    return path


def test_a_policy_file_with_a_wrong_key_stops_the_app_factory(tmp_path):
    settings = Settings(api_token="t", id_hash_salt="s", policy_file=bad_policy(tmp_path))
    with pytest.raises(PolicyError) as exc:
        init_app(settings)
    assert "lock_minute" in str(exc.value)


def test_a_policy_file_with_a_wrong_key_stops_ledger_serve(tmp_path):
    env = {
        **os.environ,
        "LEDGER_API_TOKEN": "t",
        "ID_HASH_SALT": "s",
        "LEDGER_POLICY_FILE": str(bad_policy(tmp_path)),
        "LEDGER_PORT": "1",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "PolicyError" in result.stderr and "lock_minute" in result.stderr


def test_serving_without_the_api_token_or_salt_is_refused_clearly():
    with pytest.raises(SettingsError) as exc:
        init_app(Settings(api_token=None, id_hash_salt=None))
    assert "LEDGER_API_TOKEN" in str(exc.value) and "ID_HASH_SALT" in str(exc.value)


def test_cli_migrate_seed_and_generate_on_sqlite(tmp_path):
    env = {**os.environ, "ID_HASH_SALT": "s", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"}
    for args in (["migrate"], ["seed-demo"], ["seed-demo"], ["generate", "300"]):
        result = subprocess.run(
            [sys.executable, "-m", "ledger.cli", *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
    assert "borrowers=300" in result.stdout


async def test_generated_portfolio_mixes_buckets(client):

    from ledger.db import repositories as repo
    from ledger.domain.account import derive_status
    from ledger.services.records import load_records
    from ledger.services.seeding import generate_portfolio
    from ledger.web.keys import ENGINE, LEDGER

    from .conftest import SALT

    ledger_ = client.app[LEDGER]
    counts = await generate_portfolio(client.app[ENGINE], 200, salt=SALT, today=ledger_.today())
    assert counts["borrowers"] == 200
    buckets = set()
    async with ledger_.sessions() as session:
        for i in range(0, 200, 7):
            loan = await repo.loan_by_number(session, f"SY{i:010d}")
            records = await load_records(session, loan)
            status = derive_status(records.contract, records.payment_records, (), ledger_.today(), ledger_.policy)
            buckets.add(status.bucket)
    assert {"M0", "M1", "M2"} <= buckets


async def test_the_audit_log_refuses_updates_and_deletes_on_postgresql(client, demo):
    from ledger.web.keys import ENGINE

    engine = client.app[ENGINE]
    if engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError):
            async with engine.begin() as conn:
                await conn.execute(text(statement))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LEDGER_WORKERS", "two", "LEDGER_WORKERS must be an integer"),
        ("LEDGER_WORKERS", "0", "LEDGER_WORKERS must be between 1 and 64"),
        ("LEDGER_PORT", "80a", "LEDGER_PORT must be an integer"),
    ],
)
def test_bad_server_settings_are_refused_naming_the_variable(name, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({name: value})


def test_worker_count_and_port_are_read_from_the_environment():
    settings = Settings.from_env({"LEDGER_WORKERS": "3", "LEDGER_PORT": "18081"})
    assert (settings.workers, settings.port) == (3, 18081)
