"""A webhook stores its event and does what the event asks (a reply relayed, a receipt applied) in
one transaction, on one thread hop; a processing that fails still leaves the event stored and
answered 200, to be tried again, with nothing of the failed processing kept."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from groupsms import db
from groupsms.messaging import inbound, notify, relay
from groupsms.models import Delivery, InboundEvent, Message
from groupsms.services import groups
from groupsms.webhooks import vonage
from tests.services.conftest import pick
from tests.services.test_webhooks import SECRET, signed

REPLY = {"msisdn": "15125550112", "to": "15125550100", "text": "See you at 5", "type": "text"}


@pytest.fixture
def client(world, monkeypatch):
    monkeypatch.setenv("VONAGE_SIGNATURE_SECRET", SECRET)
    monkeypatch.setenv("VONAGE_SIGNATURE_METHOD", "sha256")
    with TestClient(Starlette(routes=vonage.routes)) as c:
        yield c


@pytest.fixture
def commits():
    count = {"n": 0}

    def seen(_conn):  # noqa: ANN001
        count["n"] += 1

    engine = db.engine()
    sa_event.listen(engine, "commit", seen)
    yield count
    sa_event.remove(engine, "commit", seen)


@pytest.fixture
def hops(monkeypatch):
    calls: list[str] = []
    real = asyncio.to_thread

    async def counted(func, *args, **kwargs):  # noqa: ANN001
        calls.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(vonage.asyncio, "to_thread", counted)
    return calls


def test_a_reply_is_stored_and_relayed_in_one_transaction_and_one_thread_hop(world, client, commits, hops):
    gid = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan", "erin"))
    commits["n"] = 0
    response = client.post("/webhooks/vonage/inbound", data=signed({**REPLY, "messageId": "one-unit-1"}))
    assert response.status_code == 200
    assert commits["n"] == 1
    assert len(hops) == 1
    with db.transaction() as s:
        event = s.exec(select(InboundEvent).where(InboundEvent.provider_message_id == "one-unit-1")).one()
        assert event.processed_at is not None and event.error is None
        message = s.exec(select(Message).where(Message.provider_ref == "one-unit-1")).one()
        assert message.group_id == gid
        assert len(s.exec(select(Delivery).where(Delivery.message_id == message.id)).all()) == 2


def test_a_retried_webhook_is_stored_and_processed_once(world, client, commits):
    groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))
    params = signed({**REPLY, "messageId": "one-unit-dup"})
    for _ in range(3):
        assert client.post("/webhooks/vonage/inbound", data=params).status_code == 200
    first, new = inbound.receive("inbound", {**REPLY, "messageId": "one-unit-dup"})
    assert not new
    with db.transaction() as s:
        ids = s.exec(select(InboundEvent.id).where(InboundEvent.provider_message_id == "one-unit-dup")).all()
        assert ids == [first]
        messages = s.exec(select(Message).where(Message.provider_ref == "one-unit-dup")).all()
        assert len(messages) == 1
        assert len(s.exec(select(Delivery).where(Delivery.message_id == messages[0].id)).all()) == 1


def test_a_failed_processing_keeps_the_event_and_nothing_else_then_the_retry_stores_it(world, client, monkeypatch):
    gid = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))
    real = relay.attach_and_relay

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003
        real(*args, **kwargs)  # the message and its relays are written, then it fails
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(relay, "attach_and_relay", broken)
    response = client.post("/webhooks/vonage/inbound", data=signed({**REPLY, "messageId": "one-unit-fail"}))
    assert response.status_code == 200  # stored: Vonage must not retry it
    with db.transaction() as s:
        event = s.exec(select(InboundEvent).where(InboundEvent.provider_message_id == "one-unit-fail")).one()
        assert event.processed_at is None and event.attempts == 1
        assert "database hiccup" in event.error
        assert s.exec(select(Message).where(Message.provider_ref == "one-unit-fail")).all() == []
        assert s.exec(select(Delivery)).all() == []
    monkeypatch.setattr(relay, "attach_and_relay", real)
    assert inbound.process_event(event.id)
    with db.transaction() as s:
        message = s.exec(select(Message).where(Message.provider_ref == "one-unit-fail")).one()
        assert message.group_id == gid
        assert len(s.exec(select(Delivery).where(Delivery.message_id == message.id)).all()) == 1


def test_a_failed_processing_of_a_text_in_no_group_keeps_the_event_then_the_retry_stores_it(world, client,
                                                                                          monkeypatch):
    real = notify.publish

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("database hiccup")  # after the text was written

    monkeypatch.setattr(notify, "publish", broken)
    params = {**REPLY, "msisdn": "15125550199", "messageId": "one-unit-other-fail"}
    response = client.post("/webhooks/vonage/inbound", data=signed(params))
    assert response.status_code == 200
    with db.transaction() as s:
        event = s.exec(select(InboundEvent).where(InboundEvent.provider_message_id == "one-unit-other-fail")).one()
        assert event.processed_at is None and event.attempts == 1 and event.next_attempt_at is not None
        assert "database hiccup" in event.error
        assert s.exec(select(Message)).all() == []
    monkeypatch.setattr(notify, "publish", real)
    assert inbound.process_event(event.id)
    with db.transaction() as s:
        message = s.exec(select(Message).where(Message.provider_ref == "one-unit-other-fail")).one()
        assert (message.group_id, message.routing, message.from_e164) == (None, "unrouted", "+15125550199")
        assert s.get(InboundEvent, event.id).error is None


def test_a_bad_event_is_refused_with_nothing_stored(world):
    with pytest.raises(inbound.BadEvent):
        inbound.receive("inbound", {"to": "15125550100", "messageId": "one-unit-bad", "text": "no sender"})
    with db.transaction() as s:
        assert s.exec(select(InboundEvent).where(InboundEvent.provider_message_id == "one-unit-bad")).all() == []
