"""stop_contact: records which channels (or all) the borrower opted out of, and confirms."""

from __future__ import annotations

from actions import texts
from actions.base import LedgerAction, call
from actions.parsing import CHANNELS, ContactChoice, parse_channel
from actions.turn import Turn


def read_contact_choice(turn: Turn, text: str) -> ContactChoice | None:
    chosen = turn.entity("choice")
    if chosen == "all":
        return ContactChoice(True, ())
    if chosen in CHANNELS:
        return ContactChoice(False, (chosen,))
    return parse_channel(text)


class ActionStopContact(LedgerAction):
    def name(self) -> str:
        return "action_stop_contact"

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("stop_contact")
        if auth is None:
            return
        continuing = turn.slot("awaiting") == "contact_channel"
        choice = read_contact_choice(turn, turn.latest_text if continuing else turn.message_for("stop_contact"))
        if choice is None:
            turn.set("awaiting", "contact_channel")
            buttons = [
                {"title": texts.name_of(texts.CHANNEL_NAMES, ch, turn.lang), "payload": texts.choice_payload(ch)}
                for ch in ("sms", "phone", "wechat", "email")
            ]
            buttons.append(texts.button("all_channels", texts.choice_payload("all"), turn.lang))
            turn.say("contact_ask_channel", buttons=buttons)
            return
        turn.set("awaiting", None)
        borrower_id = turn.slot("borrower_id")
        profile = await call(turn.ledger.get_borrower(auth, borrower_id))
        current = profile.get("contact_preferences") or {}
        stop_all = choice.stop_all or bool(current.get("stop_all"))
        channels = sorted(set(current.get("opted_out_channels") or []) | set(choice.channels))
        await call(
            turn.ledger.set_contact_preferences(auth, borrower_id, stop_all=stop_all, opted_out_channels=channels)
        )
        if choice.stop_all:
            turn.say("contact_done_all")
        else:
            sep = "、" if turn.lang == "zh" else ", "
            turn.say(
                "contact_done_channels",
                channels=sep.join(texts.name_of(texts.CHANNEL_NAMES, ch, turn.lang) for ch in choice.channels),
            )
