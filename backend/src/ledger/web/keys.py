"""Typed application state (web.AppKey)."""

from __future__ import annotations

from aiohttp import web

from ..db.session import Engine
from ..domain.contact_plan import Cadence
from ..domain.policy import Policy
from ..services.context import Ledger
from ..settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POLICY = web.AppKey("policy", Policy)
POLICY_VERSION = web.AppKey("policy_version", str)  # see app.policy_version
CADENCE = web.AppKey("cadence", Cadence)
ENGINE = web.AppKey("engine", Engine)
LEDGER = web.AppKey("ledger", Ledger)
OPENAPI = web.AppKey("openapi", dict)
CLIENT = web.RequestKey("client", str)
