"""`ledger` commands for the tests: in this process (ledger.cli.main() with the environment,
stdout, stderr and exit status a child process would have, ~50x cheaper than starting Python
and importing the ledger again) or, once per CLI test file, as a real child process.

Both return a subprocess.CompletedProcess, so a test reads them alike. In process, an
uncaught exception becomes exit status 1 with its traceback on stderr, as in a child; and
every call checks that main() left the root logger as it found it (no handler on a stream
that is gone, no level changed), since the next call and the rest of the session share it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence

LEDGER = [sys.executable, "-m", "ledger.cli"]


def ledger_process(
    args: Sequence[str], env: Mapping[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`python -m ledger.cli ARGS` in a child process with exactly ``env``."""
    return subprocess.run([*LEDGER, *args], env=dict(env), capture_output=True, text=True, timeout=timeout)


def _exit_status(code: object, err: io.StringIO) -> int:
    """What the interpreter makes of SystemExit(code)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=err)
    return 1


def _outside_any_event_loop(call: Callable[[], int]) -> int:
    """main() runs asyncio.run(): from an async test it runs in a thread of its own (the
    test waits for it, as it would for a child process)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(call()), name="ledger-cli")
    thread.start()
    thread.join()
    return result[0]


def ledger_in_process(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """ledger.cli.main(ARGS) here, with os.environ exactly ``env`` for the call (restored after)."""
    from ledger.cli import main

    out, err = io.StringIO(), io.StringIO()

    def call() -> int:
        try:
            return main(list(args))
        except SystemExit as exc:
            return _exit_status(exc.code, err)
        except Exception:  # noqa: BLE001 - a child would print it and exit 1
            traceback.print_exc(file=err)
            return 1

    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_env = dict(os.environ)
    for handler in saved_handlers:  # as in a fresh process: main() logs to its stderr
        root.removeHandler(handler)
    os.environ.clear()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = _outside_any_event_loop(call)
        left = (list(root.handlers), root.level)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
    assert left == ([], saved_level), f"ledger {' '.join(args)} left the root logger changed: {left}"
    return subprocess.CompletedProcess(["ledger", *args], status, out.getvalue(), err.getvalue())
