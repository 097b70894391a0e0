"""Binding a borrower's chat channel (``ledger bind-channel``): the WeChat openid or Telegram
chat id the dispatcher sends to. A bound channel becomes one of the borrower's own, so the
contact planner may pick it when the cadence names it. The address is checked before anything
is written; the audit entry names the channel, never the address."""

from __future__ import annotations

from datetime import datetime

from ..db import contact_queries as q
from ..db import repositories as repo
from ..db.session import Engine, create_session_factory
from .chat_channels import ADDRESS_CHECKS, ChannelConfigError


async def bind(engine: Engine, borrower_id: str, channel: str, address: str | None, at: datetime, by: str) -> str:
    """Bind ``channel`` to ``address`` for the borrower (``address`` None: unbind). Returns what
    was done; raises ChannelConfigError naming the bad argument, changing nothing."""
    check = ADDRESS_CHECKS.get(channel)
    if check is None:
        raise ChannelConfigError("channel", f"one of {', '.join(sorted(ADDRESS_CHECKS))}, got {channel!r}")
    clean = check(address) if address is not None else None
    async with create_session_factory(engine)() as session, session.begin():
        if clean is None:
            if not await q.unbind_channel(session, borrower_id, channel):
                raise ChannelConfigError("borrower", f"no {channel} binding for borrower {borrower_id!r}")
            action, done = "channel_unbound", "unbound"
        else:
            if not await q.bind_channel(session, borrower_id, channel, clean, at):
                raise ChannelConfigError("borrower", f"no borrower {borrower_id!r}")
            action, done = "channel_bound", "bound"
        await repo.add_audit(
            session, at=at, actor=f"cli:{by}", action=action, borrower_id=borrower_id, detail={"channel": channel}
        )
    return done
