"""Issue 12's "done when" through the real stack (scripts/e2e.sh: Rasa, action server, ledger,
the gateway and the analytics consumer): two web conversations held through the gateway reach
the analyst's overview, funnel and review with the right facts and outcomes.

- A verifies (D5), hears the status, asks for a person: verified, furthest step
  status_explained, escalated (request_human), no outcome.
- B greets and says goodbye; the widget is asked for a rating and gives 5: not escalated, said
  goodbye, CSAT 5.

The stack is shared with the other e2e tests, so the overview and funnel are compared before
and after (the web channel, today): the two conversations add exactly their own figures."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import aiohttp
import pytest
from stack_helpers.e2e_stack import DEMO, conversation_facts, create_desk_account, http_json
from stack_helpers.web_chat import WebChat

FACTS_S = 30.0  # the consumer stores a turn's events within about a second; slack for a loaded machine


@pytest.fixture(scope="module")
def analyst(database_url) -> tuple[str, str]:
    return create_desk_account(database_url, "analyst", "E2E")


async def _insights(gateway_url: str, login: tuple[str, str], paths: list[str]) -> list[Any]:
    """Logs in as the analyst (the desk's login form) and reads these /insights/api paths."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        form = await (await http.get(f"{gateway_url}/desk/login")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf, form[:400]
        signed_in = await http.post(
            f"{gateway_url}/desk/login",
            data={"csrf": csrf.group(1), "username": login[0], "password": login[1]},
            allow_redirects=False,
        )
        assert signed_in.status == 303, await signed_in.text()
        answers = []
        for path in paths:
            response = await http.get(gateway_url + path)
            assert response.status == 200, (path, response.status, await response.text())
            answers.append(await response.json())
        return answers


def insights(gateway_url: str, login: tuple[str, str], *paths: str) -> list[Any]:
    return asyncio.run(_insights(gateway_url, login, list(paths)))


WEB_TODAY = "?channel=web&group=all"


def counts(overview: dict, funnel: dict) -> dict[str, Any]:
    total = overview["total"]
    n = total["conversations"]
    return {
        "conversations": n,
        "escalated": round((total["escalation_rate"] or 0) * n),
        "request_human": round((total["escalation_by_reason"].get("request_human") or 0) * n),
        "csat_count": total["csat_count"],
        "csat_sum": round((total["csat_average"] or 0) * total["csat_count"]),
        "reached": {s["step"]: s["reached"] for s in funnel["total"]["steps"]},
    }


def test_conversations_through_the_stack_reach_the_overview_funnel_and_review(gateway_url, analyst, database_url):
    before = counts(
        *insights(gateway_url, analyst, "/insights/api/overview" + WEB_TODAY, "/insights/api/funnel?channel=web")
    )

    who = DEMO["D5"]
    a = WebChat(gateway_url, language="en")
    b = WebChat(gateway_url, language="en")
    try:
        assert who.name in a.verify(who, "how much do I owe?").text
        assert a.say("I want to talk to a person").text
        assert b.say("hello").text
        assert b.say("bye").text
        rated = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the rating is asked once the goodbye's turn is stored
            rated = http_json(
                "POST",
                f"{gateway_url}/api/chat/conversations/{b.conversation_id}/csat",
                {"score": 5},
                headers={"X-Client-Token": b.token},
            )
            if rated[0] != 409:
                break
            time.sleep(0.3)
        assert rated is not None and rated[0] == 201, rated
        again = http_json(
            "POST",
            f"{gateway_url}/api/chat/conversations/{b.conversation_id}/csat",
            {"score": 1},
            headers={"X-Client-Token": b.token},
        )
        assert again[0] == 409, again
    finally:
        a.close()
        b.close()

    # the facts, as the stack's consumer wrote them (a web conversation's Rasa sender is its id)
    fa = conversation_facts(database_url, a.conversation_id, ready=lambda r: r["escalated"], seconds=FACTS_S)
    fb = conversation_facts(database_url, b.conversation_id, ready=lambda r: r["csat"] == 5, seconds=FACTS_S)
    assert fa and fa["escalated"] and fa["escalation_reason"] == "request_human", fa
    assert fa["verified"] and fa["furthest_step"] == "status_explained" and fa["outcome"] == "none", fa
    assert fa["channel"] == "web" and fa["gateway_conversation_id"] == a.conversation_id, fa
    assert fb and fb["csat"] == 5 and fb["said_goodbye"] and not fb["escalated"], fb
    assert fb["verification"] == "not_asked" and fb["furthest_step"] == "started", fb

    overview, funnel, escalated, rated_list, transcript = insights(
        gateway_url,
        analyst,
        "/insights/api/overview" + WEB_TODAY,
        "/insights/api/funnel?channel=web",
        "/insights/api/conversations?channel=web&escalated=yes&step=status_explained",
        "/insights/api/conversations?channel=web&escalated=no",
        f"/insights/api/conversations/{b.conversation_id}",
    )
    after = counts(overview, funnel)
    assert after["conversations"] - before["conversations"] == 2
    assert after["escalated"] - before["escalated"] == 1
    assert after["request_human"] - before["request_human"] == 1
    assert (after["csat_count"] - before["csat_count"], after["csat_sum"] - before["csat_sum"]) == (1, 5)
    gained = {step: after["reached"][step] - before["reached"][step] for step in after["reached"]}
    assert gained["started"] == 2 and gained["verified"] == 1 and gained["status_explained"] == 1, gained
    assert gained["hardship_collected"] == 0 and gained["committed"] == 0, gained

    line_a = next(c for c in escalated["conversations"] if c["conversation_id"] == a.conversation_id)
    assert (line_a["furthest_step"], line_a["outcome"], line_a["escalated"]) == ("status_explained", "none", True)
    line_b = next(c for c in rated_list["conversations"] if c["conversation_id"] == b.conversation_id)
    assert (line_b["csat"], line_b["outcome"], line_b["language"]) == (5, "none", "en")
    assert transcript["facts"]["csat"] == 5
    assert [m.get("score") for m in transcript["messages"] if m.get("name") == "csat"] == [5]
    for secret in (who.phone, who.dob):
        assert secret not in str(escalated) + str(transcript)
