"""GET /account/numbers as the simulator answers it: the numbers the simulated account owns.

The shape is the Vonage Numbers API's (what `vonage_numbers.Numbers.list_owned_numbers` reads):
`{"count": N, "numbers": [{"country": "US", "msisdn": "15125550100", "type": "mobile-lvn",
"features": ["SMS", "VOICE"]}, ...]}`, paged by `size` (at most 100) and `index` (from 1), filtered by
`pattern` + `search_pattern` (0 starts with, 1 contains, 2 ends with) and `country`. Credentials are
the account's API key and secret, Basic auth or in the query, as for sending.

Each simulator starts owning `STANDARD_NUMBERS`; `inventory(sim).add(...)` provisions more.
"""

from __future__ import annotations

import threading
import weakref
from urllib.parse import parse_qs

from groupsms.simulator.server import Reply

# The demo's business numbers and a few spares, in the 555-01xx range reserved for fiction.
STANDARD_NUMBERS = (
    "+15125550100", "+15125550101", "+15125550102", "+15125550103", "+15125550104",
    "+14165550100", "+14165550101", "+13035550100", "+13035550101", "+17375550100",
)
_MAX_PAGE = 100


class Inventory:
    """The numbers one simulated account owns (E.164, each with its features)."""

    def __init__(self, numbers=STANDARD_NUMBERS) -> None:
        self._lock = threading.Lock()
        self._numbers: dict[str, tuple[str, ...]] = {e164: ("SMS", "VOICE") for e164 in numbers}

    def add(self, e164: str, features: tuple[str, ...] = ("SMS", "VOICE")) -> None:
        with self._lock:
            self._numbers[e164] = tuple(features)

    def remove(self, e164: str) -> None:
        with self._lock:
            self._numbers.pop(e164, None)

    def numbers(self) -> list[tuple[str, tuple[str, ...]]]:
        with self._lock:
            return sorted(self._numbers.items())


_inventories: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_inventories_lock = threading.Lock()


def inventory(simulator) -> Inventory:
    """The inventory of this simulator (created with the standard numbers on first use)."""
    with _inventories_lock:
        found = _inventories.get(simulator)
        if found is None:
            found = _inventories[simulator] = Inventory()
        return found


def _country(e164: str) -> str:
    from groupsms.domain.phones import region_of

    return region_of(e164) or ""


def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int | str:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        return f"{name} must be a whole number from {low} to {high}, got {raw!r}"
    return int(raw)


def handle_owned_numbers(simulator, query: str, headers) -> Reply:
    from groupsms.simulator.sms_api import _credentials

    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    _how, api_key, api_secret = _credentials(headers.get("Authorization"), params)
    with simulator._lock:
        known = simulator._accounts.get(api_key or "")
    if known is None or known != api_secret:
        return Reply(401, {"type": "https://developer.nexmo.com/api-errors#unauthorized",
                           "title": "Invalid credentials supplied",
                           "detail": "You did not provide correct credentials."})
    size = _int(params, "size", 10, 1, _MAX_PAGE)
    index = _int(params, "index", 1, 1, 10**6)
    search = _int(params, "search_pattern", 0, 0, 2)
    for problem in (size, index, search):
        if isinstance(problem, str):
            return Reply(400, {"error-code": "400", "error-code-label": problem})
    pattern = params.get("pattern") or ""
    country = (params.get("country") or "").upper()

    def wanted(msisdn: str, number_country: str) -> bool:
        if country and number_country != country:
            return False
        if not pattern:
            return True
        return (msisdn.startswith, msisdn.__contains__, msisdn.endswith)[search](pattern)

    rows = []
    for e164, features in inventory(simulator).numbers():
        msisdn, number_country = e164.lstrip("+"), _country(e164)
        if wanted(msisdn, number_country):
            rows.append({"country": number_country, "msisdn": msisdn, "type": "mobile-lvn",
                         "features": list(features)})
    page = rows[(index - 1) * size: index * size]
    body: dict = {"count": len(rows)}
    if page:  # Vonage leaves "numbers" out of an empty page
        body["numbers"] = page
    return Reply(200, body)
