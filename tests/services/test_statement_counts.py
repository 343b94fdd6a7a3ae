"""Exact SQL statement counts of the read and send paths the pages hit on every visit.

A count that changes is a change to review: a new query per participant or per message shows up
here first. Each scenario runs with 2 and with 9 participants (and as many messages, groups or
waiting texts), and the count must be the same for both. BEGIN is counted (SQLite's `BEGIN` or
`BEGIN IMMEDIATE` goes through the cursor; PostgreSQL's is implicit and is not a statement here),
so the counts are pinned per backend.

Each call runs once before it is counted: the role policy is loaded once per process and policy
version, not per call. GROUPSMS_MEASURE_COUNTS=1 prints the counts and statements instead of
checking them (run with -s).
"""

from __future__ import annotations

import os

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.messaging import inbound
from groupsms.models import Message
from groupsms.services import groups, messages
from tests.services.conftest import pick

MEASURE = os.environ.get("GROUPSMS_MEASURE_COUNTS") == "1"

PEOPLE = ["carla", "dan", "erin", "fay", "lea", "max", "ned", "ola", "kim"]

# (call, backend) -> statements, BEGIN included on SQLite. Reads open a plain BEGIN there (no write
# lock); send_message opens BEGIN IMMEDIATE.
EXPECTED: dict[tuple[str, str], int] = {
    # BEGIN, user, policy version, group, its number as the user may use it, the creator (none
    # when the reader created it: already loaded), participants with their contacts, their
    # numbers' opt-outs. The lock is worked out from those. When the reader may send: the numbers
    # not to text (who a send reaches, for the composer's cost line).
    ("get_group", "sqlite"): 9, ("get_group", "postgresql"): 8,
    # BEGIN, user, policy version, group, the page of messages, participants (labels), senders' names.
    ("list_messages", "sqlite"): 7, ("list_messages", "postgresql"): 6,
    # BEGIN, user, policy version, group, participants with contacts, opt-outs, the number as the
    # user may use it, INSERT message, the numbers not to text (one statement), INSERT deliveries,
    # INSERT audit event, UPDATE the group's activity. SQLite inserts the deliveries one
    # statement per recipient (counted apart, see `test_send_message`), PostgreSQL in one.
    ("send_message", "sqlite"): 12, ("send_message", "postgresql"): 11,
    # BEGIN, user, policy version, groups with their numbers, participants' names, newest
    # messages, unread counts.
    ("list_groups", "sqlite"): 7, ("list_groups", "postgresql"): 6,
    # BEGIN, user, policy version, waiting texts, the groups holding their senders, which of those
    # are active, senders' names, the candidates' participants with their names, the numbers of
    # those not to text, the candidates' last messages with their senders.
    ("list_needs_routing", "sqlite"): 10, ("list_needs_routing", "postgresql"): 9,
    # BEGIN, user, policy version, waiting texts, the groups holding their senders, active ones.
    ("count_needs_routing_for_others", "sqlite"): 6, ("count_needs_routing_for_others", "postgresql"): 5,
}


pytestmark = pytest.mark.usefixtures("steady_webhook_cache")


def counted(statements, fn):
    fn()
    with statements.count() as log:
        fn()
    return log


def check(name: str, size: int, log, *, apart: int = 0) -> None:
    """`apart`: statements of the log that are counted on their own (see `test_send_message`)."""
    backend = db.engine().dialect.name
    if MEASURE:
        print(f"\nCOUNT {name} {backend} n={size}: {len(log)} ({apart} counted apart)")
        print(log)
        return
    assert len(log) - apart == EXPECTED[(name, backend)], log
    if log.sql and backend == "sqlite":
        assert log.sql[0] == ("BEGIN IMMEDIATE" if log.writes() else "BEGIN"), log


def sms_in(sender: str, text: str, message_id: str, to: str = "15125550100") -> int:
    event_id, _ = inbound.record_event("inbound", {"msisdn": sender, "to": to, "messageId": message_id, "text": text})
    inbound.process_event(event_id)
    with db.transaction() as s:
        return s.exec(select(Message.id).where(Message.provider_ref == message_id)).one()


def a_group(world, size: int) -> int:
    return groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, *PEOPLE[:size]))


@pytest.mark.parametrize("size", [2, 9])
def test_get_group(world, statements, size):
    gid = a_group(world, size)  # created by Bo, read by Dana: the creator's name is one more statement
    check("get_group", size, counted(statements, lambda: groups.get_group(world.actors["dana"], gid)))


@pytest.mark.parametrize("size", [2, 9])
def test_list_messages(world, statements, size):
    gid = a_group(world, size)
    for i in range(size):
        messages.send_message(world.actors["bo"], gid, f"note {i}")
    sms_in("15125550112", "a reply from Dan", f"in-dan-{size}")
    check("list_messages", size, counted(statements, lambda: messages.list_messages(world.actors["bo"], gid)))


@pytest.mark.parametrize("size", [2, 9])
def test_send_message(world, statements, size):
    gid = a_group(world, size)
    log = counted(statements, lambda: messages.send_message(world.actors["bo"], gid, "hello"))
    # The outbox inserts the deliveries: one multi-row INSERT on PostgreSQL; SQLAlchemy's SQLite
    # dialect sends one INSERT per row (it cannot match returned ids to rows of one statement).
    deliveries = [sql for sql in log.sql if sql.startswith("INSERT INTO delivery")]
    per_row = db.engine().dialect.name == "sqlite"
    assert len(deliveries) == (size if per_row else 1), log
    check("send_message", size, log, apart=len(deliveries) - 1)


@pytest.mark.parametrize("size", [2, 9])
def test_list_groups(world, statements, size):
    for i in range(size):
        gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, *PEOPLE[:size]),
                                  allow_duplicate=True)
        messages.send_message(world.actors["bo"], gid, f"hello {i}")
    check("list_groups", size, counted(statements, lambda: groups.list_groups(world.actors["bo"])))


@pytest.fixture
def waiting(world):
    """Two groups on the main number with the same people: every reply from them waits for routing."""

    def make(size: int) -> None:
        for _ in range(2):
            groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, *PEOPLE[:size]),
                                allow_duplicate=True)
        from tests.services.conftest import CONTACTS

        phones = {ref: primary for ref, _, primary, *_ in CONTACTS["acme"]}
        for ref in PEOPLE[:size]:
            sms_in(phones[ref].lstrip("+"), f"which group, {ref}?", f"in-{ref}-{size}")

    return make


@pytest.mark.parametrize("size", [2, 9])
def test_list_needs_routing(world, statements, waiting, size):
    waiting(size)
    items = messages.list_needs_routing(world.actors["ada"])
    assert len(items) == size
    # Each item names its candidates itself: the page needs no list of every group to label them.
    title = groups.list_groups(world.actors["ada"])[0].title
    assert all(len(i.candidate_titles) == len(i.candidate_group_ids) == 2 for i in items)
    assert {t for i in items for t in i.candidate_titles} == {title}
    check("list_needs_routing", size,
          counted(statements, lambda: messages.list_needs_routing(world.actors["ada"])))
    check("count_needs_routing_for_others", size,
          counted(statements, lambda: messages.count_needs_routing_for_others(world.actors["ada"])))
