"""The borrower's earlier conversations on the desk: every other conversation (any channel,
closed ones too) of the borrower verified in the open one, newest first, each openable read-only,
and a search over their messages.

Which conversations are the borrower's is the ledger's to say (``DeskDoor.
verified_borrower_conversations`` through the account reader): the names of the conversations
that borrower verified in, which this module matches to the gateway's conversations by id or
current Rasa sender. Nothing about the borrower is stored here. Only the agent who has the open
conversation, or a supervisor, sees its borrower's history (403 otherwise); a conversation
nobody is verified in gets an empty list and the reason.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from .conversations import AgentIdentity, Forbidden, InvalidInput, message_dict, storable
from .db import Conversation, Message

if TYPE_CHECKING:
    from .conversations import ConversationService

MAX_QUERY = 100  # characters of a search
MAX_MATCHES = 50
NOT_VERIFIED = "the borrower has not verified in this conversation: their earlier conversations are not shown"


class NotEarlier(LookupError):
    """Not one of the borrower's earlier conversations (or nobody is verified in the open one)."""


def like_pattern(query: str) -> str:
    """A LIKE pattern (escape character ``\\``) that finds ``query`` anywhere, its % and _ literal."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_text(raw: Any) -> str:
    """The search as given: 1-MAX_QUERY characters of text once trimmed (InvalidInput otherwise)."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("q is required: the text to look for")
    query = storable(raw.strip(), "q")
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"q is longer than {MAX_QUERY} characters")
    return query


class DeskHistory:
    def __init__(self, service: ConversationService) -> None:
        self.service = service  # its public API only

    async def _earlier(
        self, agent: AgentIdentity, conversation_id: str
    ) -> tuple[Conversation, list[Conversation] | None]:
        """The open conversation and its borrower's other conversations, newest first (None: not
        verified). NotFound when the agent may not see it, Forbidden when they may not work it."""
        conv = await self.service.conversation_for(agent, conversation_id)
        if not (agent.is_supervisor or conv.assigned_agent == agent.username):
            raise Forbidden("take the conversation over to see the borrower's earlier conversations")
        reader = getattr(self.service.accounts, "borrower_conversations", None)
        found = await reader(conv.id) if reader is not None else None
        if found is None:
            return conv, None
        names = [n for n in found["conversation_ids"] if n]
        if not names:
            return conv, []
        async with self.service.sessions() as s:
            rows = await s.execute(
                select(Conversation)
                .where(
                    or_(Conversation.id.in_(names), Conversation.rasa_sender_id.in_(names)),
                    Conversation.id != conv.id,
                )
                .order_by(Conversation.created_at.desc(), Conversation.id)
            )
            return conv, list(rows.scalars())

    async def _agents(self, conversation_ids: list[str]) -> dict[str, list[str]]:
        """The display names of the agents who wrote in each conversation, in order of first message."""
        if not conversation_ids:
            return {}
        async with self.service.sessions() as s:
            rows = await s.execute(
                select(Message.conversation_id, Message.sender_name, func.min(Message.seq))
                .where(
                    Message.conversation_id.in_(conversation_ids),
                    Message.sender == "agent",
                    Message.sender_name.is_not(None),
                )
                .group_by(Message.conversation_id, Message.sender_name)
                .order_by(func.min(Message.seq))
            )
            names: dict[str, list[str]] = defaultdict(list)
            for conversation_id, name, _ in rows:
                names[conversation_id].append(name or "")
            return names

    @staticmethod
    def _line(c: Conversation, agents: list[str]) -> dict[str, Any]:
        return {
            "conversation_id": c.id,
            "reference": c.id[:8],
            "channel": c.channel,
            "language": c.language,
            "state": c.state,
            "outcome": c.outcome,
            "escalation_reason": c.escalation_reason,
            "agents": agents,
            "started_at": c.created_at.isoformat(),
            "last_activity_at": c.updated_at.isoformat(),
        }

    async def listing(self, agent: AgentIdentity, conversation_id: str) -> dict[str, Any]:
        conv, earlier = await self._earlier(agent, conversation_id)
        if earlier is None:
            return {"verified": False, "reason": NOT_VERIFIED, "conversations": []}
        agents = await self._agents([c.id for c in earlier])
        await self.service.audit.record(agent.username, "desk.history", conv.id, {"conversations": len(earlier)})
        return {"verified": True, "conversations": [self._line(c, agents.get(c.id, [])) for c in earlier]}

    async def transcript(self, agent: AgentIdentity, conversation_id: str, earlier_id: str) -> dict[str, Any]:
        """An earlier conversation read-only: its line and every message, agent-only notes marked."""
        conv, earlier = await self._earlier(agent, conversation_id)
        chosen = next((c for c in earlier or [] if c.id == earlier_id), None)
        if chosen is None:
            raise NotEarlier(earlier_id)
        agents = await self._agents([chosen.id])
        messages = await self.service.transcript(chosen.id, include_agent_only=True)
        await self.service.audit.record(agent.username, "desk.history_view", conv.id, {"earlier": chosen.id})
        return {"conversation": self._line(chosen, agents.get(chosen.id, [])), "messages": messages}

    async def search(self, agent: AgentIdentity, conversation_id: str, raw_query: Any) -> dict[str, Any]:
        """The messages of the earlier conversations that hold ``q`` (case-insensitive), newest first."""
        query = search_text(raw_query)
        conv, earlier = await self._earlier(agent, conversation_id)
        if earlier is None:
            return {"verified": False, "reason": NOT_VERIFIED, "query": query, "matches": [], "truncated": False}
        by_id = {c.id: c for c in earlier}
        matches: list[dict[str, Any]] = []
        if by_id:
            async with self.service.sessions() as s:
                rows = (
                    (
                        await s.execute(
                            select(Message)
                            .where(
                                Message.conversation_id.in_(list(by_id)),
                                func.lower(Message.text).like(like_pattern(query.lower()), escape="\\"),
                            )
                            .order_by(Message.created_at.desc(), Message.seq.desc())
                            .limit(MAX_MATCHES + 1)
                        )
                    )
                    .scalars()
                    .all()
                )
            for m in rows[:MAX_MATCHES]:
                c = by_id[m.conversation_id]
                matches.append(
                    {
                        "conversation_id": c.id,
                        "reference": c.id[:8],
                        "channel": c.channel,
                        "started_at": c.created_at.isoformat(),
                        **message_dict(m),
                    }
                )
        else:
            rows = []
        await self.service.audit.record(
            agent.username, "desk.history_search", conv.id, {"chars": len(query), "matches": len(matches)}
        )
        return {
            "verified": True,
            "query": query,
            "matches": matches,
            "truncated": len(rows) > MAX_MATCHES,
        }
