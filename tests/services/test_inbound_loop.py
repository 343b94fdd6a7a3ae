"""Inbound processing cannot stall: failed webhook events retry with backoff in their own loop
(a send backlog does not hold them up), give up after a cap, and then admins see the error."""

from __future__ import annotations

import argparse
import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.errors import Forbidden, NotFound, ValidationError
from groupsms.messaging import inbound
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.gateway import SendResult
from groupsms.messaging.inbound_loop import InboundLoop
from groupsms.messaging.worker import Worker
from groupsms.models import InboundEvent, Message, utcnow
from groupsms.services import groups, inbound_events, messages
from groupsms.simulator.testing import wait_until
from tests.services.conftest import pick

MAIN = "15125550100"


@pytest.fixture
def group4(world):
    return groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan", "erin", "fay"))


def record(message_id: str, text: str = "hello", sender: str = "15125550111") -> int:
    event_id, _ = inbound.record_event("inbound", {"msisdn": sender, "to": MAIN, "messageId": message_id,
                                                   "text": text})
    return event_id


def event(event_id: int) -> InboundEvent:
    with db.transaction() as s:
        return s.get(InboundEvent, event_id)


def make_due(event_id: int) -> None:
    with db.transaction() as s:
        e = s.get(InboundEvent, event_id)
        e.next_attempt_at = utcnow() - timedelta(seconds=1)
        s.add(e)


def break_processing(monkeypatch, times: int | None):
    """Processing of inbound SMS raises (a database hiccup) `times` times, or always."""
    real = inbound._process_inbound
    calls = {"n": 0, "real": real}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if times is None or calls["n"] <= times:
            raise RuntimeError("database hiccup")
        return real(*args, **kwargs)

    monkeypatch.setattr(inbound, "_process_inbound", flaky)
    return calls


def test_failed_inbound_event_retries_in_own_loop_during_send_backlog(world, group4, monkeypatch, clean_db):
    gate = threading.Event()  # the provider hangs: every send waits, the outbox is never idle

    def slow(_request):
        gate.wait(30)
        return SendResult("sent", message_ids=("x",))

    for i in range(30):
        messages.send_message(world.actors["bo"], group4, f"Backlog {i}")
    worker = Worker(FakeGateway(slow), rate=1000, concurrency=2, lease_seconds=60)
    monkeypatch.setattr(inbound.states, "backoff_seconds", lambda attempt, **_: 0.05)
    break_processing(monkeypatch, times=1)
    event_id = record("in-during-backlog", "Running late")
    assert not inbound.process_event(event_id)  # the webhook's own try fails
    assert event(event_id).attempts == 1 and event(event_id).processed_at is None
    stop = threading.Event()
    sender = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
    sender.start()
    loop = InboundLoop(poll_seconds=0.05).start(stop)
    try:
        wait_until(lambda: event(event_id).processed_at, timeout=10, what="the retried event")
        assert not gate.is_set()  # retried while sends were still stuck
        with db.transaction() as s:
            [msg] = s.exec(select(Message).where(Message.provider_ref == "in-during-backlog")).all()
            assert msg.group_id == group4 and msg.body == "Running late"
    finally:
        gate.set()
        stop.set()
        sender.join(timeout=30)
        loop.join(timeout=10)


def test_failed_event_waits_out_its_backoff(world, group4, monkeypatch):
    calls = break_processing(monkeypatch, times=1)
    event_id = record("in-backoff")
    inbound.process_event(event_id)
    e = event(event_id)
    assert e.attempts == 1 and e.next_attempt_at > utcnow() and "database hiccup" in e.error
    InboundLoop().run_once()
    assert calls["n"] == 1  # not due yet
    make_due(event_id)
    InboundLoop().run_once()
    assert calls["n"] == 2 and event(event_id).processed_at is not None


def test_inbound_event_gives_up_after_the_cap_and_admins_see_it(world, group4, monkeypatch):
    monkeypatch.setenv("GROUPSMS_INBOUND_MAX_ATTEMPTS", "3")
    calls = break_processing(monkeypatch, times=None)
    event_id = record("in-broken", "Can we meet?")
    inbound.process_event(event_id)
    for _ in range(2):
        make_due(event_id)
        InboundLoop().run_once()
    e = event(event_id)
    assert e.attempts == 3 and e.gave_up_at is not None and e.next_attempt_at is None
    assert inbound.due_events() == []  # no more retries

    [failed] = inbound_events.list_failed_inbound_events(world.actors["ada"])
    assert failed.id == event_id and failed.attempts == 3 and "database hiccup" in failed.error
    assert failed.summary == "SMS from +15125550111 to +15125550100"
    assert inbound_events.list_failed_inbound_events(world.actors["zed"]) == []  # another location
    with pytest.raises(Forbidden):
        inbound_events.list_failed_inbound_events(world.actors["bo"])

    with pytest.raises(NotFound):
        inbound_events.retry_inbound_event(world.actors["zed"], event_id)
    with pytest.raises(ValidationError, match="Event id must be a whole number"):
        inbound_events.retry_inbound_event(world.actors["ada"], "1")
    monkeypatch.setattr(inbound, "_process_inbound", calls["real"])  # the cause is fixed
    inbound_events.retry_inbound_event(world.actors["ada"], event_id)
    InboundLoop().run_once()
    assert event(event_id).processed_at is not None
    assert inbound_events.list_failed_inbound_events(world.actors["ada"]) == []


def test_inbound_max_attempts_that_is_not_a_number_is_refused(monkeypatch):
    monkeypatch.setenv("GROUPSMS_INBOUND_MAX_ATTEMPTS", "lots")
    with pytest.raises(ValueError, match="GROUPSMS_INBOUND_MAX_ATTEMPTS must be a whole number"):
        inbound.max_attempts()


def test_cli_inbound_failed_lists_given_up_events(world, group4, monkeypatch, capsys):
    from groupsms import cli, cli_inbound

    monkeypatch.setenv("GROUPSMS_INBOUND_MAX_ATTEMPTS", "1")
    break_processing(monkeypatch, times=None)
    inbound.process_event(record("in-cli"))
    assert cli_inbound.failed(argparse.Namespace(json=False, limit=100)) == 0
    out = capsys.readouterr().out
    assert "gave up after 1 attempts: SMS from +15125550111 to +15125550100" in out and "database hiccup" in out
    assert cli.build_parser().parse_args(["inbound", "failed", "--json"]).json
