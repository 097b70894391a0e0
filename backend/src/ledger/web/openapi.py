"""The OpenAPI 3.1 document, generated from the operations registry and the very pydantic
models the handlers validate requests with and build responses from."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .registry import Operation
from .schemas import Problem

REF = "#/components/schemas/{model}"
ERROR_DESCRIPTIONS = {
    400: "malformed JSON (invalid_request)",
    401: "missing/invalid API token, or verification required/failed",
    403: "the API token's scope does not allow this operation (forbidden)",
    404: "not found (or not the verified borrower's)",
    405: "method not allowed",
    409: "conflict with the ledger's records",
    410: "offer expired",
    413: "payload too large",
    422: "validation error or rule refusal",
    423: "verification locked",
    429: "too many failed verifications from this client (Retry-After)",
    503: "database unavailable",
}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 64}}
        for name in re.findall(r"{(\w+)}", path)
    ]


def build_openapi(
    operations: list[Operation], *, title: str = "Huanxin loan ledger", version: str = "1"
) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
    for op in operations:
        if op.body is not None:
            models.append((op.body, "validation"))
        for model in op.responses.values():
            models.append((model, "serialization"))
    unique = list(dict.fromkeys(models))
    keys, top = models_json_schema(unique, ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return keys[(model, mode)]

    problem_ref = ref(Problem, "serialization")
    paths: dict[str, Any] = {}
    for op in operations:
        parameters = _path_parameters(op.path)
        if op.query is not None:
            query_schema = op.query.model_json_schema(ref_template=REF)
            for name, prop in query_schema.get("properties", {}).items():
                schema = {k: v for k, v in prop.items() if k not in ("title", "default")}
                if "anyOf" in schema:
                    non_null = [s for s in schema["anyOf"] if s.get("type") != "null"]
                    schema = non_null[0] if len(non_null) == 1 else schema
                parameters.append({"name": name, "in": "query", "required": False, "schema": schema})
        if op.borrower != "none":
            required = op.borrower == "required"
            parameters.append(
                {
                    "name": "X-Verification-Token",
                    "in": "header",
                    "required": required,
                    "schema": {"type": "string"},
                    "description": "token from POST /api/v1/verifications",
                }
            )
            parameters.append(
                {
                    "name": "X-Conversation-Id",
                    "in": "header",
                    "required": required,
                    "schema": {"type": "string"},
                    "description": "conversation the token was issued for",
                }
            )
        responses: dict[str, Any] = {}
        for status, model in op.responses.items():
            responses[str(status)] = {
                "description": model.__doc__.strip().splitlines()[0] if model.__doc__ else model.__name__,
                "content": {"application/json": {"schema": ref(model, "serialization")}},
            }
        error_codes = set(op.errors)
        if op.client_auth:
            error_codes.update({401, 403})
        if op.body is not None or op.query is not None:
            error_codes.update({400, 413, 422})
        if op.borrower == "required":
            error_codes.update({401, 404})
        if "{" in op.path:
            error_codes.add(404)
        error_codes.add(503)
        for status in sorted(error_codes):
            responses[str(status)] = {
                "description": ERROR_DESCRIPTIONS.get(status, "error"),
                "content": {"application/problem+json": {"schema": problem_ref}},
            }
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "responses": responses,
        }
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(op.body, "validation")}},
            }
        # OpenAPI 3.1 lets a non-OAuth requirement list role names: here, the client scopes.
        entry["security"] = [{"bearerAuth": list(op.scopes)}] if op.client_auth else []
        if op.client_auth:
            entry["x-scopes"] = list(op.scopes)
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "Loan-ledger API of the Huanxin collections assistant. Amounts are strings with two decimals."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API client token; each token has one scope (bot, desk, payments, analytics) and "
                    "each operation lists the scopes it accepts",
                }
            },
        },
    }
