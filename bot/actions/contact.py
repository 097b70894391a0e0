"""stop_contact: records which channels (or all) the borrower opted out of, and which they keep, and
says exactly what was stored. "Don't call, text me instead" stops calls only (and takes texts off
an earlier opt-out); "only contact me by email" opts out of every other channel; "never mind, none
of them" stores nothing and drops the question; a request that is not clear is confirmed first
(actions/confirm.py). The channels kept are named among those the lender uses (the policy's
`contact.channels`, GET /policy/terms): a borrower who wants to be contacted only by a channel the
lender does not use is told so, nothing is stored, and they are asked which of the used ones to
stop."""

from __future__ import annotations

from actions import confirm, readings, texts
from actions.base import LedgerAction, call
from actions.ledger_client import LedgerError, LedgerUnavailable
from actions.parsing import CHANNELS, ContactChoice, parse_channel
from actions.turn import Turn


def read_contact_choice(turn: Turn, text: str) -> ContactChoice | None:
    chosen = turn.entity("choice")
    if chosen == "all":
        return ContactChoice(True, ())
    if chosen in CHANNELS:
        return ContactChoice(False, (chosen,))
    return parse_channel(text)


def new_preferences(current: dict, choice: ContactChoice) -> tuple[bool, list[str]]:
    """The preferences to store: stop_all, and the opted-out channels (those asked to stop added to
    the earlier ones, those asked to be kept taken off; a kept channel lifts an earlier stop-all)."""
    kept = set(choice.kept)
    if choice.stop_all:
        return True, sorted(set(current.get("opted_out_channels") or []) - kept)
    earlier = set(current.get("opted_out_channels") or [])
    if current.get("stop_all"):
        if not kept:
            return True, sorted(earlier | set(choice.channels))
        earlier = set(CHANNELS)
    return False, sorted((earlier | set(choice.channels)) - kept)


def channel_names(turn: Turn, channels: list[str] | tuple[str, ...]) -> str:
    sep = "、" if turn.lang == "zh" else ", "
    ordered = [ch for ch in CHANNELS if ch in channels]
    return sep.join(texts.name_of(texts.CHANNEL_NAMES, ch, turn.lang) for ch in ordered)


async def lender_channels(turn: Turn) -> tuple[str, ...]:
    """The channels the lender uses (the policy's contact.channels), every channel the ledger
    knows when the ledger does not say."""
    try:
        terms = await turn.ledger.get_policy_terms()
    except (LedgerError, LedgerUnavailable):  # an older or unreachable ledger: said without it
        return CHANNELS
    used = terms.get("contact_channels") if isinstance(terms, dict) else None
    if not isinstance(used, list):
        return CHANNELS
    return tuple(ch for ch in CHANNELS if ch in used) or CHANNELS


def what_is_stopped(
    turn: Turn, stop_all: bool, opted_out: list[str], used: tuple[str, ...] = CHANNELS
) -> dict[str, str] | None:
    """The channels stopped and kept (among those the lender uses), named for the borrower; None
    when every contact stops."""
    kept = [ch for ch in used if ch not in opted_out]
    if stop_all or not kept:
        return None
    return {"stopped": channel_names(turn, opted_out), "kept": channel_names(turn, kept)}


class ActionStopContact(LedgerAction):
    def name(self) -> str:
        return "action_stop_contact"

    async def handle(self, turn: Turn) -> None:
        continuing = turn.slot("awaiting") == "contact_channel"
        if not continuing and await confirm.other_reading(turn, confirm.STOP_CONTACT):
            return
        auth = turn.require_auth("stop_contact")
        if auth is None:
            return
        text = turn.latest_text if continuing else turn.message_for("stop_contact")
        choice = read_contact_choice(turn, text)
        if continuing and choice is None and (readings.says_none(text) or turn.latest_intent == "deny"):
            confirm.decline(turn, confirm.STOP_CONTACT)  # "never mind, none of them": nothing stored
            return
        used = await lender_channels(turn)
        unused = [ch for ch in choice.kept if ch not in used] if choice is not None else []
        if choice is not None and unused and not choice.stop_all and all(ch in choice.channels for ch in used):
            # "only by email" and the lender does not use email: nothing stored, said plainly, asked
            self._ask_channel(turn, used, "contact_channel_not_used", unused=channel_names(turn, unused))
            return
        if choice is None:
            self._ask_channel(turn, used, "contact_ask_channel")
            return
        borrower_id = turn.slot("borrower_id")
        profile = await call(turn.ledger.get_borrower(auth, borrower_id))
        stop_all, channels = new_preferences(profile.get("contact_preferences") or {}, choice)
        if not continuing:
            figures = what_is_stopped(turn, stop_all, channels, used)
            key = "confirm_stop_all" if figures is None else "confirm_stop_channels"
            if not confirm.go_ahead(turn, confirm.STOP_CONTACT, key=key, **(figures or {})):
                return
        turn.set("awaiting", None)
        stored = await call(
            turn.ledger.set_contact_preferences(auth, borrower_id, stop_all=stop_all, opted_out_channels=channels)
        )
        if not isinstance(stored, dict) or "stop_all" not in stored:
            stored = {"stop_all": stop_all, "opted_out_channels": channels}
        said = what_is_stopped(turn, bool(stored["stop_all"]), list(stored.get("opted_out_channels") or []), used)
        if said is None:
            turn.say("contact_done_all")
        else:
            turn.say("contact_done_stored", stopped=said["stopped"], kept=said["kept"])
        if unused:
            turn.say("contact_channel_not_used_note", unused=channel_names(turn, unused))

    @staticmethod
    def _ask_channel(turn: Turn, used: tuple[str, ...], key: str, **figures: str) -> None:
        """Which channel to stop: one button per channel the lender uses, all, none."""
        confirm.settle(turn)
        turn.set("awaiting", "contact_channel")
        buttons = [
            {"title": texts.name_of(texts.CHANNEL_NAMES, ch, turn.lang), "payload": texts.choice_payload(ch)}
            for ch in ("sms", "phone", "wechat", "email")
            if ch in used
        ]
        buttons.append(texts.button("all_channels", texts.choice_payload("all"), turn.lang))
        buttons.append(texts.button("keep_contact", "/deny", turn.lang))
        turn.say(key, buttons=buttons, used=channel_names(turn, used), **figures)
