"""An access log that cannot print a secret, for every aiohttp server (ledger and gateway).

aiohttp's default format logs the request line with its query string (``%r``) and chosen
headers (Referer, User-Agent), so a token sent in a URL (``?token=...``) lands in the log.
This logger has no format to configure: it writes the method, the path without the query
string, the status, the body size and the time taken, and never a header or the query.
"""

from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse


def access_logger(service: str) -> logging.Logger:
    """The logger a service's access lines go to, e.g. ``ledger.access``."""
    return logging.getLogger(f"{service}.access")


def _printable(text: str, limit: int = 200) -> str:
    """No control characters (no forged log lines), bounded length."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text[:limit])
    return cleaned + ("..." if len(text) > limit else "")


class SafeAccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %.1fms",
            request.method,
            _printable(request.rel_url.path),  # path only: the query string never reaches the log
            response.status,
            response.body_length,
            time * 1000,
        )
