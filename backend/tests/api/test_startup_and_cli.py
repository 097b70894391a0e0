"""Start-up refuses a bad policy file or missing secrets; the CLI commands work."""

import logging
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import ledger
from huanxin_testkit.ledger_cli import ledger_in_process, ledger_process
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
    result = ledger_process(["serve"], env, timeout=60)  # this file's one real `ledger` process
    assert result.returncode == 2
    assert "PolicyError" in result.stderr and "lock_minute" in result.stderr


def test_serving_without_the_api_token_or_salt_is_refused_clearly():
    with pytest.raises(SettingsError) as exc:
        init_app(Settings(api_token=None, id_hash_salt=None))
    assert "LEDGER_API_TOKEN" in str(exc.value) and "ID_HASH_SALT" in str(exc.value)


def test_cli_migrate_seed_and_generate_on_sqlite(tmp_path):
    env = {**os.environ, "ID_HASH_SALT": "s", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"}
    for args in (["migrate"], ["seed-demo"], ["seed-demo"], ["generate", "300"]):
        result = ledger_in_process(args, env)  # main() in this process (the real one: ledger serve above)
        assert result.returncode == 0, result.stderr
    assert "borrowers=300" in result.stdout


def test_main_in_process_returns_its_status_and_leaves_logging_as_it_found_it(tmp_path, monkeypatch):
    """The tests call ledger.cli.main() in their own process, many times: it gives its exit
    status (argparse's as SystemExit) and leaves no handler behind on a stream of its own."""
    from ledger.cli import main

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as in a fresh process: main() adds its own
    monkeypatch.setattr(root, "level", logging.WARNING)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("ID_HASH_SALT", "s")
    assert main(["create-token"]) == 0
    assert main(["bind-channel", "--borrower", "b", "--channel", "wechat"]) == 2  # neither --address nor --unbind
    with pytest.raises(SystemExit) as exc:
        main(["bind-channel", "--channel", "pigeon"])
    assert exc.value.code == 2
    assert (root.handlers, root.level) == ([], logging.WARNING)


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
