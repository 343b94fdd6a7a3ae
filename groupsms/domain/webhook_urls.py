"""Which URLs may receive outbound webhooks: https, no user name or password, and a host whose every
address is public (no loopback, private, link-local, multicast or cloud-metadata address), unless
the operator allows private ones (then http is allowed too and nothing is resolved).

No I/O of its own: the caller passes the resolver (`socket.getaddrinfo`, or the answer it already
has, so the address checked is the address connected to).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_problem(url: str, *, allow_private: bool, resolve: Callable) -> str | None:
    """Why this URL may not receive webhooks, or None when it may (`resolve`: like getaddrinfo)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The URL is not valid"
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return "The URL must start with https://"
    if not parts.hostname or parts.username or parts.password:
        return "The URL needs a host name and no user name or password"
    if allow_private:
        return None
    try:
        infos = resolve(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return f"The host {parts.hostname} does not resolve"
    addresses = {info[4][0] for info in infos}
    if not addresses:
        return f"The host {parts.hostname} does not resolve"
    if not all(_public(a) for a in addresses):
        return f"The host {parts.hostname} resolves to an address that is not public"
    return None
