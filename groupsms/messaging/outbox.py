"""Writing to the outbox: a message's deliveries are rows in the same transaction as the message.

The worker (`messaging/worker.py`) drains them; nothing here talks to the provider.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from groupsms.domain import delivery as states
from groupsms.messaging import events, notify
from groupsms.models import Delivery, Message, utcnow


def queue(
    s: Session,
    message: Message,
    recipients: Iterable[tuple[int | None, str]],
    *,
    opt_out_confirmation: bool = False,
) -> list[Delivery]:
    """One delivery row per (participant id, E.164) recipient, due now.

    Relays and automatic replies (to an inbound text) go ahead of sends typed in the app; each row's
    lane is its (business number, recipient) pair, which the worker sends one at a time, in order.
    """
    now = utcnow()
    priority = states.PRIORITY_TYPED if message.direction == "outbound" and message.routing != "system" else states.PRIORITY_REPLY
    rows = [
        Delivery(
            message_id=message.id, participant_id=pid, to_e164=e164, status=states.QUEUED,
            next_attempt_at=now, opt_out_confirmation=opt_out_confirmation,
            lane=lane(message.business_number_id, e164), priority=priority,
        )
        for pid, e164 in recipients
    ]
    s.add_all(rows)
    message.status = states.QUEUED if rows else states.NONE
    s.add(message)
    s.flush()
    taken = local_worker.take_fresh(s, message, rows) if rows and local_worker is not None else 0
    if taken < len(rows):  # the worker's loop has something to claim
        notify.wake_outbox(s)
    return rows


# The outbox worker running in this process (`messaging/runtime.py`), if any. Deliveries it may send
# at once are claimed and prepared in the transaction that queues them, and reach the provider the
# moment it commits (`Worker.take_fresh`); the others wait for its loop like any queued row.
local_worker = None


def lane(business_number_id: int, to_e164: str) -> str:
    return f"{business_number_id}:{to_e164}"


def claim_lane_heads(s: Session, *, now: datetime, worker: str, lease: timedelta, limit: int) -> list[int]:
    """Claim up to `limit` due deliveries for `worker`, replies and relays first, then oldest first.

    Order per (business number, recipient): only a lane's head (its lowest-id queued delivery) is
    ever claimed, and only while nothing else of its lane is claimed. A head that waits for its
    retry keeps the later ones of its lane waiting, so a retry never overtakes a later message.
    One statement: atomic on SQLite; on PostgreSQL several workers skip each other's locked rows.
    """
    other = aliased(Delivery)
    blocked_lane = exists().where(
        other.lane == Delivery.lane,
        other.id != Delivery.id,
        other.status == states.QUEUED,
        or_(other.id < Delivery.id, and_(other.claimed_until.is_not(None), other.claimed_until >= now)),
    )
    due = (
        select(Delivery.id)
        .where(
            Delivery.status == states.QUEUED,
            Delivery.next_attempt_at <= now,
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
            or_(Delivery.lane == "", ~blocked_lane),  # rows written before lanes existed: no lane
        )
        .order_by(Delivery.priority, Delivery.id)
        .limit(limit)
    )
    if s.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(of=Delivery, skip_locked=True)
    claimed = s.exec(
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(claimed_until=now + lease, claimed_by=worker)
        .returning(Delivery.id)
    ).all()
    return sorted(row[0] for row in claimed)


def renew_claims(s: Session, ids: Iterable[int], *, now: datetime, worker: str, lease: timedelta) -> set[int]:
    """Extend `worker`'s leases on these deliveries; returns the ids it still holds."""
    ids = sorted(ids)
    if not ids:
        return set()
    if s.get_bind().dialect.name == "postgresql":
        # Lock in id order, as the worker's other transactions do: an UPDATE locks rows in whatever
        # order it finds them, and two orders can deadlock.
        s.exec(select(Delivery.id).where(Delivery.id.in_(ids)).order_by(Delivery.id).with_for_update())
    renewed = s.exec(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.claimed_by == worker, Delivery.status == states.QUEUED)
        .values(claimed_until=now + lease)
        .returning(Delivery.id)
    ).all()
    return {row[0] for row in renewed}


def refresh_status(s: Session, message_id: int) -> str:
    """Recompute a message's aggregate from its deliveries (E3).

    The message row is locked first: two deliveries settling at once would otherwise each see the
    other still queued and both store a stale aggregate.
    """
    message = s.exec(select(Message).where(Message.id == message_id).with_for_update()).one()
    # The aggregate depends only on which statuses occur, so the database hands back each once: a
    # message with thousands of deliveries costs one index scan, not thousands of rows in Python.
    statuses = s.exec(select(Delivery.status).where(Delivery.message_id == message_id).distinct()).all()
    status = states.aggregate(statuses)
    if message.status != status:
        message.status = status
        s.add(message)
        notify.publish(s, events.StatusChanged(message.location_id, message.group_id, message.id, status))
    return status
