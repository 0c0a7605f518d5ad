"""Which address a request comes from, for throttling sign-ins.

Invariant: the address is the TCP peer's, unless that peer is one of
`Settings.trusted_proxies`; then it is the right-most address in `X-Forwarded-For` that is
not itself a trusted proxy (a client can prepend anything to that header, but not what the
trusted proxies append after it). Without trusted proxies the header is ignored, so a
client cannot choose its own address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    """`10.0.0.5` or `10.0.0.0/8` each; ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"not an IP address or network: {value!r}") from exc
    return tuple(networks)


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(conn: HTTPConnection, proxies: Sequence[Network]) -> str:
    peer = conn.client.host if conn.client else UNKNOWN
    if not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for v in conn.headers.getlist("x-forwarded-for") for h in v.split(",")]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            # Garbage in the chain: stop trusting it here, at the last proxy's peer.
            break
        if not _trusted(hop, proxies):
            return hop
    return peer
