"""Turn cost: this project's Rasa turns against a minimal bot's, the gateway's added cost, and
how a turn's latency grows with the length of a session. Everything printed comes from one run.

    backend/.venv/bin/python bench/turn_cost.py [--window 15] [--rounds 2] [--session-turns 260]
        [--gateway-turns 200] [--variant NAME:KEY=VALUE[,KEY=VALUE...]] [--port-base 22000] [--db pg]

It starts what it measures on ports 22000-22499 (--port-base moves them; nothing else may use
them) and stops it at the end:
- the project: a fresh SQLite ledger (migrated, demo portfolio), the action server and Rasa with
  the model scripts/train.sh gives (trained when config, domain or data changed);
- the minimal bot of bench/minimal_bot/ (Rasa 3.6.21, the project's bot/config.yml, one custom
  action, Rasa's SQL tracker store on SQLite), trained once per change of its files, with its own
  action server;
- the gateway (backend/src/gateway) in front of a stub Rasa that answers at once, so that what a
  borrower's turn costs in the gateway is measured alone;
- with --variant, another Rasa of the project started with extra environment variables (for
  example ``--variant plain:HUANXIN_TURN_CACHE=0``), measured alternately with the others.

Measured, in order:
1. throughput: 20 concurrent conversations without pauses through Rasa's REST webhook, for
   --window seconds per variant, alternated --rounds times; turns/s, Rasa's CPU per turn (from
   /proc), the action server's and ledger's CPU per turn, turn latency; the project's ratio to
   the minimal bot;
2. one long session of --session-turns turns (the project after verification; the minimal bot
   too): median latency of turns 20-29 and 250-259, their ratio, the slowest turn and how many
   turns took over 300 ms (every turn counted, the first too); the same over turns 20-39 and
   240-259; the five slowest turns by number, with Rasa's CPU in each; each turn's start,
   latency and CPU in var/bench-turn-cost/session-<sender>.json;
3. the gateway: --gateway-turns borrower turns over the chat WebSocket, one at a time, each its
   own conversation's turn (the gateway allows 20 messages a minute a conversation), against the
   stub Rasa: added latency p50/p99 and the gateway's CPU per turn; with --gateway-from CHECKOUT,
   the gateway of that checkout too (its backend/src first on PYTHONPATH), alternated --rounds
   times.

--only picks some of the three parts (throughput,session,gateway). --db pg puts the ledger and the
gateway on PostgreSQL (the database TURN_COST_DB, default huanxin_bench_turns, dropped and created
again).

Not a test: it asserts nothing. Logs and databases go to var/bench-turn-cost/.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

import benchlib  # bench/ is on sys.path when run as bench/turn_cost.py
from conversation_bench import script_for

REPO = benchlib.REPO
BOT = REPO / "bot"
BACKEND = REPO / "backend"
MINIMAL = REPO / "bench" / "minimal_bot"
WORK = REPO / "var" / "bench-turn-cost"
MINIMAL_MODELS = REPO / "var" / "bench-minimal-models"

PORT_BASE = 22000  # --port-base: every port below is the base plus its offset, all under base + 500
PORT_OFFSETS = {
    "ledger": 80,
    "actions": 55,
    "rasa": 5,
    "gateway": 91,
    "stub_rasa": 291,
    "minimal_rasa": 105,
    "minimal_actions": 155,
}
VARIANT_PORT_OFFSET = 205  # --variant Rasa instances: base + 205, base + 206, ...
PORTS = {name: PORT_BASE + offset for name, offset in PORT_OFFSETS.items()}


def use_port_base(base: int) -> None:
    """Move every port of the run to ``base`` + its offset (other jobs on the machine use 22xxx)."""
    global PORT_BASE
    PORT_BASE = base
    PORTS.update({name: base + offset for name, offset in PORT_OFFSETS.items()})


# The long session after verification: questions that keep the conversation with the bot.
SESSION_LOOP = ["罚息是怎么算的", "不还会影响征信吗", "现在怎么还款", "我欠了多少钱？", "谢谢"]
MINIMAL_SCRIPT = ["你好", "我欠了多少钱", "罚息是怎么算的", "不还会影响征信吗", "现在怎么还款",
                  "how much do I owe", "will this hurt my credit score", "逾期了多少钱", "谢谢", "再见"]  # fmt: skip
# What the stub Rasa answers to every turn: two messages, the second with buttons (a typical turn).
STUB_REPLY = [
    {"recipient_id": "x", "text": "您的账户目前逾期 15 天，应还 1,234.56 元。"},
    {
        "recipient_id": "x",
        "text": "您想怎么处理？",
        "buttons": [
            {"title": "现在还款", "payload": "/pay_now"},
            {"title": "申请延期", "payload": "/request_extension"},
            {"title": "人工客服", "payload": "/request_human"},
        ],
    },
]


# ---- processes ------------------------------------------------------------------------------


def project_env() -> dict[str, str]:
    """The environment scripts/env.sh gives the stack (secrets of .env.local), on this script's ports."""
    base = dict(os.environ)
    base.update(
        LEDGER_PORT=str(PORTS["ledger"]),
        ACTION_SERVER_PORT=str(PORTS["actions"]),
        RASA_PORT=str(PORTS["rasa"]),
        GATEWAY_PORT=str(PORTS["gateway"]),
    )
    for name in ("LEDGER_URL", "ACTION_SERVER_URL", "RASA_URL", "RASA_URLS"):
        base.pop(name, None)
    out = subprocess.run(
        ["bash", "-c", ". scripts/env.sh >/dev/null && env -0"], cwd=REPO, env=base, capture_output=True, check=True
    ).stdout
    env = dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{WORK}/ledger.sqlite3",
        RASA_TRACKER_DB=str(WORK / "tracker.db"),
        HOME=env["RASA_HOME_DIR"],
        TMPDIR=env["RASA_HOME_DIR"] + "/tmp",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Proc:
    name: str
    args: list[str]
    cwd: Path
    env: dict[str, str]
    health: str
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(WORK / f"{self.name}.log", "w")
        self.popen = subprocess.Popen(
            self.args, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def cpu(self) -> float:
        """CPU seconds of the process and its children (a server's workers)."""
        return sum(benchlib.process_cpu_seconds(p) for p in benchlib.tree_pids(self.pid))

    def wait_healthy(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                tail = (WORK / f"{self.name}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"{self.name} exited during start-up:\n{tail}")
            try:
                with urllib.request.urlopen(self.health, timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise SystemExit(f"{self.name} did not answer {self.health} within {seconds:.0f} s")

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        except ProcessLookupError:
            pass


def project_model(env: dict[str, str]) -> str:
    done = subprocess.run(["scripts/train.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"scripts/train.sh failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def minimal_model(env: dict[str, str]) -> tuple[str, float | None]:
    """The minimal bot's model, trained when its files or bot/config.yml changed; (path, training seconds)."""
    digest = hashlib.sha256()
    for path in sorted([*MINIMAL.rglob("*.yml"), BOT / "config.yml", BOT / "pyproject.toml"]):
        digest.update(path.name.encode() + path.read_bytes())
    name = f"minimal-{digest.hexdigest()[:16]}"
    model = MINIMAL_MODELS / f"{name}.tar.gz"
    if model.exists():
        return str(model), None
    MINIMAL_MODELS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    done = subprocess.run(
        [str(BOT / ".venv/bin/rasa"), "train", "--config", str(BOT / "config.yml"), "--domain", "domain.yml",
         "--data", "data", "--out", str(MINIMAL_MODELS), "--fixed-model-name", name],
        cwd=MINIMAL, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"training the minimal bot failed:\n{done.stdout[-3000:]}")
    return str(model), time.monotonic() - started


def rasa_proc(name: str, model: str, port: int, env: dict[str, str], cwd: Path, *extra: str) -> Proc:
    return Proc(
        name,
        [str(BOT / ".venv/bin/rasa"), "run", "--model", model, "--endpoints", "endpoints.yml",
         "--interface", "127.0.0.1", "--port", str(port), *extra],
        cwd, env, f"http://127.0.0.1:{port}/",
    )  # fmt: skip


# ---- load ------------------------------------------------------------------------------------


@dataclass
class Window:
    turns: int = 0  # ended within the window
    all_turns: int = 0  # with those that were in flight at its end (the CPU measured covers them)
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)


async def turn(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> tuple[float, list | None]:
    started = time.perf_counter()
    async with session.post(url, json={"sender": sender, "message": text}) as response:
        body = await response.json(content_type=None) if response.status == 200 else None
    return (time.perf_counter() - started) * 1000, body


async def load_window(
    session: aiohttp.ClientSession, base: str, scripts: list[list[str]], conversations: int, seconds: float
) -> Window:
    """`conversations` workers, each running scripts back to back with fresh senders, until the
    deadline; turns that end after it are not counted."""
    url = f"{base}/webhooks/rest/webhook"
    window = Window()
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        n = index
        while time.perf_counter() < deadline:
            sender = f"cost-{uuid.uuid4().hex}"
            for text in scripts[n % len(scripts)]:
                try:
                    ms, body = await turn(session, url, sender, text)
                except (aiohttp.ClientError, TimeoutError):
                    window.errors += 1
                    break
                window.all_turns += 1
                if time.perf_counter() > deadline:
                    return
                if body is None:
                    window.errors += 1
                window.turns += 1
                window.latencies_ms.append(ms)
            n += conversations

    await asyncio.gather(*(worker(i) for i in range(conversations)))
    return window


@dataclass
class Variant:
    name: str
    base: str
    scripts: list[list[str]]
    cpu_procs: list[Proc]  # [rasa, then others whose CPU a turn also costs]
    turns: int = 0
    all_turns: int = 0
    seconds: float = 0.0
    cpu: list[float] = field(default_factory=list)
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)


async def throughput(session: aiohttp.ClientSession, variants: list[Variant], args: argparse.Namespace) -> None:
    for v in variants:  # warm-up: one script a conversation, not measured
        await load_window(session, v.base, v.scripts, args.conversations, args.warmup)
    for v in variants:
        v.cpu = [0.0] * len(v.cpu_procs)
    for round_ in range(args.rounds):
        order = variants if round_ % 2 == 0 else list(reversed(variants))
        for v in order:
            before = [p.cpu() for p in v.cpu_procs]
            w = await load_window(session, v.base, v.scripts, args.conversations, args.window)
            v.seconds += args.window
            after = [p.cpu() for p in v.cpu_procs]
            v.cpu = [c + (a - b) for c, a, b in zip(v.cpu, after, before, strict=True)]
            v.turns += w.turns
            v.all_turns += w.all_turns
            v.errors += w.errors
            v.latencies_ms += w.latencies_ms
            print(f"  round {round_ + 1} {v.name}: {w.turns / args.window:.1f} turns/s", flush=True)


def project_session(length: int) -> list[str]:
    opening = script_for(0)[:5]  # hello, how much do I owe, phone, birth date, ID last 4 (D1)
    loop = (SESSION_LOOP * (length // len(SESSION_LOOP) + 1))[: max(0, length - len(opening))]
    return opening + loop


async def long_session(
    session: aiohttp.ClientSession, base: str, texts: list[str], procs: list[Proc]
) -> tuple[list[float], list[list[float]], int]:
    """Latency and CPU (ms of each of ``procs``: Rasa, then the action server and ledger where
    they serve it) of each turn of one session."""
    sender = f"cost-long-{uuid.uuid4().hex}"
    url = f"{base}/webhooks/rest/webhook"
    latencies, cpu, silent = [], [], 0
    started: list[float] = []
    for text in texts:
        before = [p.cpu() for p in procs]
        started.append(time.time())
        ms, body = await turn(session, url, sender, text)
        cpu.append([(p.cpu() - b) * 1000 for p, b in zip(procs, before, strict=True)])
        latencies.append(ms)
        silent += not body
    (WORK / f"session-{sender}.json").write_text(json.dumps({"started": started, "ms": latencies, "cpu": cpu}))
    return latencies, cpu, silent


# ---- the gateway against a stub Rasa ---------------------------------------------------------


async def stub_rasa() -> web.AppRunner:
    async def webhook(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(STUB_REPLY)

    async def version(request: web.Request) -> web.Response:
        return web.json_response({"version": "stub"})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/version", version)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", PORTS["stub_rasa"]).start()
    return runner


async def gateway_turns(session: aiohttp.ClientSession, gateway: Proc, turns: int) -> tuple[list[float], float]:
    """Borrower turns over the chat WebSocket, one at a time: latency (send -> ack, which the
    gateway sends once the bot's replies are stored and published) and the gateway's CPU."""
    base = f"http://127.0.0.1:{PORTS['gateway']}"
    per_conversation = 10
    latencies: list[float] = []
    cpu = 0.0
    conversations = max(1, -(-turns // per_conversation)) + 1  # the first one warms up
    for c in range(conversations):
        async with session.post(f"{base}/api/chat/conversations", json={"language": "zh"}) as r:
            created = await r.json()
        async with session.ws_connect(f"{base}/ws/chat") as ws:
            await ws.send_json(
                {"type": "auth", "conversation_id": created["conversation_id"], "token": created["token"]}
            )
            for i in range(per_conversation):
                msg_id = uuid.uuid4().hex
                before = gateway.cpu()
                started = time.perf_counter()
                await ws.send_json({"type": "message", "text": f"我欠了多少钱 {i}", "client_msg_id": msg_id})
                while True:
                    frame = await ws.receive_json(timeout=30)
                    if frame.get("type") == "ack" and frame.get("client_msg_id") == msg_id:
                        break
                    if frame.get("type") == "error":
                        raise SystemExit(f"the gateway refused a turn: {frame}")
                elapsed = (time.perf_counter() - started) * 1000
                if c:  # not the warm-up conversation
                    latencies.append(elapsed)
                    cpu += gateway.cpu() - before
    return latencies[:turns], cpu


async def stub_direct(session: aiohttp.ClientSession, turns: int) -> list[float]:
    """The same turn straight to the stub: what the client and the stub themselves take."""
    url = f"http://127.0.0.1:{PORTS['stub_rasa']}/webhooks/rest/webhook"
    out = []
    for _ in range(turns):
        ms, _body = await turn(session, url, "direct", "我欠了多少钱")
        out.append(ms)
    return out


# ---- the run ---------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    return benchlib.percentile(sorted(values), p)


async def report_throughput(
    session: aiohttp.ClientSession, variants: list[Variant], extra: list[tuple[str, Proc]], args: argparse.Namespace
) -> None:
    print(
        f"\n1. throughput: {args.conversations} concurrent conversations, no pause, "
        f"{args.window:.0f} s windows x {args.rounds} rounds, variants alternated"
    )
    await throughput(session, variants, args)
    rates = {}
    print(
        f"\n  {'variant':<16} {'turns/s':>8} {'Rasa CPU/turn':>14} {'+actions,ledger':>16} "
        f"{'p50':>7} {'p99':>7}  errors"
    )
    for v in variants:
        rate = v.turns / v.seconds if v.seconds else 0.0
        rates[v.name] = rate
        per_turn = [c / v.all_turns * 1000 if v.all_turns else float("nan") for c in v.cpu]
        rest = f"{sum(per_turn[1:]):.1f} ms" if len(per_turn) > 1 else ""
        print(
            f"  {v.name:<16} {rate:8.1f} {per_turn[0]:11.1f} ms {rest:>16} "
            f"{pct(v.latencies_ms, 50):5.0f}ms {pct(v.latencies_ms, 99):5.0f}ms  {v.errors}"
        )
    ratio = rates["project"] / rates["minimal bot"] if rates["minimal bot"] else float("nan")
    print(f"  project / minimal bot turns/s: {ratio:.2f} (goal >= 1.00)")
    for name, _proc in extra:
        print(f"  project / {name} turns/s: {rates['project'] / rates[name]:.2f}")


async def measure(args: argparse.Namespace, procs: dict[str, Proc], extra: list[tuple[str, Proc]]) -> None:
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=args.conversations * 2 + 10)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        project_scripts = [script_for(i) for i in range(6)]
        others = [procs["actions"], procs["ledger"]]
        variants = [
            Variant("project", f"http://127.0.0.1:{PORTS['rasa']}", project_scripts, [procs["rasa"], *others]),
            Variant(
                "minimal bot",
                f"http://127.0.0.1:{PORTS['minimal_rasa']}",
                [MINIMAL_SCRIPT],
                [procs["minimal_rasa"], procs["minimal_actions"]],
            ),
        ]
        for name, proc in extra:
            port = int(proc.health.rstrip("/").rsplit(":", 1)[1])
            variants.append(Variant(name, f"http://127.0.0.1:{port}", project_scripts, [proc, *others]))

        if "throughput" in args.only:
            await report_throughput(session, variants, extra, args)
        if "session" in args.only:
            print(f"\n2. one session of {args.session_turns} turns, one turn at a time")
        sessions = [("project", variants[0], project_session(args.session_turns))]
        sessions.append(("minimal bot", variants[1], (MINIMAL_SCRIPT[1:8] * args.session_turns)[: args.session_turns]))
        sessions += [(v.name, v, project_session(args.session_turns)) for v in variants[2:]]
        for name, variant, texts in sessions:
            if "session" not in args.only:
                break
            lat, cpu, silent = await long_session(session, variant.base, texts, variant.cpu_procs)
            early, late = statistics.median(lat[19:29]), statistics.median(lat[249:259])
            # CPU is read from /proc in clock ticks (10 ms): a mean over ten turns, not a median
            whole = [sum(c) for c in cpu]
            early_cpu, late_cpu = statistics.fmean(whole[19:29]), statistics.fmean(whole[249:259])
            rasa_early = statistics.fmean(c[0] for c in cpu[19:29])
            rasa_late = statistics.fmean(c[0] for c in cpu[249:259])
            slow = sum(1 for x in lat if x > 300)
            parts = ", ".join(
                f"{proc.name} {statistics.fmean(c[i] for c in cpu[19:29]):.1f} → "
                f"{statistics.fmean(c[i] for c in cpu[249:259]):.1f} ms"
                for i, proc in enumerate(variant.cpu_procs)
            )
            print(
                f"  {name:<16} turns 20-29 → 250-259, median latency {early:.0f} → {late:.0f} ms "
                f"({late / early:.2f}x), mean CPU {early_cpu:.0f} → {late_cpu:.0f} ms ({late_cpu / early_cpu:.2f}x; "
                f"goal <= 1.5x; Rasa alone {rasa_early:.0f} → {rasa_late:.0f} ms); slowest {max(lat):.0f} ms, "
                f"turns over 300 ms: {slow}, without an answer: {silent}"
            )
            print(f"    CPU a turn by process, turns 20-29 → 250-259: {parts}")
            wide_cpu = statistics.fmean(whole[19:39]), statistics.fmean(whole[239:259])
            wide_rasa = statistics.fmean(c[0] for c in cpu[19:39]), statistics.fmean(c[0] for c in cpu[239:259])
            print(
                f"    wider windows, turns 20-39 → 240-259: median latency {statistics.median(lat[19:39]):.0f} → "
                f"{statistics.median(lat[239:259]):.0f} ms, mean CPU {wide_cpu[0]:.0f} → {wide_cpu[1]:.0f} ms "
                f"({wide_cpu[1] / wide_cpu[0]:.2f}x; Rasa alone {wide_rasa[0]:.0f} → {wide_rasa[1]:.0f} ms)"
            )
            slowest = sorted(range(len(lat)), key=lat.__getitem__, reverse=True)[:5]
            print(
                "    slowest turns (turn number: ms, Rasa CPU ms): "
                + ", ".join(f"{i + 1}: {lat[i]:.0f}, {cpu[i][0]:.0f}" for i in slowest)
                + " (turn 1 of a fresh Rasa is its first turn: --only session starts it cold)"
            )

        if "gateway" not in args.only:
            return
        print(f"\n3. the gateway, {args.gateway_turns} borrower turns over the chat WebSocket against a stub Rasa")
        gateways = [("this checkout", procs["gateway"])]
        if args.gateway_from:
            src = f"{args.gateway_from}/backend/src"  # made absolute in main()
            reference = Proc(
                "gateway-reference",
                procs["gateway"].args,
                procs["gateway"].cwd,
                {**procs["gateway"].env, "PYTHONPATH": src},
                procs["gateway"].health,
            )
            gateways.append((f"reference {args.gateway_from}", reference))
        runner = await stub_rasa()
        try:
            direct = await stub_direct(session, args.gateway_turns)
            results: dict[str, list[tuple[list[float], float]]] = {}
            for round_ in range(args.rounds if args.gateway_from else 1):
                for label, proc in gateways if round_ % 2 == 0 else list(reversed(gateways)):
                    proc.start()
                    try:
                        await asyncio.to_thread(proc.wait_healthy, 60)
                        results.setdefault(label, []).append(await gateway_turns(session, proc, args.gateway_turns))
                    finally:
                        proc.stop()
        finally:
            await runner.cleanup()
        for label, runs in results.items():
            for lat, cpu in runs:
                print(
                    f"  {label}: added latency p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms "
                    f"(goals 5 / 20 ms); gateway CPU per turn {cpu / len(lat) * 1000:.1f} ms (goal 3 ms)"
                )
        print(
            f"  (the client and stub alone, same turn over HTTP: p50 {pct(direct, 50):.1f} ms, "
            f"p99 {pct(direct, 99):.1f} ms)"
        )


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, pairs = text.partition(":")
    env = dict(p.split("=", 1) for p in pairs.split(",") if "=" in p)
    if not name or not env:
        raise argparse.ArgumentTypeError("--variant NAME:KEY=VALUE[,KEY=VALUE]")
    return name, env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=15, help="seconds a variant is measured a round (15)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of alternated windows (2)")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured seconds of load per variant first (5)")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--session-turns", type=int, default=260)
    parser.add_argument("--gateway-turns", type=int, default=200)
    parser.add_argument("--variant", type=parse_variant, action="append", default=[])
    parser.add_argument("--port-base", type=int, default=PORT_BASE, help="ports used: this base + 0..499 (22000)")
    parser.add_argument(
        "--db",
        choices=("sqlite", "pg"),
        default="sqlite",
        help="the ledger's and gateway's database: a fresh SQLite file (default), or TURN_COST_DB on PostgreSQL",
    )
    parser.add_argument(
        "--gateway-from",
        metavar="CHECKOUT",
        help="also measure the gateway of another checkout (e.g. a git worktree of an older commit), alternated",
    )
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default={"throughput", "session", "gateway"},
        help="some of throughput,session,gateway (all three)",
    )
    args = parser.parse_args(argv)
    use_port_base(args.port_base)
    if not args.only or args.only - {"throughput", "session", "gateway"}:
        parser.error("--only takes some of throughput,session,gateway")
    needs_rasa = bool(args.only & {"throughput", "session"})
    if args.gateway_from:
        args.gateway_from = str(Path(args.gateway_from).resolve())

    print(benchlib.machine())
    print(f"command: backend/.venv/bin/python bench/turn_cost.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    started = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    env = project_env()
    if args.db == "pg":
        database = os.environ.get("TURN_COST_DB", "huanxin_bench_turns")
        benchlib.empty_database(database)  # migrated and seeded below
        env["DATABASE_URL"] = benchlib.database_url(database)
    ledger_bin = str(BACKEND / ".venv/bin/ledger")
    for step in ("migrate", "seed-demo"):
        subprocess.run([ledger_bin, step], cwd=BACKEND, env=env, check=True, capture_output=True)
    model, small, trained = "", "", None
    if needs_rasa:
        model = project_model(env)
        small, trained = minimal_model(env)
        print(
            f"project model {Path(model).name}; minimal bot model {Path(small).name}"
            + (f" (trained in {trained:.0f} s)" if trained else "")
        )

    action_url = f"http://127.0.0.1:{PORTS['actions']}/webhook"
    project_rasa_env = {**env, "ACTION_SERVER_URL": action_url}
    minimal_env = {
        **env,
        "MINIMAL_ACTION_URL": f"http://127.0.0.1:{PORTS['minimal_actions']}/webhook",
        "MINIMAL_TRACKER_DB": str(WORK / "minimal-tracker.db"),
        "PYTHONPATH": str(BOT),
        # the minimal bot of issue 11 has the cached action validation only, none of the other add-ons
        "HUANXIN_ADDONS_OFF": "all",
    }
    gateway_env = {
        **env,
        "RASA_URLS": f"http://127.0.0.1:{PORTS['stub_rasa']}",
        "GATEWAY_PORT": str(PORTS["gateway"]),
        "GATEWAY_NEW_CONVERSATIONS_PER_HOUR": "100000",
        "GATEWAY_CHAT_MESSAGES_PER_MINUTE": "100000",
    }
    gateway_env.pop("REDIS_URL", None)
    procs = {
        "ledger": Proc("ledger", [ledger_bin, "serve"], BACKEND, env, f"http://127.0.0.1:{PORTS['ledger']}/healthz"),
        "actions": Proc(
            "actions",
            [str(BOT / ".venv/bin/python"), "-m", "actions.server", "--port", str(PORTS["actions"])],
            BOT,
            env,
            f"http://127.0.0.1:{PORTS['actions']}/health",
        ),  # fmt: skip
        "rasa": rasa_proc("rasa", model, PORTS["rasa"], project_rasa_env, BOT),
        "minimal_actions": Proc(
            "minimal_actions",
            [str(BOT / ".venv/bin/python"), "serve_actions.py", str(PORTS["minimal_actions"])],
            MINIMAL,
            minimal_env,
            f"http://127.0.0.1:{PORTS['minimal_actions']}/health",
        ),  # fmt: skip
        "minimal_rasa": rasa_proc("minimal_rasa", small, PORTS["minimal_rasa"], minimal_env, MINIMAL),
        "gateway": Proc(
            "gateway",
            [str(BACKEND / ".venv/bin/python"), "-m", "gateway"],
            BACKEND,
            gateway_env,
            f"http://127.0.0.1:{PORTS['gateway']}/healthz",
        ),  # fmt: skip
    }
    extra: list[tuple[str, Proc]] = []
    for i, (name, variant_env) in enumerate(args.variant):
        port = PORT_BASE + VARIANT_PORT_OFFSET + i
        extra.append((name, rasa_proc(f"rasa-{name}", model, port, {**project_rasa_env, **variant_env}, BOT)))
    everything = [p for k, p in procs.items() if k != "gateway"] + [p for _, p in extra] if needs_rasa else []
    try:
        for p in everything:
            p.start()
        for p in everything:
            p.wait_healthy(300)
        print(f"started in {time.monotonic() - started:.0f} s: {', '.join(p.name for p in everything)}", flush=True)
        asyncio.run(measure(args, procs, extra))
    finally:
        for p in [*everything, procs["gateway"]]:
            p.stop()
    print(f"\nwhole run {time.monotonic() - started:.0f} s; logs in {WORK.relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
