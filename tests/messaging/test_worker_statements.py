"""How many SQL statements the worker spends per delivery: preparing one send, and recording the
answers of a whole fan-out together (one lock of the rows, one refresh of the message's status)."""

from __future__ import annotations

import pytest

from groupsms.messaging import notify
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.gateway import SENT, SendResult
from groupsms.messaging.worker import Worker
from groupsms.services import groups, messages
from tests.services.conftest import pick


@pytest.fixture(autouse=True)
def _worker_statements_only(monkeypatch):
    """Listeners that write with a status change (integrations' outboxes) add their own statements:
    these tests count the worker's."""
    monkeypatch.setattr(notify, "_in_transaction", [])


def _worker_with_claims(world):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan", "erin", "fay"))
    messages.send_message(world.actors["bo"], gid, "Keys at the office")
    worker = Worker(FakeGateway(), rate=10_000, lease_seconds=30)
    return worker, worker.claim()


def test_preparing_a_send_is_one_transaction_of_a_fixed_number_of_statements(world, statements, clean_db):
    worker, ids = _worker_with_claims(world)
    try:
        with statements.count() as log:
            request = worker._prepare(ids[0])
        assert request is not None and request.client_ref == f"d{ids[0]}"
        # The delivery with its message and number (locked), the opt-out and DND check, the group,
        # its derived lock (DND, opt-outs), the update; SQLite adds its BEGIN.
        expected = 6 + (clean_db.dialect.name == "sqlite")
        assert len(log) == expected, log
        assert len(log.writes()) == 1, log
    finally:
        worker.close()


def test_recording_a_fan_out_takes_the_same_statements_however_many_answers(world, statements, clean_db):
    worker, ids = _worker_with_claims(world)
    try:
        for delivery_id in ids:
            worker._prepare(delivery_id)
        answers = [(delivery_id, SendResult(SENT, message_ids=(f"m{delivery_id}",))) for delivery_id in ids]
        with statements.count() as log:
            worker._record_answers(answers)
        # The rows locked in one SELECT, one UPDATE for all of them (executemany), the message's
        # refresh (lock, statuses, update); SQLite adds its BEGIN.
        assert len(ids) == 4
        expected = 5 + (clean_db.dialect.name == "sqlite")
        assert len(log) == expected, log
    finally:
        worker.close()
