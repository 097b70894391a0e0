"""Route handlers: parse with the schemas, call one service, answer through the schemas."""

from __future__ import annotations

import json
import logging
from typing import TypedDict, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from ..db.session import ping
from ..scopes import Scope
from ..services import borrowers, desk, escalations, loans, relief, traces, verification
from . import schemas as s
from .keys import CADENCE, CLIENT, ENGINE, LEDGER, OPENAPI, POLICY
from .problem import from_validation_error, problem
from .registry import operation

log = logging.getLogger("ledger.web")
M = TypeVar("M", bound=BaseModel)

# Scopes (ledger/scopes.py): the action server, the payment feed, the desk, and everyone who
# only reads the policy's public texts.
BOT: tuple[Scope, ...] = ("bot",)
PAYMENTS: tuple[Scope, ...] = ("payments",)
DESK: tuple[Scope, ...] = ("desk",)
READERS: tuple[Scope, ...] = ("bot", "desk", "analytics")


class BadRequest(Exception):
    def __init__(self, response: web.Response):
        self.response = response


async def parse_body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    try:
        json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(problem(400, "invalid_request", "the body is not valid JSON")) from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise BadRequest(from_validation_error(exc)) from None


def parse_query(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise BadRequest(from_validation_error(exc, "query")) from None


def respond(model: type[BaseModel], payload: dict, status: int = 200) -> web.Response:
    body = model.model_validate(payload).model_dump_json()
    return web.Response(status=status, text=body, content_type="application/json")


class BorrowerHeaders(TypedDict):
    """The borrower's credentials as sent (either may be missing: the service then refuses)."""

    token: str | None
    conversation_id: str | None


class LoanScope(BorrowerHeaders):
    loan_number: str


def borrower_headers(request: web.Request) -> BorrowerHeaders:
    return {
        "token": request.headers.get("X-Verification-Token"),
        "conversation_id": request.headers.get("X-Conversation-Id"),
    }


def loan_scope(request: web.Request) -> LoanScope:
    """The loan in the path and the borrower's headers: the scope every borrower-scoped loan service takes."""
    return {"loan_number": request.match_info["loan_number"], **borrower_headers(request)}


def guarded(handler):
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadRequest as exc:
            return exc.response

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


@operation("GET", "/healthz", summary="Liveness and database check", responses={200: s.Health}, client_auth=False)
@guarded
async def healthz(request: web.Request) -> web.Response:
    try:
        await ping(request.app[ENGINE])
    except Exception:  # report, never raise
        log.exception("health check: database unavailable")
        return problem(503, "temporarily_unavailable", "database unavailable")
    return respond(s.Health, {"status": "ok", "database": "ok"})


@operation(
    "GET",
    "/api/v1/openapi.json",
    summary="This OpenAPI document",
    responses={200: s.OpenAPIDocument},
    client_auth=False,
)
@guarded
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


@operation(
    "POST",
    "/api/v1/verifications",
    summary="Verify a borrower's identity; returns a token",
    body=s.VerificationRequest,
    responses={201: s.VerificationResponse},
    errors=(401, 423, 429),
    scopes=BOT,
)
@guarded
async def create_verification(request: web.Request) -> web.Response:
    body = await parse_body(request, s.VerificationRequest)
    result = await verification.verify(
        request.app[LEDGER],
        conversation_id=body.conversation_id,
        date_of_birth=body.date_of_birth,
        id_last4=body.id_last4,
        phone=body.phone,
        loan_number=body.loan_number,
        client=request.get(CLIENT, "api"),
        client_ref=body.client_ref,
    )
    return respond(
        s.VerificationResponse,
        {
            "token": result.token,
            "expires_at": result.expires_at.isoformat(),
            "borrower": {"borrower_id": result.borrower_id, "name": result.name, "language": result.language},
        },
        201,
    )


@operation(
    "GET",
    "/api/v1/borrowers/{borrower_id}",
    summary="The verified borrower's profile",
    responses={200: s.BorrowerProfile},
    borrower="required",
    scopes=BOT,
)
@guarded
async def get_borrower(request: web.Request) -> web.Response:
    payload = await borrowers.profile(
        request.app[LEDGER], borrower_id=request.match_info["borrower_id"], **borrower_headers(request)
    )
    return respond(s.BorrowerProfile, payload)


@operation(
    "PUT",
    "/api/v1/borrowers/{borrower_id}/contact-preferences",
    summary="Replace contact preferences",
    body=s.ContactPreferencesRequest,
    responses={200: s.ContactPreferences},
    borrower="required",
    scopes=BOT,
)
@guarded
async def put_contact_preferences(request: web.Request) -> web.Response:
    body = await parse_body(request, s.ContactPreferencesRequest)
    payload = await borrowers.set_contact_preferences(
        request.app[LEDGER],
        borrower_id=request.match_info["borrower_id"],
        stop_all=body.stop_all,
        opted_out_channels=list(body.opted_out_channels),
        **borrower_headers(request),
    )
    return respond(s.ContactPreferences, payload)


@operation(
    "GET",
    "/api/v1/borrowers/{borrower_id}/reminders",
    summary="Reminders delivered to the verified borrower in the last 7 days (web notices; what a reply follows)",
    responses={200: s.RecentReminders},
    borrower="required",
    scopes=BOT,
)
@guarded
async def get_recent_reminders(request: web.Request) -> web.Response:
    payload = await borrowers.recent_reminders(
        request.app[LEDGER], borrower_id=request.match_info["borrower_id"], **borrower_headers(request)
    )
    return respond(s.RecentReminders, payload)


@operation(
    "POST",
    "/api/v1/stop-replies",
    summary="A borrower's reply to a reminder: a STOP (TD, 退订, STOP) opts that channel out at once",
    body=s.StopReplyRequest,
    responses={200: s.StopReplyResult},
    errors=(401,),
    borrower="optional",
    scopes=BOT + DESK,
)
@guarded
async def post_stop_reply(request: web.Request) -> web.Response:
    body = await parse_body(request, s.StopReplyRequest)
    payload = await borrowers.record_stop_reply(
        request.app[LEDGER],
        channel=body.channel,
        text=body.text,
        phone=body.phone,
        confirmations=request.app[CADENCE].stop_confirmation,
        client=request.get(CLIENT, "api"),
        **borrower_headers(request),
    )
    return respond(s.StopReplyResult, payload)


@operation(
    "GET",
    "/api/v1/loans/{loan_number}/status",
    summary="Overdue status of a loan (a disclosure, audited)",
    query=s.StatusQuery,
    responses={200: s.LoanStatus},
    borrower="required",
    scopes=BOT,
)
@guarded
async def get_status(request: web.Request) -> web.Response:
    query = parse_query(request, s.StatusQuery)
    payload = await loans.loan_status(request.app[LEDGER], as_of=query.as_of, **loan_scope(request))
    return respond(s.LoanStatus, payload)


@operation(
    "GET",
    "/api/v1/loans/{loan_number}/payments",
    summary="Recent payments of a loan",
    responses={200: s.PaymentList},
    borrower="required",
    scopes=BOT,
)
@guarded
async def get_payments(request: web.Request) -> web.Response:
    payload = await loans.list_payments(request.app[LEDGER], **loan_scope(request))
    return respond(s.PaymentList, payload)


@operation(
    "POST",
    "/api/v1/loans/{loan_number}/payments",
    summary="Record a payment (idempotent by external_ref)",
    body=s.PaymentRequest,
    responses={201: s.PaymentOut, 200: s.PaymentOut},
    errors=(409,),
    scopes=PAYMENTS,
)
@guarded
async def post_payment(request: web.Request) -> web.Response:
    body = await parse_body(request, s.PaymentRequest)
    payload, created = await loans.record_payment(
        request.app[LEDGER],
        loan_number=request.match_info["loan_number"],
        external_ref=body.external_ref,
        amount=s.money(body.amount),
        received_on=body.received_on,
        channel=body.channel,
        client=request.get(CLIENT, "api"),
    )
    return respond(s.PaymentOut, payload, 201 if created else 200)


@operation(
    "POST",
    "/api/v1/loans/{loan_number}/hardship-cases",
    summary="Record the facts of a hardship case",
    body=s.HardshipCaseRequest,
    responses={201: s.HardshipCaseOut},
    borrower="required",
    scopes=BOT,
)
@guarded
async def post_hardship_case(request: web.Request) -> web.Response:
    body = await parse_body(request, s.HardshipCaseRequest)
    payload = await loans.open_hardship_case(
        request.app[LEDGER],
        reason=body.reason,
        duration=body.duration,
        monthly_income=s.money(body.monthly_income),
        essential_expenses=s.money(body.essential_expenses),
        other_debt_payments=s.money(body.other_debt_payments),
        notes=body.notes,
        **loan_scope(request),
    )
    return respond(s.HardshipCaseOut, payload, 201)


@operation(
    "POST",
    "/api/v1/loans/{loan_number}/evaluations",
    summary="Evaluate relief plans; stores the offers",
    body=s.EvaluationRequest,
    responses={201: s.EvaluationOut},
    borrower="required",
    errors=(409,),
    scopes=BOT,
)
@guarded
async def post_evaluation(request: web.Request) -> web.Response:
    body = await parse_body(request, s.EvaluationRequest)
    payload = await relief.evaluate(request.app[LEDGER], hardship_case_id=body.hardship_case_id, **loan_scope(request))
    return respond(s.EvaluationOut, payload, 201)


@operation(
    "POST",
    "/api/v1/offers/{offer_id}/acceptance",
    summary="Accept an offer: creates the arrangement",
    body=s.AcceptanceRequest,
    responses={201: s.ArrangementOut},
    borrower="required",
    errors=(409, 410),
    scopes=BOT,
)
@guarded
async def post_acceptance(request: web.Request) -> web.Response:
    await parse_body(request, s.AcceptanceRequest)
    payload = await relief.accept(
        request.app[LEDGER], offer_id=request.match_info["offer_id"], **borrower_headers(request)
    )
    return respond(s.ArrangementOut, payload, 201)


@operation(
    "GET",
    "/api/v1/loans/{loan_number}/arrangements",
    summary="Arrangements of a loan with their state",
    responses={200: s.ArrangementList},
    borrower="required",
    scopes=BOT,
)
@guarded
async def get_arrangements(request: web.Request) -> web.Response:
    payload = await loans.list_arrangements(request.app[LEDGER], **loan_scope(request))
    return respond(s.ArrangementList, payload)


@operation(
    "POST",
    "/api/v1/loans/{loan_number}/promises",
    summary="Record a promise to pay, or replace an open one (replaces)",
    body=s.PromiseRequest,
    responses={201: s.PromiseOut},
    borrower="required",
    errors=(409,),
    scopes=BOT,
)
@guarded
async def post_promise(request: web.Request) -> web.Response:
    body = await parse_body(request, s.PromiseRequest)
    payload = await loans.make_promise(
        request.app[LEDGER],
        amount=s.money(body.amount),
        promised_date=body.promised_date,
        replaces=body.replaces,
        **loan_scope(request),
    )
    return respond(s.PromiseOut, payload, 201)


@operation(
    "GET",
    "/api/v1/loans/{loan_number}/promises",
    summary="Promises of a loan with their state",
    responses={200: s.PromiseList},
    borrower="required",
    scopes=BOT,
)
@guarded
async def get_promises(request: web.Request) -> web.Response:
    payload = await loans.list_promises(request.app[LEDGER], **loan_scope(request))
    return respond(s.PromiseList, payload)


@operation(
    "POST",
    "/api/v1/loans/{loan_number}/disputes",
    summary="Open a dispute (pauses collection)",
    body=s.DisputeRequest,
    responses={201: s.DisputeOut},
    borrower="required",
    errors=(409,),
    scopes=BOT,
)
@guarded
async def post_dispute(request: web.Request) -> web.Response:
    body = await parse_body(request, s.DisputeRequest)
    payload = await loans.open_dispute(
        request.app[LEDGER], reason=body.reason, details=body.details, **loan_scope(request)
    )
    return respond(s.DisputeOut, payload, 201)


@operation(
    "POST",
    "/api/v1/loans/{loan_number}/disputes/{case_number}/withdraw",
    summary="Withdraw a dispute opened by mistake (collection resumes; kept on record)",
    body=s.DisputeWithdrawalRequest,
    responses={200: s.DisputeOut},
    borrower="required",
    errors=(409,),
    scopes=BOT,
)
@guarded
async def post_dispute_withdrawal(request: web.Request) -> web.Response:
    body = await parse_body(request, s.DisputeWithdrawalRequest)
    payload = await loans.withdraw_dispute(
        request.app[LEDGER],
        case_number=request.match_info["case_number"],
        reason=body.reason or None,
        **loan_scope(request),
    )
    return respond(s.DisputeOut, payload)


@operation(
    "POST",
    "/api/v1/loans/{loan_number}/payment-traces",
    summary="Open a payment trace: a payment the borrower says was made and the ledger does not show",
    body=s.PaymentTraceRequest,
    responses={201: s.PaymentTraceOut, 200: s.PaymentTraceOut},
    borrower="required",
    scopes=BOT,
)
@guarded
async def post_payment_trace(request: web.Request) -> web.Response:
    body = await parse_body(request, s.PaymentTraceRequest)
    payload, created = await traces.open_payment_trace(
        request.app[LEDGER],
        paid_on=body.paid_on,
        amount=s.money(body.amount) if body.amount is not None else None,
        reference=body.reference,
        channel=body.channel,
        **loan_scope(request),
    )
    return respond(s.PaymentTraceOut, payload, 201 if created else 200)


@operation(
    "POST",
    "/api/v1/escalations",
    summary="Hand the conversation to a human",
    body=s.EscalationRequest,
    responses={201: s.EscalationOut},
    borrower="optional",
    scopes=BOT,
)
@guarded
async def post_escalation(request: web.Request) -> web.Response:
    body = await parse_body(request, s.EscalationRequest)
    payload = await escalations.escalate(
        request.app[LEDGER],
        conversation_id=body.conversation_id,
        reason=body.reason,
        summary=body.summary,
        language=body.language,
        token=request.headers.get("X-Verification-Token"),
        client=request.get(CLIENT, "api"),
    )
    return respond(s.EscalationOut, payload, 201)


@operation(
    "POST",
    "/api/v1/complaints",
    summary="File a complaint (creates an escalation)",
    body=s.ComplaintRequest,
    responses={201: s.ComplaintOut},
    borrower="optional",
    scopes=BOT,
)
@guarded
async def post_complaint(request: web.Request) -> web.Response:
    body = await parse_body(request, s.ComplaintRequest)
    payload = await escalations.complain(
        request.app[LEDGER],
        conversation_id=body.conversation_id,
        text=body.text,
        token=request.headers.get("X-Verification-Token"),
        client=request.get(CLIENT, "api"),
    )
    return respond(s.ComplaintOut, payload, 201)


@operation(
    "POST",
    "/api/v1/complaints/{complaint_id}/withdraw",
    summary="Withdraw a complaint filed by mistake, from the conversation that filed it (kept on record)",
    body=s.ComplaintWithdrawalRequest,
    responses={200: s.ComplaintWithdrawalOut},
    borrower="optional",
    errors=(409,),
    scopes=BOT,
)
@guarded
async def post_complaint_withdrawal(request: web.Request) -> web.Response:
    body = await parse_body(request, s.ComplaintWithdrawalRequest)
    payload = await escalations.withdraw_complaint(
        request.app[LEDGER],
        complaint_id=request.match_info["complaint_id"],
        conversation_id=body.conversation_id,
        reason=body.reason or None,
        token=request.headers.get("X-Verification-Token"),
        client=request.get(CLIENT, "api"),
    )
    return respond(s.ComplaintWithdrawalOut, payload)


@operation(
    "GET",
    "/api/v1/policy/texts",
    summary="Fee rules and consequences in zh and en, from the policy file",
    responses={200: s.PolicyTexts},
    scopes=READERS,
)
@guarded
async def get_policy_texts(request: web.Request) -> web.Response:
    texts = request.app[POLICY].texts
    items = [
        {"key": key, "zh": getattr(texts, key).zh, "en": getattr(texts, key).en}
        for key in ("fee_rules", "consequences", "arrangement_terms", "dispute_paused")
    ]
    return respond(s.PolicyTexts, {"texts": items})


@operation(
    "GET",
    "/api/v1/policy/terms",
    summary="The dispute reply time (days) and the contact channels the lender uses, from the policy file",
    responses={200: s.PolicyTerms},
    scopes=READERS,
)
@guarded
async def get_policy_terms(request: web.Request) -> web.Response:
    policy = request.app[POLICY]
    payload = {"dispute_reply_days": policy.disputes.reply_days, "contact_channels": list(policy.contact.channels)}
    return respond(s.PolicyTerms, payload)


@operation(
    "GET",
    "/api/v1/borrowers/{borrower_id}/verification-state",
    summary="The borrower's verification lock as the desk sees it",
    responses={200: s.VerificationState},
    scopes=DESK,
)
@guarded
async def get_verification_state(request: web.Request) -> web.Response:
    payload = await desk.borrower_verification_state(request.app[LEDGER], borrower_id=request.match_info["borrower_id"])
    return respond(s.VerificationState, payload)


@operation(
    "GET",
    "/api/v1/conversations/{conversation_id}/verification-state",
    summary="Verification state of the borrower a conversation verified as or last named",
    responses={200: s.ConversationVerificationState},
    scopes=DESK,
)
@guarded
async def get_conversation_verification_state(request: web.Request) -> web.Response:
    payload = await desk.conversation_verification_state(
        request.app[LEDGER], conversation_id=request.match_info["conversation_id"]
    )
    return respond(s.ConversationVerificationState, payload)


@operation(
    "POST",
    "/api/v1/borrowers/{borrower_id}/manual-verifications",
    summary="An agent verified the borrower by other means: clears the lock (audited)",
    body=s.ManualVerificationRequest,
    responses={201: s.ManualVerificationOut},
    scopes=DESK,
)
@guarded
async def post_manual_verification(request: web.Request) -> web.Response:
    body = await parse_body(request, s.ManualVerificationRequest)
    payload = await desk.record_manual_verification(
        request.app[LEDGER],
        borrower_id=request.match_info["borrower_id"],
        agent=body.agent,
        method=body.method,
        note=body.note,
        conversation_id=body.conversation_id,
        client=request.get(CLIENT, "api"),
    )
    return respond(s.ManualVerificationOut, payload, 201)
