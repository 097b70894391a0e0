"""What each kind of API client may do. A token carries exactly one scope and every endpoint
declares the scopes it accepts (web/registry.py), so a leaked bot token cannot record a
payment and a reporting token cannot write anything.

- bot: the action server (verification and everything a verified borrower does in a chat);
- desk: the agent desk (verification state, manual verification by an agent);
- payments: the payment feed (record payments, nothing else);
- analytics: read-only reporting.
"""

from __future__ import annotations

from typing import Literal

Scope = Literal["bot", "desk", "payments", "analytics"]
SCOPES: tuple[Scope, ...] = ("bot", "desk", "payments", "analytics")
