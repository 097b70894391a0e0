"""Events of the analytics stream, built as Rasa and the gateway publish them (tests)."""

from __future__ import annotations

from itertools import count
from typing import Any

T0 = 1_790_000_000.0


class Conv:
    """Builds the events of one conversation as the stream carries them."""

    def __init__(self, sender: str = "s1", channel: str = "web", language: str = "zh") -> None:
        self.sender, self.channel, self.language = sender, channel, language
        self.events: list[dict[str, Any]] = []
        self.ids = count()
        self.t = T0
        self.prefix = sender

    def add(self, **event: Any) -> Conv:
        self.t += 0.5
        n = next(self.ids)
        self.events.append(
            {
                "sender_id": self.sender,
                "timestamp": self.t,
                "huanxin_index": n,
                "huanxin_event_id": f"{self.prefix}-e{n}",
                **event,
            }
        )
        return self

    def user(self, intent: str, confidence: float = 0.9, ranking: list[dict] | None = None, **meta: Any) -> Conv:
        parse = {"intent": {"name": intent, "confidence": confidence}, "intent_ranking": ranking or []}
        metadata = {"channel": self.channel, "language": self.language, **meta}
        return self.add(event="user", text="...", parse_data=parse, input_channel="rest", metadata=metadata)

    def action(self, name: str) -> Conv:
        return self.add(event="action", name=name)

    def slot(self, name: str, value: Any) -> Conv:
        return self.add(event="slot", name=name, value=value)

    def bot(self, key: str | None = None, custom: dict | None = None) -> Conv:
        return self.add(event="bot", text="...", data={"custom": custom}, metadata={"text_key": key} if key else {})

    def gateway(self, name: str, **fields: Any) -> Conv:
        return self.add(event="huanxin_gateway", name=name, conversation_id="g1", channel=self.channel, **fields)

    def verify(self) -> Conv:
        return (
            self.user("ask_overdue_status")
            .action("verification_form")
            .slot("requested_slot", "identity_phone")
            .user("inform")
            .slot("requested_slot", "identity_dob")
            .user("inform")
            .slot("requested_slot", "identity_id_last4")
            .user("inform")
            .action("action_submit_verification")
            .slot("verified", True)
            .action("action_show_overdue_status")
            .bot("status_overdue")
        )


def full_conversation(sender: str, channel: str = "web", language: str = "zh") -> Conv:
    """A verified borrower who accepts a plan after an agent's help (every kind of event)."""
    offers = [{"offer_id": "o1", "plan_type": "deferral"}, {"offer_id": "o2", "plan_type": "fee_waiver"}]
    c = Conv(sender, channel, language)
    return (
        c.action("action_session_start")
        .verify()
        .user(
            "nlu_fallback", 0.25, [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "ask_fees", "confidence": 0.2}]
        )
        .action("action_clarify")
        .user("request_human")
        .bot(custom={"handoff": {"reason": "request_human"}})
        .gateway("handoff", reason="request_human")
        .gateway("takeover", agent="agent1", reason="request_human")
        .gateway("agent_message", agent="agent1", text="ok")
        .gateway("handback", agent="agent1")
        .action("action_submit_hardship")
        .slot("offered_plans", offers)
        .slot("chosen_offer_id", "o1")
        .user("affirm")
        .bot("plan_accepted")
        .user("goodbye")
        .action("action_goodbye")
    )
