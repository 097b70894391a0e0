"""Channel adapters: how the dispatcher hands a message to a channel.

Every adapter takes a batch of messages and answers, for each, delivered or failed (with the
error). Each message carries its idempotency key and an adapter delivers a key at most once:
the dispatcher sends again a message whose worker stopped between send and result, and the
adapter answers "delivered (duplicate)" without sending it twice.

- ``FileSink``: the embedded default. One JSON line per message in a file under var/; the
  recipient is named by borrower id, never by phone number.
- ``HttpSmsAdapter``: the interface for an SMS provider over HTTP. The provider itself (its
  URL, credentials and payload) is a ``SmsProvider``; none is bundled.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class OutboundMessage:
    idempotency_key: str
    borrower_id: str
    loan_number: str
    channel: str
    reason: str
    language: str
    text: str


@dataclass(frozen=True)
class SendResult:
    idempotency_key: str
    delivered: bool
    error: str | None = None
    duplicate: bool = False  # delivered before: this send did nothing


class ChannelAdapter(Protocol):
    async def send(self, messages: Sequence[OutboundMessage], at: datetime) -> list[SendResult]: ...


class FileSink:
    """Append one JSON line per message to ``path`` (flushed and fsynced per batch). A key
    already in the file is not written again, whoever wrote it: each batch takes an exclusive
    lock on the file (flock), reads what other workers appended since its last look, then
    appends, so several workers (processes) may share one sink. Lines name the borrower by id:
    the file holds no phone number, no national id, no amount the text does not already state."""

    def __init__(self, path: Path):
        self.path = path
        self._keys: set[str] = set()
        self._read_to = 0  # bytes of the file already read into _keys

    def _catch_up(self, f: BinaryIO) -> None:
        """Read the keys of the lines appended since the last look (``f`` is locked)."""
        f.seek(self._read_to)
        tail = f.read()
        complete = tail.rfind(b"\n") + 1  # a torn last line (a killed worker's) is left unread
        for line in tail[:complete].splitlines():
            try:
                self._keys.add(json.loads(line)["idempotency_key"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn line of a stopped worker: its key is sent again
        self._read_to += complete

    async def send(self, messages: Sequence[OutboundMessage], at: datetime) -> list[SendResult]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        results: list[SendResult] = []
        with self.path.open("a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # released when the file is closed
            self._catch_up(f)
            lines: list[str] = []
            sent_at = at.isoformat()
            for msg in messages:
                if msg.idempotency_key in self._keys:
                    results.append(SendResult(msg.idempotency_key, True, duplicate=True))
                    continue
                lines.append(
                    json.dumps(
                        {
                            "idempotency_key": msg.idempotency_key,
                            "channel": msg.channel,
                            "to": f"borrower:{msg.borrower_id}",
                            "reason": msg.reason,
                            "language": msg.language,
                            "text": msg.text,
                            "sent_at": sent_at,
                        },
                        ensure_ascii=False,
                    )
                )
                self._keys.add(msg.idempotency_key)
                results.append(SendResult(msg.idempotency_key, True))
            if lines:
                end = f.seek(0, os.SEEK_END)
                torn = end > self._read_to  # a torn line left by a killed worker ends here
                data = ("\n" if torn else "") + "\n".join(lines) + "\n"
                f.write(data.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
                self._read_to = f.tell()
        return results


class SendError(Exception):
    """A provider refused or failed a message (the text is recorded as the failure)."""


class SmsProvider(Protocol):
    """One HTTP SMS provider: submit a text to a phone number with the idempotency key as the
    provider's de-duplication reference; return the provider's message id or raise SendError."""

    async def submit(self, phone: str, text: str, idempotency_key: str) -> str: ...


class HttpSmsAdapter:
    """SMS through a provider. The phone number is looked up from the borrower record at send
    time (``phone_of``) and passed only to the provider: it is never logged or stored here."""

    def __init__(self, provider: SmsProvider, phone_of: Callable[[str], Awaitable[str | None]]):
        self.provider = provider
        self.phone_of = phone_of

    async def send(self, messages: Sequence[OutboundMessage], at: datetime) -> list[SendResult]:
        results: list[SendResult] = []
        for msg in messages:
            phone = await self.phone_of(msg.borrower_id)
            if not phone:
                results.append(SendResult(msg.idempotency_key, False, "no phone number on file"))
                continue
            try:
                await self.provider.submit(phone, msg.text, msg.idempotency_key)
            except SendError as exc:
                results.append(SendResult(msg.idempotency_key, False, f"provider: {exc}"[:500]))
            else:
                results.append(SendResult(msg.idempotency_key, True))
        return results


def default_adapters(var_dir: Path) -> dict[str, ChannelAdapter]:
    """The embedded default: every channel the ledger owns (sms, phone, web) to a file sink
    under ``var_dir``/outbound/, one file per channel."""
    return {ch: FileSink(var_dir / "outbound" / f"{ch}.jsonl") for ch in ("sms", "phone", "web")}


__all__ = [
    "ChannelAdapter",
    "FileSink",
    "HttpSmsAdapter",
    "OutboundMessage",
    "SendError",
    "SendResult",
    "SmsProvider",
    "default_adapters",
]
