"""Huanxin conversation gateway: one ordered transcript per conversation, routed to Rasa or to a
human agent; the borrower web widget, the agent desk and the WeChat Official Account adapter.
See docs/architecture.md."""
