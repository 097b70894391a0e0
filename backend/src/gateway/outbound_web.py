"""The supervisors' outbound page (docs/outbound.md, "For the risk team"): `/insights/outbound`,
for supervisors and analysts (desk login; anyone else gets a 403 that says so).

GET  /insights/api/outbound          today's plan at this moment (counts by reason and channel,
                                     held by rule), and the reminders of the last 7 days: sent,
                                     delivered, answered (a chat opened from the link), and what
                                     followed within 7 days (payment, promise, plan)
POST /insights/api/outbound/dry-run  {"cadence": "<YAML>"}: the plan with that cadence file beside
                                     the live one's; nothing is sent or recorded. A bad file is a
                                     400 with the message start-up would stop with (the key named).

Everything is computed by the ledger (ledger.desk_door); the gateway adds which reminders were
answered, from its own conversations.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from .keys import agent_rkey, door_key, service_key
from .problems import problem

STATIC = Path(__file__).parent / "static"
ROLES = ("supervisor", "analyst")
ROLES_ONLY = "the outbound page is for supervisors and analysts"
MAX_CADENCE_CHARS = 60_000  # the shipped cadence file is about 4,000
LOOKBACK = timedelta(days=7)
routes = web.RouteTableDef()


def _allowed(request: web.Request) -> bool:
    agent: Any = request.get(agent_rkey)
    return agent is not None and agent.role in ROLES


@routes.get("/insights/outbound")
async def page(request: web.Request) -> web.StreamResponse:
    if not _allowed(request):
        return web.Response(status=403, text=f"403: {ROLES_ONLY}\n", content_type="text/plain")
    return web.FileResponse(STATIC / "outbound.html")


@routes.get("/insights/api/outbound")
async def overview(request: web.Request) -> web.Response:
    if not _allowed(request):
        return problem(403, "forbidden", ROLES_ONLY)
    service = request.app[service_key]
    answered = await service.reminder_refs_since(service.clock() - LOOKBACK)
    return web.json_response(await request.app[door_key].outbound_overview(answered))


@routes.post("/insights/api/outbound/dry-run")
async def dry_run(request: web.Request) -> web.Response:
    if not _allowed(request):
        return problem(403, "forbidden", ROLES_ONLY)
    usage = 'send JSON: {"cadence": "<the cadence file as text>"}'
    try:
        body = await request.json()
    except ValueError:
        return problem(400, "invalid_request", usage)
    text = body.get("cadence") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return problem(400, "invalid_request", usage)
    if len(text) > MAX_CADENCE_CHARS:
        return problem(400, "invalid_cadence", f"a cadence file has at most {MAX_CADENCE_CHARS} characters")
    door = request.app[door_key]
    why = door.cadence_problem(text)
    if why is not None:
        return problem(400, "invalid_cadence", why)
    return web.json_response(await door.cadence_dry_run(text))


def setup(app: web.Application) -> None:
    app.add_routes(routes)
