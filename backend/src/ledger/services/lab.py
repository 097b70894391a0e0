"""The policy lab: the whole portfolio under the current and a candidate policy (docs/policy-lab.md).

Reads the portfolio in batches (ledger.db.lab_queries), evaluates each batch in a worker
process (services.lab_worker: the pure core ledger.domain.lab_rows, compiled when its build is
current, services.lab_core), merges the partial reports and writes report.json, report.csv,
changes.csv and report.html. Read-only: nothing in the database changes, and the live policy
is never touched.
"""

from __future__ import annotations

import asyncio
import csv
import html
import json
import multiprocessing
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..db.lab_queries import portfolio_batches
from ..db.session import create_engine
from ..domain.lab import RATIO_BINS, SIDES, Change, HardshipProfile, LabReport
from ..domain.money import ZERO
from ..domain.policy import Policy
from ..domain.relief import PLAN_TYPES
from . import lab_core, lab_worker
from .views import money

EXAMPLES = 500  # gains and losses listed in report.json / report.html; changes.csv has them all
CHANGE_FIELDS = ("loan_number", "bucket", "plan_type", "direction", "rule", "hardship_profile")


@dataclass(frozen=True)
class LabInputs:
    current: Policy
    candidate: Policy
    as_of: date
    profiles: tuple[HardshipProfile, ...]
    current_source: str
    candidate_source: str
    scenarios_source: str
    # sha256 of the files' bytes: the apply step (services.policy_apply) checks both.
    candidate_sha256: str = ""
    current_sha256: str = ""


class _Inline(Executor):
    """Runs the batches in this process (workers=1, and the tests)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        fut.set_result(fn(*args, **kwargs))
        return fut


async def simulate(
    database_url: str, inputs: LabInputs, out_dir: Path, *, workers: int = 2, batch_size: int = 2000
) -> dict[str, Any]:
    """Evaluate the portfolio, write the four files into ``out_dir``, return the report dict."""
    started = time.perf_counter()
    # The core is chosen once here (LabCoreUnavailable for HUANXIN_LAB_CORE=compiled without a
    # usable build) and every worker loads that one.
    core = lab_core.load()
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    init_args = (
        inputs.current,
        inputs.candidate,
        inputs.as_of,
        inputs.profiles,
        "compiled" if core.compiled else "pure",
    )
    pool: Executor
    if workers > 1:
        pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=lab_worker.init, initargs=init_args
        )
    else:
        lab_worker.init(*init_args)
        pool = _Inline()
    report = LabReport()
    examples: list[Change] = []
    loop = asyncio.get_running_loop()
    engine = create_engine(database_url, pool_size=1)
    try:
        with (out_dir / "changes.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CHANGE_FIELDS)

            def take(result: tuple[LabReport, list[Change]]) -> None:
                part, changes = result
                report.merge(part)
                for c in changes:
                    writer.writerow((c.loan_number, c.bucket, c.plan_type, c.direction, c.rule, c.profile))
                examples.extend(changes[: max(0, EXAMPLES - len(examples))])

            pending: list[asyncio.Future[Any]] = []
            async for batch in portfolio_batches(engine, batch_size):
                pending.append(asyncio.wrap_future(pool.submit(lab_worker.evaluate_batch, batch), loop=loop))
                while len(pending) > workers * 2:  # bounded: memory flat in the portfolio size
                    take(await pending.pop(0))
            for fut in pending:
                take(await fut)
    finally:
        await engine.dispose()
        pool.shutdown()
    seconds = time.perf_counter() - started
    result = build_report(report, examples, inputs, bucket_names(inputs.current))
    result["run"] = {"seconds": round(seconds, 2), "workers": workers, "batch_size": batch_size, "core": core.note}
    write_files(result, out_dir)
    return result


def bucket_names(policy: Policy) -> list[str]:
    return [b.name for b in policy.buckets]


def _m(d: Decimal | None) -> str | None:
    return None if d is None else money(d)


def build_report(r: LabReport, examples: list[Change], inputs: LabInputs, buckets: list[str]) -> dict[str, Any]:
    plans = []
    for plan in PLAN_TYPES:
        rows = []
        for b in buckets:
            row: dict[str, Any] = {"bucket": b}
            for side in SIDES:
                row[side] = {
                    "eligible": r.eligible.get((side, plan, b), 0),
                    "affordable": r.offered.get((side, plan, b), 0),
                }
            row["difference"] = {k: row["candidate"][k] - row["current"][k] for k in ("eligible", "affordable")}
            row["gains"] = r.changes_by_bucket.get((plan, "gains", b), 0)
            row["losses"] = r.changes_by_bucket.get((plan, "loses", b), 0)
            rows.append(row)
        total = {side: {k: sum(x[side][k] for x in rows) for k in ("eligible", "affordable")} for side in SIDES}
        waived = {}
        payments = {}
        for side in SIDES:
            w = {k: r.waived.get((side, plan, k), ZERO) for k in ("late_fees", "penalty_interest", "interest")}
            waived[side] = {k: money(v) for k, v in w.items()} | {"total": money(sum(w.values(), ZERO))}
            before = r.payments_before.get((side, plan))
            after = r.payments_after.get((side, plan))
            payments[side] = {
                "before": _m(before),
                "after": _m(after),
                "difference": _m(None if before is None or after is None else after - before),
            }
        plans.append(
            {
                "plan_type": plan,
                "by_bucket": rows,
                "total": total,
                "waived": waived,
                "monthly_payments": payments,
                "payment_to_disposable_income": {
                    side: {b: r.ratios.get((side, plan, b), 0) for b in RATIO_BINS} for side in SIDES
                },
            }
        )
    history: list[dict[str, Any]] = [
        {"plan_type": plan, "bucket": b, "kept": rate[0], "settled": rate[1], "kept_rate": f"{rate[0] / rate[1]:.4f}"}
        for plan in PLAN_TYPES
        for b in buckets
        if (rate := r.kept_rate(plan, b)) is not None
    ]
    collections = []
    for h in history:
        plan, bucket = str(h["plan_type"]), str(h["bucket"])
        row = {"plan_type": plan, "bucket": bucket, "kept_rate": h["kept_rate"]}
        for side in SIDES:
            row[side] = {
                "loans": r.offered.get((side, plan, bucket), 0),
                "total_to_repay": money(r.to_repay.get((side, plan, bucket), ZERO)),
                "expected": _m(r.expected_collections(side, plan, bucket)),
            }
        collections.append(row)
    changes = sorted(((k, v) for k, v in r.changes.items()), key=lambda kv: (kv[0][0], kv[0][1], -kv[1], kv[0][2]))
    return {
        "as_of": inputs.as_of.isoformat(),
        "policies": {
            "current": inputs.current_source,
            "candidate": inputs.candidate_source,
            "candidate_sha256": inputs.candidate_sha256,
            "current_sha256": inputs.current_sha256,
        },
        "scenarios": inputs.scenarios_source,
        "loans": r.loans,
        "loans_gaining_a_plan": r.loans_gaining,
        "loans_losing_a_plan": r.loans_losing,
        "loans_by_bucket": {b: r.by_bucket.get((b,), 0) for b in buckets},
        "hardship_facts": {k[0]: v for k, v in sorted(r.by_profile.items())},
        "plans": plans,
        "changes": {
            "counts": [{"plan_type": k[0], "direction": k[1], "rule": k[2], "loans": v} for k, v in changes],
            "examples": [c.__dict__ for c in examples],
            "all_in": "changes.csv",
        },
        "expected_collections": {
            "estimate": True,
            "method": "for each plan and bucket with settled arrangements in the ledger: the total to repay "
            "under the plan of every loan offered it, times the share of that plan's arrangements "
            "accepted in that bucket that were kept (kept / (kept + broken), active ones left out)",
            "history": history,
            "rows": collections,
            "note": None
            if history
            else "no history: the ledger has no kept or broken arrangement, so no collections are estimated",
        },
    }


def write_files(report: dict[str, Any], out_dir: Path) -> None:
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    with (out_dir / "report.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            (
                "plan_type",
                "bucket",
                "current_eligible",
                "current_affordable",
                "candidate_eligible",
                "candidate_affordable",
                "difference_eligible",
                "difference_affordable",
                "gains",
                "losses",
            )
        )
        for p in report["plans"]:
            for row in p["by_bucket"]:
                w.writerow(
                    (
                        p["plan_type"],
                        row["bucket"],
                        row["current"]["eligible"],
                        row["current"]["affordable"],
                        row["candidate"]["eligible"],
                        row["candidate"]["affordable"],
                        row["difference"]["eligible"],
                        row["difference"]["affordable"],
                        row["gains"],
                        row["losses"],
                    )
                )
    (out_dir / "report.html").write_text(render_html(report), encoding="utf-8")


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _table(head: list[str], rows: list[list[Any]], cls: str = "") -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def _bars(counts: dict[str, int]) -> str:
    """A bar chart in plain HTML and CSS (no script)."""
    top = max(counts.values(), default=0) or 1
    rows = "".join(
        f'<div class="bar"><span class="label">{_e(k)}</span>'
        f'<span class="fill" style="width:{round(240 * v / top)}px"></span><span>{v}</span></div>'
        for k, v in counts.items()
    )
    return f'<div class="bars">{rows}</div>'


def render_html(r: dict[str, Any]) -> str:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Policy lab report</title><style>",
        "body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}"
        "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}th{background:#eee}"
        "td:first-child,th:first-child{text-align:left}"
        ".bar{display:flex;gap:.5em;align-items:center;font-size:.9em}.bar .label{width:12em}"
        ".bar .fill{display:inline-block;height:.9em;background:#4a7bd0}.note{background:#fff7dd;padding:.5em}",
        "</style></head><body>",
        "<h1>Policy lab report</h1>",
        f"<p>As of <b>{_e(r['as_of'])}</b>: {r['loans']} loans. "
        f"Current policy: <code>{_e(r['policies']['current'])}</code>; "
        f"candidate: <code>{_e(r['policies']['candidate'])}</code>; hardship profiles: "
        f"<code>{_e(r['scenarios'])}</code>.</p>",
        "<h2>Loans by bucket and hardship facts</h2>",
        _table(["bucket", "loans"], [[k, v] for k, v in r["loans_by_bucket"].items()]),
        _table(["hardship facts", "loans"], [[k, v] for k, v in r["hardship_facts"].items()]),
        "<h2>Eligible and affordable, per plan and bucket</h2>",
        "<p>Eligible: every rule of the plan met except perhaps affordability. Affordable: offered "
        "(eligible and within the affordability limit).</p>",
    ]
    for p in r["plans"]:
        rows = [
            [
                x["bucket"],
                x["current"]["eligible"],
                x["candidate"]["eligible"],
                _signed(x["difference"]["eligible"]),
                x["current"]["affordable"],
                x["candidate"]["affordable"],
                _signed(x["difference"]["affordable"]),
                x["gains"],
                x["losses"],
            ]
            for x in p["by_bucket"]
        ]
        parts.append(f"<h3>{_e(p['plan_type'])}</h3>")
        parts.append(
            _table(
                [
                    "bucket",
                    "eligible now",
                    "eligible candidate",
                    "difference",
                    "affordable now",
                    "affordable candidate",
                    "difference",
                    "gain",
                    "lose",
                ],
                rows,
            )
        )
    parts.append("<h2>Loans that gain or lose a plan, and the rule that decided</h2>")
    counts = r["changes"]["counts"]
    if counts:
        parts.append(
            _table(
                ["plan", "direction", "deciding rule", "loans"],
                [[c["plan_type"], c["direction"], c["rule"], c["loans"]] for c in counts],
            )
        )
        parts.append(_bars({f"{c['plan_type']} {c['direction']}": c["loans"] for c in counts}))
        ex = r["changes"]["examples"]
        parts.append(f"<p>The first {len(ex)} loans (every one is in {_e(r['changes']['all_in'])}):</p>")
        parts.append(
            _table(
                ["loan", "bucket", "plan", "direction", "rule", "hardship facts"],
                [[c["loan_number"], c["bucket"], c["plan_type"], c["direction"], c["rule"], c["profile"]] for c in ex],
            )
        )
    else:
        parts.append("<p>No loan gains or loses any plan.</p>")
    parts.append("<h2>What would be waived (CNY), if every loan took the plan offered</h2>")
    parts.append(
        _table(
            ["plan", "policy", "late fees", "penalty interest", "interest", "total"],
            [
                [
                    p["plan_type"],
                    side,
                    *(p["waived"][side][k] for k in ("late_fees", "penalty_interest", "interest", "total")),
                ]
                for p in r["plans"]
                for side in SIDES
            ],
        )
    )
    parts.append(
        "<h2>Monthly payments (CNY): today's instalments and the plan's, over the loans offered a monthly plan</h2>"
    )
    parts.append(
        _table(
            ["plan", "policy", "today's instalments", "plan payments", "difference"],
            [
                [p["plan_type"], side, *(p["monthly_payments"][side][k] for k in ("before", "after", "difference"))]
                for p in r["plans"]
                for side in SIDES
                if p["monthly_payments"][side]["before"] is not None
            ],
        )
    )
    parts.append("<h2>Payment to disposable income (largest payment of each offer)</h2>")
    parts.append(
        _table(
            ["plan", "policy", *RATIO_BINS],
            [
                [p["plan_type"], side, *p["payment_to_disposable_income"][side].values()]
                for p in r["plans"]
                for side in SIDES
            ],
        )
    )
    ec = r["expected_collections"]
    parts.append("<h2>Expected collections (an estimate)</h2>")
    parts.append(f"<p class='note'>Estimate. Method: {_e(ec['method'])}.</p>")
    if ec["note"]:
        parts.append(f"<p class='note'>{_e(ec['note'])}</p>")
    else:
        parts.append(
            _table(
                ["plan", "bucket", "kept rate", "loans now", "expected now", "loans candidate", "expected candidate"],
                [
                    [
                        x["plan_type"],
                        x["bucket"],
                        x["kept_rate"],
                        x["current"]["loans"],
                        x["current"]["expected"],
                        x["candidate"]["loans"],
                        x["candidate"]["expected"],
                    ]
                    for x in ec["rows"]
                ],
            )
        )
        parts.append(
            _table(
                ["plan", "bucket", "kept", "settled (kept + broken)"],
                [[h["plan_type"], h["bucket"], h["kept"], h["settled"]] for h in ec["history"]],
            )
        )
    run = r.get("run", {})
    parts.append(
        f"<p><small>{_e(run.get('seconds'))} s, {_e(run.get('workers'))} worker processes; "
        f"core: {_e(run.get('core'))}.</small></p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)
