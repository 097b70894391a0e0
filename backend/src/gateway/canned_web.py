"""Supervisors keep the desk's canned replies (``/desk/canned``, gateway/canned_store.py): list,
add, edit both languages, retire. Agents get 403 on every route here (they are offered the
replies per conversation, ``/desk/api/conversations/{id}/canned``). A bad reply gets 400 naming
the field (the file's rules), an edit on an older version 409, an unknown reply 404; nothing
changes then. Login and CSRF: desk_web's middleware, as every route under /desk."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from .canned import CannedError
from .canned_store import CannedNotFound
from .conversations import AgentIdentity, InvalidInput
from .keys import agent_rkey, canned_key
from .problems import problem, read_json

STATIC = Path(__file__).parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REPLY_ID = re.compile(r"[a-z][a-z0-9_]{0,47}")
routes = web.RouteTableDef()


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        return await read_json(request)
    except InvalidInput as exc:
        raise CannedError("body", str(exc)) from None


def _reply_id(request: web.Request) -> str:
    reply_id = request.match_info["reply_id"]
    if not REPLY_ID.fullmatch(reply_id):
        raise CannedError("id", "must be a name of lower-case letters, digits and _ (at most 48)")
    return reply_id


def _answered(handler: Handler) -> Handler:
    """A supervisor's request, with the canned routes' refusals as problems (400 naming the
    field, 404); an agent gets 403 before the body is read."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        agent: AgentIdentity = request[agent_rkey]
        if not agent.is_supervisor:
            return problem(403, "forbidden", "only a supervisor edits the canned replies")
        try:
            return await handler(request)
        except CannedError as exc:
            return problem(400, "invalid_canned_reply", str(exc), field=exc.key)
        except CannedNotFound as exc:
            return problem(404, "not_found", f"no canned reply {exc}")

    return wrapped


@routes.get("/desk/canned")
@_answered
async def page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "canned_admin.html")


@routes.get("/desk/api/canned")
@_answered
async def listing(request: web.Request) -> web.Response:
    return web.json_response({"replies": await request.app[canned_key].listing(request[agent_rkey])})


@routes.post("/desk/api/canned")
@_answered
async def add(request: web.Request) -> web.Response:
    reply = await request.app[canned_key].add(request[agent_rkey], await _body(request))
    return web.json_response(reply, status=201)


@routes.post("/desk/api/canned/{reply_id}")
@_answered
async def edit(request: web.Request) -> web.Response:
    reply_id = _reply_id(request)
    return web.json_response(await request.app[canned_key].edit(request[agent_rkey], reply_id, await _body(request)))


@routes.post("/desk/api/canned/{reply_id}/retire")
@_answered
async def retire(request: web.Request) -> web.Response:
    reply_id = _reply_id(request)
    return web.json_response(await request.app[canned_key].retire(request[agent_rkey], reply_id, await _body(request)))


def setup(app: web.Application) -> None:
    app.add_routes(routes)
