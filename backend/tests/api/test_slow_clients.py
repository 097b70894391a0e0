"""The real `ledger serve` at its edge.

Slow clients cannot hold the ledger's connections: a request head (request line and headers)
must arrive within LEDGER_CLIENT_TIMEOUT seconds, and so must the body; past that the
connection is closed (the body gets a 408 first). The access log cannot print a secret: no
query string, no header."""

from __future__ import annotations

import os
import socket
import sys
import time

import pytest
import requests

from huanxin_testkit.served import closed_within, free_port, start_and_wait

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def ledger_server(tmp_path_factory):
    from ledger.cli import migrate

    port = free_port()
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('slow') / 'l.sqlite3'}"
    migrate(url)
    env = {
        **os.environ,
        "LEDGER_API_TOKEN": "t",
        "ID_HASH_SALT": "s",
        "LEDGER_PORT": str(port),
        "LEDGER_CLIENT_TIMEOUT": str(TIMEOUT),
        "DATABASE_URL": url,
    }
    log_path = tmp_path_factory.mktemp("slowlog") / "serve.log"
    proc = start_and_wait(
        [sys.executable, "-m", "ledger.cli", "serve"], env, f"http://127.0.0.1:{port}/healthz", log_path
    )
    yield port
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def served_log(ledger_server, tmp_path_factory):
    """The serve process's output so far (its log goes to stderr, captured in a file)."""

    def read() -> str:
        time.sleep(0.3)
        return next(tmp_path_factory.getbasetemp().glob("slowlog*/serve.log")).read_text()

    return read


def test_a_client_that_sends_half_a_request_line_and_stalls_is_closed(ledger_server):
    with socket.create_connection(("127.0.0.1", ledger_server)) as sock:
        sock.sendall(b"GET /heal")
        closed, _, after = closed_within(sock, TIMEOUT + 1)
        assert closed, "the server still waits for the rest of the request line"
        assert after <= TIMEOUT + 1
    assert requests.get(f"http://127.0.0.1:{ledger_server}/healthz", timeout=5).status_code == 200


def test_a_client_that_trickles_its_headers_is_closed_all_the_same(ledger_server):
    with socket.create_connection(("127.0.0.1", ledger_server)) as sock:
        start = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        closed = False
        try:
            while time.monotonic() - start < TIMEOUT + 1:
                sock.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        if not closed:
            closed, _, _ = closed_within(sock, 0.5)
        assert closed and time.monotonic() - start <= TIMEOUT + 1.5


def test_a_stalled_second_request_on_a_kept_alive_connection_is_closed(ledger_server):
    with socket.create_connection(("127.0.0.1", ledger_server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        closed, _, after = closed_within(sock, TIMEOUT + 1)
        assert closed and after <= TIMEOUT + 1


def test_a_body_that_does_not_arrive_gets_408_and_the_connection_closes(ledger_server):
    with socket.create_connection(("127.0.0.1", ledger_server)) as sock:
        sock.sendall(
            b"POST /api/v1/verifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
            b'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"conv'
        )
        # The 408 comes after TIMEOUT; aiohttp then drains the unread body for at most TIMEOUT more.
        closed, received, after = closed_within(sock, 2 * TIMEOUT + 1)
        assert closed and after <= 2 * TIMEOUT + 1
        assert received.startswith(b"HTTP/1.1 408"), received[:200]
        assert b"application/problem+json" in received


def test_normal_requests_are_unaffected(ledger_server):
    with requests.Session() as session:
        for _ in range(3):
            assert session.get(f"http://127.0.0.1:{ledger_server}/healthz", timeout=5).status_code == 200
            time.sleep(TIMEOUT / 2)


def test_the_client_timeout_is_read_from_the_environment_and_validated():
    from ledger.settings import Settings, SettingsError

    assert Settings.from_env({}).client_timeout == 10.0
    assert Settings.from_env({"LEDGER_CLIENT_TIMEOUT": "2.5"}).client_timeout == 2.5
    for bad in ("soon", "0", "-1", "nan"):
        with pytest.raises(SettingsError, match="LEDGER_CLIENT_TIMEOUT"):
            Settings.from_env({"LEDGER_CLIENT_TIMEOUT": bad})


def test_the_access_log_records_requests_but_never_a_query_string_or_header(ledger_server, served_log):
    secret_query, secret_token = "q-secret-4f1e9a", "h-secret-77c2d0"
    base = f"http://127.0.0.1:{ledger_server}"
    requests.get(f"{base}/healthz?token={secret_query}", timeout=5)
    requests.get(
        f"{base}/api/v1/policy/texts?access_token={secret_query}",
        headers={
            "Authorization": f"Bearer {secret_token}",
            "Referer": f"{base}/?t={secret_query}",
            "User-Agent": secret_token,
        },
        timeout=5,
    )
    log = served_log()
    assert "GET /healthz 200" in log and "GET /api/v1/policy/texts 401" in log, log[-2000:]
    assert secret_query not in log and secret_token not in log
