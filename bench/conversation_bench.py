"""Conversation benchmark: N concurrent borrower conversations through Rasa's REST webhook of a
running stack (ledger, action server, Rasa), each a realistic multi-turn script (greet, verify,
status, fees, consequences, how to pay, thanks, bye) in Chinese or English. A warm-up round
runs first and is not measured. Prints the turn latency p50/p95/p99, the throughput (turns/s)
and the machine's size. Targets (issue 4): p50 < 120 ms and p99 < 300 ms at 20 conversations.

    backend/.venv/bin/python bench/conversation_bench.py [--rasa-url URL] [--conversations 20]
        [--rounds 3] [--warmup 1] [--json var/bench/conversation.json]

The stack must be running (`make run`, `scripts/stack.sh start`, or the one of scripts/e2e.sh);
the URL defaults to $RASA_URL or http://127.0.0.1:5005. Demo borrowers D3 is never used (the
end-to-end tests lock it); verification of the others only succeeds, so nothing is locked.
Not a test: it asserts nothing about speed, but counts turns that fail or get no answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

import benchlib  # bench/ is on sys.path when run as bench/conversation_bench.py

# (phone, date of birth, ID last 4, language) of demo borrowers (backend/src/ledger/domain/demo.py)
BORROWERS = [
    ("13800000001", "1990-03-15", "4321", "zh"),
    ("13800000002", "1985-07-02", "5678", "zh"),
    ("13800000004", "1992-06-21", "3456", "en"),
    ("13800000005", "1995-01-09", "7890", "zh"),
    ("13800000006", "1988-09-18", "2468", "zh"),
    ("13800000007", "1980-12-05", "1357", "en"),
]
SCRIPTS = {
    "zh": [
        "你好",
        "我欠了多少钱？",
        "{phone}",
        "{dob}",
        "{id4}",
        "罚息是怎么算的",
        "不还会影响征信吗",
        "现在怎么还款",
        "谢谢",
        "再见",
    ],
    "en": [
        "hi there",
        "how much do I owe?",
        "{phone}",
        "{dob}",
        "{id4}",
        "why was I charged a late fee?",
        "will this hurt my credit score?",
        "how can I pay right now?",
        "thanks a lot",
        "bye",
    ],
}


def script_for(index: int) -> list[str]:
    phone, dob, id4, lang = BORROWERS[index % len(BORROWERS)]
    return [t.format(phone=phone, dob=dob, id4=id4) for t in SCRIPTS[lang]]


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    silent: int = 0
    conversations: int = 0


async def converse(
    session: aiohttp.ClientSession, url: str, turns: list[str], results: Results | None, think_s: float
) -> None:
    sender = f"bench-{uuid.uuid4().hex}"
    for message in turns:
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": message}) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (TimeoutError, aiohttp.ClientError, json.JSONDecodeError) as exc:
            if results is not None:
                results.errors.append(f"{type(exc).__name__}: {exc}")
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        if results is not None:
            if status != 200:
                results.errors.append(f"HTTP {status}")
            else:
                results.latencies_ms.append(elapsed_ms)
                if not body:
                    results.silent += 1
        if think_s:
            await asyncio.sleep(think_s)
    if results is not None:
        results.conversations += 1


async def run(args: argparse.Namespace) -> int:
    base = args.rasa_url.rstrip("/")
    url = f"{base}/webhooks/rest/webhook"
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    connector = aiohttp.TCPConnector(limit=args.conversations + 5)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        try:
            async with session.get(f"{base}/status") as response:
                model = (await response.json(content_type=None)).get("model_file")
        except (TimeoutError, aiohttp.ClientError) as exc:
            print(
                f"error: Rasa does not answer at {base}/status ({exc}); start the stack first "
                "(make run, or scripts/stack.sh start)",
                file=sys.stderr,
            )
            return 2
        print(benchlib.machine())
        print(
            f"stack: Rasa {base} (model {model}); {args.conversations} concurrent conversations x "
            f"{args.rounds} rounds of a {len(SCRIPTS['zh'])}-turn script; warm-up {args.warmup} round(s)"
        )
        load_before = os.getloadavg()[0]

        for _ in range(args.warmup):  # loads caches, JIT paths, DB connections: not measured
            await asyncio.gather(*(converse(session, url, script_for(i), None, 0) for i in range(args.conversations)))

        results = Results()
        rng = random.Random(42)

        async def worker(index: int) -> None:
            for round_ in range(args.rounds):
                await converse(session, url, script_for(index + round_), results, args.think_ms / 1000 * rng.random())

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(args.conversations)))
        wall = time.perf_counter() - started

    values = sorted(results.latencies_ms)
    turns = len(values)
    print(
        f"turns measured: {turns} in {wall:.1f} s ({results.conversations} conversations completed), "
        f"errors: {len(results.errors)}, turns without any bot message: {results.silent}"
    )
    if results.errors:
        print("  first errors: " + "; ".join(results.errors[:5]))
    if not turns:
        return 1
    p50, p95, p99 = (benchlib.percentile(values, p) for p in (50, 95, 99))
    print(
        f"turn latency: p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, max {values[-1]:.0f} ms, "
        f"mean {sum(values) / turns:.0f} ms"
    )
    print(f"throughput: {turns / wall:.1f} turns/s, {results.conversations / wall:.2f} conversations/s")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(
        f"targets at 20 conversations: p50 < 120 ms {verdict(p50 < 120)}, p99 < 300 ms {verdict(p99 < 300)}"
        + ("" if args.conversations == 20 else f" (this run used {args.conversations})")
    )
    load_after = os.getloadavg()[0]
    print(f"load average (1 min) before/after: {load_before:.2f}/{load_after:.2f}")
    figures = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": benchlib.machine(),
        "rasa_url": base,
        "model": model,
        "conversations": args.conversations,
        "rounds": args.rounds,
        "think_ms": args.think_ms,
        "turns": turns,
        "wall_s": round(wall, 2),
        "errors": len(results.errors),
        "silent_turns": results.silent,
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(values[-1], 1),
        "turns_per_s": round(turns / wall, 1),
        "load_before": round(load_before, 2),
        "load_after": round(load_after, 2),
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        print(f"figures: {args.json}")
    return 0 if not results.errors else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL") or "http://127.0.0.1:5005")
    parser.add_argument("--conversations", type=int, default=20, help="concurrent conversations (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="scripts each conversation slot runs in turn (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first (default 1)")
    parser.add_argument(
        "--think-ms", type=float, default=0, help="up to this pause between a reply and the next message"
    )
    parser.add_argument("--timeout", type=float, default=30, help="seconds per turn before it counts as an error")
    parser.add_argument(
        "--json",
        type=Path,
        default=benchlib.REPO / "var" / "bench" / "conversation.json",
        help="write the figures here too (default var/bench/conversation.json; the release check reads it)",
    )
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.rounds < 1:
        parser.error("--conversations and --rounds must be at least 1")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
