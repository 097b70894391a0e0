"""Hand-back from a human agent: the conversation gateway sends the system intent
`/handback{"agent_note": "..."}` (docs/architecture.md) when an agent returns the conversation.
The assistant says it continues, repeats what was agreed (the agent's note), and clears the
escalation so that a new request for a person escalates again. Only a message the gateway
signed is a hand-back (actions/system.py): anything else is answered as an unclear message,
and nothing from it (the note) is used or repeated."""

from __future__ import annotations

from actions.base import LedgerAction
from actions.system import is_signed_by_gateway
from actions.turn import Turn

# An unsigned hand-back is answered as what the NLU gives a message it did not understand.
UNCLEAR_INTENT = "nlu_fallback"

TEXTS = {
    "resumed": {
        "zh": "我是智能助手，接下来由我继续为您服务。",
        "en": "This is the assistant again; I'll continue from here.",
    },
    "agreed": {
        "zh": "按照刚才和同事的约定：{note}",
        "en": "As agreed with my colleague: {note}",
    },
    "anything_else": {
        "zh": "还有什么可以帮您？",
        "en": "Is there anything else I can help with?",
    },
}


class ActionHandback(LedgerAction):
    def name(self) -> str:
        return "action_handback"

    async def handle(self, turn: Turn) -> None:
        if not is_signed_by_gateway(turn.tracker):
            clarify = turn.dispatch.handler(UNCLEAR_INTENT)
            await clarify(self._ledger, self._vault, self._today).handle(turn)
            return
        lang = "en" if turn.lang == "en" else "zh"
        note = (turn.entity("agent_note") or "").strip()
        lines = [TEXTS["resumed"][lang]]
        if note:
            lines.append(TEXTS["agreed"][lang].format(note=note[:500]))
        lines.append(TEXTS["anything_else"][lang])
        turn.say_raw("\n".join(lines))
        turn.set("escalated", False)
        turn.set("awaiting", None)
