"""How long the insights page's queries take over N conversations' facts (docs/insights.md).

Writes N synthetic facts rows (a realistic mix of languages, channels, funnel steps, outcomes,
escalations and six or so intents each, started over the last 30 days) straight into
conversation_facts, as a bulk load would, then rebuilds the rollups from them
(`ledger rebuild-insights`), then times the overview, funnel, NLU health, review lists (several
filters) and the CSV export of one day through the ledger's door, each `--runs` times over the
30 days, and prints p50/p95 with the machine's size and load. Figures only: it asserts nothing.

    backend/.venv/bin/python bench/insights_queries.py --conversations 1000000 --db pg --runs 10
    backend/.venv/bin/python bench/insights_queries.py --conversations 20000 --db sqlite

PostgreSQL: the database BENCH_INSIGHTS_DB (default huanxin_bench_insights), re-created; with
`--reuse`, a database a previous run loaded with as many rows is kept (queries only).
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

from sqlalchemy import func, select, text

from benchlib import machine
from huanxin_testkit.gw_fakes import fresh_pg_database, pg_url
from ledger.cli import migrate
from ledger.db.models import ConversationFactsRow
from ledger.db.session import create_engine, create_session_factory
from ledger.desk_door import DeskDoor
from ledger.services.analytics import rebuild_insights

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
        "csat": rnd.randint(1, 5) if rnd.random() < 0.3 else None,
        "last_bot_action": "action_listen",
        "last_bot_text_key": rnd.choice(("ask_identity", "status_overdue", "offers", "plan_accepted")),
        "last_intent": intents[-1]["intent"],
        "said_goodbye": intents[-1]["intent"] == "goodbye",
        "updated_at": now,
    }


async def csv_export(door: DeskDoor, day) -> int:
    """The CSV export's work for one day: the capped count, then every row, page by page."""
    if await door.insights_facts_count(day, day, None, None, cap=100_000) > 100_000:
        return -1
    return sum([len(chunk) async for chunk in door.insights_facts_rows(day, day, None, None)])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", help="time only the queries whose name starts with this (overview, funnel, …)")
    parser.add_argument("--reuse", action="store_true", help="pg: keep a database already loaded with N rows")
    args = parser.parse_args()
    loaded = False
    if args.db == "sqlite":
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='insights-bench-')) / 'ledger.sqlite3'}"
        await asyncio.to_thread(migrate, url)
    else:
        name = os.environ.get("BENCH_INSIGHTS_DB", "huanxin_bench_insights")
        if args.reuse:
            url = pg_url(name)
            probe = create_engine(url)
            try:
                async with create_session_factory(probe)() as s:
                    count = (await s.execute(select(func.count()).select_from(ConversationFactsRow))).scalar_one()
                loaded = count == args.conversations
            except Exception:  # noqa: BLE001 - no such database yet: load one
                loaded = False
            finally:
                await probe.dispose()
        if not loaded:
            url = await fresh_pg_database(name)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    now = datetime.now(UTC)
    rnd = random.Random(12)
    if not loaded:
        began = time.perf_counter()
        for start in range(0, args.conversations, 5000):
            rows = [synthetic(i, now, rnd) for i in range(start, min(start + 5000, args.conversations))]
            async with sessions() as s, s.begin():
                await s.execute(ConversationFactsRow.__table__.insert(), rows)
        print(f"loaded {args.conversations} facts rows in {time.perf_counter() - began:.1f} s", flush=True)
        began, cpu = time.perf_counter(), time.process_time()
        read = await rebuild_insights(sessions)
        print(
            f"rebuilt the rollups from {read} conversations in {time.perf_counter() - began:.1f} s "
            f"({time.process_time() - cpu:.1f} s CPU in this process)",
            flush=True,
        )
        if args.db == "pg":
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
    door = DeskDoor(sessions)
    today = door._today()
    since = today - timedelta(days=29)
    review = door.insights_review_list
    queries = {
        "overview (by day)": lambda: door.insights_overview(since, today, None, None, "day"),
        "overview (zh, web, by week)": lambda: door.insights_overview(since, today, "zh", "web", "week"),
        "funnel": lambda: door.insights_funnel(since, today, None, None),
        "funnel (en)": lambda: door.insights_funnel(since, today, "en", None),
        "nlu health": lambda: door.insights_nlu_health(since, today, None, None, 0.5),
        "review (no filter)": lambda: review(since, today, None, None),
        "review (fallback=yes)": lambda: review(since, today, None, None, fallback=True),
        "review (outcome=dispute, en)": lambda: review(since, today, "en", None, outcome="dispute"),
        "review (escalated, telegram)": lambda: review(since, today, None, "telegram", escalated=True),
        "review (intent=request_human)": lambda: review(since, today, None, None, intent="request_human"),
        "review (below=0.25, page 20)": lambda: review(since, today, None, None, below=0.25, offset=950),
        "review (step=hardship, 1 day)": lambda: review(today, today, None, None, step="hardship_collected"),
        "csv export (1 day, streamed)": lambda: csv_export(door, today - timedelta(days=1)),
    }  # fmt: skip
    print(machine())
    print("load average (1, 5, 15 min) before the queries: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"{args.db}: {args.conversations} conversations over 30 days, {args.runs} runs each, whole period")
    for name, query in queries.items():
        if args.only and not name.startswith(args.only):
            continue
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            await query()
            times.append(time.perf_counter() - t)
        p50, p95 = statistics.median(times) * 1000, percentile(times, 0.95) * 1000
        print(f"  {name:32s} p50 {p50:8.0f} ms   p95 {p95:8.0f} ms", flush=True)
    print("load average (1, 5, 15 min) after the queries: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
