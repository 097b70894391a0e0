"""`ledger` command: serve | migrate | seed-demo | copy-demo KEY... | generate N | create-token | consume-events |
export-annotations |
rebuild-insights | simulate | release-check | apply-policy | contact-plan | outbound | bind-channel."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .domain.errors import PolicyError
from .scopes import SCOPES
from .settings import Settings, SettingsError


def migrate(database_url: str) -> None:
    """Apply the migrations (Alembic is imported only by this command)."""
    from .db.migrations import upgrade_to_head

    upgrade_to_head(database_url)


def _today(settings: Settings):
    return datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()


async def _seed(settings: Settings) -> dict[str, str]:
    from .db.session import create_engine, create_session_factory
    from .services.seeding import seed_demo

    engine = create_engine(settings.database_url)
    try:
        return await seed_demo(
            create_session_factory(engine), salt=settings.require_salt(), today=_today(settings), tz=settings.timezone
        )
    finally:
        await engine.dispose()


async def _copy(settings: Settings, keys: list[str]) -> list[dict[str, object]]:
    from .db.session import create_engine, create_session_factory
    from .services.seeding import seed_demo_copies

    engine = create_engine(settings.database_url)
    try:
        copies = await seed_demo_copies(
            create_session_factory(engine),
            keys,
            salt=settings.require_salt(),
            today=_today(settings),
            tz=settings.timezone,
        )
    finally:
        await engine.dispose()
    return [{"key": c.key, "phone": c.phone, "loan_numbers": list(c.loan_numbers)} for c in copies]


async def _generate(settings: Settings, n: int, seed: int) -> dict[str, float]:
    from .db.session import create_engine
    from .services.seeding import generate_portfolio

    engine = create_engine(settings.database_url)
    try:
        return await generate_portfolio(engine, n, salt=settings.require_salt(), today=_today(settings), seed=seed)
    finally:
        await engine.dispose()


async def _create_client(settings: Settings, name: str, token: str, scope: str) -> None:
    from .db import models as m
    from .db.session import create_engine, create_session_factory

    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            session.add(
                m.ApiClient(
                    name=name,
                    token_hash=hashlib.sha256(token.encode()).hexdigest(),
                    scope=scope,
                    created_at=datetime.now(UTC),
                )
            )
    finally:
        await engine.dispose()


def events_db_url(env: dict[str, str]) -> str:
    """The SQL stream's database for SQLAlchemy's async drivers: HUANXIN_EVENTS_DB_URL
    (postgresql://... or sqlite:///...), else the SQLite file HUANXIN_EVENTS_DB (default
    var/events.sqlite3, where Rasa's SQL event broker writes by default)."""
    from .settings import REPO_ROOT

    url = (env.get("HUANXIN_EVENTS_DB_URL") or "").strip()
    if url:
        scheme, _, rest = url.partition("://")
        if scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
            return f"postgresql+asyncpg://{rest}"
        if scheme == "sqlite":
            return f"sqlite+aiosqlite://{rest}"
        return url
    path = env.get("HUANXIN_EVENTS_DB") or str(REPO_ROOT / "var" / "events.sqlite3")
    return f"sqlite+aiosqlite:///{path}"


async def _export_annotations(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from .db.session import create_engine, create_session_factory
    from .desk_door import DeskDoor
    from .nlu_export import LANGUAGES, export_annotations
    from .settings import REPO_ROOT

    engine = create_engine(settings.database_url)
    try:
        door = DeskDoor(create_session_factory(engine), timezone=settings.timezone)
        languages = LANGUAGES if args.language == "all" else (args.language,)
        bot_dir = Path(args.bot_dir) if args.bot_dir else REPO_ROOT / "bot"
        return await export_annotations(door, bot_dir, languages)
    finally:
        await engine.dispose()


async def _consume(settings: Settings, args: argparse.Namespace, env: dict[str, str]) -> int:
    from .db.session import create_engine, create_session_factory
    from .services import analytics

    engine = create_engine(settings.database_url, pool_size=4)
    sessions = create_session_factory(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        amqp = args.amqp or env.get("HUANXIN_EVENTS_AMQP_URL") or ""
        if amqp:
            print(f"consuming queue {args.queue} (exchange {args.exchange})", flush=True)
            return await analytics.consume_amqp(
                sessions,
                amqp,
                exchange=args.exchange,
                queue=args.queue,
                batch=args.batch,
                stop=stop,
                idle_exit=args.idle_exit,
                hold_before_commit=args.hold_before_commit,
                timezone=settings.timezone,
            )
        from .db.analytics import create_stream_engine

        url = events_db_url(env)
        stream = create_stream_engine(url)
        try:
            print("consuming the SQL event stream", flush=True)
            return await analytics.consume_sql(
                sessions,
                stream,
                "sql:" + url.rsplit("@", 1)[-1],
                batch=args.batch,
                once=args.once,
                stop=stop,
                timezone=settings.timezone,
            )
        finally:
            await stream.dispose()
    finally:
        await engine.dispose()


async def _rebuild_insights(settings: Settings) -> int:
    from .db.session import create_engine, create_session_factory
    from .services import analytics

    engine = create_engine(settings.database_url)
    try:
        return await analytics.rebuild_insights(create_session_factory(engine), settings.timezone)
    finally:
        await engine.dispose()


def simulate(settings: Settings, args: argparse.Namespace) -> dict:
    """The policy lab (docs/policy-lab.md): both policy files and the scenario file are
    validated before anything is read or written; a bad one raises PolicyError naming the key."""
    from datetime import date
    from pathlib import Path

    from .policy_file import DEFAULT_POLICY_FILE, load_policy
    from .scenario_file import load_scenarios
    from .services.lab import LabInputs
    from .services.lab import simulate as run
    from .services.lab_core import LabCoreUnavailable

    current = load_policy(settings.policy_file)
    candidate = load_policy(Path(args.policy))
    candidate_sha256 = hashlib.sha256(Path(args.policy).read_bytes()).hexdigest()
    current_file = settings.policy_file or Path(__file__).resolve().parent / DEFAULT_POLICY_FILE
    current_sha256 = hashlib.sha256(current_file.read_bytes()).hexdigest()
    profiles = load_scenarios(Path(args.scenarios) if args.scenarios else None, candidate)
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else _today(settings)
    except ValueError as exc:
        raise SettingsError(f"--as-of: not a date YYYY-MM-DD: {args.as_of!r}") from exc
    inputs = LabInputs(
        current=current,
        candidate=candidate,
        as_of=as_of,
        profiles=profiles,
        current_source=str(settings.policy_file) if settings.policy_file else "the packaged default policy",
        candidate_source=str(args.policy),
        scenarios_source=str(args.scenarios) if args.scenarios else "the packaged default scenarios",
        candidate_sha256=candidate_sha256,
        current_sha256=current_sha256,
    )
    try:
        return asyncio.run(
            run(settings.database_url, inputs, Path(args.out), workers=args.workers, batch_size=args.batch_size)
        )
    except LabCoreUnavailable as exc:
        raise SettingsError(str(exc)) from exc


def _bench_command(root: Path, out: Path) -> list[str]:
    """bench/conversation_bench.py against RASA_URL, its figures into the report's directory."""
    return [
        sys.executable,
        str(root / "bench" / "conversation_bench.py"),
        "--json",
        str(out / "bench-conversation.json"),
    ]


def release_check(settings: Settings, args: argparse.Namespace) -> int:
    """`ledger release-check` (docs/release-check.md): 0 when every gate holds, 1 when one fails."""
    from datetime import date
    from pathlib import Path

    from .policy_file import DEFAULT_POLICY_FILE
    from .release_check import run_release_check
    from .settings import REPO_ROOT

    tracked = Path(__file__).resolve().parent / DEFAULT_POLICY_FILE
    if settings.policy_file is not None:
        tracked = settings.policy_file.resolve()
    try:
        policy_path = tracked.relative_to(REPO_ROOT).as_posix()
    except ValueError as exc:
        raise SettingsError(
            f"LEDGER_POLICY_FILE must be a file of this repository for the release check: {tracked}"
        ) from exc
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else _today(settings)
    except ValueError as exc:
        raise SettingsError(f"--as-of: not a date YYYY-MM-DD: {args.as_of!r}") from exc
    out = Path(args.out) if args.out else REPO_ROOT / "var" / "release-check"
    base, base_model = args.base, None
    if base.endswith(".tar.gz"):  # BASE=<model file>: the NLU's base; texts and policy against HEAD
        base_model = Path(base).resolve()
        if not base_model.is_file():
            raise SettingsError(f"--base: no such model file: {base}")
        base = "HEAD"
    evaluator = None
    if not args.no_nlu_train:
        from .release_nlu import NluEvaluator

        cache = Path(args.nlu_cache) if args.nlu_cache else REPO_ROOT / "var" / "release-check-cache" / "nlu"
        evaluator = NluEvaluator(REPO_ROOT, cache, log=lambda line: print(line, flush=True))
    summary = run_release_check(
        root=REPO_ROOT,
        base=base,
        thresholds_file=Path(args.thresholds) if args.thresholds else REPO_ROOT / "release-thresholds.yaml",
        out=out,
        policy_path=policy_path,
        candidate_policy=Path(args.policy) if args.policy else REPO_ROOT / policy_path,
        database_url=settings.database_url,
        nlu_results=REPO_ROOT / "bot" / "nlu_eval" / "results" / "results.json",
        nlu_base=Path(args.nlu_base) if args.nlu_base else None,
        story_results=REPO_ROOT / "bot" / "results" / "core",
        as_of=as_of,
        nlu_evaluator=evaluator,
        nlu_base_model=base_model,
        bench=_bench_command(REPO_ROOT, out) if args.bench else False,
    )
    for section in summary["sections"]:
        failed = [g for g in section["gates"] if not g["passed"]]
        print(f"{section['name']}: {section['status']}", flush=True)
        for g in failed:
            print(f"  FAIL {g['gate']}: {g['detail']}", flush=True)
        for note in section["notes"]:
            print(f"  note: {note}", flush=True)
    unchecked = [s["name"] for s in summary["sections"] if s["status"] == "not checked"]
    verdict = "PASS" if summary["passed"] else "FAIL"
    if unchecked:
        verdict += f" (not checked: {', '.join(unchecked)})"
    print(f"release check: {verdict}; report in {out}/report.html", flush=True)
    return 0 if summary["passed"] else 1


def apply_policy(settings: Settings, args: argparse.Namespace) -> None:
    """The audited apply step (docs/policy-lab.md): refused without a lab run on this exact file."""
    from pathlib import Path

    from .services.policy_apply import apply_policy as apply

    if settings.policy_file is None:
        raise SettingsError("LEDGER_POLICY_FILE must name the live policy file that apply-policy replaces")
    done = asyncio.run(
        apply(settings.database_url, settings.policy_file, Path(args.policy), Path(args.lab_report), f"cli:{args.by}")
    )
    print(
        f"policy applied: {settings.policy_file} is now sha256 {done.sha256} (was {done.previous_sha256}, kept as "
        f"{done.kept_as}); audit entry policy_applied by cli:{args.by}. Restart the ledger to use it.",
        flush=True,
    )


def parse_clock(text: str) -> datetime:
    """--at: an ISO 8601 time with its offset (2026-12-01T09:30+08:00); a naive time is refused."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SettingsError(f"--at: not an ISO 8601 time, e.g. 2026-12-01T09:30+08:00: {text!r}") from exc
    if at.tzinfo is None or at.utcoffset() is None:
        raise SettingsError(f"--at: give the offset too, e.g. 2026-12-01T09:30+08:00: {text!r}")
    return at


def contact_plan(settings: Settings, args: argparse.Namespace) -> dict:
    """The contact plan at --at (default now) as JSON; sends nothing, writes nothing. The policy
    and the cadence (--cadence, else LEDGER_CADENCE_FILE, else the packaged default) are
    validated first; a bad one raises PolicyError naming the key."""
    from pathlib import Path

    from .cadence_file import load_cadence
    from .db.session import create_engine
    from .policy_file import load_policy
    from .services.contact_plan import build_plan, plan_json

    policy = load_policy(settings.policy_file)
    cadence = load_cadence(Path(args.cadence) if args.cadence else settings.cadence_file, policy)
    now = parse_clock(args.at) if args.at else datetime.now(UTC)

    async def run() -> dict:
        engine = create_engine(settings.database_url)
        try:
            return plan_json(await build_plan(engine, policy, cadence, now))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def outbound(settings: Settings, args: argparse.Namespace) -> int:
    """The dispatcher (docs/outbound.md): plan at the clock, record, re-check and send through the
    file sinks under --out/outbound/. --at or --once: one pass, its report printed as JSON;
    otherwise a pass every --interval seconds at the real clock until stopped."""
    import time
    from pathlib import Path

    from .cadence_file import load_cadence
    from .db.session import create_engine
    from .policy_file import load_policy
    from .services.channels import default_adapters
    from .services.chat_channels import ChannelConfigError, chat_adapters_from_env
    from .services.outbound import chat_addresses, dispatch
    from .settings import REPO_ROOT

    policy = load_policy(settings.policy_file)
    cadence = load_cadence(settings.cadence_file, policy)
    at = parse_clock(args.at) if args.at else None
    adapters: dict = dict(default_adapters(Path(args.out) if args.out else REPO_ROOT / "var"))
    try:
        adapters |= chat_adapters_from_env(os.environ, chat_addresses(settings.database_url))
    except ChannelConfigError as exc:
        raise SettingsError(str(exc)) from exc

    async def one_pass(now: datetime) -> dict:
        engine = create_engine(settings.database_url)
        try:
            report = await dispatch(
                engine, policy, cadence, now, adapters, batch=args.batch, plan_first=not args.no_plan,
                lease=timedelta(seconds=args.lease), chat_link=settings.chat_link,
            )  # fmt: skip
            return report.as_dict()
        finally:
            await engine.dispose()

    while True:
        now = at or datetime.now(UTC)
        print(json.dumps({"at": now.isoformat(), **asyncio.run(one_pass(now))}, ensure_ascii=False), flush=True)
        if at is not None or args.once:
            return 0
        time.sleep(args.interval)


def bind_channel(settings: Settings, args: argparse.Namespace) -> str:
    """`ledger bind-channel`: bind (or --unbind) a borrower's WeChat openid or Telegram chat id."""
    from .db.session import create_engine
    from .services.channel_bindings import bind
    from .services.chat_channels import ChannelConfigError

    if (args.address is None) == (not args.unbind):
        raise SettingsError("bind-channel: give --address, or --unbind")

    async def run() -> str:
        engine = create_engine(settings.database_url)
        try:
            return await bind(engine, args.borrower, args.channel, args.address, datetime.now(UTC), args.by)
        finally:
            await engine.dispose()

    try:
        done = asyncio.run(run())
    except ChannelConfigError as exc:
        raise SettingsError(f"bind-channel --{exc.key}: {str(exc).split(': ', 1)[1]}") from exc
    return f"{args.channel} {done} for borrower {args.borrower}"


def serve(settings: Settings) -> None:
    """Serve the API. With LEDGER_WORKERS=N > 1, N processes share the port (SO_REUSEPORT, the
    kernel spreads connections over them); each has its own event loop and connection pool.
    The parent only supervises: SIGTERM/SIGINT to it stops every worker."""
    from httpedge import slow_clients
    from httpedge.access_log import SafeAccessLogger, access_logger

    from .web.app import init_app

    app = init_app(settings)  # fails fast (settings, policy file) before any worker starts
    where = f"http://{settings.host}:{settings.port} (database: {settings.database_url.split('@')[-1]})"
    if settings.workers == 1:
        print(f"ledger serving on {where}", flush=True)
        slow_clients.run(
            app,
            host=settings.host,
            port=settings.port,
            head_timeout=settings.client_timeout,
            access_log=access_logger("ledger"),
            access_log_class=SafeAccessLogger,
        )
        return
    import multiprocessing
    import signal

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_serve_worker, args=(settings,), daemon=True) for _ in range(settings.workers)]
    for proc in procs:
        proc.start()
    print(f"ledger serving on {where} with {settings.workers} worker processes", flush=True)

    def stop(signum, _frame):
        for proc in procs:
            if proc.is_alive():
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for proc in procs:
        proc.join()


def _serve_worker(settings: Settings) -> None:
    from httpedge import slow_clients
    from httpedge.access_log import SafeAccessLogger, access_logger

    from .web.app import init_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    slow_clients.run(
        init_app(settings),
        host=settings.host,
        port=settings.port,
        head_timeout=settings.client_timeout,
        access_log=access_logger("ledger"),
        access_log_class=SafeAccessLogger,
        reuse_port=True,
    )


@contextlib.contextmanager
def _logging_to_stderr() -> Iterator[None]:
    """The command's log lines on stderr (when nothing else configured logging), and the root
    logger's handlers and level as they were afterwards: main() may be called more than once
    in one process (the tests do), and no call leaves a handler on a closed stream behind."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ledger", description="Huanxin loan-ledger backend")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the HTTP API (LEDGER_HOST/LEDGER_PORT)")
    sub.add_parser("migrate", help="apply the Alembic migrations (alembic upgrade head)")
    sub.add_parser("seed-demo", help="(re)seed the demo portfolio, dates relative to today (Asia/Shanghai)")
    copy = sub.add_parser(
        "copy-demo",
        help="add a fresh copy of each named demo borrower (own phone and loan numbers, same answers "
        "and loans as of today); prints them as JSON (rehearsals, conversation suites)",
    )
    copy.add_argument("keys", nargs="+", metavar="KEY", help="D1 ... D8, repeated for several copies")
    gen = sub.add_parser("generate", help="add N synthetic borrowers with a mix of buckets (load tests)")
    gen.add_argument("n", type=int)
    gen.add_argument("--seed", type=int, default=20261125)
    tok = sub.add_parser(
        "create-token",
        help="print a new random API token; with --name and --scope, register it "
        "as a client that may call only that scope's endpoints",
    )
    tok.add_argument("--name", default=None)
    tok.add_argument(
        "--scope",
        choices=SCOPES,
        default=None,
        help="bot (action server), desk (agent desk), payments (payment feed), analytics (read-only)",
    )
    con = sub.add_parser(
        "consume-events",
        help="store the analytics event stream and keep each conversation's facts "
        "(SQL stream by default; RabbitMQ with --amqp or HUANXIN_EVENTS_AMQP_URL); docs/insights.md",
    )
    con.add_argument("--amqp", default=None, help="amqp://user:password@host:5672/ (default: HUANXIN_EVENTS_AMQP_URL)")
    con.add_argument("--queue", default=os.environ.get("HUANXIN_EVENTS_QUEUE") or "huanxin-analytics")
    con.add_argument("--exchange", default=os.environ.get("HUANXIN_EVENTS_EXCHANGE") or "huanxin-events")
    con.add_argument("--batch", type=int, default=200, help="events per transaction (1-5000)")
    con.add_argument("--once", action="store_true", help="SQL: read the stream to its end, then stop")
    con.add_argument("--idle-exit", type=float, default=None, help="RabbitMQ: stop after this many idle seconds")
    sub.add_parser(
        "rebuild-insights",
        help="recompute the insights page's per-day rollups from the conversation facts (after upgrading "
        "a database that holds facts, or a bulk load); docs/insights.md",
    )
    con.add_argument("--hold-before-commit", type=float, default=0.0, help=argparse.SUPPRESS)  # fault tests
    exp = sub.add_parser(
        "export-annotations",
        help="write the analysts' intent corrections as bot/data/nlu/<language>/reviewed.yml "
        "(duplicates, training and held-out texts, identity data left out); docs/insights.md",
    )
    exp.add_argument("--language", choices=("zh", "en", "all"), default="all")
    exp.add_argument("--bot-dir", default=None, help="the bot's directory (default: bot/ of this checkout)")
    sim = sub.add_parser(
        "simulate",
        help="policy lab: every loan under the current and a candidate policy; writes report.json, "
        "report.csv, changes.csv and report.html (read-only: never changes the live policy)",
    )
    sim.add_argument("--policy", required=True, help="the candidate policy file (YAML, as LEDGER_POLICY_FILE)")
    sim.add_argument("--scenarios", default=None, help="hardship profiles for loans with no facts on file (YAML)")
    sim.add_argument("--as-of", default=None, help="evaluation day YYYY-MM-DD (default: today, Asia/Shanghai)")
    sim.add_argument("--out", default="policy-lab-report", help="output directory (default: policy-lab-report)")
    sim.add_argument("--workers", type=int, default=2, help="worker processes (default 2; 1 = in this process)")
    sim.add_argument("--batch-size", type=int, default=2000, help="loans read and evaluated per batch")
    rel = sub.add_parser(
        "release-check",
        help="the release report: the working tree against a base git ref (policy lab when the policy "
        "file changed, bot texts, last NLU and story results); exit 1 when a gate fails",
    )
    rel.add_argument(
        "--base", default="HEAD", help="git ref to compare with (default HEAD), or an NLU model file (.tar.gz)"
    )
    rel.add_argument("--thresholds", default=None, help="gates file (default: release-thresholds.yaml)")
    rel.add_argument("--out", default=None, help="output directory (default: var/release-check)")
    rel.add_argument("--policy", default=None, help="candidate policy file (default: the tracked policy file)")
    rel.add_argument("--nlu-base", default=None, help="NLU results.json of the base (else the base is trained)")
    rel.add_argument(
        "--no-nlu-train", action="store_true", help="train nothing: read the NLU results of `make test-rasa` only"
    )
    rel.add_argument(
        "--bench",
        action="store_true",
        help="add the conversation benchmark: run against RASA_URL, else its latest figures (var/bench)",
    )
    rel.add_argument("--nlu-cache", default=None, help="trained models and results (default var/release-check-cache)")
    rel.add_argument("--as-of", default=None, help="policy lab day YYYY-MM-DD (default: today, Asia/Shanghai)")
    app = sub.add_parser(
        "apply-policy",
        help="make a candidate policy the live one (LEDGER_POLICY_FILE) after a policy lab run on that exact "
        "file; keeps the old file and writes an audit entry",
    )
    app.add_argument("--policy", required=True, help="the candidate policy file")
    app.add_argument("--lab-report", required=True, help="the lab's output directory (or its report.json)")
    app.add_argument("--by", required=True, help="who applies it (recorded in the audit log)")
    plan = sub.add_parser(
        "contact-plan",
        help="print the outbound contact plan at a clock as JSON: the contacts due and those held back "
        "with their rule (sends nothing, writes nothing); docs/outbound.md",
    )
    plan.add_argument("--at", default=None, help="the clock, ISO 8601 with offset (default: now)")
    plan.add_argument(
        "--cadence", default=None, help="a cadence file to try (default: LEDGER_CADENCE_FILE or the packaged one)"
    )
    out = sub.add_parser(
        "outbound",
        help="the outbound dispatcher: send the reminders due at a clock through the file sinks, "
        "each once, re-checking every contact rule at send time; docs/outbound.md",
    )
    out.add_argument("--at", default=None, help="the clock, ISO 8601 with offset (one pass; default: now)")
    out.add_argument("--once", action="store_true", help="one pass at the real clock, then exit")
    out.add_argument("--interval", type=float, default=60.0, help="seconds between passes (default 60)")
    out.add_argument("--out", default=None, help="where the file sinks write (default: var/; files outbound/*.jsonl)")
    out.add_argument(
        "--lease",
        type=float,
        default=300.0,
        help="seconds a worker holds the contacts it claimed (default 300): several workers may work one "
        "PostgreSQL queue; a killed worker's contacts are claimable again after its lease",
    )
    out.add_argument("--batch", type=int, default=500, help="contacts claimed at a time (default 500)")
    out.add_argument(
        "--no-plan", action="store_true", help="only work the queue (another worker plans and records the day)"
    )
    bc = sub.add_parser(
        "bind-channel",
        help="bind a borrower's WeChat openid or Telegram chat id, so reminders may go there; docs/outbound.md",
    )
    bc.add_argument("--borrower", required=True, help="the borrower's id")
    bc.add_argument("--channel", required=True, choices=["wechat", "telegram"])
    bc.add_argument("--address", default=None, help="the openid (wechat) or chat id (telegram)")
    bc.add_argument("--unbind", action="store_true", help="remove the binding instead")
    bc.add_argument("--by", default="operator", help="who binds it (recorded in the audit log)")
    args = parser.parse_args(argv)
    if args.command == "outbound" and args.interval <= 0:
        out.error("--interval must be positive")
    if args.command == "outbound" and not (args.lease > 0 and 1 <= args.batch <= 5000):
        out.error("--lease must be positive and --batch between 1 and 5000")
    if args.command == "consume-events" and not 1 <= args.batch <= 5000:
        con.error("--batch must be between 1 and 5000")
    if args.command == "simulate" and (args.workers < 1 or args.batch_size < 1):
        sim.error("--workers and --batch-size must be at least 1")
    if args.command == "create-token" and (args.name is None) != (args.scope is None):
        tok.error("--name and --scope go together: a registered client has exactly one scope")
    with _logging_to_stderr():  # main() may run in a process that goes on: it leaves logging as it was
        try:
            settings = Settings.from_env()
            if args.command == "serve":
                serve(settings)
            elif args.command == "migrate":
                migrate(settings.database_url)
                print("migrations applied", flush=True)
            elif args.command == "seed-demo":
                ids = asyncio.run(_seed(settings))
                print(f"demo portfolio seeded: {len(ids)} borrowers ({', '.join(sorted(ids))})", flush=True)
            elif args.command == "copy-demo":
                try:
                    print(json.dumps(asyncio.run(_copy(settings, args.keys)), ensure_ascii=False), flush=True)
                except ValueError as exc:
                    copy.error(str(exc))
            elif args.command == "generate":
                if args.n < 1:
                    parser.error("N must be at least 1")
                counts = asyncio.run(_generate(settings, args.n, args.seed))
                print("generated " + ", ".join(f"{k}={v}" for k, v in counts.items()), flush=True)
            elif args.command == "consume-events":
                handled = asyncio.run(_consume(settings, args, dict(os.environ)))
                print(f"consumer stopped after {handled} events", flush=True)
            elif args.command == "export-annotations":
                for language, done in asyncio.run(_export_annotations(settings, args)).items():
                    left = ", ".join(f"{k} {v}" for k, v in done["left_out"].items() if v) or "nothing"
                    where = done["file"] or "no file (no correction left)"
                    print(f"{language}: {done['examples']} example(s) -> {where}; left out: {left}", flush=True)
            elif args.command == "rebuild-insights":
                read = asyncio.run(_rebuild_insights(settings))
                print(f"insights rollups rebuilt from {read} conversations", flush=True)
            elif args.command == "simulate":
                report = simulate(settings, args)
                gains = sum(c["loans"] for c in report["changes"]["counts"] if c["direction"] == "gains")
                losses = sum(c["loans"] for c in report["changes"]["counts"] if c["direction"] == "loses")
                print(
                    f"policy lab: {report['loans']} loans as of {report['as_of']} in {report['run']['seconds']} s; "
                    f"{gains} plan gains, {losses} plan losses; core: {report['run']['core']}; report in {args.out}/",
                    flush=True,
                )
            elif args.command == "apply-policy":
                apply_policy(settings, args)
            elif args.command == "release-check":
                return release_check(settings, args)
            elif args.command == "contact-plan":
                print(json.dumps(contact_plan(settings, args), ensure_ascii=False, indent=1), flush=True)
            elif args.command == "outbound":
                return outbound(settings, args)
            elif args.command == "bind-channel":
                print(bind_channel(settings, args), flush=True)
            elif args.command == "create-token":
                token = secrets.token_urlsafe(32)
                if args.name:
                    asyncio.run(_create_client(settings, args.name, token, args.scope))
                print(token)
        except (SettingsError, PolicyError) as exc:
            key = getattr(exc, "key", None)
            print(f"ledger: {type(exc).__name__}: {exc}" + (f" (key: {key})" if key else ""), file=sys.stderr)
            return 2
        return 0


if __name__ == "__main__":
    sys.exit(main())
