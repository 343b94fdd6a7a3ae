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
from datetime import timedelta

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from groupsms import db
from groupsms.domain import delivery as states
from groupsms.domain import routing
from groupsms.messaging import events, notify, optout, outbox, parts, relay, transport, vonage_inbound
from groupsms.models import (
    BusinessNumber,
    Delivery,
    Group,
    InboundEvent,
    Message,
    Participant,
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

    Should processing fail, that transaction is rolled back and the event is stored on its own and
    tried again (`process_event`, then the inbound loop with its backoff): a stored event is never
    lost, and nothing of a failed processing is kept."""
    parsed = parse(kind, params)
    try:
        with db.transaction() as s:
            event = _new_event(s, kind, params, parsed)
            try:
                s.flush()
            except IntegrityError as exc:
                raise _Duplicate from exc
            (_process_inbound if isinstance(parsed, InboundText) else _process_status)(s, event, parsed)
            event.processed_at = utcnow()
            event.next_attempt_at = None
            s.add(event)
            s.flush()
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


def _new_event(s: Session, kind: str, params: dict[str, str], parsed: InboundText | Receipt) -> InboundEvent:
    event = InboundEvent(kind=kind, provider_message_id=parsed.event_key,
                         concat_key=parsed.concat_key if isinstance(parsed, InboundText) else None,
                         payload=json.dumps(params, sort_keys=True), next_attempt_at=utcnow() + FIRST_TRY_GRACE)
    s.add(event)
    return event


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


def _mark_done(event: InboundEvent, note: str) -> None:
    event.error = note


def _process_inbound(s: Session, event: InboundEvent, sms: InboundText, *, flush: bool = False) -> None:
    """Store (and route) the text; `flush`: a long one whose missing parts waited out the timeout."""
    if event.consumed_by_message_id is not None:
        return None  # a part already joined into a message
    number = s.exec(select(BusinessNumber).where(BusinessNumber.e164 == sms.to)).first()
    if number is None:
        return _mark_done(event, "Not a business number of any location")
    joined = parts.joined(s, event, decode, flush=flush) if event.concat_key else None
    if event.concat_key and joined is None:
        return _mark_done(event, WAITING)
    text = joined.text if joined else sms.text
    provider_ref = (joined.provider_ref if joined else sms.provider_message_id)[:120]
    if s.exec(select(Message.id).where(Message.provider_ref == provider_ref)).first():
        return None  # already stored (a retried part of a joined message)
    message = Message(
        location_id=number.location_id, business_number_id=number.id, direction="inbound", body=text,
        from_e164=sms.sender, provider_ref=provider_ref, status=states.NONE,
        incomplete=bool(joined and joined.incomplete), notice=joined.notice if joined else None,
    )
    s.add(message)
    s.flush()
    if joined:
        parts.consume(s, joined, message.id)
    keyword = optout.handle_keyword(s, number, message)  # E1: STOP, START, HELP
    _route(s, number, message, relay_it=not keyword)


@functools.cache
def _groups_with_sender():
    """The groups on a business number that have a participant with this number, each with whether
    it is active (not locked, R10). Built once: every inbound text asks it, and building and keying a
    statement of this size costs more than running it."""
    return (select(Group.id, active_group_clause().label("active"))
            .join(Participant, Participant.group_id == Group.id)
            .where(Group.business_number_id == bindparam("number_id"), Participant.e164 == bindparam("e164"))
            .distinct())


def _route(s: Session, number: BusinessNumber, message: Message, *, relay_it: bool) -> None:
    """E2: the one active group with this sender on this number, never a guess."""
    found = s.execute(_groups_with_sender(), {"number_id": number.id, "e164": message.from_e164}).all()
    decision = routing.route_inbound(sorted(group_id for group_id, active in found if active))
    if decision.kind == routing.ROUTE:
        relay.attach_and_relay(s, s.get(Group, decision.group_id), message, relay=relay_it)
        return
    if decision.kind == routing.UNROUTED:
        locked = sorted(group_id for group_id, active in found if not active)
        if len(locked) == 1:  # R10: a locked group still keeps what its participants send
            relay.attach_and_relay(s, s.get(Group, locked[0]), message, relay=False)
            return
    message.routing = routing.NEEDS_ROUTING if decision.kind == routing.NEEDS_ROUTING and relay_it else routing.UNROUTED
    s.add(message)
    notify.publish(s, events.RoutingChanged(message.location_id, message.id, message.routing))


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
