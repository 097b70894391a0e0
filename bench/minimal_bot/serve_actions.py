"""The minimal bot's action server on 127.0.0.1 only: ``python serve_actions.py PORT``
(rasa_sdk's own ``python -m rasa_sdk`` listens on every interface)."""

from __future__ import annotations

import sys

from rasa_sdk.endpoint import create_app

if __name__ == "__main__":
    create_app("minimal_actions").run("127.0.0.1", int(sys.argv[1]), workers=1)
