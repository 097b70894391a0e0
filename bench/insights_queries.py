"""How long the insights page's queries take over N conversations' facts (docs/insights.md).

Writes N synthetic facts rows (a realistic mix of languages, channels, funnel steps, outcomes,
escalations and six or so intents each, started over the last 30 days) straight into
conversation_facts, then times the overview, funnel, NLU health, review list (fallback=yes)
and CSV table through the ledger's door, each `--runs` times over the 30 days, and prints
p50/p95 with the machine's size. Figures only: it asserts nothing.

    backend/.venv/bin/python bench/insights_queries.py --conversations 100000 --db pg
    backend/.venv/bin/python bench/insights_queries.py --conversations 20000 --db sqlite

PostgreSQL: the database BENCH_INSIGHTS_DB (default huanxin_bench_insights), re-created.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend" / "tests" / "support"))

from benchlib import machine
from huanxin_testkit.gw_fakes import fresh_pg_database
from ledger.cli import migrate
from ledger.db.models import ConversationFactsRow
from ledger.db.session import create_engine, create_session_factory
from ledger.desk_door import DeskDoor

STEPS = ("started", "verified", "status_explained", "hardship_collected", "offers_shown", "committed")
INTENTS = ("greet", "ask_overdue_status", "inform", "affirm", "deny", "ask_fees", "request_payment_plan",
           "promise_to_pay", "request_human", "goodbye", "nlu_fallback")  # fmt: skip


def synthetic(i: int, now: datetime, rnd: random.Random) -> dict:
    step = rnd.choices(STEPS, weights=(30, 15, 20, 10, 10, 15))[0]
    intents = []
    for _ in range(rnd.randint(2, 10)):
        name = rnd.choices(INTENTS, weights=(5, 8, 12, 6, 3, 4, 4, 3, 2, 4, 2))[0]
        entry = {"intent": name, "confidence": round(rnd.uniform(0.2, 1.0), 3)}
        if name == "nlu_fallback":
            entry |= {"guess": rnd.choice(INTENTS[:-1]), "guess_confidence": 0.2}
        intents.append(entry)
    started = now - timedelta(seconds=rnd.uniform(0, 30 * 86400))
    escalated = rnd.random() < 0.15
    if step == "committed":
        outcome = "arrangement" if rnd.random() < 0.6 else "promise"
    else:
        outcome = rnd.choice(("none", "none", "none", "dispute", "stop_contact"))
    return {
        "conversation_id": f"bench-{i}",
        "gateway_conversation_id": None,
        "channel": rnd.choices(("web", "wechat", "telegram"), weights=(5, 4, 1))[0],
        "languages": [rnd.choices(("zh", "en"), weights=(8, 2))[0]],
        "started_at": started,
        "ended_at": started + timedelta(seconds=rnd.uniform(30, 900)),
        "events": len(intents) * 5,
        "turns": len(intents),
        "verified": STEPS.index(step) >= 1,
        "verification": "verified" if STEPS.index(step) >= 1 else rnd.choice(("not_asked", "gave_up", "lockout")),
        "intents": intents,
        "low_confidence": min(m["confidence"] for m in intents),
        "fallbacks": sum(1 for m in intents if m["intent"] == "nlu_fallback"),
        "furthest_step": step,
        "escalated": escalated,
        "escalation_reason": "request_human" if escalated else None,
        "handled_by_agent": escalated and rnd.random() < 0.7,
        "agents": [],
        "outcome": outcome,
        "outcomes": [] if outcome == "none" else [outcome],
        "plan_type": "deferral" if outcome == "arrangement" else None,
        "agent_outcome": None,
        "csat": None,
        "last_bot_action": "action_listen",
        "last_bot_text_key": rnd.choice(("ask_identity", "status_overdue", "offers", "plan_accepted")),
        "last_intent": intents[-1]["intent"],
        "said_goodbye": intents[-1]["intent"] == "goodbye",
        "updated_at": now,
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", help="time only the queries whose name starts with this (overview, funnel, …)")
    args = parser.parse_args()
    if args.db == "sqlite":
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='insights-bench-')) / 'ledger.sqlite3'}"
        await asyncio.to_thread(migrate, url)
    else:
        url = await fresh_pg_database(os.environ.get("BENCH_INSIGHTS_DB", "huanxin_bench_insights"))
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    now = datetime.now(UTC)
    rnd = random.Random(12)
    began = time.perf_counter()
    for start in range(0, args.conversations, 5000):
        rows = [synthetic(i, now, rnd) for i in range(start, min(start + 5000, args.conversations))]
        async with sessions() as s, s.begin():
            await s.execute(ConversationFactsRow.__table__.insert(), rows)
    print(f"loaded {args.conversations} facts rows in {time.perf_counter() - began:.1f} s")
    door = DeskDoor(sessions)
    today = door._today()
    since = today - timedelta(days=29)
    queries = {
        "overview (by day)": lambda: door.insights_overview(since, today, None, None, "day"),
        "funnel": lambda: door.insights_funnel(since, today, None, None),
        "nlu health": lambda: door.insights_nlu_health(since, today, None, None, 0.5),
        "review list (fallback=yes)": lambda: door.insights_review_list(since, today, None, None, fallback=True),
        "csv table": lambda: door.insights_facts_table(since, today, None, None, limit=10**7),
    }
    print(machine())
    print(f"{args.db}: {args.conversations} conversations over 30 days, {args.runs} runs each, whole period")
    for name, query in queries.items():
        if args.only and not name.startswith(args.only):
            continue
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            await query()
            times.append(time.perf_counter() - t)
        print(
            f"  {name:28s} p50 {statistics.median(times) * 1000:8.0f} ms   p95 {percentile(times, 0.95) * 1000:8.0f} ms"
        )
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
