"""The policy lab page (docs/policy-lab.md): `/insights/policy-lab`, for supervisors and analysts.

Behind the desk login (desk_web's middleware: session cookie, CSRF token on every POST). An
uploaded policy file is checked as at start-up (a bad key is a 400 naming it, nothing run),
then the ledger's policy lab runs on it in the background (ledger.desk_door, worker processes)
into GATEWAY_POLICY_LAB_DIR/<run id>/; the page polls the run and links its report. A
supervisor may then apply the run's candidate: the ledger's audited apply step, refused unless
the run is on that exact file against the live policy. Runs are listed from this process's
memory: a restart forgets them (their files stay).

POST /insights/api/policy-lab            {"policy": "<YAML text>"} -> 202 {"run_id"}
GET  /insights/api/policy-lab/{run_id}   -> {"status": running|done|failed, "summary"|"detail"}
GET  /insights/policy-lab/{run_id}/report.html
POST /insights/api/policy-lab/{run_id}/apply   (supervisor) -> 200 applied | 409 refused, with why
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from ledger.desk_door import DEFAULT_POLICY_LAB_DIR

from .keys import agent_rkey, door_key, settings_key
from .problems import problem

STATIC = Path(__file__).parent / "static"
ROLES = ("supervisor", "analyst")
ROLES_ONLY = "the policy lab is for supervisors and analysts"
RUN_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_POLICY_CHARS = 60_000  # the shipped policy file is about 10,000
routes = web.RouteTableDef()
runs_key: web.AppKey[dict[str, dict[str, Any]]] = web.AppKey("policy_lab_runs")
tasks_key: web.AppKey[dict[str, asyncio.Task[None]]] = web.AppKey("policy_lab_tasks")


def lab_dir() -> Path:
    return Path(os.environ.get("GATEWAY_POLICY_LAB_DIR") or DEFAULT_POLICY_LAB_DIR)


def _agent(request: web.Request) -> Any:
    agent = request.get(agent_rkey)
    return agent if agent is not None and agent.role in ROLES else None


def _run(request: web.Request) -> dict[str, Any] | None:
    run_id = request.match_info["run_id"]
    return request.app[runs_key].get(run_id) if RUN_ID.match(run_id) else None


@routes.get("/insights/policy-lab")
async def page(request: web.Request) -> web.StreamResponse:
    if _agent(request) is None:
        return web.Response(status=403, text=f"403: {ROLES_ONLY}\n", content_type="text/plain")
    return web.FileResponse(STATIC / "policy_lab.html")


async def _lab(app: web.Application, run: dict[str, Any], text: str) -> None:
    try:
        run["summary"] = await app[door_key].run_policy_lab(app[settings_key].database_url, text, run["dir"])
        run["status"] = "done"
    except Exception as exc:  # noqa: BLE001 - reported on the page; the gateway keeps serving
        run["status"], run["detail"] = "failed", f"{type(exc).__name__}: {exc}"[:500]


@routes.post("/insights/api/policy-lab")
async def start(request: web.Request) -> web.Response:
    agent = _agent(request)
    if agent is None:
        return problem(403, "forbidden", ROLES_ONLY)
    try:
        body = await request.json()
    except ValueError:
        return problem(400, "invalid_request", 'send JSON: {"policy": "<the policy file as text>"}')
    text = body.get("policy") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return problem(400, "invalid_request", 'send JSON: {"policy": "<the policy file as text>"}')
    if len(text) > MAX_POLICY_CHARS:
        return problem(400, "invalid_policy", f"a policy file has at most {MAX_POLICY_CHARS} characters")
    why = request.app[door_key].policy_problem(text)
    if why is not None:
        return problem(400, "invalid_policy", why)
    run_id = secrets.token_hex(8)
    run = {"status": "running", "by": agent.username, "dir": lab_dir() / run_id}
    request.app[runs_key][run_id] = run
    task = asyncio.create_task(_lab(request.app, run, text))
    tasks = request.app[tasks_key]
    tasks[run_id] = task
    task.add_done_callback(lambda _: tasks.pop(run_id, None))
    return web.json_response({"run_id": run_id, "status": "running"}, status=202)


@routes.get("/insights/api/policy-lab/{run_id}")
async def status(request: web.Request) -> web.Response:
    if _agent(request) is None:
        return problem(403, "forbidden", ROLES_ONLY)
    run = _run(request)
    if run is None:
        return problem(404, "not_found", "no such policy lab run (runs are forgotten when the gateway restarts)")
    out = {k: run[k] for k in ("status", "by", "summary", "detail", "applied") if k in run}
    return web.json_response(out)


@routes.get("/insights/policy-lab/{run_id}/report.html")
async def report(request: web.Request) -> web.StreamResponse:
    if _agent(request) is None:
        return web.Response(status=403, text=f"403: {ROLES_ONLY}\n", content_type="text/plain")
    run = _run(request)
    if run is None or run["status"] != "done":
        return web.Response(status=404, text="404: no finished policy lab run by that id\n", content_type="text/plain")
    return web.FileResponse(run["dir"] / "report.html")


@routes.post("/insights/api/policy-lab/{run_id}/apply")
async def apply(request: web.Request) -> web.Response:
    agent = _agent(request)
    if agent is None or agent.role != "supervisor":
        return problem(403, "forbidden", "only a supervisor applies a policy")
    run = _run(request)
    if run is None or run["status"] != "done":
        return problem(404, "not_found", "no finished policy lab run by that id")
    door = request.app[door_key]
    result = await door.apply_lab_candidate(
        request.app[settings_key].database_url, run["dir"], f"desk:{agent.username}"
    )
    if not result["applied"]:
        return problem(409, "not_applied", result["detail"])
    run["applied"] = {"by": agent.username, "sha256": result["sha256"]}
    return web.json_response(result)


async def _runs(app: web.Application) -> AsyncIterator[None]:
    app[runs_key] = {}
    app[tasks_key] = {}
    yield
    for task in list(app[tasks_key].values()):
        task.cancel()


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_runs)
    app.add_routes(routes)
