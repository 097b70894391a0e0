"""The insights page for analysts (docs/insights.md): `/insights` and its figures.

Behind the desk login (the session cookie, checked by desk_web's middleware, which sends an
analyst from /desk to here). Only the role `analyst` is let in: any other account gets a 403
that says so. What crosses is aggregates computed by the ledger (ledger.desk_door): no
conversation, message or identity answer.

GET /insights/api/overview?since=YYYY-MM-DD&until=YYYY-MM-DD&language=zh|en&channel=web&group=day|week|month|all
(defaults: the last 30 days to today, every language and channel, by day). Bad values are a
400 naming the parameter.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from ledger.desk_door import INSIGHT_GROUPINGS

from .keys import agent_rkey, door_key
from .problems import problem

STATIC = Path(__file__).parent / "static"
MAX_DAYS = 366
CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
routes = web.RouteTableDef()
ANALYST_ONLY = "the insights page is for the analyst role; ask a supervisor for an analyst account"


class BadFilter(ValueError):
    pass


def _role(request: web.Request) -> str | None:
    agent = request.get(agent_rkey)
    return agent.role if agent is not None else None


def _date(query: Any, name: str, default: date) -> date:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"{name} must be a date YYYY-MM-DD, got {text[:40]!r}") from None


def parse_filters(query: Any, today: date) -> dict[str, Any]:
    unknown = sorted(set(query) - {"since", "until", "language", "channel", "group"})
    if unknown:
        raise BadFilter(f"unknown parameter(s): {', '.join(u[:40] for u in unknown)}")
    until = _date(query, "until", today)
    since = _date(query, "since", until - timedelta(days=29))
    if since > until:
        raise BadFilter("since must not be after until")
    if (until - since).days + 1 > MAX_DAYS:
        raise BadFilter(f"at most {MAX_DAYS} days at a time")
    language = query.get("language") or None
    if language not in (None, "all", "zh", "en"):
        raise BadFilter("language must be zh, en or all")
    channel = query.get("channel") or None
    if channel not in (None, "all") and not CHANNEL.match(channel):
        raise BadFilter("channel must be a channel name such as web, wechat, rest or telegram")
    group = query.get("group") or "day"
    if group not in INSIGHT_GROUPINGS:
        raise BadFilter(f"group must be one of {', '.join(INSIGHT_GROUPINGS)}")
    return {
        "since": since,
        "until": until,
        "language": None if language == "all" else language,
        "channel": None if channel == "all" else channel,
        "group": group,
    }


@routes.get("/insights")
async def insights_page(request: web.Request) -> web.StreamResponse:
    if _role(request) != "analyst":
        return web.Response(status=403, text=f"403: {ANALYST_ONLY}\n", content_type="text/plain")
    return web.FileResponse(STATIC / "insights.html")


@routes.get("/insights/api/overview")
async def overview(request: web.Request) -> web.Response:
    if _role(request) != "analyst":
        return problem(403, "forbidden", ANALYST_ONLY)
    door = request.app[door_key]
    try:
        filters = parse_filters(request.query, door._today())
    except BadFilter as exc:
        return problem(400, "invalid_filter", str(exc))
    return web.json_response(await door.insights_overview(**filters))


def setup(app: web.Application) -> None:
    app.add_routes(routes)
