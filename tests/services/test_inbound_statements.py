"""What processing one inbound reply costs in SQL statements, pinned (R5, E1, E2).

Processing a reply reads the event, then the business number, whether the text is stored already and
the routing candidates in one statement, the group and its participants, the lock (DND and
opt-outs), the relay rate and, in one statement for the whole group, which of the other participants'
numbers may not be texted; it writes the message, the group's activity, one delivery per recipient
and the event. A bigger group costs only its deliveries: a
statement per participant anywhere else is a regression (it once cost two per participant, to ask
each number's opt-out and DND on its own: 22 statements for 3 participants, 40 for 9).

On SQLite the count includes the `BEGIN IMMEDIATE` of the transaction, and SQLAlchemy inserts the
deliveries one statement each; PostgreSQL opens its transaction without a statement of its own and
gets the deliveries in one multi-row INSERT.

Which locations have CRM webhook subscriptions is cached for a few seconds in a process: creating
the group fills that cache here and it stays (`steady_webhook_cache`), so the count never depends
on how long the setup took.
"""

from __future__ import annotations

import pytest

from groupsms import db
from groupsms.messaging import inbound
from groupsms.services import groups
from tests.services.conftest import pick

pytestmark = pytest.mark.usefixtures("steady_webhook_cache")

NINE = ("carla", "dan", "erin", "fay", "gus", "hal", "lea", "max", "ned")
REPLY = {"msisdn": "15125550112", "to": "15125550100", "messageId": "reply-1", "text": "See you at 5"}
# Statements besides the delivery INSERTs: SQLite's one more is its BEGIN IMMEDIATE.
FIXED = {"sqlite": 15, "postgresql": 14}
# The whole reply to a group of 9: SQLite inserts its 8 deliveries one by one.
GROUP_OF_NINE = {"sqlite": 23, "postgresql": 15}


def _backend() -> str:
    return db.engine().dialect.name


def _reply_to_group_of(world, statements, size: int):
    groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, *NINE[:size]))
    event_id, new = inbound.record_event("inbound", REPLY)
    assert new
    with statements.count() as log:
        assert inbound.process_event(event_id)
    assert not any("webhook_subscription" in sql for sql in log.sql), log
    return log


def _delivery_inserts(log) -> int:
    return sum(1 for sql in log.sql if sql.startswith("INSERT INTO delivery"))


def _queued() -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from groupsms.models import Delivery

    with db.transaction() as s:
        return s.exec(select(func.count(Delivery.id))).one()


def test_r5_processing_a_reply_to_a_group_of_nine_costs_a_pinned_number_of_statements(world, statements):
    log = _reply_to_group_of(world, statements, 9)
    assert _queued() == 8  # Dan's reply goes to the 8 others
    assert len(log) == GROUP_OF_NINE[_backend()], log


@pytest.mark.parametrize("size", [3, 5, 9])
def test_r5_a_bigger_group_costs_only_its_relay_deliveries(world, statements, size):
    log = _reply_to_group_of(world, statements, size)
    assert _queued() == size - 1
    assert _delivery_inserts(log) == (size - 1 if _backend() == "sqlite" else 1), log
    assert len(log) - _delivery_inserts(log) == FIXED[_backend()], log
    # The opt-out and DND check is one statement for the whole group, not one per participant.
    assert sum(1 for sql in log.sql if "opt_out" in sql and "UNION" in sql) == 1, log
    assert sum(1 for sql in log.sql if sql.startswith("SELECT opt_out.id")) == 0, log


def test_e1_one_statement_for_the_group_still_keeps_opted_out_and_dnd_numbers_from_relays(world, statements):
    from sqlmodel import select

    from groupsms.messaging import optout
    from groupsms.models import Contact, Delivery, OptOut

    acme, birch = world.locations["acme"], world.locations["birch"]
    group_id = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, *NINE[:5]))
    with db.transaction() as s:
        # Contacts outside the group hold Erin's number (as primary) and Fay's (as secondary) with
        # DND: those numbers get nothing, and the group is not locked (no participant's contact has
        # DND). Hal's number (not in the group) opted out by text.
        ola, max_ = s.get(Contact, world.contacts["ola"]), s.get(Contact, world.contacts["max"])
        ola.primary_phone, ola.dnd_sms = "+15125550113", True
        max_.secondary_phone, max_.dnd_sms = "+15125550114", True
        s.add(OptOut(location_id=acme, e164="+15125550116", keyword="STOP"))
    with db.transaction() as s:
        asked = ["+15125550111", "+15125550113", "+15125550114", "+15125550116", "+15125550115"]
        assert optout.numbers_not_to_text(s, acme, asked) == {"+15125550113", "+15125550114", "+15125550116"}
        assert optout.numbers_not_to_text(s, birch, asked) == set()  # another location's registry
        assert optout.numbers_not_to_text(s, acme, []) == set()
    event_id, _ = inbound.record_event("inbound", REPLY)
    assert inbound.process_event(event_id)
    with db.transaction() as s:
        sent_to = sorted(d.to_e164 for d in s.exec(select(Delivery)).all())
    assert sent_to == ["+15125550111", "+15125550115"]  # Carla and Gus; not Erin, Fay or Dan himself
    assert group_id
