"""The borrower's earlier conversations on the desk (gateway/desk_history.py): the list, one read-only
transcript, and a search over their messages. Bad input (an id that cannot be a conversation's,
an empty or overlong search) gets 400; a conversation the agent may not see 404, one they may not
work 403. Login and CSRF: desk_web's middleware, as every route under /desk."""

from __future__ import annotations

import re

from aiohttp import web

from .conversations import InvalidInput
from .desk_history import DeskHistory, NotEarlier
from .keys import agent_rkey, service_key
from .problems import problem

CONVERSATION_ID = re.compile(r"[0-9A-Za-z-]{1,64}")  # token_hex or a uuid
routes = web.RouteTableDef()


def _ids(request: web.Request, *names: str) -> list[str]:
    values = [request.match_info[name] for name in names]
    for name, value in zip(names, values, strict=True):
        if not CONVERSATION_ID.fullmatch(value):
            raise InvalidInput(f"{name} is not a conversation id")
    return values


def _bad(exc: InvalidInput) -> web.Response:
    return problem(400, "invalid_request", str(exc))


@routes.get("/desk/api/conversations/{conversation_id}/history")
async def history(request: web.Request) -> web.Response:
    """The borrower's other conversations, newest first (empty with a reason when not verified)."""
    try:
        (conversation_id,) = _ids(request, "conversation_id")
    except InvalidInput as exc:
        return _bad(exc)
    return web.json_response(await DeskHistory(request.app[service_key]).listing(request[agent_rkey], conversation_id))


@routes.get("/desk/api/conversations/{conversation_id}/history/search")
async def history_search(request: web.Request) -> web.Response:
    """Messages of those conversations holding ``q`` (case-insensitive, at most 100 characters)."""
    try:
        (conversation_id,) = _ids(request, "conversation_id")
        result = await DeskHistory(request.app[service_key]).search(
            request[agent_rkey], conversation_id, request.query.get("q")
        )
    except InvalidInput as exc:
        return _bad(exc)
    return web.json_response(result)


@routes.get("/desk/api/conversations/{conversation_id}/history/{earlier_id}")
async def history_transcript(request: web.Request) -> web.Response:
    """One earlier conversation, read-only, agent-only notes marked."""
    try:
        conversation_id, earlier_id = _ids(request, "conversation_id", "earlier_id")
    except InvalidInput as exc:
        return _bad(exc)
    try:
        result = await DeskHistory(request.app[service_key]).transcript(
            request[agent_rkey], conversation_id, earlier_id
        )
    except NotEarlier:
        return problem(404, "not_found", "no earlier conversation of this borrower with that id")
    return web.json_response(result)


def setup(app: web.Application) -> None:
    app.add_routes(routes)
