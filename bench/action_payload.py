"""What an action is sent at message 25 and message 250 of turn_cost.py's long session: the
events, their JSON's size, and the action server's cost of reading it (JSON parse and rasa_sdk's
``Tracker.from_dict``, CPU a call), for all the events (Rasa 3.6), this checkout's
``addons/action_events.py`` and, with --old-addon, another version of it.

    bot/.venv/bin/python bench/action_payload.py [--db var/bench-turn-cost/tracker.db]
        [--old-addon FILE]   # e.g. git show 6fccf0a:bot/addons/action_events.py > /tmp/old.py

Reads the session from the tracker store that ``bench/turn_cost.py --only session`` leaves in
var/bench-turn-cost/. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bot"))

from rasa_sdk import Tracker  # noqa: E402

from addons import action_events  # noqa: E402

CALLS = 50


def load_addon(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("old_action_events", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_cost_ms(body: str) -> float:
    started = time.process_time()
    for _ in range(CALLS):
        state = json.loads(body)["tracker"]
        Tracker.from_dict({**state, "sender_id": "s", "paused": False, "followup_action": None, "active_loop": {}})
    return (time.process_time() - started) / CALLS * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=str(REPO / "var" / "bench-turn-cost" / "tracker.db"))
    parser.add_argument("--old-addon", help="another version of bot/addons/action_events.py")
    args = parser.parse_args()
    rows = (
        sqlite3.connect(args.db)
        .execute("select data from events where sender_id like 'cost-long-%' order by id")
        .fetchall()
    )
    events = [json.loads(row[0]) for row in rows]
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    print(f"session: {len(events)} events, {len(users)} user messages")
    versions: list[tuple[str, Any]] = [("all (Rasa 3.6)", None)]
    if args.old_addon:
        versions.append(("--old-addon", load_addon(args.old_addon)))
    versions.append(("this add-on", action_events))
    for message in (25, 250):
        upto = events[: users[message - 1] + 1]
        for name, addon in versions:
            sent = upto if addon is None else addon.trimmed(upto)
            body = json.dumps({"next_action": "x", "sender_id": "s", "tracker": {"events": sent, "slots": {}}})
            print(
                f"message {message:3d} {name:15s} events {len(sent):5d}, {len(body) / 1000:6.0f} KB, "
                f"parse + Tracker.from_dict {parse_cost_ms(body):.2f} ms a call"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
