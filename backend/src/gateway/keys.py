"""The gateway's shared application state, typed (aiohttp ``AppKey``): every module that needs
the settings, the conversation service or the desk's authentication takes it from here. Imports
no route module, so the route modules and the app factory all depend on it and not on each other.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.desk_door import DeskDoor

from .agents import DeskAuth
from .canned_store import CannedStore
from .conversations import AccountReader, AgentIdentity, AuditSink, ConversationService, utcnow
from .events import EventSink
from .hub import Hub
from .ratelimit import Limits
from .settings import GatewaySettings


@dataclass
class Overrides:
    """Test seams: a clock, a WeChat API client, an audit sink or account reader of their own."""

    clock: Callable[[], datetime] = utcnow
    wechat_client: Any = None
    audit: AuditSink | None = None
    accounts: AccountReader | None = None
    events: EventSink | None = None  # where the analytics events go (default: as the settings say)


settings_key = web.AppKey("settings", GatewaySettings)
service_key = web.AppKey("service", ConversationService)
auth_key = web.AppKey("auth", DeskAuth)
hub_key = web.AppKey("hub", Hub)
engine_key = web.AppKey("engine", AsyncEngine)
canned_key = web.AppKey("canned", CannedStore)  # the desk's canned replies, kept by supervisors
door_key = web.AppKey("desk_door", DeskDoor)  # the ledger's read model for the desk and insights pages
overrides_key = web.AppKey("overrides", Overrides)
sockets_key: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets")
edge_limits_key = web.AppKey("edge_limits", Limits)
proxies_key = web.AppKey("trusted_proxies", tuple)
# Set by the desk login middleware (desk_web) on every request under /desk and /insights.
agent_rkey = web.RequestKey("agent", AgentIdentity)
csrf_rkey = web.RequestKey("csrf", str)
