"""Receipts only move forward, through the real receipt handling and outbox worker (E3)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.messaging import inbound
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.gateway import FAILED, SENT, SendResult
from groupsms.messaging.worker import Worker
from groupsms.models import Delivery, Message
from groupsms.services import groups, messages
from tests.services.conftest import pick

MAIN = "15125550100"


@pytest.fixture
def group2(world):
    return groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))


def send(world, group_id, responder, text="Closing is on Friday") -> list[Delivery]:
    worker = Worker(FakeGateway(responder), rate=1000, lease_seconds=30)
    try:
        mid = messages.send_message(world.actors["bo"], group_id, text)
        while worker.run_once():
            pass
    finally:
        worker.close()
    return deliveries(mid)


def deliveries(mid: int) -> list[Delivery]:
    with db.transaction() as s:
        return list(s.exec(select(Delivery).where(Delivery.message_id == mid).order_by(Delivery.id)))


def reload(d: Delivery) -> Delivery:
    with db.transaction() as s:
        return s.get(Delivery, d.id)


def receipt(d: Delivery, part: str, status: str, **extra) -> None:
    event_id, _ = inbound.record_event("status", {"msisdn": d.to_e164[1:], "to": MAIN, "messageId": part,
                                                  "status": status, "client-ref": f"d{d.id}", **extra})
    assert inbound.process_event(event_id)


def one_part(request):
    return SendResult(SENT, message_ids=(f"m-{request.client_ref}",))


def test_late_buffered_receipt_never_downgrades_delivered(world, group2):
    for d in send(world, group2, one_part):
        receipt(d, f"m-d{d.id}", "delivered", **{"err-code": "0"})
        receipt(d, f"m-d{d.id}", "buffered")
        receipt(d, f"m-d{d.id}", "accepted")
        assert reload(d).status == "delivered"
    with db.transaction() as s:
        assert s.exec(select(Message.status).where(Message.direction == "outbound")).one() == "delivered"


def test_failed_receipt_error_code_is_kept(world, group2):
    d = send(world, group2, one_part)[0]
    receipt(d, f"m-d{d.id}", "failed", **{"err-code": "6"})
    receipt(d, f"m-d{d.id}", "expired", **{"err-code": "1"})
    receipt(d, f"m-d{d.id}", "delivered", **{"err-code": "0"})
    d = reload(d)
    assert (d.status, d.error_code, d.error_text) == ("failed", "6", "Carrier reported failed")


def test_prices_add_up_over_parts(world, group2):
    def three_parts(request):
        return SendResult(SENT, message_ids=tuple(f"p{i}-{request.client_ref}" for i in (1, 2, 3)))

    d = send(world, group2, three_parts, "x" * 400)[0]
    for i in (1, 2, 3):
        receipt(d, f"p{i}-d{d.id}", "delivered", price="0.03330000")
    receipt(d, f"p2-d{d.id}", "accepted", price="0.03330000")  # a late repeat is not counted twice
    d = reload(d)
    assert d.status == "delivered" and d.price == "0.09990000"


def test_send_prices_and_receipt_prices_are_not_counted_twice(world, group2):
    def priced(request):
        ids = (f"p1-{request.client_ref}", f"p2-{request.client_ref}")
        return SendResult(SENT, message_ids=ids, price="0.0666", part_prices=("0.0333", "0.0333"), parts_total=2)

    d = send(world, group2, priced, "y" * 200)[0]
    assert reload(d).price == "0.0666"
    receipt(d, f"p1-d{d.id}", "delivered", price="0.0333")
    receipt(d, f"p2-d{d.id}", "delivered", price="0.0333")
    assert reload(d).price == "0.0666"


def test_partly_accepted_long_message_shows_how_many_parts_went_out(world, group2):
    def partial(request):
        return SendResult(FAILED, message_ids=(f"p1-{request.client_ref}", f"p2-{request.client_ref}"),
                          parts_total=3, error_code="12",
                          error_text="partial failure: 2 of 3 parts accepted; Message Too Long")

    ds = send(world, group2, partial, "z" * 400)
    for d in ds:
        receipt(d, f"p1-d{d.id}", "delivered")
        receipt(d, f"p2-d{d.id}", "delivered")
        d = reload(d)
        assert (d.status, d.parts_accepted, d.parts_total, d.error_code) == ("failed", 2, 3, "12")
    views = messages.message_deliveries(world.actors["bo"], ds[0].message_id)
    assert {v.parts for v in views} == {"2 of 3 parts accepted"}
    assert all("2 of 3 parts accepted" in v.error for v in views)


def test_receipt_for_an_unconfirmed_delivery_settles_it(world, group2):
    d = send(world, group2, one_part)[0]
    with db.transaction() as s:  # as the worker leaves a send that got no answer twice
        row = s.get(Delivery, d.id)
        row.status, row.provider_message_ids = "unconfirmed", ""
        row.error_text = "Unconfirmed: no answer from the provider after one resend"
        s.add(row)
    receipt(d, "late-part", "delivered")
    d = reload(d)
    assert (d.status, d.provider_message_ids, d.error_text) == ("delivered", "late-part", None)


def test_participant_status_says_how_many_parts_went_out():
    from datetime import UTC, datetime

    from groupsms.components.chat import delivery_row
    from groupsms.services.messages import DeliveryView

    row = delivery_row(DeliveryView("Carla", "(512) 555-0111", "failed", "12 Message Too Long",
                                    datetime.now(UTC), "2 of 3 parts accepted"))
    assert row.error == "2 of 3 parts accepted; 12 Message Too Long"
    assert "2 of 3 parts accepted" in row.label
