"""Each sent reminder carries its reference (in the web chat link when LEDGER_CHAT_LINK is set),
and the reminders a verified borrower reads carry the same reference: what a conversation opened
from the link starts from (docs/outbound.md)."""

from __future__ import annotations

import re
from datetime import UTC, date

import pytest

from ledger.domain.reminder_refs import contact_id_of, reminder_ref, with_link

from .conftest import SALT
from .test_outbound import NOW, lines, run_dispatch, seeded, sinks


@pytest.mark.parametrize("n", [1, 35, 36, 1295, 10**12])
def test_a_reference_names_its_contact(n):
    ref = reminder_ref(n)
    assert re.fullmatch(r"r[0-9a-z]+", ref) and contact_id_of(ref) == n


@pytest.mark.parametrize("text", ["", "r", "R1", "r-1", "r1 ", "x1", "r" + "z" * 13, None, 5])
def test_anything_else_names_no_contact(text):
    assert contact_id_of(text) is None


def test_the_link_carries_the_reference():
    assert with_link("【还信】…回复 TD 退订", "r1a", "https://hx.example/chat") == (
        "【还信】…回复 TD 退订 https://hx.example/chat?r=r1a"
    )
    assert with_link("t", "r1a", "https://hx.example/chat?lang=en").endswith("chat?lang=en&r=r1a")
    assert with_link("t", "r1a", None) == "t [r1a]"


async def test_every_sent_reminder_links_to_the_chat_with_its_reference(database_url, tmp_path):
    await seeded(database_url)
    await run_dispatch(database_url, NOW, sinks(tmp_path), chat_link="http://chat.test/chat")
    sent = lines(tmp_path)
    assert len(sent) == 6
    refs = [re.search(r" http://chat\.test/chat\?r=(r[0-9a-z]+)$", line["text"]) for line in sent]
    assert all(refs), [line["text"] for line in sent]
    assert len({r.group(1) for r in refs}) == 6  # one reference per reminder


async def test_the_reminders_read_after_verification_carry_the_links_reference(client, clock, settings, tmp_path):
    from ledger.services.seeding import seed_demo
    from ledger.web.keys import LEDGER

    from .helpers import as_borrower

    clock.now = NOW.astimezone(UTC)
    ids = await seed_demo(client.app[LEDGER].sessions, salt=SALT, today=date(2026, 12, 1))
    await run_dispatch(settings.database_url, NOW, sinks(tmp_path), chat_link="http://chat.test/chat")
    (d5_line,) = [line for line in lines(tmp_path) if line["idempotency_key"].startswith("HX0000000005/")]
    headers = await as_borrower(client, "D5", "conv-d5")
    resp = await client.get(f"/api/v1/borrowers/{ids['D5']}/reminders", headers=headers)
    [reminder] = (await resp.json())["reminders"]
    assert d5_line["text"].endswith(f"?r={reminder['ref']}")
