"""Problem responses (RFC 9457 ``application/problem+json``) and the one middleware that turns the
conversation service's errors into them; reading a JSON body the same way everywhere."""

from __future__ import annotations

import errno
import json
from typing import Any

from aiohttp import web

from .conversations import Conflict, Forbidden, InvalidInput, NotFound


def problem(status: int, code: str, detail: str, **extra: Any) -> web.Response:
    body = {
        "type": "about:blank",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    text = json.dumps(body, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # the detail quotes input with a lone surrogate: escape it instead of failing
        text = json.dumps(body)
    return web.Response(status=status, text=text, content_type="application/problem+json")


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except NotFound as exc:
        return problem(404, "not_found", f"no such conversation: {exc}")
    except Forbidden as exc:
        return problem(403, "forbidden", str(exc))
    except Conflict as exc:
        return problem(409, "conflict", str(exc))
    except InvalidInput as exc:
        return problem(422, "invalid_request", str(exc))
    except web.HTTPRequestEntityTooLarge:
        return problem(413, "payload_too_large", "request body too large")
    except OSError as exc:  # aiohttp's static route lets a name too long for the file system escape
        if exc.errno != errno.ENAMETOOLONG:
            raise
        return problem(404, "not_found", "no such file")


async def read_json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (ValueError, LookupError, RecursionError):  # not JSON, not UTF-8, unknown charset, nested too deep
        raise InvalidInput("body must be a JSON object") from None
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object")
    return data
