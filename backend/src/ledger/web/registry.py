"""The route table plus what each route accepts and returns: one source for the router and
for the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from ..scopes import SCOPES, Scope

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    responses: dict[int, type[BaseModel]]
    errors: tuple[int, ...]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    client_auth: bool = True
    borrower: Literal["required", "optional", "none"] = "none"
    scopes: tuple[Scope, ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)


routes = web.RouteTableDef()
OPERATIONS: list[Operation] = []


def operation(
    method: str,
    path: str,
    *,
    summary: str,
    responses: dict[int, type[BaseModel]],
    errors: tuple[int, ...] = (),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    client_auth: bool = True,
    borrower: Literal["required", "optional", "none"] = "none",
    scopes: tuple[Scope, ...] = (),
) -> Callable[[Handler], Handler]:
    """Register a route. An endpoint that needs the client's token must name the scopes it
    accepts (refused at import otherwise, so no endpoint is open to every client by omission)."""
    if client_auth and (not scopes or not set(scopes) <= set(SCOPES)):
        raise ValueError(f"{method} {path}: declare scopes from {SCOPES}, got {scopes!r}")

    def register(handler: Handler) -> Handler:
        OPERATIONS.append(
            Operation(
                method=method,
                path=path,
                operation_id=handler.__name__,
                summary=summary,
                responses=responses,
                errors=errors,
                body=body,
                query=query,
                client_auth=client_auth,
                borrower=borrower,
                scopes=tuple(scopes),
            )
        )
        routes.route(method, path)(handler)
        return handler

    return register
