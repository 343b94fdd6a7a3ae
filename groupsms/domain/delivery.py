"""Delivery states (E3): what a receipt means, and a message's aggregate over its recipients."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

QUEUED, SENT, DELIVERED, FAILED = "queued", "sent", "delivered", "failed"
# The provider may or may not have accepted it and no receipt said which, after one resend (E3).
UNCONFIRMED = "unconfirmed"
# Delivery priority: automatic replies and relays first, then sends typed in the app.
PRIORITY_REPLY, PRIORITY_TYPED = 0, 1
PARTIAL = "partial"  # some recipients failed, the others got it
NONE = "none"  # nothing to send (an inbound message that was not relayed)

# Vonage delivery receipt `status` values → our delivery status.
RECEIPT_STATUS = {
    "delivered": DELIVERED,
    "accepted": SENT,
    "buffered": SENT,
    "expired": FAILED,
    "failed": FAILED,
    "rejected": FAILED,
    "unknown": SENT,  # the carrier did not say; keep "sent" rather than guess
}


# Receipts arrive late, twice and out of order: a status only ever moves up this ranking, and
# "delivered" and "failed" are final (a late "buffered" never turns "delivered" back into "sent").
RANK = {QUEUED: 0, UNCONFIRMED: 1, SENT: 2, DELIVERED: 3, FAILED: 3}
FINAL = frozenset({DELIVERED, FAILED})


def advance(current: str | None, new: str) -> str:
    """The status after a receipt saying `new` about something that was `current` (None: nothing yet)."""
    if current is None:
        return new
    if current in FINAL or RANK.get(new, 0) <= RANK.get(current, 0):
        return current
    return new


@dataclass(frozen=True)
class Receipt:
    """What one delivery receipt changes on its delivery (E3)."""

    part_statuses: dict[str, str]
    status: str
    # Set only by the first failure: a later receipt never overwrites the carrier's reason.
    error_code: str | None
    error_text: str | None
    part_prices: dict[str, str]
    price: str | None


def apply_receipt(
    *,
    status: str,
    part_statuses: Mapping[str, str],
    part_prices: Mapping[str, str],
    error_code: str | None,
    error_text: str | None,
    price: str | None,
    message_id: str,
    receipt_status: str,
    receipt_error: str | None,
    receipt_price: str | None,
    expected_parts: int,
    accepted_parts: int,
) -> Receipt:
    """Fold one receipt into a delivery. `status` is the delivery's current status (not "queued":
    the caller settles those), `expected_parts` how many parts the send produced and
    `accepted_parts` how many of them the provider accepted."""
    word = receipt_status.lower()
    new_part = RECEIPT_STATUS.get(word, SENT)
    parts = dict(part_statuses)
    before = parts.get(message_id)
    parts[message_id] = advance(before, new_part)
    if parts[message_id] == FAILED and before != FAILED and status != FAILED and FAILED not in part_statuses.values():
        error_code, error_text = (receipt_error or word)[:32], f"Carrier reported {word}"
    combined = combine_parts(parts, expected_parts)
    if accepted_parts < expected_parts:
        combined = FAILED  # some parts never went out: the recipient cannot have the whole text
    new_status = advance(status, combined) if status != UNCONFIRMED else combined
    prices = dict(part_prices)
    if receipt_price and _decimal(receipt_price) is not None and message_id not in prices:
        prices[message_id] = receipt_price
    if prices and (len(prices) >= max(accepted_parts, 1) or not price):
        price = sum_prices(prices.values())
    return Receipt(parts, new_status, error_code, error_text, prices, price)


def _decimal(raw: str) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def sum_prices(prices: Iterable[str]) -> str | None:
    """The total of the parts' prices as a decimal string ("0.06660000"), None when none is a number."""
    values = [v for v in (_decimal(p) for p in prices if p) if v is not None]
    return str(sum(values, Decimal(0)))[:32] if values else None


def parts_note(parts_accepted: int, expected_parts: int) -> str | None:
    """What a person reads when a long SMS went out only in part: "2 of 3 parts accepted"."""
    if expected_parts > 1 and 0 < parts_accepted < expected_parts:
        return f"{parts_accepted} of {expected_parts} parts accepted"
    return None


def combine_parts(part_statuses: Mapping[str, str], expected_parts: int) -> str:
    """A long SMS is several provider messages: delivered only when every part is."""
    statuses = list(part_statuses.values())
    if any(s == FAILED for s in statuses):
        return FAILED
    if len(statuses) >= max(expected_parts, 1) and all(s == DELIVERED for s in statuses):
        return DELIVERED
    return SENT


def aggregate(statuses: Iterable[str]) -> str:
    """The status a message bubble shows for all its recipients."""
    counts = list(statuses)
    if not counts:
        return NONE
    if any(s == QUEUED for s in counts):
        return QUEUED
    failed = sum(1 for s in counts if s == FAILED)
    if failed == len(counts):
        return FAILED
    if failed:
        return PARTIAL
    if all(s == DELIVERED for s in counts):
        return DELIVERED
    if any(s == UNCONFIRMED for s in counts):
        return UNCONFIRMED  # nobody can say whether those recipients got it
    return SENT


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: attempt 1 waits up to 2 s, then 4 s, 8 s, … ≤ cap."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return (rng or random).uniform(ceiling / 2, ceiling)
