"""Issue 15's "Done when": the demo portfolio seeded, the planner and the dispatcher run with the
file sinks (sms, phone, web) at a fixed clock, exactly who got what (D7 nothing: its dispute; D5
a before-due reminder; D4, who answered an earlier text "TD" through the SMS webhook, nothing by
SMS and its reminder on the web instead), then D5 answers the reminder in the web chat (opened
from its link) and, after verification, the bot starts from that reminder with the ledger's
amount; a STOP there opts D5 out of SMS at once.

The test re-seeds the demo portfolio (`ledger seed-demo`, as of today) before and after itself,
so it neither depends on nor leaves behind what other tests of the stack did. The clock is
today at 09:30 in Shanghai: the reminders are delivered "today", which the ledger's reminders
endpoint (the last 7 days) and the bot read.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from stack_helpers.e2e_stack import DEMO, date_text, http_json, money_text, setting
from stack_helpers.web_chat import WebChat

pytestmark = pytest.mark.reseeds_demo

ROOT = Path(__file__).resolve().parents[2]
LEDGER_CLI = ROOT / "backend" / ".venv" / "bin" / "ledger"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def gateway_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8090')}"


def ledger_cli(*args: str, **env: str) -> str:
    done = subprocess.run(
        [str(LEDGER_CLI), *args],
        cwd=ROOT / "backend",
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"ledger {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture
def reseeded(database_url):
    ledger_cli("seed-demo")
    yield
    ledger_cli("seed-demo")  # the next tests find the demo portfolio as seeded


def sms_reply(text: str, phone: str, secret: str | None) -> tuple[int, dict]:
    headers = {"X-Webhook-Secret": secret} if secret is not None else {}
    return http_json("POST", f"{gateway_url()}/api/sms/inbound", {"from": phone, "text": text}, headers)


def sent(out: Path) -> dict[str, list[tuple[str, str, str]]]:
    """channel -> (loan number, reason, text) of every line of its file sink."""
    got: dict[str, list[tuple[str, str, str]]] = {}
    for channel in ("sms", "phone", "web"):
        path = out / "outbound" / f"{channel}.jsonl"
        lines = path.read_text("utf-8").splitlines() if path.exists() else []
        got[channel] = sorted(
            (row["idempotency_key"].split("/")[0], row["reason"], row["text"]) for row in map(json.loads, lines)
        )
    return got


def test_reminders_go_to_exactly_whom_the_rules_allow_and_the_chat_follows_them(reseeded, ledger, tmp_path):
    secret = setting("GATEWAY_SMS_WEBHOOK_SECRET")
    assert secret, "GATEWAY_SMS_WEBHOOK_SECRET is neither in the environment nor in .env.local"
    # D4 answers an earlier text "TD": a wrong secret changes nothing, the right one opts D4 out of SMS
    assert sms_reply("TD", DEMO["D4"].phone, "wrong")[0] == 403
    assert sms_reply("TD", DEMO["D4"].phone, None)[0] == 401
    d4 = ledger.verify(DEMO["D4"])
    assert d4.get(f"/borrowers/{d4.borrower_id}")["contact_preferences"]["opted_out_channels"] == []
    status, body = sms_reply("TD", "+86" + DEMO["D4"].phone, secret)
    assert status == 200 and body["stop"] is True and body["reply"].startswith("【还信】已为您退订"), body
    assert d4.get(f"/borrowers/{d4.borrower_id}")["contact_preferences"]["opted_out_channels"] == ["sms"]

    today = datetime.now(SHANGHAI).date()
    at = datetime.combine(today, time(9, 30), SHANGHAI).isoformat()
    plan = json.loads(ledger_cli("contact-plan", "--at", at))
    assert {(c["loan_number"], c["reason"], c["channel"]) for c in plan["contacts"]} == {
        ("HX0000000001", "dpd_milestone", "sms"),
        ("HX0000000002", "dpd_milestone", "sms"),
        ("HX0000000003", "dpd_milestone", "sms"),
        ("HX0000000004", "dpd_milestone", "web"),  # SMS opted out: the cadence's next channel
        ("HX0000000005", "before_due", "sms"),
        ("HX0000000006", "dpd_milestone", "sms"),
        ("HX0000000008", "dpd_milestone", "sms"),
        ("HX0000000009", "before_due", "sms"),
    }
    assert {h["rule"] for h in plan["held"] if h["loan_number"] == "HX0000000007"} == {"dispute_open"}

    link = f"{gateway_url()}/chat"
    report = json.loads(ledger_cli("outbound", "--at", at, "--out", str(tmp_path), LEDGER_CHAT_LINK=link))
    assert (report["planned"], report["delivered"], report["failed"]) == (8, 8, 0), report
    got = sent(tmp_path)
    assert [(loan, reason) for loan, reason, _ in got["sms"]] == [
        ("HX0000000001", "dpd_milestone"),
        ("HX0000000002", "dpd_milestone"),
        ("HX0000000003", "dpd_milestone"),
        ("HX0000000005", "before_due"),
        ("HX0000000006", "dpd_milestone"),
        ("HX0000000008", "dpd_milestone"),
        ("HX0000000009", "before_due"),
    ]
    assert [(loan, reason) for loan, reason, _ in got["web"]] == [("HX0000000004", "dpd_milestone")]
    assert got["phone"] == []
    assert not any(loan == "HX0000000007" for lines in got.values() for loan, _, _ in lines)  # D7: dispute
    # a second pass at the same clock sends nothing again
    again = json.loads(ledger_cli("outbound", "--at", at, "--out", str(tmp_path), LEDGER_CHAT_LINK=link))
    assert (again["planned"], again["delivered"]) == (0, 0) and sent(tmp_path) == got

    # D5 opens the chat from the reminder's link and asks what it owes
    (d5_text,) = [text for loan, _, text in got["sms"] if loan == "HX0000000005"]
    assert "回复 TD 退订" in d5_text
    ref = re.search(re.escape(link) + r"\?r=(r[0-9a-z]+)$", d5_text).group(1)
    who = DEMO["D5"]
    chat = WebChat(gateway_url(), reminder_ref=ref)
    first = chat.say("我欠多少钱")
    assert first.text and "提醒" not in first.text and not re.search(r"\d[\d,]*\.\d{2}", first.text), first
    chat.say(who.phone)
    chat.say(who.dob)
    answer = chat.say(who.id_last4)
    status_now = ledger.verify(who).status("HX0000000005")
    next_due = status_now["next_due"]
    opening = (
        f"您收到的提醒是关于尾号0005的借款第3期，{date_text(next_due['due_date'], 'zh')}到期，"
        f"应还 {money_text(next_due['amount'], 'zh')}。"
    )
    assert opening in answer.text, answer

    # a STOP in that chat opts D5 out of the reminder's channel (SMS) at once, confirmed
    stopped = chat.say("TD")
    assert "已为您退订" in stopped.text, stopped
    d5 = ledger.verify(who)
    assert d5.get(f"/borrowers/{d5.borrower_id}")["contact_preferences"]["opted_out_channels"] == ["sms"]
