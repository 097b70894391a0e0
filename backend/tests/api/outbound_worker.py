"""One dispatcher worker as its own process, for the multi-worker tests (test_outbound_workers):

    python outbound_worker.py URL OUT_DIR AT --batch N --lease S [--delay S] [--start-file F]
        [--die-after K --ready-file F] [--clock-offset S]

Works the queue (no planning) with file sinks under OUT_DIR, like `ledger outbound --no-plan`,
and prints its report as JSON. ``--delay``: each batch's send takes that long (workers overlap);
``--start-file``: wait for that file first (workers start together); ``--die-after K``: the first
batch writes K messages, touches ``--ready-file`` and hangs until the test kills it (SIGKILL);
``--clock-offset``: the lease clock runs that many seconds ahead (a run "after the lease").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.cadence_file import load_cadence
from ledger.db.session import create_engine
from ledger.policy_file import load_policy
from ledger.services.channels import FileSink, OutboundMessage, SendResult
from ledger.services.outbound import dispatch


class SlowSink(FileSink):
    def __init__(self, path: Path, delay: float, die_after: int | None, ready: Path | None):
        super().__init__(path)
        self.delay, self.die_after, self.ready = delay, die_after, ready

    async def send(self, messages: Sequence[OutboundMessage], at: datetime) -> list[SendResult]:
        if self.die_after is not None:
            await super().send(messages[: self.die_after], at)
            assert self.ready is not None
            self.ready.write_text("written")
            while True:  # mid-batch: the rest never goes out; the test kills this process
                time.sleep(1)  # noqa: ASYNC251 - blocks the loop on purpose: nothing more goes out
        await asyncio.sleep(self.delay)
        return await super().send(messages, at)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("out")
    p.add_argument("at")
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--lease", type=float, default=300)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--start-file", default=None)
    p.add_argument("--die-after", type=int, default=None)
    p.add_argument("--ready-file", default=None)
    p.add_argument("--clock-offset", type=float, default=0.0)
    return p.parse_args()


async def main(args: argparse.Namespace) -> None:
    policy = load_policy()
    cadence = load_cadence(None, policy)
    ready = Path(args.ready_file) if args.ready_file else None
    adapters = {
        ch: SlowSink(Path(args.out) / f"{ch}.jsonl", args.delay, args.die_after, ready)
        for ch in ("sms", "phone", "web")
    }
    engine = create_engine(args.url)
    try:
        report = await dispatch(
            engine,
            policy,
            cadence,
            datetime.fromisoformat(args.at),
            adapters,
            batch=args.batch,
            plan_first=False,
            lease=timedelta(seconds=args.lease),
            clock=lambda: datetime.now(UTC) + timedelta(seconds=args.clock_offset),
        )
    finally:
        await engine.dispose()
    print(json.dumps(report.as_dict()), flush=True)


if __name__ == "__main__":
    arguments = parse()
    while arguments.start_file and not Path(arguments.start_file).exists():
        time.sleep(0.02)  # the workers start together
    asyncio.run(main(arguments))
