"""Two Rasa replicas against one, the whole stack measured through the gateway's web chat.

    backend/.venv/bin/python bench/replicas.py [--window 20] [--rounds 2] [--conversations 20]
        [--warmup 5] [--port-base 35000]

It starts the stack of tests/multi (tests/stack_helpers/multi_stack.py): the ledger and the
gateway on PostgreSQL, the action server, TWO `rasa run` sharing the SQL tracker store on
PostgreSQL (RASA_TRACKER_DB_URL) and the Redis lock store, the gateway with RASA_URLS listing
both replicas and REDIS_URL, plus a second gateway (same database and Redis) listing replica A
only. Ports: --port-base (MULTI_PORT_BASE, default 35000) + 80 ledger, + 55 actions, + 5 and
+ 6 Rasa, + 90 gateway of two replicas, + 91 gateway of one; databases MULTI_DB_PREFIX (default
huanxin_bench_replicas, dropped and recreated); logs in var/bench-replicas/. The model is the one
scripts/train.sh gives (trained only when the bot changed) or HUANXIN_MULTI_MODEL.

Load: --conversations web-chat conversations at once, without pauses, each a new widget
conversation (POST /api/chat/conversations, then the /ws/chat socket: auth frame, then one
message frame per turn, the next sent when the gateway acks the previous, i.e. once the bot's
replies are stored and published) running the verified script of bench/conversation_bench.py
(greeting, question, the three identity answers of a demo borrower, three questions, thanks,
bye), then the next script in a new conversation. Windows of --window seconds alternate between
the two gateways, --rounds times (order reversed every other round), after --warmup seconds of
unmeasured load on each.

Printed per variant: turns/s (turns acked within the windows), turn latency p50/p99 (send ->
ack), errors (error frames, failed sockets, turns the gateway counts as bot failures), the
scripts that reached "verified", CPU per turn of Rasa (both replicas) and of the gateway; then
the ratio two replicas / one. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

import benchlib  # bench/ is on sys.path when run as bench/replicas.py
from conversation_bench import script_for

REPO = benchlib.REPO
sys.path.insert(0, str(REPO / "tests"))
from stack_helpers.multi_stack import MultiStack, trained_model  # noqa: E402

WORK = REPO / "var" / "bench-replicas"
VERIFIED = ("身份已核实", "you're verified")  # the bot's verify_ok text (bot/actions/texts.py)
RAISED_LIMITS = {  # one client address opens every conversation of the load
    "GATEWAY_NEW_CONVERSATIONS_PER_HOUR": "100000",
    "GATEWAY_CHAT_MESSAGES_PER_MINUTE": "100000",
}
TURN_TIMEOUT_S = 60


@dataclass
class Variant:
    name: str
    gateway: str  # base URL
    gateway_proc: str  # its name in MultiStack.pids
    turns: int = 0
    all_turns: int = 0  # with those in flight at a window's end (the CPU measured covers them)
    seconds: float = 0.0
    errors: int = 0
    bot_failures: int = 0
    scripts: int = 0
    verified: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)


@dataclass
class Window:
    turns: int = 0
    all_turns: int = 0
    errors: int = 0
    scripts: int = 0
    verified: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    first_errors: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.first_errors) < 3:
            self.first_errors.append(what)


async def conversation(
    session: aiohttp.ClientSession, base: str, texts: list[str], deadline: float, window: Window
) -> None:
    """One widget conversation running ``texts``; stops at the deadline (the turn then in flight
    is not counted)."""
    try:
        async with session.post(f"{base}/api/chat/conversations", json={"language": "zh"}) as r:
            if r.status != 201:
                window.error(f"creating a conversation: HTTP {r.status}")
                return
            created = await r.json()
        async with session.ws_connect(f"{base}/ws/chat") as ws:
            await ws.send_json(
                {"type": "auth", "conversation_id": created["conversation_id"], "token": created["token"]}
            )
            verified = False
            for text in texts:
                msg_id = uuid.uuid4().hex
                started = time.perf_counter()
                await ws.send_json({"type": "message", "text": text, "client_msg_id": msg_id})
                failed = False
                while True:
                    frame = await ws.receive_json(timeout=TURN_TIMEOUT_S)
                    kind = frame.get("type")
                    if kind == "message" and frame.get("sender") == "bot":
                        verified = verified or any(v in (frame.get("text") or "") for v in VERIFIED)
                    elif kind == "error" and frame.get("client_msg_id") in (msg_id, None):
                        failed = True
                        break
                    elif kind == "ack" and frame.get("client_msg_id") == msg_id:
                        break
                elapsed = (time.perf_counter() - started) * 1000
                window.all_turns += 1
                if time.perf_counter() > deadline:
                    return
                if failed:
                    window.error(f"error frame: {frame.get('code')}")
                    return
                window.turns += 1
                window.latencies_ms.append(elapsed)
            window.scripts += 1
            window.verified += verified
    except (aiohttp.ClientError, TimeoutError, TypeError, ValueError, KeyError) as exc:  # closed socket: TypeError
        if time.perf_counter() <= deadline:
            window.error(f"{type(exc).__name__}: {exc}"[:200])


async def load_window(session: aiohttp.ClientSession, base: str, conversations: int, seconds: float) -> Window:
    window = Window()
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        n = index
        while time.perf_counter() < deadline:
            await conversation(session, base, script_for(n), deadline, window)
            n += conversations

    await asyncio.gather(*(worker(i) for i in range(conversations)))
    return window


async def bot_failures(session: aiohttp.ClientSession, base: str) -> int:
    """The gateway's count of turns Rasa did not answer (empty, unavailable, timed out)."""
    async with session.get(f"{base}/healthz") as r:
        body = await r.json()
    return sum(int(v) for v in body.get("bot_failures", {}).values())


def cpu_seconds(stack: MultiStack, names: list[str]) -> dict[str, float]:
    return {name: sum(benchlib.process_cpu_seconds(p) for p in benchlib.tree_pids(stack.pids[name])) for name in names}


def pct(values: list[float], p: float) -> float:
    return benchlib.percentile(sorted(values), p)


async def measure(stack: MultiStack, variants: list[Variant], args: argparse.Namespace) -> None:
    timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT_S * 2)
    connector = aiohttp.TCPConnector(limit=args.conversations * 2 + 10)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for v in variants:  # warm-up: Rasa's and the gateways' first turns, not measured
            await load_window(session, v.gateway, args.conversations, args.warmup)
        for round_ in range(args.rounds):
            order = variants if round_ % 2 == 0 else list(reversed(variants))
            for v in order:
                names = ["rasaA", "rasaB", v.gateway_proc, "actions", "backend"]
                failures_before = await bot_failures(session, v.gateway)
                cpu_before = cpu_seconds(stack, names)
                w = await load_window(session, v.gateway, args.conversations, args.window)
                cpu_after = cpu_seconds(stack, names)
                v.bot_failures += await bot_failures(session, v.gateway) - failures_before
                for name in names:
                    key = "gateway" if name == v.gateway_proc else name
                    v.cpu[key] = v.cpu.get(key, 0.0) + cpu_after[name] - cpu_before[name]
                v.seconds += args.window
                v.turns += w.turns
                v.all_turns += w.all_turns
                v.errors += w.errors
                v.scripts += w.scripts
                v.verified += w.verified
                v.latencies_ms += w.latencies_ms
                for what in w.first_errors:
                    print(f"  error ({v.name}): {what}")
                print(
                    f"  round {round_ + 1} {v.name}: {w.turns / args.window:.1f} turns/s, "
                    f"load average {os.getloadavg()[0]:.2f}",
                    flush=True,
                )


def report(variants: list[Variant]) -> None:
    print(
        f"\n  {'variant':<14} {'turns/s':>8} {'p50':>7} {'p99':>7} {'errors':>7} {'verified':>10} "
        f"{'Rasa CPU/turn (A+B)':>22} {'gateway CPU/turn':>17} {'cores busy':>11}"
    )
    for v in variants:
        per_turn = {k: c / v.all_turns * 1000 if v.all_turns else float("nan") for k, c in v.cpu.items()}
        rasa = f"{per_turn['rasaA'] + per_turn['rasaB']:.1f} ms ({per_turn['rasaA']:.1f}+{per_turn['rasaB']:.1f})"
        print(
            f"  {v.name:<14} {v.turns / v.seconds:8.1f} {pct(v.latencies_ms, 50):5.0f}ms "
            f"{pct(v.latencies_ms, 99):5.0f}ms {v.errors + v.bot_failures:7d} {v.verified:>4}/{v.scripts:<5} "
            f"{rasa:>22} {per_turn['gateway']:14.1f} ms {sum(v.cpu.values()) / v.seconds:11.2f}"
        )
    two, one = (v.turns / v.seconds for v in variants)
    print(f"  two replicas / one replica turns/s: {two / one:.2f}" if one else "  one replica: no turns")
    two_replicas = variants[0]
    if not two_replicas.all_turns:
        return
    actions, ledger = (two_replicas.cpu[k] / two_replicas.all_turns * 1000 for k in ("actions", "backend"))
    print(f"  (action server and ledger CPU per turn, two replicas: {actions:.1f} + {ledger:.1f} ms)")
    print(
        "  cores busy: CPU seconds per second of Rasa, the gateway, the action server and the ledger "
        "(PostgreSQL and Redis not counted); below nproc when other processes take the rest"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=20, help="seconds a variant is measured a round (20)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of alternated windows (2)")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured seconds of load per variant first (5)")
    parser.add_argument("--conversations", type=int, default=20, help="concurrent web-chat conversations (20)")
    parser.add_argument("--port-base", type=int, default=int(os.environ.get("MULTI_PORT_BASE", "35000")))
    args = parser.parse_args(argv)
    if args.window <= 0 or args.rounds < 1 or args.conversations < 1:
        parser.error("--window, --rounds and --conversations must be positive")

    print(benchlib.machine())
    print(f"command: backend/.venv/bin/python bench/replicas.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    started = time.monotonic()
    stack = MultiStack(
        run_dir=WORK,
        base_port=args.port_base,
        db_prefix=os.environ.get("MULTI_DB_PREFIX", "huanxin_bench_replicas"),
        model=trained_model(),
        extra_env=RAISED_LIMITS,
    )
    print(f"model {Path(stack.model).name}; ports {args.port_base}+; databases {stack.db_prefix}*", flush=True)
    try:
        stack.start()
        one_url = stack.start_gateway("gateway-one", args.port_base + 91, stack.rasa_urls[:1])
        print(f"started in {time.monotonic() - started:.0f} s", flush=True)
        variants = [
            Variant("two replicas", stack.gateway_url, "gateway"),
            Variant("one replica", one_url, "gateway-one"),
        ]
        print(
            f"\n{args.conversations} concurrent web-chat conversations through the gateway, no pause, "
            f"{args.window:.0f} s windows x {args.rounds} rounds, alternated"
        )
        asyncio.run(measure(stack, variants, args))
        report(variants)
    finally:
        stack.stop()
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"\nwhole run {time.monotonic() - started:.0f} s; load average after the run {load}; logs in {stack.run_dir}/"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
