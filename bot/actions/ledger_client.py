"""The one HTTP client the actions use to reach the loan-ledger backend (docs/contracts.md).

- Timeouts: every call has a total timeout (default 2.5 s), so a slow backend becomes a
  polite message, never a silent bot.
- Retries: only idempotent GETs are retried (twice, short back-off) on connection errors,
  timeouts and 5xx answers. POSTs and PUTs are sent once: a retried POST could create a
  second promise or escalation.
- Errors: anything that means "the ledger cannot answer now" raises ``LedgerUnavailable``;
  an answer in application/problem+json raises ``LedgerError`` carrying its ``code``,
  ``status`` and extra members (``attempts_left``, ``locked_until``, ``reason``...).
- Configuration: LEDGER_URL and LEDGER_API_TOKEN are read once, when the default client is
  first needed (not at import).
- Money goes out as contract strings ("1250.00"), never floats.
- The policy's texts and terms are kept: the ledger names the policy it runs on every answer
  (``X-Policy-Version``); they are read again when an answer of any call names another one,
  and at least every ``POLICY_CACHE_SECONDS`` (a ledger that names none: every time).
"""

from __future__ import annotations

import asyncio
import copy
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import aiohttp

from actions.parsing import to_money_string

DEFAULT_LEDGER_URL = "http://127.0.0.1:8080"


class LedgerUnavailable(Exception):
    """The ledger did not answer in time, refused the connection or answered 5xx."""


class LedgerError(Exception):
    """The ledger answered with a problem document (4xx): see ``code`` (contract error code)."""

    def __init__(self, status: int, code: str, detail: str = "", extra: Mapping[str, Any] | None = None):
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = dict(extra or {})


@dataclass(frozen=True)
class BorrowerAuth:
    """What borrower-scoped calls send: the verification token and its conversation."""

    token: str
    conversation_id: str


class LedgerApi(Protocol):
    """The calls the actions make; ``LedgerClient`` and the tests' fake implement it."""

    async def verify(
        self,
        conversation_id: str,
        *,
        phone: str | None,
        loan_number: str | None,
        date_of_birth: date,
        id_last4: str,
        client_ref: str | None = None,
    ) -> dict: ...
    async def get_borrower(self, auth: BorrowerAuth, borrower_id: str) -> dict: ...
    async def get_recent_reminders(self, auth: BorrowerAuth, borrower_id: str) -> list: ...
    async def get_loan_status(self, auth: BorrowerAuth, loan_number: str, as_of: date | None = None) -> dict: ...
    async def get_payments(self, auth: BorrowerAuth, loan_number: str) -> list: ...
    async def create_hardship_case(
        self,
        auth: BorrowerAuth,
        loan_number: str,
        *,
        reason: str,
        duration: str,
        monthly_income: Decimal,
        essential_expenses: Decimal,
        other_debt_payments: Decimal,
        notes: str | None = None,
    ) -> dict: ...
    async def create_evaluation(self, auth: BorrowerAuth, loan_number: str, hardship_case_id: str) -> dict: ...
    async def accept_offer(self, auth: BorrowerAuth, offer_id: str) -> dict: ...
    async def get_arrangements(self, auth: BorrowerAuth, loan_number: str) -> list: ...
    async def create_promise(
        self,
        auth: BorrowerAuth,
        loan_number: str,
        amount: Decimal,
        promised_date: date,
        replaces: str | None = None,
    ) -> dict: ...
    async def get_promises(self, auth: BorrowerAuth, loan_number: str) -> list: ...
    async def open_dispute(
        self, auth: BorrowerAuth, loan_number: str, reason: str, details: str | None = None
    ) -> dict: ...
    async def withdraw_dispute(
        self, auth: BorrowerAuth, loan_number: str, case_number: str, reason: str | None = None
    ) -> dict: ...
    async def create_payment_trace(
        self,
        auth: BorrowerAuth,
        loan_number: str,
        *,
        paid_on: date | None,
        amount: Decimal | None,
        reference: str | None = None,
        channel: str | None = None,
    ) -> dict: ...
    async def set_contact_preferences(
        self, auth: BorrowerAuth, borrower_id: str, *, stop_all: bool, opted_out_channels: list[str]
    ) -> dict: ...
    async def create_escalation(
        self,
        conversation_id: str,
        reason: str,
        summary: str,
        language: str | None = None,
        auth: BorrowerAuth | None = None,
    ) -> dict: ...
    async def create_complaint(self, conversation_id: str, text: str, auth: BorrowerAuth | None = None) -> dict: ...
    async def withdraw_complaint(
        self, conversation_id: str, complaint_id: str, auth: BorrowerAuth | None = None, reason: str | None = None
    ) -> dict: ...
    async def get_policy_texts(self) -> dict: ...
    async def get_policy_terms(self) -> dict: ...


class LedgerClient:
    """aiohttp client of the ledger API; one instance (and one connection pool) per process."""

    POLICY_CACHE_SECONDS = 60.0
    POLICY_VERSION_HEADER = "X-Policy-Version"

    def __init__(
        self,
        base_url: str = DEFAULT_LEDGER_URL,
        api_token: str | None = None,
        *,
        timeout_s: float = 2.5,
        get_retries: int = 2,
        retry_backoff_s: float = 0.15,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._base = base_url.rstrip("/") + "/api/v1"
        self._token = api_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._get_retries = get_retries
        self._backoff = retry_backoff_s
        self._session: aiohttp.ClientSession | None = None
        self._clock = clock
        self._policy_seen: str | None = None  # the version the latest answer named
        self._policy_kept: dict[str, tuple[str, float, Any]] = {}  # path -> (version, read at, body)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LedgerClient:
        env = os.environ if env is None else env
        return cls(
            env.get("LEDGER_URL") or DEFAULT_LEDGER_URL,
            env.get("LEDGER_API_TOKEN") or None,
            timeout_s=float(env.get("LEDGER_TIMEOUT_S", "2.5")),
        )

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def _headers(self, auth: BorrowerAuth | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if auth is not None:
            headers["X-Verification-Token"] = auth.token
            headers["X-Conversation-Id"] = auth.conversation_id
        return headers

    async def _request(
        self,
        method: str,
        path: str,
        *,
        auth: BorrowerAuth | None = None,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        attempts = 1 + (self._get_retries if method == "GET" else 0)
        last: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self._backoff * attempt)
            try:
                async with self._http().request(
                    method, self._base + path, headers=self._headers(auth), json=json, params=params
                ) as response:
                    if response.status >= 500:
                        last = LedgerUnavailable(f"{method} {path}: HTTP {response.status}")
                        continue
                    body = await _read_json(response)
                    # After the last await of this call: a caller reads it for this answer.
                    self._policy_seen = response.headers.get(self.POLICY_VERSION_HEADER)
                    if response.status >= 400:
                        raise _problem(response.status, body)
                    return body
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                last = LedgerUnavailable(f"{method} {path}: {type(exc).__name__}")
        assert last is not None
        raise last

    # ------------------------------------------------------------------ endpoints

    async def verify(
        self,
        conversation_id: str,
        *,
        phone: str | None,
        loan_number: str | None,
        date_of_birth: date,
        id_last4: str,
        client_ref: str | None = None,
    ) -> dict:
        body: dict[str, Any] = {
            "conversation_id": conversation_id,
            "date_of_birth": date_of_birth.isoformat(),
            "id_last4": id_last4,
        }
        if client_ref:
            body["client_ref"] = client_ref  # the gateway's client reference (limits per client)
        if phone:
            body["phone"] = phone
        else:
            body["loan_number"] = loan_number
        return await self._request("POST", "/verifications", json=body)

    async def get_borrower(self, auth: BorrowerAuth, borrower_id: str) -> dict:
        return await self._request("GET", f"/borrowers/{borrower_id}", auth=auth)

    async def get_recent_reminders(self, auth: BorrowerAuth, borrower_id: str) -> list:
        """The reminders delivered to the verified borrower in the last 7 days (with their ref)."""
        return _items(await self._request("GET", f"/borrowers/{borrower_id}/reminders", auth=auth), "reminders")

    async def get_loan_status(self, auth: BorrowerAuth, loan_number: str, as_of: date | None = None) -> dict:
        params = {"as_of": as_of.isoformat()} if as_of else None
        return await self._request("GET", f"/loans/{loan_number}/status", auth=auth, params=params)

    async def get_payments(self, auth: BorrowerAuth, loan_number: str) -> list:
        return _items(await self._request("GET", f"/loans/{loan_number}/payments", auth=auth), "payments")

    async def create_hardship_case(
        self,
        auth: BorrowerAuth,
        loan_number: str,
        *,
        reason: str,
        duration: str,
        monthly_income: Decimal,
        essential_expenses: Decimal,
        other_debt_payments: Decimal,
        notes: str | None = None,
    ) -> dict:
        body: dict[str, Any] = {
            "reason": reason,
            "duration": duration,
            "monthly_income": to_money_string(monthly_income),
            "essential_expenses": to_money_string(essential_expenses),
            "other_debt_payments": to_money_string(other_debt_payments),
        }
        if notes:
            body["notes"] = notes
        return await self._request("POST", f"/loans/{loan_number}/hardship-cases", auth=auth, json=body)

    async def create_evaluation(self, auth: BorrowerAuth, loan_number: str, hardship_case_id: str) -> dict:
        return await self._request(
            "POST", f"/loans/{loan_number}/evaluations", auth=auth, json={"hardship_case_id": hardship_case_id}
        )

    async def accept_offer(self, auth: BorrowerAuth, offer_id: str) -> dict:
        return await self._request("POST", f"/offers/{offer_id}/acceptance", auth=auth, json={})

    async def get_arrangements(self, auth: BorrowerAuth, loan_number: str) -> list:
        return _items(await self._request("GET", f"/loans/{loan_number}/arrangements", auth=auth), "arrangements")

    async def create_promise(
        self,
        auth: BorrowerAuth,
        loan_number: str,
        amount: Decimal,
        promised_date: date,
        replaces: str | None = None,
    ) -> dict:
        """A new promise, or with ``replaces`` the replacement of that open promise."""
        body: dict[str, Any] = {"amount": to_money_string(amount), "promised_date": promised_date.isoformat()}
        if replaces:
            body["replaces"] = replaces
        return await self._request("POST", f"/loans/{loan_number}/promises", auth=auth, json=body)

    async def get_promises(self, auth: BorrowerAuth, loan_number: str) -> list:
        return _items(await self._request("GET", f"/loans/{loan_number}/promises", auth=auth), "promises")

    async def open_dispute(self, auth: BorrowerAuth, loan_number: str, reason: str, details: str | None = None) -> dict:
        body: dict[str, Any] = {"reason": reason}
        if details:
            body["details"] = details
        return await self._request("POST", f"/loans/{loan_number}/disputes", auth=auth, json=body)

    async def withdraw_dispute(
        self, auth: BorrowerAuth, loan_number: str, case_number: str, reason: str | None = None
    ) -> dict:
        body: dict[str, Any] = {"reason": reason[:500]} if reason else {}
        return await self._request(
            "POST", f"/loans/{loan_number}/disputes/{case_number}/withdraw", auth=auth, json=body
        )

    async def create_payment_trace(
        self,
        auth: BorrowerAuth,
        loan_number: str,
        *,
        paid_on: date | None,
        amount: Decimal | None,
        reference: str | None = None,
        channel: str | None = None,
    ) -> dict:
        body: dict[str, Any] = {}
        if paid_on is not None:
            body["paid_on"] = paid_on.isoformat()
        if amount is not None:
            body["amount"] = to_money_string(amount)
        if reference:
            body["reference"] = reference
        if channel:
            body["channel"] = channel
        return await self._request("POST", f"/loans/{loan_number}/payment-traces", auth=auth, json=body)

    async def set_contact_preferences(
        self, auth: BorrowerAuth, borrower_id: str, *, stop_all: bool, opted_out_channels: list[str]
    ) -> dict:
        return await self._request(
            "PUT",
            f"/borrowers/{borrower_id}/contact-preferences",
            auth=auth,
            json={"stop_all": stop_all, "opted_out_channels": opted_out_channels},
        )

    async def create_escalation(
        self,
        conversation_id: str,
        reason: str,
        summary: str,
        language: str | None = None,
        auth: BorrowerAuth | None = None,
    ) -> dict:
        body: dict[str, Any] = {"conversation_id": conversation_id, "reason": reason, "summary": summary}
        if language:
            body["language"] = language
        return await self._request("POST", "/escalations", auth=auth, json=body)

    async def create_complaint(self, conversation_id: str, text: str, auth: BorrowerAuth | None = None) -> dict:
        return await self._request(
            "POST", "/complaints", auth=auth, json={"conversation_id": conversation_id, "text": text}
        )

    async def withdraw_complaint(
        self, conversation_id: str, complaint_id: str, auth: BorrowerAuth | None = None, reason: str | None = None
    ) -> dict:
        body: dict[str, Any] = {"conversation_id": conversation_id}
        if reason:
            body["reason"] = reason[:500]
        return await self._request("POST", f"/complaints/{complaint_id}/withdraw", auth=auth, json=body)

    async def get_policy_texts(self) -> dict:
        return await self._policy_read("/policy/texts")

    async def get_policy_terms(self) -> dict:
        """The policy's dispute reply days and the contact channels the lender uses."""
        return await self._policy_read("/policy/terms")

    async def _policy_read(self, path: str) -> Any:
        """The policy's answer at ``path``, kept while the ledger names the same policy (the
        texts are read on most turns that explain a fee or a consequence)."""
        kept = self._policy_kept.get(path)
        if kept is not None and kept[0] == self._policy_seen and self._clock() - kept[1] < self.POLICY_CACHE_SECONDS:
            return copy.deepcopy(kept[2])
        body = await self._request("GET", path)
        if self._policy_seen is not None:
            self._policy_kept[path] = (self._policy_seen, self._clock(), copy.deepcopy(body))
        return body


def _items(body: Any, key: str) -> list:
    """Lists come wrapped ({"loan_number": ..., "payments": [...]}); a bare list is accepted too."""
    if isinstance(body, dict):
        body = body.get(key)
    return list(body) if isinstance(body, list) else []


async def _read_json(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return None


def _problem(status: int, body: Any) -> LedgerError:
    if isinstance(body, dict):
        extra = {k: v for k, v in body.items() if k not in {"type", "title", "status", "code", "detail"}}
        return LedgerError(status, str(body.get("code") or "unknown"), str(body.get("detail") or ""), extra)
    return LedgerError(status, "unknown", "")


_default: LedgerApi | None = None


def default_client() -> LedgerApi:
    """The process-wide client, built from the environment on first use."""
    global _default
    if _default is None:
        _default = LedgerClient.from_env()
    return _default
