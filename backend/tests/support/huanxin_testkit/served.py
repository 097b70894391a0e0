"""Helpers for tests that talk to a real server over a socket (a `ledger serve` or `python -m
gateway` subprocess, or an app in a thread): a free port, waiting for it to answer, and
whether the server closed a connection in time."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_and_wait(
    command: list[str], env: dict[str, str], url: str, log_path: Path, seconds: float = 30
) -> subprocess.Popen:
    """Start `command` with its output in `log_path` and wait until `url` answers; on failure the
    process is killed and the error carries its log."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return proc
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{' '.join(command)} did not answer {url}: {log_path.read_text()}")


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes, float]:
    """Read until the server closes the connection or `seconds` pass: (closed, bytes, after)."""
    start = time.monotonic()
    sock.settimeout(0.2)
    received = b""
    while time.monotonic() - start < seconds:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, received, time.monotonic() - start
        if not chunk:
            return True, received, time.monotonic() - start
        received += chunk
    return False, received, time.monotonic() - start
