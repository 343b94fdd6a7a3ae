"""Soak suites: traffic through the real SDK, the simulator (faults injected) and the app's webhooks.

Short runs in `make test`; GROUPSMS_LONG_TESTS=1 runs them for minutes. Each prints its counts
(run with -s to see them)."""

from __future__ import annotations

import os
from collections import Counter, defaultdict

from sqlmodel import select

from groupsms import db
from groupsms.models import Delivery, InboundEvent, Message
from tests.services.conftest import webhooks, world  # noqa: F401  (fixtures)

LONG = os.environ.get("GROUPSMS_LONG_TESTS") == "1"
FINAL = {"delivered", "sent", "failed", "unconfirmed"}


def deliveries() -> list[Delivery]:
    with db.transaction() as s:
        return list(s.exec(select(Delivery).order_by(Delivery.id)))


def settled() -> list[Delivery] | None:
    rows = deliveries()
    with db.transaction() as s:
        pending = s.exec(select(InboundEvent.id).where(InboundEvent.processed_at.is_(None))).first()
    return rows if rows and pending is None and all(d.status != "queued" for d in rows) else None


def check_invariants(sim, rows: list[Delivery], replies_posted: list[str]) -> dict:
    """What every suite asserts: every delivery ended with a reason, none lost, none accepted twice,
    each recipient got its texts in order, every reply stored once. Returns the counts."""
    accepted = sim.accepted_by_client_ref()
    statuses = Counter(d.status for d in rows)
    unexplained = [d.id for d in rows if d.status not in FINAL or (d.status in ("failed", "unconfirmed") and not d.error_text)]
    lost = [d.id for d in rows if d.status in ("sent", "delivered") and not accepted.get(f"d{d.id}")]
    duplicates = {ref: n for ref, n in accepted.items() if n > 1}
    out_of_order = 0
    by_id = {f"d{d.id}": d for d in rows}
    for handset in sim.handsets():
        ids = [int(m.client_ref[1:]) for m in sim.inbox(handset) if m.client_ref in by_id]
        seen = []
        for delivery_id in ids:
            if delivery_id not in seen:
                seen.append(delivery_id)
        out_of_order += sum(1 for a, b in zip(seen, seen[1:], strict=False) if b < a)
    with db.transaction() as s:
        stored = Counter(s.exec(select(Message.provider_ref).where(Message.direction == "inbound")).all())
    replies_missing = [ref for ref in replies_posted if stored.get(ref) != 1]
    counts = {
        "deliveries": len(rows), **{k: statuses.get(k, 0) for k in sorted(FINAL)},
        "unexplained": len(unexplained), "lost": len(lost), "duplicates": len(duplicates),
        "out_of_order": out_of_order, "replies": len(replies_posted), "replies_not_stored_once": len(replies_missing),
    }
    assert not unexplained, f"deliveries that did not end with a reason: {unexplained}"
    assert not lost, f"sent or delivered but never accepted by the provider: {lost}"
    assert not duplicates, f"accepted more than once: {duplicates}"
    assert out_of_order == 0
    assert not replies_missing, f"replies not stored exactly once: {replies_missing}"
    return counts


def per_reason(rows: list[Delivery]) -> dict[str, int]:
    reasons: dict[str, int] = defaultdict(int)
    for d in rows:
        if d.status in ("failed", "unconfirmed"):
            reasons[(d.error_text or "")[:60]] += 1
    return dict(reasons)
