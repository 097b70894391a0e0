"""Two Rasa instances share one conversation: the SQL tracker store on PostgreSQL holds its
state, the Redis lock store serialises its turns, and the gateway spreads turns over both.
Opt-in (HUANXIN_MULTI_RASA=1); see conftest.py."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
import uuid
from urllib.parse import urlsplit

import aiohttp
import jwt
from stack_helpers.e2e_stack import DEMO, Chat, env_file_value, http_json, status_figures
from stack_helpers.multi_stack import PG, PG_USER

from huanxin_redaction import IDENTITY_ANSWER, MASK

# Messages of the burst leave this far apart, so the order in which they were sent is the
# order in which they reach Rasa's lock store (sent closer than a turn's CPU time, a message
# to a busy instance reaches the lock later than the next one to the idle instance)
GAP_S = 0.25
# questions a verified borrower asks; each answer comes from the ledger through the action server
QUESTIONS = ["我欠多少钱", "罚息是怎么算的", "不还会影响征信吗", "现在怎么还款", "滞纳金是多少", "我欠多少钱？"]


def tracker(rasa_url: str, sender: str) -> dict:
    """Rasa's HTTP API takes an HS256 JWT (--jwt-secret), scoped here to this conversation."""
    secret = os.environ.get("RASA_JWT_SECRET") or env_file_value("RASA_JWT_SECRET") or ""
    token = jwt.encode(
        {"user": {"username": sender, "role": "user"}, "exp": int(time.time()) + 60}, secret, algorithm="HS256"
    )
    status, body = http_json(
        "GET",
        f"{rasa_url}/conversations/{sender}/tracker?include_events=ALL",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 200, f"GET tracker answered {status}: {body!r}"
    return body


def user_and_bot_events(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["event"], e.get("text") or "") for e in events if e["event"] in ("user", "bot")]


def stored_rows(stack, sender: str) -> list[str]:
    host, port = PG.split(":")
    out = subprocess.run(
        [
            "psql",
            "-h",
            host,
            "-p",
            port,
            "-U",
            PG_USER,
            "-d",
            stack.tracker_db,
            "-tA",
            "-c",
            f"select type_name from events where sender_id = '{sender}' order by id",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()


def d1_figures(ledger) -> list[str]:
    who = DEMO["D1"]
    return status_figures(ledger.verify(who).status(who.loan_number), "zh")


def test_one_conversation_alternating_between_instances_keeps_its_verification_and_answers_from_the_ledger(
    stack, ledger
):
    who = DEMO["D1"]
    url_a, url_b = stack.rasa_urls
    on_a = Chat(url_a, "multi-alternate")
    on_b = Chat(url_b, "multi-alternate", sender=on_a.sender)  # one conversation, two instances

    asked = on_a.say("你好，我想查一下账单")
    assert asked.text, "no answer from instance A"
    started = on_b.say("我欠多少钱？")
    assert "手机号" in started, started
    assert "出生日期" in on_a.say(who.phone)  # A continues B's verification form
    assert "身份证" in on_b.say(who.dob)
    verified = on_a.say(who.id_last4)
    assert who.name in verified and who.loan_number in verified, verified
    figures = d1_figures(ledger)
    for figure in figures:  # the question asked on B before verification, answered on A
        assert figure in verified, f"{figure} missing in the answer after verification: {verified}"

    again = on_b.say("我欠多少钱")  # B knows the borrower is verified
    assert "手机号" not in again, again
    for figure in figures:
        assert figure in again, f"{figure} missing in B's answer: {again}"

    # one tracker in PostgreSQL, the same from both instances, identity answers redacted
    seen_a = user_and_bot_events(tracker(url_a, on_a.sender)["events"])
    seen_b = user_and_bot_events(tracker(url_b, on_a.sender)["events"])
    assert seen_a == seen_b
    assert [text for kind, text in seen_a if kind == "user"] == [
        "你好，我想查一下账单",
        "我欠多少钱？",
        MASK,
        MASK,
        MASK,
        "我欠多少钱",
    ]
    rows = stored_rows(stack, on_a.sender)
    assert rows.count("user") == 6 and "bot" in rows


def hold_lock(redis_url: str, sender: str, seconds: float) -> None:
    """Writes the conversation's lock as Rasa's RedisLockStore keeps it (key lock:<sender>, a
    TicketLock as JSON) with one ticket that expires in `seconds`: a turn in progress elsewhere."""
    parsed = urlsplit(redis_url)
    ticket = json.dumps({"number": 1, "expires": time.time() + seconds})
    lock = json.dumps({"conversation_id": sender, "tickets": [ticket]})
    subprocess.run(
        [
            "redis-cli",
            "-h",
            parsed.hostname or "127.0.0.1",
            "-p",
            str(parsed.port or 6379),
            "-n",
            parsed.path.lstrip("/") or "1",
            "SET",
            f"lock:{sender}",
            lock,
        ],
        check=True,
        capture_output=True,
    )


def send_staggered(urls: list[str], sender: str, messages: list[str], gap_s: float) -> list[dict]:
    """Sends message i to urls[i % len(urls)] at start + i * gap_s, each on its own thread,
    without waiting for earlier answers; returns what each request saw and when."""
    results: list[dict] = [{} for _ in messages]
    start = time.monotonic() + 0.2

    def send(i: int) -> None:
        time.sleep(max(0.0, start + i * gap_s - time.monotonic()))
        url = urls[i % len(urls)]
        sent = time.monotonic()
        status, body = http_json(
            "POST", f"{url}/webhooks/rest/webhook", {"sender": sender, "message": messages[i]}, timeout=60
        )
        results[i] = {"url": url, "status": status, "body": body, "sent": sent, "answered": time.monotonic()}

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(messages))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_messages_to_both_instances_are_handled_one_at_a_time_in_send_order(stack):
    who = DEMO["D1"]
    url_a, url_b = stack.rasa_urls
    chat = Chat(url_a, "multi-concurrent")
    verified = chat.verify(who, first_message="我欠多少钱？")
    assert who.loan_number in verified, verified
    before = len([e for e in tracker(url_a, chat.sender)["events"] if e["event"] == "user"])

    # A turn in progress holds the conversation's ticket in the Redis lock store until the whole
    # burst has arrived, so every message of the burst waits, queued, on one of the two instances.
    hold_s = 0.5 + GAP_S * len(QUESTIONS) + 0.5
    hold_lock(stack.redis_lock_url, chat.sender, hold_s)
    results = send_staggered([url_a, url_b], chat.sender, QUESTIONS, gap_s=GAP_S)
    for r in results:
        assert r["status"] == 200 and r["body"], r
    overlapping = sum(1 for prev, nxt in zip(results, results[1:], strict=False) if nxt["sent"] < prev["answered"])
    assert overlapping == len(QUESTIONS) - 1, (
        f"the messages did not overlap, so nothing was concurrent: {[(r['sent'], r['answered']) for r in results]}"
    )

    events = tracker(url_b, chat.sender)["events"]
    turns: list[tuple[str, list[str]]] = []  # each user message of the burst with the bot texts after it
    users_seen = 0
    for e in events:
        if e["event"] == "user":
            users_seen += 1
            if users_seen > before:
                turns.append((e.get("text"), []))
        elif e["event"] == "bot" and turns:
            turns[-1][1].append(e.get("text") or "")
    assert [text for text, _ in turns] == QUESTIONS, "user messages not in send order"
    for (text, bot_texts), r in zip(turns, results, strict=True):
        answered = [m.get("text") or "" for m in r["body"]]
        assert bot_texts, f"no bot answer stored after {text!r}"
        assert bot_texts == answered, f"the answers stored after {text!r} are not the ones its request got"
    # and every stored bot answer follows the user event it answers: the last action before the
    # next user message is action_listen (no turn interleaved with another)
    kinds = [
        e.get("name") if e["event"] == "action" else e["event"]
        for e in events
        if e["event"] in ("user", "action", "bot")
    ]
    for index, kind in enumerate(kinds):
        if kind == "user" and index > 0:
            prior = [k for k in kinds[:index] if k not in ("bot",)]
            assert prior[-1] == "action_listen", (
                f"user event #{index} arrived inside another turn: {kinds[: index + 1]}"
            )
    assert stored_rows(stack, chat.sender).count("user") == before + len(QUESTIONS)


async def _gateway_conversation(gateway_url: str, steps: list[str], burst: list[str]) -> tuple[str, str, list[dict]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gateway_url}/api/chat/conversations", json={"language": "zh"}) as resp:
            assert resp.status == 201, await resp.text()
            conv = await resp.json()
        cid, token = conv["conversation_id"], conv["token"]
        ws_url = f"{gateway_url}/ws/chat"  # the token goes in the first frame, never the URL
        auth = {"type": "auth", "conversation_id": cid, "token": token, "after": 0}

        async def send_and_ack(ws, text: str) -> None:
            client_id = uuid.uuid4().hex
            await ws.send_json({"type": "message", "text": text, "client_msg_id": client_id})
            while True:
                frame = await asyncio.wait_for(ws.receive(), 60)
                assert frame.type == aiohttp.WSMsgType.TEXT, frame
                data = json.loads(frame.data)
                assert data.get("type") != "error", data
                if data.get("type") == "ack" and data.get("client_msg_id") == client_id:
                    return

        async with http.ws_connect(ws_url) as first, http.ws_connect(ws_url) as second:
            await first.send_json(auth)
            await second.send_json(auth)
            for text in steps:  # one after the other: round-robin puts consecutive turns on A, B, A, ...
                await send_and_ack(first, text)

            async def burst_on(ws, texts: list[str], delay: float) -> None:
                await asyncio.sleep(delay)
                for text in texts:
                    await send_and_ack(ws, text)

            # two sockets at once: the gateway's per-conversation lock orders them
            await asyncio.gather(burst_on(first, burst[0::2], 0), burst_on(second, burst[1::2], 0.01))
        async with http.get(
            f"{gateway_url}/api/chat/conversations/{cid}/messages", headers={"X-Client-Token": token}
        ) as resp:
            assert resp.status == 200, await resp.text()
            transcript = (await resp.json())["messages"]
    return cid, token, transcript


def test_gateway_spreads_one_conversation_over_both_instances_and_keeps_one_order(stack, ledger):
    who = DEMO["D1"]
    steps = ["我欠多少钱？", who.phone, who.dob, who.id_last4]
    burst = QUESTIONS[1:5]
    cid, _, transcript = asyncio.run(_gateway_conversation(stack.gateway_url, steps, burst))

    borrower = [m for m in transcript if m["sender"] == "borrower"]
    # the answers to the identity questions are stored redacted, whichever instance asked them
    assert [m["text"] for m in borrower[:4]] == [steps[0]] + [IDENTITY_ANSWER] * 3
    assert sorted(m["text"] for m in borrower[4:]) == sorted(burst)
    assert [m["seq"] for m in transcript] == list(range(1, len(transcript) + 1))
    for index, m in enumerate(transcript):  # each borrower message is followed by its bot answer
        if m["sender"] == "borrower":
            assert index + 1 < len(transcript) and transcript[index + 1]["sender"] == "bot", transcript
    verified_answer = "\n".join(
        m["text"] for m in transcript[transcript.index(borrower[3]) + 1 : transcript.index(borrower[4])]
    )
    for figure in d1_figures(ledger):
        assert figure in verified_answer, f"{figure} missing after verification through the gateway: {verified_answer}"

    # Rasa's tracker (either instance, one PostgreSQL store) has the gateway's order
    stored = [text for kind, text in user_and_bot_events(tracker(stack.rasa_urls[1], cid)["events"]) if kind == "user"]
    expected = [MASK if m["text"] == IDENTITY_ANSWER else m["text"] for m in borrower]  # the tracker's mask
    assert stored == expected
