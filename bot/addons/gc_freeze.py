"""No full garbage collection over the loaded model on a borrower's turn.

After Rasa loads its model the process holds about half a million long-lived objects (the
NLU pipeline, the domain, TensorFlow's Python side). CPython's oldest generation is collected
once enough objects have survived younger collections, and every full collection walks all of
them: in a long session that gave a turn of about +280 ms every 7-8 turns (issue 11). Once
the model is loaded, a collection is run and the survivors are moved to the permanent
generation (``gc.freeze()``), which later collections skip. What a turn allocates is collected
as before. A model loaded again (a new model through the HTTP API) freezes what it adds.
"""

from __future__ import annotations

import gc
from typing import Any

_original: Any = None


def load_model(self: Any, *args: Any, **kwargs: Any) -> Any:
    result = _original(self, *args, **kwargs)
    gc.collect()
    gc.freeze()
    return result


def install() -> None:
    global _original
    from rasa.core.agent import Agent

    if _original is None:
        _original = Agent.load_model
        Agent.load_model = load_model
