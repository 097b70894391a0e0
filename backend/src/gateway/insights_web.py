"""The insights page for analysts (docs/insights.md): `/insights` and its figures.

Behind the desk login (the session cookie, checked by desk_web's middleware, which sends an
analyst from /desk to here). Only the roles `analyst` and `supervisor` are let in: any other
account gets a 403 that says so. What crosses is computed by the ledger (ledger.desk_door).

GET /insights/api/overview?since=YYYY-MM-DD&until=YYYY-MM-DD&language=zh|en&channel=web&group=day|week|month|all
(defaults: the last 30 days to today, every language and channel, by day);
GET /insights/api/funnel (the same without group); GET /insights/api/nlu (…&below=0.5).
Every table as CSV: /insights/api/tables/{overview,funnel,nlu_*,ledger}.csv (the filters of its
JSON), /insights/api/conversations.csv (the review list's), /insights/api/facts.csv.
Bad values are a 400 naming the parameter.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from ledger.desk_door import (
    INSIGHT_FACTS_HEADER,
    INSIGHT_GROUPINGS,
    INSIGHT_INTENTS,
    INSIGHT_OUTCOMES,
    INSIGHT_REVIEW_HEADER,
    INSIGHT_STEPS,
    INSIGHT_TABLES,
    AnnotationRefused,
)

from .keys import agent_rkey, door_key
from .problems import problem

STATIC = Path(__file__).parent / "static"
MAX_DAYS = 366
CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
routes = web.RouteTableDef()
INSIGHTS_ROLES = frozenset({"analyst", "supervisor"})
ANALYST_ONLY = "the insights page is for the analyst role and supervisors; ask a supervisor for an analyst account"
PERIOD_FILTERS = frozenset({"since", "until", "language", "channel"})
DEFAULT_BELOW = 0.5

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadFilter(ValueError):
    pass


def _role(request: web.Request) -> str | None:
    agent = request.get(agent_rkey)
    return agent.role if agent is not None else None


def insights_role(handler: Handler) -> Handler:
    """Only analysts and supervisors: anyone else logged in gets a 403 that says so; a bad
    filter is a 400 naming it."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if _role(request) not in INSIGHTS_ROLES:
            return problem(403, "forbidden", ANALYST_ONLY)
        try:
            return await handler(request)
        except BadFilter as exc:
            return problem(400, "invalid_filter", str(exc))

    return guarded


def _date(query: Any, name: str, default: date) -> date:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"{name} must be a date YYYY-MM-DD, got {text[:40]!r}") from None


def parse_period(query: Any, today: date, allowed: frozenset[str] = PERIOD_FILTERS) -> dict[str, Any]:
    """since, until, language and channel, checked; any parameter not in `allowed` is refused."""
    unknown = sorted(set(query) - allowed)
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
    return {
        "since": since,
        "until": until,
        "language": None if language == "all" else language,
        "channel": None if channel == "all" else channel,
    }


def parse_filters(query: Any, today: date) -> dict[str, Any]:
    """The overview's filters: the period's and `group`."""
    filters = parse_period(query, today, PERIOD_FILTERS | {"group"})
    group = query.get("group") or "day"
    if group not in INSIGHT_GROUPINGS:
        raise BadFilter(f"group must be one of {', '.join(INSIGHT_GROUPINGS)}")
    return {**filters, "group": group}


def parse_fraction(query: Any, name: str, default: float) -> float:
    """A number from 0 to 1 (a confidence)."""
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        raise BadFilter(f"{name} must be a number from 0 to 1, got {text[:40]!r}") from None
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise BadFilter(f"{name} must be a number from 0 to 1, got {text[:40]!r}")
    return value


@routes.get("/insights")
async def insights_page(request: web.Request) -> web.StreamResponse:
    if _role(request) not in INSIGHTS_ROLES:
        return web.Response(status=403, text=f"403: {ANALYST_ONLY}\n", content_type="text/plain")
    return web.FileResponse(STATIC / "insights.html")


@routes.get("/insights/api/overview")
@insights_role
async def overview(request: web.Request) -> web.StreamResponse:
    door = request.app[door_key]
    filters = parse_filters(request.query, door._today())
    return web.json_response(await door.insights_overview(**filters))


@routes.get("/insights/api/funnel")
@insights_role
async def funnel(request: web.Request) -> web.StreamResponse:
    door = request.app[door_key]
    filters = parse_period(request.query, door._today())
    return web.json_response(await door.insights_funnel(**filters))


@routes.get("/insights/api/nlu")
@insights_role
async def nlu_health(request: web.Request) -> web.StreamResponse:
    door = request.app[door_key]
    filters = parse_period(request.query, door._today(), PERIOD_FILTERS | {"below"})
    return web.json_response(await door.insights_nlu_health(**filters, below=parse_below(request.query)))


def parse_below(query: Any) -> float:
    """NLU health's threshold: 0 to 1 with at most two decimals (the ledger counts confidences
    per hundredth, its NLU rollup)."""
    below = parse_fraction(query, "below", DEFAULT_BELOW)
    if round(below * 100) / 100 != below:
        raise BadFilter(f"below must have at most two decimals, got {query['below'][:40]!r}")
    return below


REVIEW_FILTERS = PERIOD_FILTERS | {
    "outcome", "escalated", "fallback", "intent", "below", "step", "reviewed", "tag", "limit", "offset", "after",
}  # fmt: skip
YES_NO = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
TAG = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_LIMIT = 200
MAX_OFFSET = 10_000  # deeper pages: `after` (the previous page's `next`)
MAX_CONVERSATION_ID = 255
ANNOTATION_FIELDS = frozenset({"event_id", "intent", "tag", "note", "reviewed"})
NOT_FOUND = "no such conversation in the analytics store"


def _choice(query: Any, name: str, allowed: tuple[str, ...]) -> str | None:
    value = query.get(name) or None
    if value is not None and value not in allowed:
        raise BadFilter(f"{name} must be one of {', '.join(allowed)}")
    return value


def _yes_no(query: Any, name: str) -> bool | None:
    value = query.get(name) or None
    if value is None:
        return None
    if value.lower() not in YES_NO:
        raise BadFilter(f"{name} must be yes or no")
    return YES_NO[value.lower()]


def _whole(query: Any, name: str, default: int, low: int, high: int) -> int:
    text = query.get(name) or None
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadFilter(f"{name} must be a whole number from {low} to {high}")
    return int(text)


def _cursor(query: Any) -> tuple[datetime, str] | None:
    """`after`: a previous page's `next`, the start (ISO time with offset) and the conversation
    of its last line, joined by "~"."""
    text = query.get("after") or None
    if text is None:
        return None
    started, sep, conversation = text.partition("~")
    try:
        when = datetime.fromisoformat(started) if sep else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or not 0 < len(conversation) <= MAX_CONVERSATION_ID:
        raise BadFilter("after must be the `next` of a previous page of the list")
    if query.get("offset"):
        raise BadFilter("give offset or after, not both")
    return when, conversation


def parse_review(query: Any, today: date) -> dict[str, Any]:
    """The review list's filters (docs/insights.md), each checked."""
    filters = parse_period(query, today, REVIEW_FILTERS)
    tag = query.get("tag") or None
    if tag is not None and not TAG.match(tag):
        raise BadFilter("tag must be a short name: lower-case letters, digits and _, at most 32")
    below = query.get("below") or None
    return {
        **filters,
        "outcome": _choice(query, "outcome", INSIGHT_OUTCOMES),
        "escalated": _yes_no(query, "escalated"),
        "fallback": _yes_no(query, "fallback"),
        "intent": _choice(query, "intent", (*INSIGHT_INTENTS, "nlu_fallback")),
        "below": parse_fraction(query, "below", 0.0) if below is not None else None,
        "step": _choice(query, "step", INSIGHT_STEPS),
        "reviewed": _yes_no(query, "reviewed"),
        "tag": tag,
        "limit": _whole(query, "limit", 50, 1, MAX_LIMIT),
        "offset": _whole(query, "offset", 0, 0, MAX_OFFSET),
        "after": _cursor(query),
    }


def _conversation(request: web.Request) -> str:
    conversation = request.match_info["conversation_id"]
    if len(conversation) > MAX_CONVERSATION_ID:
        raise BadFilter(f"a conversation id has at most {MAX_CONVERSATION_ID} characters")
    return conversation


@routes.get("/insights/api/conversations")
@insights_role
async def review_list(request: web.Request) -> web.StreamResponse:
    door = request.app[door_key]
    listed = await door.insights_review_list(**parse_review(request.query, door._today()))
    choices = {"outcomes": list(INSIGHT_OUTCOMES), "steps": list(INSIGHT_STEPS), "intents": list(INSIGHT_INTENTS)}
    return web.json_response({**listed, "choices": choices})


@routes.get("/insights/api/conversations/{conversation_id}")
@insights_role
async def transcript(request: web.Request) -> web.StreamResponse:
    view = await request.app[door_key].insights_transcript(_conversation(request))
    if view is None:
        return problem(404, "not_found", NOT_FOUND)
    return web.json_response({**view, "intent_choices": list(INSIGHT_INTENTS)})


@routes.post("/insights/api/conversations/{conversation_id}/annotations")
@insights_role
async def annotate(request: web.Request) -> web.StreamResponse:
    conversation = _conversation(request)
    try:
        body = await request.json()
    except ValueError:
        return problem(400, "invalid_annotation", "the body must be a JSON object")
    if not isinstance(body, dict):
        return problem(400, "invalid_annotation", "the body must be a JSON object")
    unknown = sorted(set(body) - ANNOTATION_FIELDS)
    if unknown:
        return problem(400, "invalid_annotation", f"unknown field(s): {', '.join(str(u)[:40] for u in unknown)}")
    event_id = body.get("event_id")
    if event_id is not None and (not isinstance(event_id, str) or not 0 < len(event_id) <= 64):
        return problem(400, "invalid_annotation", "event_id must be the id of a borrower message")
    agent = request[agent_rkey]
    try:
        stored = await request.app[door_key].insights_annotate(conversation, agent.username, **body)
    except AnnotationRefused as exc:
        return problem(400, "invalid_annotation", str(exc))
    if stored is None:
        return problem(404, "not_found", NOT_FOUND)
    return web.json_response(stored, status=201)


@routes.get("/insights/api/annotations/export")
@insights_role
async def export_annotations(request: web.Request) -> web.StreamResponse:
    unknown = sorted(set(request.query) - {"language"})
    if unknown:
        raise BadFilter(f"unknown parameter(s): {', '.join(u[:40] for u in unknown)}")
    language = request.query.get("language")
    if language not in ("zh", "en"):
        raise BadFilter("language must be zh or en (one training file per language)")
    export = await request.app[door_key].insights_annotations_export(language)
    return web.Response(
        text=export["yaml"],
        content_type="application/x-yaml",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="reviewed_{language}.yml"'},
    )


@routes.get("/insights/api/ledger")
@insights_role
async def ledger_outcomes(request: web.Request) -> web.StreamResponse:
    """What the borrowers did in the ledger after the conversations (docs/insights.md)."""
    door = request.app[door_key]
    filters = parse_period(request.query, door._today())
    figures = await door.insights_ledger_outcomes(**filters)
    if figures is None:
        return problem(503, "no_policy", "the ledger's policy is not loaded: outcomes cannot be derived")
    return web.json_response(figures)


MAX_CSV_ROWS = 100_000


def _too_large() -> web.Response:
    message = f"more than {MAX_CSV_ROWS} conversations: choose fewer days, one language or one channel"
    return problem(413, "export_too_large", message)


async def _one_page(rows: list[list[str]]) -> AsyncIterator[list[list[str]]]:
    yield rows


async def stream_csv(
    request: web.Request, name: str, header: Sequence[str], pages: AsyncIterator[Iterable[Sequence[str]]]
) -> web.StreamResponse:
    """The one CSV writer of the insights page: the header, then each page of rows (text, from
    the ledger) written as it comes, so an export is never held in memory; no more than
    MAX_CSV_ROWS rows (conversations that arrive while streaming stay out)."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}"'}
    )
    await response.prepare(request)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    written = 0
    async for page in pages:
        rows = list(page)[: MAX_CSV_ROWS - written]
        writer.writerows(rows)
        written += len(rows)
        await response.write(out.getvalue().encode("utf-8"))
        out.seek(0)
        out.truncate()
        if written >= MAX_CSV_ROWS:
            break
    await response.write(out.getvalue().encode("utf-8"))
    await response.write_eof()
    return response


def _csv_name(table: str, filters: dict[str, Any]) -> str:
    return f"{table}_{filters['since']}_{filters['until']}.csv"


@routes.get("/insights/api/facts.csv")
@insights_role
async def facts_csv(request: web.Request) -> web.StreamResponse:
    """The facts of the selected conversations, one row each (docs/insights.md), streamed a few
    thousand rows at a time; more than MAX_CSV_ROWS conversations is a 413 before any row."""
    door = request.app[door_key]
    filters = parse_period(request.query, door._today())
    if await door.insights_facts_count(**filters, cap=MAX_CSV_ROWS) > MAX_CSV_ROWS:
        return _too_large()
    name = _csv_name("conversation_facts", filters)
    return await stream_csv(request, name, INSIGHT_FACTS_HEADER, door.insights_facts_rows(**filters))


@routes.get("/insights/api/conversations.csv")
@insights_role
async def review_csv(request: web.Request) -> web.StreamResponse:
    """The review list of these filters (all its pages: no limit, offset or after), newest
    first; more than MAX_CSV_ROWS conversations is a 413 before any row."""
    door = request.app[door_key]
    if {"limit", "offset", "after"} & set(request.query):
        raise BadFilter("the CSV holds the whole list: no limit, offset or after")
    criteria = parse_review(request.query, door._today())
    for paging in ("limit", "offset", "after"):
        criteria.pop(paging)
    if await door.insights_review_count(**criteria, cap=MAX_CSV_ROWS) > MAX_CSV_ROWS:
        return _too_large()
    name = _csv_name("review", criteria)
    return await stream_csv(request, name, INSIGHT_REVIEW_HEADER, door.insights_review_rows(**criteria))


def parse_table_filters(table: str, query: Any, today: date) -> dict[str, Any]:
    """The filters of the page's JSON for this table: `group` for the overview, `below` for
    NLU health, the period's for the others."""
    if table == "overview":
        return parse_filters(query, today)
    if table.startswith("nlu_"):
        filters = parse_period(query, today, PERIOD_FILTERS | {"below"})
        return {**filters, "below": parse_below(query)}
    return parse_period(query, today)


@routes.get("/insights/api/tables/{table}.csv")
@insights_role
async def table_csv(request: web.Request) -> web.StreamResponse:
    """One of the page's aggregate tables (overview, funnel, nlu_languages, nlu_intents,
    nlu_confused, nlu_messages, ledger) as CSV, with the filters of its JSON."""
    table = request.match_info["table"]
    if table not in INSIGHT_TABLES:
        return problem(404, "not_found", f"no such table; the tables are {', '.join(INSIGHT_TABLES)}")
    door = request.app[door_key]
    filters = parse_table_filters(table, request.query, door._today())
    made = await door.insights_table(table, **filters)
    if made is None:
        return problem(503, "no_policy", "the ledger's policy is not loaded: outcomes cannot be derived")
    header, rows = made
    return await stream_csv(request, _csv_name(table, filters), header, _one_page(rows))


def setup(app: web.Application) -> None:
    app.add_routes(routes)
