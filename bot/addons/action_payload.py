"""The tracker sent to the action server encoded by ujson instead of the json module.

Rasa 3.6 sends each custom action the whole tracker, every event of the session, as JSON
(``EndpointConfig.request(json=...)``, which aiohttp encodes with ``json.dumps``). At turn 250
of a session that encoding was about a tenth of Rasa's CPU (issue 11). ujson, already in
Rasa's dependencies, writes the same JSON several times faster; the action server parses
it the same (tests/bot/test_turn_addons.py compares the decoded payloads). A body ujson cannot
encode (a NaN or infinity, an unknown type) goes the old way.
"""

from __future__ import annotations

from typing import Any

import ujson

_original: Any = None


async def request(
    self: Any,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    body = kwargs.get("json")
    if body is not None and "data" not in kwargs and content_type == "application/json":
        try:
            encoded = ujson.dumps(body).encode()
        except (TypeError, ValueError, OverflowError):
            pass  # Rasa's own encoding below
        else:
            del kwargs["json"]
            kwargs["data"] = encoded
    return await _original(self, method, subpath, content_type, compress, **kwargs)


def install() -> None:
    global _original
    from rasa.utils.endpoints import EndpointConfig

    if _original is None:
        _original = EndpointConfig.request
        EndpointConfig.request = request
