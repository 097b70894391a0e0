"""Errors -> application/problem+json, in one middleware (docs/contracts.md: stable codes).

Every LedgerError subclass carries its stable ``code``; this module only knows which HTTP
status each code has. No input may produce a 5xx: every bad input is caught by validation or
a domain rule and answered 4xx. An unexpected exception is therefore a bug, and it is
answered honestly (500 ``internal_error``, traceback logged, nothing leaked) so that tests
and schemathesis catch it instead of a 4xx hiding it; an unreachable database (an outage,
not an input) is answered 503 ``temporarily_unavailable``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from ..db.errors import STORAGE_FAILURE, STORAGE_UNAVAILABLE
from ..domain.errors import LedgerError

log = logging.getLogger("ledger.web")

# Answered 503: an outage, not an input (the database unreachable, a connection refused or dropped).
OUTAGES: tuple[type[BaseException], ...] = (*STORAGE_UNAVAILABLE, ConnectionError, OSError)

PROBLEM_CONTENT_TYPE = "application/problem+json"

STATUS_BY_CODE: dict[str, int] = {
    "invalid_request": 422,
    "unauthorized": 401,
    "forbidden": 403,
    "request_timeout": 408,
    "verification_required": 401,
    "verification_failed": 401,
    "verification_locked": 423,
    "verification_rate_limited": 429,
    "not_found": 404,
    "payload_too_large": 413,
    "duplicate_payment_conflict": 409,
    "offer_already_accepted": 409,
    "offer_superseded": 409,
    "offer_expired": 410,
    "offer_not_eligible": 409,
    "arrangement_exists": 409,
    "promise_rejected": 422,
    "dispute_open": 409,
    "dispute_not_open": 409,
    "complaint_not_open": 409,
    "promise_not_open": 409,
    "withdrawal_window_closed": 409,
    "loan_closed": 409,
    "method_not_allowed": 405,
    "policy_error": 422,
}

TITLES: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    408: "Request Timeout",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    423: "Locked",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem(status: int, code: str, detail: str, **extra: Any) -> web.Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
    }
    for key, value in extra.items():
        if value is not None:
            body[key] = value.isoformat() if isinstance(value, datetime) else value
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=PROBLEM_CONTENT_TYPE,
    )


def from_ledger_error(exc: LedgerError) -> web.Response:
    code = getattr(exc, "code", "invalid_request")
    status = STATUS_BY_CODE.get(code, 422)
    extra: dict[str, Any] = {}
    for attr in (
        "attempts_left",
        "locked_until",
        "reason",
        "key",
        "case_number",
        "reply_due_by",
        "retry_after",
        "earliest_date",
        "latest_date",
        "max_days",
    ):
        value = getattr(exc, attr, None)
        if value is not None:
            extra[attr] = value.isoformat() if hasattr(value, "isoformat") else value
    response = problem(status, code, str(exc) or code, **extra)
    if "retry_after" in extra:
        response.headers["Retry-After"] = str(extra["retry_after"])
    return response


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(part) for part in err.get("loc", ())], "msg": err.get("msg", "invalid")}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def from_validation_error(exc: ValidationError, where: str = "body") -> web.Response:
    errors = validation_errors(exc)
    for err in errors:
        err["loc"] = [where, *err["loc"]]
    return problem(422, "invalid_request", "the request is not valid", errors=errors)


@web.middleware
async def problem_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except LedgerError as exc:
        return from_ledger_error(exc)
    except ValidationError as exc:
        return from_validation_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {
            401: "unauthorized",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
        }.get(exc.status, "invalid_request")
        detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        if exc.status >= 500:
            log.error("HTTP %s on %s %s: %s", exc.status, request.method, request.path, detail)
            return problem(503, "temporarily_unavailable", "the service could not complete the request")
        response = problem(exc.status, code, detail or code)
        if exc.status == 405:
            allow = exc.headers.get("Allow")
            if allow:
                response.headers["Allow"] = allow
        return response
    except OUTAGES as exc:
        log.error("database unavailable on %s %s: %s", request.method, request.path, exc)
        return problem(503, "temporarily_unavailable", "the ledger database is unavailable; try again")
    except STORAGE_FAILURE:
        log.exception("database error on %s %s", request.method, request.path)
        return problem(500, "internal_error", "the ledger could not complete the request")
    except Exception:  # the edge must never leak a traceback
        log.exception("unexpected error on %s %s", request.method, request.path)
        return problem(500, "internal_error", "the ledger could not complete the request")
