"""Which webhook URLs may be called: no request forgery into the site's own network.

Invariants:
- only `https` URLs with a host name or a public address, no user or password in them, at
  most `URL_MAX` characters;
- a host must resolve, and EVERY address it resolves to must be global (not private,
  loopback, link-local, multicast, reserved, shared or unspecified), checked when the
  endpoint is saved and again before every attempt; the attempt then connects to the very
  address that was checked (`Target`), so a DNS answer changed in between cannot redirect it;
- `Settings.webhook_allow_private` lifts both rules (plain `http`, any address): development
  and tests only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.errors import bad_input

URL_MAX = 2000


class UnsafeTarget(Exception):
    """The URL may not be called now (its host resolves to a forbidden address, or not at all)."""


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    # The checked address to connect to, and the URL rewritten to it.
    address: str
    address_url: str


def check_url(url: str, *, allow_private: bool, field: str = "url") -> str:
    """The URL as saved, or BAD_USER_INPUT saying what is wrong (no DNS here)."""
    url = url.strip()
    if not url or len(url) > URL_MAX:
        raise bad_input(field, f"'{field}' must be an https URL of at most {URL_MAX} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) > 126 for ch in url):
        raise bad_input(
            field, f"'{field}' must be plain ASCII with no spaces (encode non-ASCII host names)."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise bad_input(field, f"'{field}' is not a valid URL.") from exc
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise bad_input(field, f"'{field}' must start with https:// (plain http is refused).")
    if not parts.hostname:
        raise bad_input(field, f"'{field}' must name a host.")
    if parts.username is not None or parts.password is not None:
        raise bad_input(field, f"'{field}' must not carry a user name or password.")
    if port == 0:
        raise bad_input(field, f"'{field}' has an invalid port.")
    literal = _literal_address(parts.hostname)
    if literal is not None and not allow_private and not literal.is_global:
        raise bad_input(field, f"'{field}' points at a private or loopback address.")
    return url


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host now; refuse it unless every address is allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"the host {host!r} does not resolve") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise UnsafeTarget(f"the host {host!r} does not resolve")
    if not allow_private:
        bad = [a for a in addresses if _forbidden(a)]
        if bad:
            raise UnsafeTarget(
                f"the host {host!r} resolves to a private or loopback address ({bad[0]})"
            )
    address = addresses[0]
    shown = f"[{address}]" if ":" in address else address
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    return Target(
        url=url, host=host, address=address, address_url=parts._replace(netloc=netloc).geturl()
    )


async def check_resolves(url: str, *, allow_private: bool, field: str = "url") -> None:
    """At save time: BAD_USER_INPUT if the host does not resolve or resolves somewhere forbidden."""
    try:
        await resolve(url, allow_private=allow_private)
    except UnsafeTarget as exc:
        raise bad_input(field, f"'{field}' cannot be used: {exc}.") from exc
