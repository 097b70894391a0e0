from datetime import timedelta
from pathlib import Path

from ledger.web.keys import LEDGER

from .conftest import AUTH
from .helpers import as_borrower, audit_actions, evaluate, loan_number


def promise(client, headers, key, amount="300.00", days=3):
    when = (client.app[LEDGER].today() + timedelta(days=days)).isoformat()
    return client.post(
        f"/api/v1/loans/{loan_number(key)}/promises", headers=headers, json={"amount": amount, "promised_date": when}
    )


async def test_one_open_promise_per_loan_within_the_window(client, demo):
    headers = await as_borrower(client, "D1")
    resp = await promise(client, headers, "D1")
    assert resp.status == 201 and (await resp.json())["state"] == "open"
    again = await promise(client, headers, "D1")
    assert again.status == 422 and (await again.json())["reason"] == "open_promise_exists"
    listed = await (await client.get(f"/api/v1/loans/{loan_number('D1')}/promises", headers=headers)).json()
    assert [p["state"] for p in listed["promises"]] == ["open"]
    status = await (await client.get(f"/api/v1/loans/{loan_number('D1')}/status", headers=headers)).json()
    assert status["open_promise"]["amount"] == "300.00"
    assert "promise_made" in await audit_actions(client, demo["D1"])


async def test_promise_rules_refuse_dates_and_amounts_outside_the_policy(client, demo):
    headers = await as_borrower(client, "D1")
    late = await promise(client, headers, "D1", days=15)  # M1: 14 days at most
    assert (await late.json())["reason"] == "date_out_of_window"
    past = await promise(client, headers, "D1", days=-1)
    assert (await past.json())["reason"] == "date_out_of_window"
    too_much = await promise(client, headers, "D1", amount="999999.00")
    assert (await too_much.json())["reason"] == "amount_out_of_range"
    headers2 = await as_borrower(client, "D2", "c2")
    m2_late = await promise(client, headers2, "D2", days=8)  # M2: 7 days at most
    assert (await m2_late.json())["reason"] == "date_out_of_window"
    assert (await promise(client, headers2, "D2", days=7)).status == 201


async def test_a_refused_date_says_the_latest_allowed_date(client, demo):
    today = client.app[LEDGER].today()
    headers = await as_borrower(client, "D1")
    late = await promise(client, headers, "D1", days=20)  # M1: 14 days at most
    body = await late.json()
    assert late.status == 422 and body["reason"] == "date_out_of_window"
    assert body["latest_date"] == (today + timedelta(days=14)).isoformat() and body["max_days"] == 14
    headers2 = await as_borrower(client, "D2", "c2")
    body2 = await (await promise(client, headers2, "D2", days=9)).json()  # M2: 7 days at most
    assert body2["latest_date"] == (today + timedelta(days=7)).isoformat() and body2["max_days"] == 7
    too_much = await (await promise(client, headers, "D1", amount="999999.00")).json()
    assert "latest_date" not in too_much and "max_days" not in too_much


async def test_d7_open_dispute_pauses_promises(client, demo):
    headers = await as_borrower(client, "D7")
    resp = await promise(client, headers, "D7")
    assert resp.status == 422 and (await resp.json())["reason"] == "dispute_open"


async def test_a_dispute_gets_a_case_number_and_pauses_offers_and_promises(client, demo):
    headers = await as_borrower(client, "D4")
    resp = await client.post(
        f"/api/v1/loans/{loan_number('D4')}/disputes",
        headers=headers,
        json={"reason": "amount is wrong", "details": "I paid instalment 6"},
    )
    assert resp.status == 201
    dispute = await resp.json()
    today = client.app[LEDGER].today()
    assert dispute["case_number"].startswith(f"DSP-{today.year}-") and len(dispute["case_number"]) == 15
    assert dispute["reply_due_by"] == (today + timedelta(days=15)).isoformat()
    second = await client.post(f"/api/v1/loans/{loan_number('D4')}/disputes", headers=headers, json={"reason": "x"})
    assert second.status == 409 and (await second.json())["case_number"] == dispute["case_number"]
    assert (await (await promise(client, headers, "D4")).json())["reason"] == "dispute_open"
    evaluation = await evaluate(client, headers, "D4")
    assert not any(p["eligible"] for p in evaluation["plans"])
    assert "dispute_opened" in await audit_actions(client, demo["D4"])


async def test_contact_preferences_escalations_and_complaints_are_recorded_and_audited(client, demo):
    headers = await as_borrower(client, "D1")
    url = f"/api/v1/borrowers/{demo['D1']}/contact-preferences"
    resp = await client.put(url, headers=headers, json={"stop_all": False, "opted_out_channels": ["sms", "phone"]})
    assert resp.status == 200 and (await resp.json())["opted_out_channels"] == ["phone", "sms"]
    profile = await (await client.get(f"/api/v1/borrowers/{demo['D1']}", headers=headers)).json()
    assert profile["contact_preferences"]["opted_out_channels"] == ["phone", "sms"]
    assert profile["loans"] == [{"loan_number": loan_number("D1"), "product": "fenfu"}]
    esc = await client.post(
        "/api/v1/escalations",
        headers=headers,
        json={"conversation_id": "conv-1", "reason": "request_human", "summary": "wants a person"},
    )
    assert esc.status == 201 and (await esc.json())["borrower_linked"] is True
    anon = await client.post(
        "/api/v1/escalations", headers=AUTH, json={"conversation_id": "conv-x", "reason": "fallback", "summary": "?"}
    )
    assert (await anon.json())["borrower_linked"] is False
    comp = await client.post("/api/v1/complaints", headers=headers, json={"conversation_id": "conv-1", "text": "rude"})
    assert comp.status == 201
    actions = await audit_actions(client, demo["D1"])
    for action in ("contact_preferences_changed", "escalation_created", "complaint_filed", "profile_disclosed"):
        assert action in actions


async def test_escalations_and_complaints_get_short_case_numbers_in_order(client, demo):
    """A borrower is given ESC-<year>-<six digits> to quote, numbered in order across hand-offs
    and complaints (each complaint has its hand-off); never the record's id."""
    year = client.app[LEDGER].today().year
    numbers = []
    for conversation in ("conv-a", "conv-b"):
        resp = await client.post(
            "/api/v1/escalations",
            headers=AUTH,
            json={"conversation_id": conversation, "reason": "fallback", "summary": "?"},
        )
        body = await resp.json()
        assert resp.status == 201 and body["case_number"] != body["escalation_id"]
        numbers.append(body["case_number"])
    comp = await client.post("/api/v1/complaints", headers=AUTH, json={"conversation_id": "conv-c", "text": "rude"})
    numbers.append((await comp.json())["case_number"])
    assert numbers == [f"ESC-{year}-000001", f"ESC-{year}-000002", f"ESC-{year}-000003"]


async def test_policy_texts_come_from_the_policy_file(client):
    resp = await client.get("/api/v1/policy/texts", headers=AUTH)
    texts = {t["key"]: t for t in (await resp.json())["texts"]}
    assert texts["fee_rules"]["en"] == client.app[LEDGER].policy.texts.fee_rules.en
    assert "征信" in texts["consequences"]["zh"]


async def test_policy_terms_come_from_the_policy_file(client):
    """The figures the bot says before a record exists (the dispute reply time) and the channels
    the lender uses: from the policy the ledger runs, never a constant of the bot's."""
    resp = await client.get("/api/v1/policy/terms", headers=AUTH)
    assert resp.status == 200
    policy = client.app[LEDGER].policy
    assert await resp.json() == {
        "dispute_reply_days": policy.disputes.reply_days,
        "contact_channels": list(policy.contact.channels),
    }


async def test_policy_terms_follow_a_changed_policy(aiohttp_client, settings, clock, tmp_path):
    from dataclasses import replace

    from ledger.policy_file import load_policy
    from ledger.services.seeding import seed_demo
    from ledger.web.app import init_app

    from .conftest import SALT, clean

    await clean(settings.database_url)
    policy = load_policy()
    changed = replace(
        policy,
        disputes=replace(policy.disputes, reply_days=10),
        contact=replace(policy.contact, channels=("sms", "phone")),
    )
    # the cadence names only channels of the policy (start-up checks it): no web notices here
    import ledger as ledger_package
    from ledger.cadence_file import DEFAULT_CADENCE_FILE

    cadence = tmp_path / "cadence.yaml"
    default_cadence = (Path(ledger_package.__file__).parent / DEFAULT_CADENCE_FILE).read_text("utf-8")
    cadence.write_text(default_cadence.replace("[sms, web]", "[sms]").replace("[web, sms]", "[sms]"), "utf-8")
    client = await aiohttp_client(init_app(replace(settings, cadence_file=cadence), clock=clock, policy=changed))
    ledger = client.app[LEDGER]
    await seed_demo(ledger.sessions, salt=SALT, today=ledger.today())
    terms = await (await client.get("/api/v1/policy/terms", headers=AUTH)).json()
    assert terms == {"dispute_reply_days": 10, "contact_channels": ["sms", "phone"]}
    headers = await as_borrower(client, "D1")
    resp = await client.post(
        f"/api/v1/loans/{loan_number('D1')}/disputes", headers=headers, json={"reason": "not my loan"}
    )
    assert (await resp.json())["reply_due_by"] == (ledger.today() + timedelta(days=10)).isoformat()


async def test_policy_terms_need_a_token(client):
    resp = await client.get("/api/v1/policy/terms", headers={"Authorization": "Bearer nope"})
    assert resp.status == 401


async def test_a_locked_out_borrower_can_be_escalated_with_its_own_reason(client, demo):
    resp = await client.post(
        "/api/v1/escalations",
        headers=AUTH,
        json={"conversation_id": "conv-locked", "reason": "verification_locked", "summary": "three wrong answers"},
    )
    assert resp.status == 201


async def test_every_answer_names_the_policy_it_was_given_under(aiohttp_client, client, settings, clock):
    """X-Policy-Version on every answer, errors included: the action server keeps the policy's
    texts and terms until an answer names another version (docs/contracts.md)."""
    from dataclasses import replace

    from ledger.policy_file import load_policy
    from ledger.web.app import init_app

    answers = [
        await client.get("/api/v1/policy/texts", headers=AUTH),
        await client.get("/api/v1/policy/terms", headers=AUTH),
        await client.get(f"/api/v1/loans/{loan_number('D1')}/status", headers=AUTH),  # 4xx: no verification
        await client.get("/api/v1/policy/texts", headers={"Authorization": "Bearer nope"}),  # 401
    ]
    versions = {a.headers.get("X-Policy-Version") for a in answers}
    assert len(versions) == 1 and None not in versions and len(versions.pop()) == 16
    policy = load_policy()
    same = await aiohttp_client(init_app(settings, clock=clock, policy=policy))
    changed = await aiohttp_client(
        init_app(settings, clock=clock, policy=replace(policy, disputes=replace(policy.disputes, reply_days=10)))
    )
    first = (await client.get("/api/v1/policy/terms", headers=AUTH)).headers["X-Policy-Version"]
    assert (await same.get("/api/v1/policy/terms", headers=AUTH)).headers["X-Policy-Version"] == first
    assert (await changed.get("/api/v1/policy/terms", headers=AUTH)).headers["X-Policy-Version"] != first
