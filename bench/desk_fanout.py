"""Desk fan-out: the delay from a borrower's message to every agent desk that shows it, with 50
agents on the desk and 5,000 open conversations, and the gateway's CPU per message.

1. A fresh database (SQLite file by default; --db pg: DESK_FANOUT_DB on PostgreSQL, default
   huanxin_bench_fanout, dropped and created again), migrated and seeded with the demo ledger.
2. Seeded straight through the gateway's tables (gateway/db.py), not over HTTP: --agents desk
   accounts (the first --supervisors of them supervisors) each with a live session, and
   --conversations open web conversations with two messages each: --with-desk of them handed
   to the desk (--assigned-per-agent taken by each agent, the rest waiting), the others live
   with the bot.
3. The gateway (python -m gateway) on --port-base + 91, in front of a stub Rasa that answers
   every turn at once with two messages (bench/turn_cost.py's stub).
4. The desk's queue (GET /desk/api/queue) loaded --queue-loads times by an agent and by a
   supervisor: the first load (nothing cached) and the median of the others; then each of
   --filtered queries (filters and search, docs/agent-desk.md) the same way, with the gateway's
   CPU per request. --linked links that many of the desk's conversations to the demo borrowers
   (a verification row each, as the bot's) so the summaries behind bucket and search have names,
   buckets, case and loan numbers to read; --no-fanout stops after the queue loads.
5. Every agent's desk WebSocket open; --senders borrowers' chat WebSockets open (spread over the
   conversations in proportion to their states); borrower messages sent at --rate a second for
   --seconds, round robin over the senders. For each message: the delay from sending it until
   the last desk that should show it received it (supervisors see every conversation; an agent
   the ones nobody has and their own, as desk_web._visible says), p50/p99/max; the deliveries
   made against those expected (and any made to a desk that should not have it); the gateway's
   CPU per message (user + system from /proc) and this client's.

One client process holds every socket (its CPU is printed: when it nears one core, its own
queueing is in the delays). Not a test: it asserts nothing. Logs in var/bench-desk-fanout/.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp

import benchlib  # bench/ is on sys.path when run as bench/desk_fanout.py
import turn_cost

REPO = benchlib.REPO
BACKEND = REPO / "backend"
WORK = REPO / "var" / "bench-desk-fanout"
PORT_BASE = 23000  # --port-base: the gateway on base + 91, the stub Rasa on base + 291
FILTERED = (
    "filter=waiting&waiting_min=1",
    "reason=request_human&language=zh",
    "bucket=M1",
    "q=HX0000000001",
    "q=zzzz",
    "filter=waiting&bucket=M3%2B&q=ESC",
)


def letters(n: int) -> str:
    """n in base 26 as lowercase letters: a message marker no identity-number masking touches."""
    out = ""
    while True:
        n, r = divmod(n, 26)
        out = chr(97 + r) + out
        if n == 0:
            return out


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()  # as gateway.conversations.hash_token


async def seed(database_url: str, args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """Agents with live sessions and open conversations, written with the gateway's tables in a
    few bulk INSERTs; returns (agents, conversations) with the tokens the bench needs."""
    sys.path.insert(0, str(BACKEND / "src"))
    from argon2 import PasswordHasher
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    from gateway.db import Agent, AgentSession, Conversation, Message

    now = datetime.now(UTC)
    password_hash = PasswordHasher().hash(secrets.token_urlsafe(16))  # nobody logs in with it
    agents = []
    for i in range(args.agents):
        role = "supervisor" if i < args.supervisors else "agent"
        agents.append({"username": f"{role}.{i:02d}", "role": role, "token": secrets.token_urlsafe(32)})
    working = [a for a in agents if a["role"] == "agent"]
    convs = []
    assigned_total = args.assigned_per_agent * len(working)
    for i in range(args.conversations):
        if i < args.with_desk:
            state = "agent"
            assigned = working[i % len(working)]["username"] if i < assigned_total and working else None
        else:
            state, assigned = "bot", None
        convs.append(
            {"id": secrets.token_hex(16), "token": secrets.token_urlsafe(32), "state": state, "assigned": assigned}
        )
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as c:
            await c.execute(
                insert(Agent.__table__),
                [
                    {
                        "username": a["username"],
                        "display_name": a["username"].replace(".", " ").title(),
                        "password_hash": password_hash,
                        "role": a["role"],
                        "active": True,
                        "created_at": now,
                    }
                    for a in agents
                ],
            )
            await c.execute(
                insert(AgentSession.__table__),
                [
                    {
                        "token_hash": token_hash(a["token"]),
                        "username": a["username"],
                        "csrf_token": secrets.token_urlsafe(32),
                        "created_at": now,
                        "expires_at": now + timedelta(hours=8),
                    }
                    for a in agents
                ],
            )
            for start in range(0, len(convs), 1000):
                chunk = convs[start : start + 1000]
                rows, messages = [], []
                for n, conv in enumerate(chunk):
                    at = now - timedelta(milliseconds=20 * (len(convs) - start - n))  # distinct, none idle
                    rows.append(
                        {
                            "id": conv["id"],
                            "channel": "web",
                            "external_user_id": conv["id"],
                            "client_token_hash": token_hash(conv["token"]),
                            "language": "zh",
                            "state": conv["state"],
                            "assigned_agent": conv["assigned"],
                            "escalation_reason": "request_human" if conv["state"] == "agent" else None,
                            "escalated_at": at if conv["state"] == "agent" else None,
                            "last_seq": 2,
                            "awaiting_identity": False,
                            "created_at": at,
                            "updated_at": at,
                        }
                    )
                    for seq, sender, text in ((1, "borrower", "我想找人工"), (2, "bot", "正在为您转接人工客服。")):
                        messages.append(
                            {
                                "conversation_id": conv["id"],
                                "seq": seq,
                                "sender": sender,
                                "text": text,
                                "agent_only": False,
                                "created_at": at,
                            }
                        )
                await c.execute(insert(Conversation.__table__), rows)
                await c.execute(insert(Message.__table__), messages)
            if args.linked:
                await link_to_demo_borrowers(c, [conv["id"] for conv in convs[: args.linked]], now)
    finally:
        await engine.dispose()
    return agents, convs


async def link_to_demo_borrowers(c, conversation_ids: list[str], now: datetime) -> None:
    """A ledger verification row per conversation, round robin over the demo borrowers (what the
    bot's verification leaves), so the queue's summaries have a borrower, bucket and loans."""
    from sqlalchemy import insert, select

    from ledger.db import models as m

    borrowers = list((await c.execute(select(m.Borrower.id).order_by(m.Borrower.id))).scalars())
    await c.execute(
        insert(m.VerificationSession.__table__),
        [
            {
                "token_hash": token_hash("link-" + cid),
                "borrower_id": borrowers[i % len(borrowers)],
                "conversation_id": cid,
                "created_at": now,
                "last_used_at": now,
                "expires_at": now + timedelta(minutes=30),
            }
            for i, cid in enumerate(conversation_ids)
        ],
    )


def should_show(agent: dict, conv: dict) -> bool:
    """Whether this agent's desk shows a message of this conversation (desk_web._visible)."""
    return agent["role"] == "supervisor" or conv["assigned"] in (None, agent["username"])


async def queue_loads(base: str, agents: list[dict], loads: int, query: str = "", gateway=None) -> None:
    for role in ("agent", "supervisor"):
        who = next(a for a in agents if a["role"] == role)
        times, lines = [], 0
        cpu_before = gateway.cpu() if gateway is not None else 0.0
        async with aiohttp.ClientSession(cookies={"hx_desk": who["token"]}) as http:
            for _ in range(loads):
                started = time.perf_counter()
                async with http.get(f"{base}/desk/api/queue{'?' + query if query else ''}") as r:
                    body = await r.json()
                    if r.status != 200:
                        raise SystemExit(f"queue load refused: {r.status} {body}")
                times.append((time.perf_counter() - started) * 1000)
                lines = len(body["conversations"])
        rest = statistics.median(times[1:]) if len(times) > 1 else float("nan")
        cpu = f"; gateway CPU {(gateway.cpu() - cpu_before) / loads * 1000:.0f} ms a load" if gateway else ""
        print(
            f"  {role} {who['username']}: {lines} lines; first load {times[0]:.0f} ms, then median {rest:.0f} ms{cpu}"
        )


async def fan_out(base: str, gateway: turn_cost.Proc, agents: list[dict], convs: list[dict], args) -> None:
    ws_base = base.replace("http", "ws")
    sent_at: dict[str, float] = {}
    conv_of: dict[str, dict] = {}
    arrivals: dict[str, dict[int, float]] = {}
    unexpected = 0
    lagging_closed = 0

    async def desk_reader(index: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        nonlocal unexpected, lagging_closed
        agent = agents[index]
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            event = json.loads(frame.data)
            if event.get("type") != "message" or event.get("sender") != "borrower":
                continue
            marker = event.get("text", "")
            if marker in sent_at:
                arrivals.setdefault(marker, {})[index] = time.perf_counter()
                if not should_show(agent, conv_of[marker]):
                    unexpected += 1
        if ws.close_code not in (None, 1000):
            lagging_closed += 1

    async def drain(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break

    # senders spread over the conversations in proportion to their states
    step = max(1, len(convs) // args.senders)
    senders = convs[::step][: args.senders]
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))  # not 100 sockets at most
    desk_sessions, desks, tasks = [], [], []
    try:
        for a in agents:
            s = aiohttp.ClientSession(cookies={"hx_desk": a["token"]})
            desk_sessions.append(s)
            ws = await s.ws_connect(f"{ws_base}/ws/desk", max_msg_size=0)
            hello = await ws.receive_json(timeout=30)
            if hello.get("type") != "hello":
                raise SystemExit(f"desk socket of {a['username']}: {hello}")
            desks.append(ws)
        tasks += [asyncio.create_task(desk_reader(i, ws)) for i, ws in enumerate(desks)]
        chats = []
        for conv in senders:
            ws = await http.ws_connect(f"{ws_base}/ws/chat")
            await ws.send_json({"type": "auth", "conversation_id": conv["id"], "token": conv["token"], "after": 2})
            state = await ws.receive_json(timeout=30)
            if state.get("type") != "state":
                raise SystemExit(f"chat socket of {conv['id']} refused: {state}")
            chats.append(ws)
            tasks.append(asyncio.create_task(drain(ws)))
        print(
            f"  {len(desks)} desk sockets and {len(chats)} chat sockets open; "
            f"sending {args.rate:g} messages/s for {args.seconds:g} s",
            flush=True,
        )
        await asyncio.sleep(1)
        total = int(args.rate * args.seconds)
        cpu_before, client_before = gateway.cpu(), benchlib.process_cpu_seconds(os.getpid())
        load_before = os.getloadavg()
        started = time.perf_counter()
        for n in range(total):
            due = started + n / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            k = n % len(chats)
            marker = f"fanout {letters(n)}"
            conv_of[marker] = senders[k]
            sent_at[marker] = time.perf_counter()
            await chats[k].send_json({"type": "message", "text": marker, "client_msg_id": uuid.uuid4().hex})
        send_seconds = time.perf_counter() - started
        expected = {m: [i for i, a in enumerate(agents) if should_show(a, conv_of[m])] for m in sent_at}
        deadline = time.perf_counter() + args.grace
        while time.perf_counter() < deadline:
            if all(len(arrivals.get(m, {})) >= len(e) for m, e in expected.items()):
                break
            await asyncio.sleep(0.1)
        cpu = gateway.cpu() - cpu_before
        client_cpu = benchlib.process_cpu_seconds(os.getpid()) - client_before
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ws in desks:
            await ws.close()
        for s in desk_sessions:
            await s.close()
        await http.close()

    delays, complete, delivered, want = [], 0, 0, 0
    for m, desks_wanted in expected.items():
        got = arrivals.get(m, {})
        want += len(desks_wanted)
        delivered += sum(1 for i in desks_wanted if i in got)
        if all(i in got for i in desks_wanted):
            complete += 1
            delays.append((max(got[i] for i in desks_wanted) - sent_at[m]) * 1000)
    delays.sort()
    print(
        f"  sent {len(sent_at)} messages in {send_seconds:.1f} s; every desk reached for {complete}; "
        f"desk deliveries {delivered}/{want} expected, {unexpected} to a desk that should not show it, "
        f"desk sockets closed for lagging {lagging_closed}"
    )
    if delays:
        print(
            f"  delay borrower message -> last desk that shows it: p50 {benchlib.percentile(delays, 50):.0f} ms, "
            f"p99 {benchlib.percentile(delays, 99):.0f} ms, max {delays[-1]:.0f} ms"
        )
    print(
        f"  gateway CPU {cpu:.2f} s = {cpu / max(1, len(sent_at)) * 1000:.1f} ms per message "
        f"({cpu / send_seconds * 100:.0f}% of a core); this client {client_cpu:.2f} s "
        f"({client_cpu / send_seconds * 100:.0f}% of a core)"
    )
    print(
        "  load average (1/5/15 min) before sending "
        + "/".join(f"{x:.2f}" for x in load_before)
        + ", after "
        + "/".join(f"{x:.2f}" for x in os.getloadavg())
    )


async def measure(base: str, gateway: turn_cost.Proc, agents, convs, args) -> None:
    runner = await turn_cost.stub_rasa()
    try:
        print(f"\nqueue load (GET /desk/api/queue), {len(convs)} open conversations, {args.queue_loads} loads each")
        await queue_loads(base, agents, args.queue_loads, gateway=gateway)
        for query in args.filtered:
            print(f"\nqueue load ?{query}")
            await queue_loads(base, agents, args.queue_loads, query, gateway)
        if args.no_fanout:
            return
        print(f"\nfan-out: {len(agents)} desks ({args.supervisors} supervisors)")
        await fan_out(base, gateway, agents, convs, args)
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50, help="desk accounts with a desk open (50)")
    parser.add_argument("--supervisors", type=int, default=5, help="how many of them are supervisors (5)")
    parser.add_argument("--conversations", type=int, default=5000, help="open conversations (5000)")
    parser.add_argument("--with-desk", type=int, default=1000, help="of them handed to the desk (1000)")
    parser.add_argument("--assigned-per-agent", type=int, default=5, help="taken by each agent (5)")
    parser.add_argument("--senders", type=int, default=200, help="borrowers writing (200)")
    parser.add_argument("--rate", type=float, default=10, help="borrower messages a second (10)")
    parser.add_argument("--seconds", type=float, default=30, help="how long they write (30)")
    parser.add_argument("--grace", type=float, default=15, help="seconds to wait for late deliveries (15)")
    parser.add_argument("--queue-loads", type=int, default=5, help="queue loads per role (5)")
    parser.add_argument(
        "--filtered",
        nargs="*",
        default=list(FILTERED),
        help="queue query strings to time as well (default: a set of filter and search combinations)",
    )
    parser.add_argument("--linked", type=int, default=0, help="desk conversations linked to demo borrowers (0)")
    parser.add_argument("--no-fanout", action="store_true", help="only the queue loads")
    parser.add_argument("--port-base", type=int, default=PORT_BASE, help="gateway on base+91, stub Rasa on base+291")
    parser.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    args = parser.parse_args(argv)
    if not 0 < args.supervisors < args.agents or args.with_desk > args.conversations:
        parser.error("need 0 < --supervisors < --agents and --with-desk <= --conversations")
    turn_cost.use_port_base(args.port_base)
    print(benchlib.machine())
    print(f"command: backend/.venv/bin/python bench/desk_fanout.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    turn_cost.WORK = WORK  # the gateway's log goes here
    if args.db == "pg":
        database = os.environ.get("DESK_FANOUT_DB", "huanxin_bench_fanout")
        benchlib.empty_database(database)
        database_url = benchlib.database_url(database)
    else:
        database_url = f"sqlite+aiosqlite:///{WORK}/gateway.sqlite3"
    env = {**benchlib.ledger_env(), "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    ledger_bin = str(BACKEND / ".venv/bin/ledger")
    for step in ("migrate", "seed-demo"):
        subprocess.run([ledger_bin, step], cwd=BACKEND, env=env, check=True, capture_output=True)
    started = time.perf_counter()
    agents, convs = asyncio.run(seed(database_url, args))
    print(
        f"seeded {len(agents)} desk accounts and {len(convs)} open conversations "
        f"({args.with_desk} with the desk, {sum(1 for c in convs if c['assigned'])} of them taken, "
        f"{min(args.linked, len(convs))} linked to demo borrowers) "
        f"in {time.perf_counter() - started:.1f} s; database {args.db}"
    )
    port = turn_cost.PORTS["gateway"]
    gateway_env = {
        **env,
        "RASA_URLS": f"http://127.0.0.1:{turn_cost.PORTS['stub_rasa']}",
        "GATEWAY_PORT": str(port),
        "GATEWAY_NEW_CONVERSATIONS_PER_HOUR": "100000",
        "GATEWAY_CHAT_MESSAGES_PER_MINUTE": "100000",
    }
    gateway_env.pop("REDIS_URL", None)
    gateway = turn_cost.Proc(
        "gateway",
        [str(BACKEND / ".venv/bin/python"), "-m", "gateway"],
        BACKEND,
        gateway_env,
        f"http://127.0.0.1:{port}/healthz",
    )
    gateway.start()
    try:
        gateway.wait_healthy(60)
        asyncio.run(measure(f"http://127.0.0.1:{port}", gateway, agents, convs, args))
    finally:
        gateway.stop()
    print(f"\nlogs in {WORK.relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
