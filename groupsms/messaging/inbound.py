"""Webhook events: recorded raw first, then processed (E1, E2, E3, E6, R5, R10).

`record_event` makes a webhook call durable and idempotent (the provider retries for 24 hours);
`process_event` turns it into messages, relays, opt-outs or delivery updates. A webhook does both in
one transaction (`receive`), and falls back to the two steps when processing fails. Both read only the
provider-neutral events of `transport.py`: the adapter of the event's kind (`ADAPTERS`) parses the
raw parameters when they are recorded and decodes the stored payload when it is processed.

An event whose processing failed keeps `processed_at` empty and is retried, with backoff and an
attempt cap, by the inbound loop (`inbound_loop.py`), which also stores long texts whose parts
never all came.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from groupsms import db
from groupsms.domain import delivery as states
from groupsms.domain import keywords, routing
from groupsms.messaging import events, notify, optout, outbox, parts, relay, transport, vonage_inbound
from groupsms.models import (
    BusinessNumber,
    Delivery,
    Group,
    InboundEvent,
    Message,
    Participant,
    new_row,
    utcnow,
)
from groupsms.messaging.optout import active_group_clause
from groupsms.messaging.transport import InboundText, Receipt

log = logging.getLogger(__name__)

INBOUND, STATUS = transport.INBOUND, transport.STATUS
BadEvent = transport.BadEvent

# Every stored event came through Vonage's SMS API: its adapter decodes what was recorded. A second
# transport records kinds of its own and is looked up here by the event's kind (see transport.py).
ADAPTERS: dict[str, transport.Transport] = {INBOUND: vonage_inbound.SMS_API, STATUS: vonage_inbound.SMS_API}


def parse(kind: str, params: dict[str, str]) -> InboundText | Receipt:
    """The event a webhook's parameters describe; BadEvent when they describe none."""
    adapter = ADAPTERS.get(kind)
    if adapter is None:
        raise BadEvent(f"unknown event kind {kind!r}")
    return adapter.parse(kind, params)


def decode(event: InboundEvent) -> InboundText | Receipt:
    """A stored event, read again by the adapter of its kind (it was validated when recorded)."""
    return parse(event.kind, json.loads(event.payload))


def record_event(kind: str, params: dict[str, str]) -> tuple[int, bool]:
    """Store the raw event once. Returns (event id, whether it is new)."""
    parsed = parse(kind, params)
    try:
        with db.transaction() as s:
            event = _new_event(s, kind, params, parsed)
            s.flush()
            return event.id, True
    except IntegrityError:
        return _existing(kind, parsed.event_key), False


class _Duplicate(Exception):
    """The provider sent an event already stored (it retries until it gets a 200)."""


def receive(kind: str, params: dict[str, str]) -> tuple[int, bool]:
    """What a webhook does with an event: store it and process it in one transaction. Returns
    (event id, whether it is new); BadEvent when the parameters describe no event.

    The event is stored already marked processed: it commits with its processing or not at all.
    Should processing fail, that transaction is rolled back and the event is stored on its own and
    tried again (`process_event`, then the inbound loop with its backoff): a stored event is never
    lost, and nothing of a failed processing is kept."""
    parsed = parse(kind, params)
    try:
        if isinstance(parsed, InboundText) and parsed.part is None:
            row = _event_row(kind, params, parsed, processed_at=utcnow())  # built before the write turn
            with db.transaction() as s:
                return _receive_text(s, row, parsed), True
        with db.transaction() as s:
            event = _new_event(s, kind, params, parsed, processed=True)
            try:
                s.flush()
            except IntegrityError as exc:
                raise _Duplicate from exc
            (_process_inbound if isinstance(parsed, InboundText) else _process_status)(s, event, parsed)
            event_id = event.id
        return event_id, True
    except _Duplicate:
        return _existing(kind, parsed.event_key), False
    except Exception:
        log.exception("processing a %s webhook in one transaction failed; storing it to try again", kind)
    event_id, new = record_event(kind, params)
    if new:
        process_event(event_id)
    return event_id, new


def _receive_text(s: Session, row: dict[str, object], sms: InboundText) -> int:
    """A webhook's text that is not part of a long one: its event stored (one INSERT) and
    processed in the open transaction, the event's note, if any, written after."""
    try:
        event_id = _execute(s, _insert_event(), row).inserted_primary_key[0]
    except IntegrityError as exc:
        raise _Duplicate from exc
    note = _process_text(s, sms)
    if note is not None:
        _execute(s, _note_event(), {"event_id": event_id, "note": note})
    return event_id


def _new_event(s: Session, kind: str, params: dict[str, str], parsed: InboundText | Receipt, *,
               processed: bool = False) -> InboundEvent:
    """`processed`: stored done, for a webhook that processes it in the same transaction."""
    event = InboundEvent(**_event_row(kind, params, parsed, processed_at=utcnow() if processed else None))
    s.add(event)
    return event


def _event_row(kind: str, params: dict[str, str], parsed: InboundText | Receipt, *,
               processed_at: datetime | None) -> dict[str, object]:
    """The columns of a new event: to try again after FIRST_TRY_GRACE unless stored processed."""
    return new_row(InboundEvent, kind=kind, provider_message_id=parsed.event_key,
                concat_key=parsed.concat_key if isinstance(parsed, InboundText) else None,
                payload=json.dumps(params, sort_keys=True), processed_at=processed_at,
                next_attempt_at=None if processed_at else utcnow() + FIRST_TRY_GRACE)


def _existing(kind: str, key: str) -> int:
    with db.transaction() as s:
        return s.exec(select(InboundEvent.id).where(
            InboundEvent.kind == kind, InboundEvent.provider_message_id == key)).one()


# Processing retries: backoff from 2 s up to 5 minutes, then give up (after about 10 minutes) and
# show the error to the location's admins; a part waiting for the rest of its text is not a failure.
MAX_ATTEMPTS = 10
FIRST_TRY_GRACE = timedelta(seconds=10)  # the webhook processes a new event itself


def process_event(event_id: int) -> bool:
    """Process one stored event; True when it is done (now or before)."""
    try:
        with db.transaction() as s:
            event = s.exec(select(InboundEvent).where(InboundEvent.id == event_id).with_for_update()).one()
            if event.processed_at is not None:
                return True
            item = decode(event)
            event.error = None
            (_process_inbound if isinstance(item, InboundText) else _process_status)(s, event, item)
            event.processed_at = utcnow()
            event.next_attempt_at = None
            s.add(event)
            return True
    except Exception as exc:  # keep the raw event; the inbound loop tries again after a backoff
        log.exception("processing webhook event %s failed", event_id)
        _failed(event_id, exc)
        return False


def _failed(event_id: int, exc: Exception) -> None:
    with db.transaction() as s:
        event = s.get(InboundEvent, event_id)
        event.attempts += 1
        event.error = f"{type(exc).__name__}: {exc}"[:500]
        if event.attempts >= max_attempts():
            event.gave_up_at, event.next_attempt_at = utcnow(), None
            log.error("webhook event %s: gave up after %s attempts: %s", event_id, event.attempts, event.error)
        else:
            event.next_attempt_at = utcnow() + timedelta(seconds=states.backoff_seconds(event.attempts))
        s.add(event)


def max_attempts() -> int:
    raw = os.environ.get("GROUPSMS_INBOUND_MAX_ATTEMPTS", "")
    if not raw:
        return MAX_ATTEMPTS
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"GROUPSMS_INBOUND_MAX_ATTEMPTS must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def due_events(limit: int = 100) -> list[int]:
    """Events to (re)try now: not processed, not given up, their backoff over (ix_inbound_event_pending)."""
    with db.transaction() as s:
        return list(s.exec(select(InboundEvent.id).where(
            InboundEvent.processed_at.is_(None), InboundEvent.next_attempt_at <= utcnow(),
        ).order_by(InboundEvent.next_attempt_at, InboundEvent.id).limit(limit)).all())


def process_pending(limit: int = 100) -> int:
    """Retry events that were recorded but not processed (a crash, a database hiccup)."""
    ids = due_events(limit)
    for event_id in ids:
        process_event(event_id)
    return len(ids)


def flush_expired_parts() -> int:
    """Store the long texts whose missing parts waited out the timeout, with what arrived (E6)."""
    with db.transaction() as s:
        ids = parts.expired(s, decode)
    for event_id in ids:
        try:
            with db.transaction() as s:
                event = s.exec(select(InboundEvent).where(InboundEvent.id == event_id).with_for_update()).one()
                _process_inbound(s, event, decode(event), flush=True)
                event.processed_at = event.processed_at or utcnow()
                event.next_attempt_at = None
                s.add(event)
        except Exception:  # tried again on the next sweep
            log.exception("storing the parts that arrived of webhook event %s failed", event_id)
    return len(ids)


# -- inbound SMS ---------------------------------------------------------------------------------

WAITING = parts.WAITING
NOT_OURS = "Not a business number of any location"
# A business number as a text reads it: the model, or a row with its id and location_id.
_Number = BusinessNumber | Row


def _mark_done(event: InboundEvent, note: str) -> None:
    event.error = note


def _process_inbound(s: Session, event: InboundEvent, sms: InboundText, *, flush: bool = False) -> None:
    """Store (and route) the text; `flush`: a long one whose missing parts waited out the timeout."""
    if event.consumed_by_message_id is not None:
        return None  # a part already joined into a message
    if not event.concat_key:
        note = _process_text(s, sms)
        return None if note is None else _mark_done(event, note)
    number = _business_number(s, sms.to)
    if number is None:
        return _mark_done(event, NOT_OURS)
    joined = parts.joined(s, event, decode, flush=flush)
    if joined is None:
        return _mark_done(event, WAITING)
    provider_ref = joined.provider_ref[:120]
    if not _stored_already(s, provider_ref):
        _store(s, number, sms, joined.text, provider_ref, joined)


def _process_text(s: Session, sms: InboundText) -> str | None:
    """Store (and route) a text that is not part of a long one; the note for its event, if any."""
    provider_ref = sms.provider_message_id[:120]
    if keywords.classify(sms.text) is None:  # E1: `handle_keyword` has nothing to do with it
        return _process_reply(s, sms, provider_ref)
    number = _business_number(s, sms.to)
    if number is None:
        return NOT_OURS
    if not _stored_already(s, provider_ref):
        _store(s, number, sms, sms.text, provider_ref, None)
    return None


def _process_reply(s: Session, sms: InboundText, provider_ref: str) -> str | None:
    """A whole text that is no keyword: its business number, whether it is stored already and the
    groups it may go to, read in one statement."""
    rows = _execute(s, _reply_lookup(), {"to": sms.to, "ref": provider_ref, "sender": sms.sender}).all()
    if not rows:
        return NOT_OURS
    if not rows[0].stored:
        _store_reply(s, rows[0], sms, provider_ref,
                     [(row.group_id, row.active) for row in rows if row.group_id is not None])
    return None


def _stored_already(s: Session, provider_ref: str) -> bool:
    """A message with this reference exists (a retried part of a joined message)."""
    return s.execute(_message_with_ref(), {"ref": provider_ref}).first() is not None


def _store(s: Session, number: BusinessNumber, sms: InboundText, text: str, provider_ref: str,
           joined: parts.Joined | None) -> None:
    """Store a keyword or a joined long text, then answer the keyword and route the text."""
    message = Message(**_message_row(number, sms, text, provider_ref, joined))
    s.add(message)
    s.flush()
    if joined:
        parts.consume(s, joined, message.id)
    keyword = optout.handle_keyword(s, number, message)  # E1: STOP, START, HELP
    _route(s, number, message, relay_it=not keyword)


def _store_reply(s: Session, number: _Number, sms: InboundText, provider_ref: str, found: list) -> None:
    """A whole text that is no keyword, with the groups found for it (id, active). A text that stays
    outside any group is one INSERT that carries its routing; one that goes to a group is stored and
    handed to the relay."""
    group_id, relay_it, kept_as = _placement(found, relay_it=True)
    row = _message_row(number, sms, sms.text, provider_ref, None)
    if group_id is not None:
        message = Message(**row)
        s.add(message)
        s.flush()
        relay.attach_and_relay(s, s.get(Group, group_id), message, relay=relay_it)
        return
    row["routing"] = kept_as
    message_id = _execute(s, _insert_message(), row).inserted_primary_key[0]
    notify.publish(s, events.RoutingChanged(number.location_id, message_id, kept_as))


def _message_row(number: _Number, sms: InboundText, text: str, provider_ref: str,
                 joined: parts.Joined | None) -> dict[str, object]:
    return new_row(Message, location_id=number.location_id, business_number_id=number.id, direction="inbound",
                body=text, from_e164=sms.sender, provider_ref=provider_ref, status=states.NONE,
                incomplete=bool(joined and joined.incomplete), notice=joined.notice if joined else None)


def _route(s: Session, number: BusinessNumber, message: Message, *, relay_it: bool) -> None:
    """E2: the one active group with this sender on this number, never a guess."""
    # Through the session: what the keyword changed (a STOP's locks) is flushed before it is read.
    found = s.execute(_groups_with_sender(), {"number_id": number.id, "e164": message.from_e164}).all()
    group_id, relay_it, kept_as = _placement(found, relay_it=relay_it)
    if group_id is not None:
        relay.attach_and_relay(s, s.get(Group, group_id), message, relay=relay_it)
        return
    message.routing = kept_as
    s.add(message)
    notify.publish(s, events.RoutingChanged(message.location_id, message.id, message.routing))


def _placement(found: list, *, relay_it: bool) -> tuple[int | None, bool, str | None]:
    """Where the groups found (id, active) put a text: (its group, whether to relay it there, None),
    or (None, False, its routing) for a text that stays in Other texts."""
    decision = routing.route_inbound(sorted(group_id for group_id, active in found if active))
    if decision.kind == routing.ROUTE:
        return decision.group_id, relay_it, None
    if decision.kind == routing.UNROUTED:
        locked = sorted(group_id for group_id, active in found if not active)
        if len(locked) == 1:  # R10: a locked group still keeps what its participants send
            return locked[0], False, None
    kept_as = routing.NEEDS_ROUTING if decision.kind == routing.NEEDS_ROUTING and relay_it else routing.UNROUTED
    return None, False, kept_as


# -- statements every webhook runs, built once ---------------------------------------------------
# Building and keying a statement costs more than running these; the values are bound per call.

def _execute(s: Session, statement, params: dict[str, object]):  # noqa: ANN001, ANN202
    """A Core statement on the unit of work's connection: no ORM objects and no autoflush, for the
    statements of a text with nothing pending in the session that they read."""
    return s.connection().execute(statement, params)


def _business_number(s: Session, e164: str) -> BusinessNumber | None:
    return s.execute(_number_by_e164(), {"e164": e164}).scalars().first()


@functools.cache
def _reply_lookup():
    """The business number `to` (no row: none) as id and location_id, whether a message with the
    reference `ref` is stored, and the groups on that number with a participant `sender` (E2), each
    with whether it is active (R10): one row per group, or one with group_id NULL."""
    number_id = select(BusinessNumber.id).where(BusinessNumber.e164 == bindparam("to")).correlate(None)
    groups = (select(Group.id.label("group_id"), Group.business_number_id, active_group_clause().label("active"))
              .join(Participant, Participant.group_id == Group.id)
              .where(Group.business_number_id == number_id.scalar_subquery(), Participant.e164 == bindparam("sender"))
              .distinct()
              .subquery("groups_with_sender"))
    stored = select(Message.id).where(Message.provider_ref == bindparam("ref")).exists()
    return (select(BusinessNumber.id, BusinessNumber.location_id, stored.label("stored"), groups.c.group_id,
                   groups.c.active)
            .outerjoin(groups, groups.c.business_number_id == BusinessNumber.id)
            .where(BusinessNumber.e164 == bindparam("to")))


@functools.cache
def _number_by_e164():
    return select(BusinessNumber).where(BusinessNumber.e164 == bindparam("e164"))


@functools.cache
def _message_with_ref():
    return select(Message.id).where(Message.provider_ref == bindparam("ref"))


@functools.cache
def _insert_event():
    return InboundEvent.__table__.insert()


@functools.cache
def _note_event():
    table = InboundEvent.__table__
    return table.update().where(table.c.id == bindparam("event_id")).values(error=bindparam("note"))


@functools.cache
def _insert_message():
    return Message.__table__.insert()


@functools.cache
def _groups_with_sender():
    """The groups on a business number that have a participant with this number, each with whether
    it is active (not locked, R10)."""
    return (select(Group.id, active_group_clause().label("active"))
            .join(Participant, Participant.group_id == Group.id)
            .where(Group.business_number_id == bindparam("number_id"), Participant.e164 == bindparam("e164"))
            .distinct())


# -- delivery receipts ---------------------------------------------------------------------------

def _process_status(s: Session, event: InboundEvent, receipt: Receipt) -> None:
    """E3: update the delivery the receipt is about, and its message's aggregate."""
    delivery = None
    ref = receipt.client_ref or ""
    if ref.startswith("d") and ref[1:].isdigit():  # our delivery reference: "d<delivery id>"
        delivery = s.exec(select(Delivery).where(Delivery.id == int(ref[1:])).with_for_update()).first()
    if delivery is None:
        delivery = s.exec(select(Delivery).where(
            Delivery.provider_message_ids.contains(receipt.provider_message_id)).with_for_update()).first()
    if delivery is None:
        return _mark_done(event, "No delivery for this receipt")
    part_id = receipt.provider_message_id
    parts = json.loads(delivery.part_statuses or "{}")
    ids = [i for i in delivery.provider_message_ids.split(",") if i]
    if delivery.status == states.UNCONFIRMED:
        # No answer to the send, but the carrier saw it: it was accepted after all.
        delivery.error_code = delivery.error_text = None
    if delivery.status != states.QUEUED:
        accepted = max(delivery.parts_accepted or 0, len(ids))
        folded = states.apply_receipt(
            status=delivery.status, part_statuses=parts, part_prices=json.loads(delivery.part_prices or "{}"),
            error_code=delivery.error_code, error_text=delivery.error_text, price=delivery.price,
            message_id=part_id, receipt_status=receipt.status, receipt_error=receipt.error_code,
            receipt_price=receipt.price, expected_parts=max(delivery.parts_total or 0, len(ids), 1),
            accepted_parts=max(accepted, 1),
        )
        delivery.part_statuses = json.dumps(folded.part_statuses, sort_keys=True)
        delivery.part_prices = json.dumps(folded.part_prices, sort_keys=True)
        delivery.status, delivery.price = folded.status, folded.price
        delivery.error_code, delivery.error_text = folded.error_code, folded.error_text
        if not ids:  # settled by its receipts alone (an unconfirmed send)
            delivery.provider_message_ids = ",".join(sorted(folded.part_statuses))[:500]
    else:
        status = states.RECEIPT_STATUS.get(receipt.status, states.SENT)
        parts[part_id] = states.advance(parts.get(part_id), status)
        delivery.part_statuses = json.dumps(parts, sort_keys=True)
        if receipt.price and states.sum_prices([receipt.price]):
            prices = json.loads(delivery.part_prices or "{}")
            prices.setdefault(part_id, receipt.price[:32])
            delivery.part_prices = json.dumps(prices, sort_keys=True)
        if delivery.attempts and delivery.claimed_by is None:
            # An attempt that got no answer was accepted after all: settle it, so it is not resent.
            delivery.status = states.combine_parts(parts, len(parts))
            delivery.provider_message_ids = ",".join(sorted(parts))[:500]
            delivery.error_code = delivery.error_text = None
            if parts[part_id] == states.FAILED:
                delivery.error_code = (receipt.error_code or receipt.status)[:32]
                delivery.error_text = f"Carrier reported {receipt.status}"
            delivery.price = states.sum_prices(json.loads(delivery.part_prices or "{}").values())
        # else: the send result is still on its way and settles the status when it lands
    delivery.updated_at = utcnow()
    s.add(delivery)
    s.flush()
    outbox.refresh_status(s, delivery.message_id)
