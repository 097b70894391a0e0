"""The HTTP client against a small local aiohttp server: headers, money strings, problem
documents, timeouts, and retries only for GETs."""

import asyncio
import json
from datetime import date
from decimal import Decimal

import pytest
from aiohttp import web

from actions.ledger_client import BorrowerAuth, LedgerClient, LedgerError, LedgerUnavailable

AUTH = BorrowerAuth("tok-1", "conv-1")


class Backend:
    def __init__(self):
        self.requests = []
        self.fail_times = 0
        self.delay = 0.0

    def app(self):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request):
        body = await request.text()
        self.requests.append(
            (
                request.method,
                request.path,
                dict(request.headers),
                json.loads(body) if body else None,
                dict(request.query),
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_times:
            self.fail_times -= 1
            return web.Response(status=503, text="busy")
        if request.path.endswith("/promises") and request.method == "POST":
            return web.json_response(
                {
                    "type": "about:blank",
                    "title": "rejected",
                    "status": 422,
                    "code": "promise_rejected",
                    "detail": "too far",
                    "reason": "date_out_of_window",
                },
                status=422,
                content_type="application/problem+json",
            )
        return web.json_response({"ok": True, "path": request.path}, status=201 if request.method == "POST" else 200)


@pytest.fixture
async def backend():
    server = Backend()
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    server.url = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


async def test_borrower_calls_send_token_conversation_and_bearer(backend):
    client = LedgerClient(backend.url, "api-secret")
    await client.get_loan_status(AUTH, "HX0000000001", as_of=date(2026, 11, 25))
    await client.close()
    method, path, headers, _, query = backend.requests[0]
    assert (method, path) == ("GET", "/api/v1/loans/HX0000000001/status")
    assert headers["Authorization"] == "Bearer api-secret"
    assert headers["X-Verification-Token"] == "tok-1" and headers["X-Conversation-Id"] == "conv-1"
    assert query == {"as_of": "2026-11-25"}


async def test_amounts_go_out_as_two_decimal_strings(backend):
    client = LedgerClient(backend.url)
    await client.create_hardship_case(
        AUTH,
        "HX0000000001",
        reason="job_loss",
        duration="temporary",
        monthly_income=Decimal("5000"),
        essential_expenses=Decimal("3500.5"),
        other_debt_payments=Decimal("0"),
    )
    await client.close()
    body = backend.requests[0][3]
    assert body == {
        "reason": "job_loss",
        "duration": "temporary",
        "monthly_income": "5000.00",
        "essential_expenses": "3500.50",
        "other_debt_payments": "0.00",
    }


async def test_problem_documents_become_ledger_errors_with_their_code(backend):
    client = LedgerClient(backend.url)
    with pytest.raises(LedgerError) as info:
        await client.create_promise(AUTH, "HX0000000001", Decimal("500"), date(2027, 1, 1))
    await client.close()
    assert info.value.status == 422 and info.value.code == "promise_rejected"
    assert info.value.extra["reason"] == "date_out_of_window"
    assert backend.requests[0][3] == {"amount": "500.00", "promised_date": "2027-01-01"}


async def test_corrections_go_to_their_endpoints_with_the_borrowers_credentials(backend):
    client = LedgerClient(backend.url, "api-secret")
    with pytest.raises(LedgerError):
        await client.create_promise(AUTH, "HX0000000001", Decimal("500"), date(2026, 12, 4), replaces="p-1")
    await client.withdraw_dispute(AUTH, "HX0000000001", "DSP-2026-000001", "pressed by mistake")
    await client.withdraw_complaint("conv-1", "cmp-1", auth=AUTH)
    await client.withdraw_complaint("conv-2", "cmp-2", reason="x" * 600)
    await client.create_payment_trace(
        AUTH, "HX0000000001", paid_on=date(2026, 11, 18), amount=Decimal("1161.87"), reference="TX1", channel="alipay"
    )
    await client.create_payment_trace(AUTH, "HX0000000001", paid_on=None, amount=Decimal("500"))
    await client.close()
    sent = [(method, path, body) for method, path, _, body, _ in backend.requests]
    assert sent == [
        (
            "POST",
            "/api/v1/loans/HX0000000001/promises",
            {"amount": "500.00", "promised_date": "2026-12-04", "replaces": "p-1"},
        ),
        ("POST", "/api/v1/loans/HX0000000001/disputes/DSP-2026-000001/withdraw", {"reason": "pressed by mistake"}),
        ("POST", "/api/v1/complaints/cmp-1/withdraw", {"conversation_id": "conv-1"}),
        ("POST", "/api/v1/complaints/cmp-2/withdraw", {"conversation_id": "conv-2", "reason": "x" * 500}),
        (
            "POST",
            "/api/v1/loans/HX0000000001/payment-traces",
            {"paid_on": "2026-11-18", "amount": "1161.87", "reference": "TX1", "channel": "alipay"},
        ),
        ("POST", "/api/v1/loans/HX0000000001/payment-traces", {"amount": "500.00"}),
    ]
    headers = [h for _, _, h, _, _ in backend.requests]
    assert headers[1]["X-Verification-Token"] == "tok-1" and "X-Verification-Token" not in headers[3]


async def test_gets_are_retried_after_a_5xx(backend):
    backend.fail_times = 2
    client = LedgerClient(backend.url, retry_backoff_s=0.01)
    result = await client.get_policy_texts()
    await client.close()
    assert result["ok"] is True
    assert len(backend.requests) == 3


async def test_posts_are_never_retried(backend):
    backend.fail_times = 1
    client = LedgerClient(backend.url, retry_backoff_s=0.01)
    with pytest.raises(LedgerUnavailable):
        await client.create_escalation("conv-1", "request_human", "summary")
    await client.close()
    assert len(backend.requests) == 1


async def test_slow_backend_times_out_as_unavailable(backend):
    backend.delay = 0.5
    client = LedgerClient(backend.url, timeout_s=0.2, get_retries=0)
    with pytest.raises(LedgerUnavailable):
        await client.get_policy_texts()
    await client.close()
    await asyncio.sleep(0.4)  # let the slow handler finish before the server stops


async def test_connection_refused_is_unavailable():
    client = LedgerClient("http://127.0.0.1:9", retry_backoff_s=0.01)
    with pytest.raises(LedgerUnavailable):
        await client.get_policy_texts()
    await client.close()


def test_settings_read_from_the_environment():
    client = LedgerClient.from_env({"LEDGER_URL": "http://ledger:9000/", "LEDGER_API_TOKEN": "t"})
    assert client._base == "http://ledger:9000/api/v1" and client._token == "t"
    assert LedgerClient.from_env({})._base == "http://127.0.0.1:8080/api/v1"


def test_wrapped_lists_are_unwrapped():
    from actions.ledger_client import _items

    assert _items({"loan_number": "HX0000000001", "payments": [{"payment_id": "p"}]}, "payments") == [
        {"payment_id": "p"}
    ]
    assert _items([{"payment_id": "p"}], "payments") == [{"payment_id": "p"}]
    assert _items(None, "payments") == []


class PolicyBackend:
    """Answers every call with {"path": ...} and the X-Policy-Version it is told."""

    def __init__(self):
        self.version: str | None = "v1"
        self.paths = []

    async def handle(self, request):
        self.paths.append(request.path)
        headers = {"X-Policy-Version": self.version} if self.version else {}
        return web.json_response({"path": request.path, "texts": [{"key": "fee_rules"}]}, headers=headers)


@pytest.fixture
async def policy_backend():
    server = PolicyBackend()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    yield server
    await runner.cleanup()


async def test_the_policys_texts_and_terms_are_kept_until_an_answer_names_another_policy(policy_backend):
    now = [1000.0]
    client = LedgerClient(policy_backend.url, "t", clock=lambda: now[0])
    texts = await client.get_policy_texts()
    terms = await client.get_policy_terms()
    texts["texts"].clear()  # a caller changing what it got changes nothing kept
    assert await client.get_policy_texts() == {"path": "/api/v1/policy/texts", "texts": [{"key": "fee_rules"}]}
    assert await client.get_policy_terms() == terms
    assert policy_backend.paths == ["/api/v1/policy/texts", "/api/v1/policy/terms"]
    # Any answer naming another version (the ledger restarted with an applied policy) drops them.
    policy_backend.version = "v2"
    await client.get_loan_status(AUTH, "HX0000000001")
    await client.get_policy_texts()
    await client.get_policy_texts()
    assert policy_backend.paths[2:] == ["/api/v1/loans/HX0000000001/status", "/api/v1/policy/texts"]
    # And whatever is seen, they are read again after POLICY_CACHE_SECONDS.
    now[0] += LedgerClient.POLICY_CACHE_SECONDS
    await client.get_policy_texts()
    assert policy_backend.paths[-1] == "/api/v1/policy/texts" and len(policy_backend.paths) == 5
    await client.close()


async def test_a_ledger_that_names_no_policy_version_is_asked_every_time(policy_backend):
    policy_backend.version = None
    client = LedgerClient(policy_backend.url, "t")
    for _ in range(3):
        await client.get_policy_texts()
    assert policy_backend.paths == ["/api/v1/policy/texts"] * 3
    await client.close()
