"""Offered plans as cards in the web chat: the bot sends the numbered text with a button per
plan and the custom payload {"plans": [card, ...]}; the gateway keeps each card on its button
(sanitised), so the widget shows cards and every other channel the text and the buttons."""

from __future__ import annotations

from gateway.keys import service_key
from gateway.rasa import parse_rest_output
from huanxin_testkit.gw_fake_rasa import PLAN_CARDS, received_key
from huanxin_testkit.gw_helpers import Widget

TEXT = {
    "text": "1. Deferral\n2. Extension",
    "buttons": [{"title": c["title"], "payload": c["payload"]} for c in PLAN_CARDS],
}


def test_each_card_goes_on_its_button_and_the_text_stays():
    turn = parse_rest_output([TEXT, {"custom": {"plans": PLAN_CARDS}}, {"text": "Please choose one."}])
    first, second = turn.replies
    assert first.text == "1. Deferral\n2. Extension" and second.text == "Please choose one."
    assert [b["payload"] for b in first.buttons] == [c["payload"] for c in PLAN_CARDS]
    card = first.buttons[0]["card"]
    assert card == {
        "title": "1. Deferral",
        "rows": [{"label": "Payment", "value": "CNY 905.20 a month"}, {"label": "Payments", "value": "11"}],
        "choose": "Choose this",
    }  # what the widget shows, nothing else
    assert second.buttons is None


def test_cards_are_sanitised_and_bad_ones_dropped():
    bad = [
        {
            "payload": PLAN_CARDS[0]["payload"],
            "title": "x" * 500,
            "rows": [{"label": 1, "value": "v"}] + [{"label": "l", "value": "v" * 900}] * 20,
            "choose": {"no": "dict"},
        },
        {"payload": PLAN_CARDS[1]["payload"], "title": None, "rows": "not a list"},
        "not a card",
    ]
    turn = parse_rest_output([TEXT, {"custom": {"plans": bad}}])
    (reply,) = turn.replies
    card = reply.buttons[0]["card"]
    assert len(card["title"]) <= 120 and len(card["rows"]) <= 8 and all(len(r["value"]) <= 200 for r in card["rows"])
    assert "choose" not in card
    assert "card" not in reply.buttons[1]


def test_cards_without_a_message_with_buttons_are_ignored():
    assert parse_rest_output([{"custom": {"plans": PLAN_CARDS}}]).replies == []
    turn = parse_rest_output([{"text": "hello"}, {"custom": {"plans": "nonsense"}}])
    assert [r.text for r in turn.replies] == ["hello"] and turn.replies[0].buttons is None


async def test_the_widget_gets_the_cards_and_a_card_s_button_chooses(gateway_client, fake_rasa):
    widget = await Widget.open(gateway_client)
    await widget.send("plans", "m1")
    offer = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot" and e.get("buttons"))
    assert offer["text"].startswith("1. Deferral")
    assert [b["card"]["title"] for b in offer["buttons"]] == ["1. Deferral", "2. Extension"]
    await widget.send("2. Extension", "m2", payload=offer["buttons"][1]["payload"])
    assert fake_rasa.app[received_key][-1][1] == '/inform{"choice":"term_extension"}'
    stored = await gateway_client.app[service_key].transcript(widget.conversation_id)
    assert any(m.get("buttons") and m["buttons"][0].get("card") for m in stored)  # replayed after a reconnect too
