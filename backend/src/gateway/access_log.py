"""The gateway's access log: method, path, status, size and time, never a query string.

aiohttp's default format logs the whole request line (``%r``), query string included, so any
secret a client ever puts in a URL would land in the log. This logger cannot print one: it
writes ``request.path`` (the path alone) and nothing of the headers.
"""
from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger


class PathOnlyAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %s %s %.3fs", request.remote, request.method, request.path,
                         response.status, response.body_length, time)
