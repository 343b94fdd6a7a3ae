"""How the simulated network cuts, encodes and addresses SMS text (as Vonage and handsets do)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from groupsms.domain.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    GSM7_MULTI,
    GSM7_SINGLE,
    UCS2_MULTI,
    UCS2_SINGLE,
    is_gsm7,
)

_VONAGE_NUMBER = re.compile(r"[1-9]\d{6,14}")  # sms.yml `to`: \d{7,15}, no "+"


def e164(vonage_number: str) -> str:
    """"15125550111" -> "+15125550111"."""
    return "+" + vonage_number.lstrip("+")


def vonage_number(e164_number: str) -> str:
    return e164_number[1:] if e164_number.startswith("+") else e164_number


def is_vonage_number(value: str) -> bool:
    return bool(_VONAGE_NUMBER.fullmatch(value))


def as_gsm7(text: str) -> str:
    """What a handset shows for text sent as `type=text`: characters outside GSM-7 become "?"."""
    return "".join(ch if ch in GSM7_BASIC or ch in GSM7_EXTENSION else "?" for ch in text)


def split_parts(text: str, unicode: bool) -> list[str]:
    """Cut text into SMS parts: GSM-7 160 (or 153 per part), UCS-2 70 (or 67), never inside an
    escape pair or a surrogate pair. Matches groupsms.domain.segments.count_segments."""
    if unicode:
        single, multi = UCS2_SINGLE, UCS2_MULTI
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    else:
        single, multi = GSM7_SINGLE, GSM7_MULTI
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    if sum(costs) <= single:
        return [text]
    parts: list[str] = []
    start, used = 0, 0
    for index, cost in enumerate(costs):
        if used + cost > multi:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return parts


def split_even(text: str, count: int) -> list[str]:
    """Cut text into `count` non-empty pieces of nearly equal length (a forced concatenation)."""
    count = max(1, min(count, len(text)))
    size, extra = divmod(len(text), count)
    pieces, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def needs_unicode(text: str) -> bool:
    return not is_gsm7(text)


def keyword(text: str) -> str:
    """Vonage's `keyword`: the first word of the text, upper case."""
    words = text.split()
    return words[0].upper() if words else ""


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_loopback_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not is_loopback_host(parts.hostname):
        raise ValueError(f"the simulator only talks to loopback addresses (http[s]://127.0.0.1:PORT), got {url!r}")
    return url.rstrip("/")
