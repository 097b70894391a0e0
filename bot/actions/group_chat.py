"""Group chats, where the debt is never discussed (the actions only say to write privately)."""

from __future__ import annotations

from rasa_sdk import Tracker


def is_group_chat(tracker: Tracker) -> bool:
    """True in a Telegram group, supergroup or channel, where the debt is never discussed.

    Rasa 3.6's Telegram connector uses the chat id as the sender id and passes no metadata:
    Telegram gives private chats the (positive) user id and groups, supergroups and channels
    negative ids. A chat type in the metadata (``telegram_chat_type``) is used when present."""
    if tracker.get_latest_input_channel() != "telegram":
        return False
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    chat_type = metadata.get("telegram_chat_type") if isinstance(metadata, dict) else None
    if isinstance(chat_type, str) and chat_type:
        return chat_type != "private"
    return str(tracker.sender_id).startswith("-")
