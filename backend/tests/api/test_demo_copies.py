"""Copies of demo borrowers (`ledger copy-demo`): each starts from the original's state, with
its own phone and loan numbers, shares no record with the original or another copy, and
survives a re-seed of the demo portfolio."""

import json
import os

import pytest

from huanxin_testkit.ledger_cli import ledger_in_process, ledger_process
from ledger.domain.demo import DEMO_BORROWERS
from ledger.services.seeding import seed_demo, seed_demo_copies
from ledger.web.keys import LEDGER

from .conftest import SALT, copy_sqlite
from .helpers import as_borrower, borrower_headers, loan_number, verify

COMPARED = ("days_past_due", "bucket", "overdue", "payoff_amount", "amount_to_bring_current", "next_due")


async def _verify_copy(client, key: str, phone: str, conversation_id: str) -> dict[str, str]:
    return borrower_headers(await verify(client, key, conversation_id, phone=phone), conversation_id)


async def _status(client, headers, number: str) -> dict:
    resp = await client.get(f"/api/v1/loans/{number}/status", headers=headers)
    assert resp.status == 200, await resp.text()
    got = await resp.json()
    return {k: got.get(k) for k in COMPARED} | {"dispute": got["open_dispute"] is not None}


@pytest.mark.parametrize("key", ["D6", "D7", "D8"])  # an arrangement, an open dispute, two loans
async def test_a_copy_starts_where_the_original_is_and_is_its_own_borrower(client, demo, key):
    ledger = client.app[LEDGER]
    first, second = await seed_demo_copies(ledger.sessions, [key, key], salt=SALT, today=ledger.today())
    assert first.phone != second.phone and not set(first.loan_numbers) & set(second.loan_numbers)
    assert first.phone not in {b.phone for b in DEMO_BORROWERS.values()}
    original = await as_borrower(client, key)
    mine = await _verify_copy(client, key, first.phone, "conv-copy-1")
    originals = [loan.key for loan in DEMO_BORROWERS[key].loans]
    for loan_key, number in zip(originals, first.loan_numbers, strict=True):
        assert await _status(client, mine, number) == await _status(client, original, loan_number(loan_key))
        # the original's token does not reach the copy's loan, nor the copy's the original's
        assert (await client.get(f"/api/v1/loans/{number}/status", headers=original)).status == 404
        resp = await client.get(f"/api/v1/loans/{loan_number(loan_key)}/status", headers=mine)
        assert resp.status == 404


async def test_a_reseed_of_the_demo_portfolio_leaves_copies_alone(client, demo):
    ledger = client.app[LEDGER]
    (copy,) = await seed_demo_copies(ledger.sessions, ["D1"], salt=SALT, today=ledger.today())
    assert await seed_demo(ledger.sessions, salt=SALT, today=ledger.today()) == demo
    headers = await _verify_copy(client, "D1", copy.phone, "conv-copy-2")
    assert (await _status(client, headers, copy.loan_numbers[0]))["days_past_due"] == 15


async def test_an_unknown_key_is_refused_and_nothing_is_added(client, demo):
    ledger = client.app[LEDGER]
    with pytest.raises(ValueError, match="no demo borrower D9"):
        await seed_demo_copies(ledger.sessions, ["D1", "D9"], salt=SALT, today=ledger.today())
    (copy,) = await seed_demo_copies(ledger.sessions, ["D2"], salt=SALT, today=ledger.today())
    assert copy.phone == "13900000001"  # the refused call numbered nothing


def test_the_cli_prints_the_copies_and_refuses_unknown_keys(tmp_path, migrated_sqlite):
    db = copy_sqlite(migrated_sqlite, tmp_path / "copy.sqlite3")
    env = {**os.environ, "ID_HASH_SALT": "s", "DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    refused = ledger_in_process(["copy-demo", "D1", "X"], env)
    assert refused.returncode == 2 and "no demo borrower X" in refused.stderr
    done = ledger_process(["copy-demo", "D8", "D1"], env)  # this file's one real `ledger` process
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {"key": "D8", "phone": "13900000001", "loan_numbers": ["HX9000010001", "HX9000010002"]},
        {"key": "D1", "phone": "13900000002", "loan_numbers": ["HX9000020001"]},
    ]


async def test_the_audit_of_a_copy_names_borrowers_never_their_phones(client, demo):
    import json as _json

    from sqlalchemy import select

    from ledger.db.models import AuditEntry

    ledger = client.app[LEDGER]
    (copy,) = await seed_demo_copies(ledger.sessions, ["D3"], salt=SALT, today=ledger.today())
    async with ledger.sessions() as s:
        details = (
            await s.execute(select(AuditEntry.detail).where(AuditEntry.action == "demo_copies_seeded"))
        ).scalars()
        seen = _json.dumps(list(details))
    assert copy.borrower_id in seen and copy.phone not in seen
