"""Who is on the other end: the client's address (X-Forwarded-For only from a trusted proxy) and
the opaque client reference sent to Rasa in its place.

The reference is ``HMAC-SHA256(GATEWAY_SYSTEM_SECRET, address)`` cut to 16 hex characters
(shared protocol 3): the ledger can limit verification attempts per client without ever
receiving the address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def _trusted(address, proxies: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """The peer's address, or, when the peer is a trusted proxy, the rightmost hop of
    X-Forwarded-For that is not itself a trusted proxy (earlier hops can be forged by the client)."""
    address = _address(peer)
    if not _trusted(address, proxies) or not forwarded_for:
        return str(address) if address is not None else (peer or "unknown")
    for hop in reversed(forwarded_for.split(",")):
        hop_address = _address(hop)
        if hop_address is None:
            break  # a malformed hop: believe nothing before it
        if not _trusted(hop_address, proxies):
            return str(hop_address)
        address = hop_address
    return str(address)


def client_ref(secret: bytes, address: str) -> str:
    """16 hex characters that stand for the client in Rasa, the bot and the ledger."""
    return hmac.new(secret, address.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
