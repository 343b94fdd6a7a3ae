"""Delivery states (E3): what a receipt means, and a message's aggregate over its recipients."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping

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
    return SENT


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: attempt 1 waits up to 2 s, then 4 s, 8 s, … ≤ cap."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return (rng or random).uniform(ceiling / 2, ceiling)
