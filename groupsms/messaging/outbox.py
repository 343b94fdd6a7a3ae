"""Writing to the outbox: a message's deliveries are rows in the same transaction as the message.

The worker (`messaging/worker.py`) drains them; nothing here talks to the provider.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, insert, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from groupsms.domain import delivery as states
from groupsms.messaging import events, notify
from groupsms.models import Delivery, Message, new_row, utcnow


def queue(
    s: Session,
    message: Message,
    recipients: Iterable[tuple[int | None, str]],
    *,
    opt_out_confirmation: bool = False,
    checked: bool = False,
) -> list[Row]:
    """One delivery row per (participant id, E.164) recipient, due now; returns them as plain rows.

    Relays and automatic replies (to an inbound text) go ahead of sends typed in the app; each row's
    lane is its (business number, recipient) pair, which the worker sends one at a time, in order.
    `checked`: the caller checked in this transaction that the group is not locked and that none of
    the recipients may not be texted (E1, R10), so the worker's hand-over need not ask again.

    The rows are written with one INSERT of all of them (the ORM's unit of work would build and track
    an object per recipient, on the path of every relay).
    """
    now = utcnow()
    priority = states.PRIORITY_TYPED if message.direction == "outbound" and message.routing != "system" else states.PRIORITY_REPLY
    values = [
        new_row(Delivery, message_id=message.id, participant_id=pid, to_e164=e164, status=states.QUEUED,
                lane=lane(message.business_number_id, e164), priority=priority, next_attempt_at=now,
                opt_out_confirmation=opt_out_confirmation, created_at=now, updated_at=now)
        for pid, e164 in recipients
    ]
    message.status = states.QUEUED if values else states.NONE
    s.add(message)
    s.flush()
    if not values:
        return []
    ids = s.execute(insert(DELIVERY).returning(DELIVERY.c.id, sort_by_parameter_order=True), values).scalars().all()
    rows = [Row({"id": delivery_id, **row}) for delivery_id, row in zip(ids, values, strict=True)]
    taken = local_worker.take_fresh(s, message, rows, checked=checked) if local_worker is not None else 0
    if taken < len(rows):  # the worker's loop has something to claim
        notify.wake_outbox(s)
    return rows


DELIVERY = Delivery.__table__  # type: ignore[attr-defined]


class Row:
    """One delivery's columns as plain values, and the ones changed since it was read.

    The worker reads and writes many deliveries per transaction; plain rows read in one SELECT and
    written back by one UPDATE per set of changed columns (`write_rows`, executemany) cost a fraction
    of ORM objects and their unit of work on this, the hottest path of the outbox."""

    __slots__ = ("_values", "changed")

    def __init__(self, mapping) -> None:  # noqa: ANN001
        object.__setattr__(self, "_values", dict(mapping))
        object.__setattr__(self, "changed", {})

    def __getattr__(self, name: str):  # noqa: ANN204
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value) -> None:  # noqa: ANN001
        self._values[name] = value
        self.changed[name] = value

    def __repr__(self) -> str:
        return f"Row({self._values!r})"


def write_rows(s: Session, rows: Iterable[Row]) -> None:
    """Store what changed in these rows: one executemany UPDATE per set of changed columns."""
    by_columns: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        if row.changed:
            by_columns.setdefault(tuple(sorted(row.changed)), []).append({"row_id": row.id, **row.changed})
            row.changed.clear()
    for params in by_columns.values():
        s.execute(update(DELIVERY).where(DELIVERY.c.id == bindparam("row_id")), params)


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
