"""Stateful property test of messaging (E1, E2, R5, R8, R10): for any sequence of sends, replies,
STOP/START/HELP, contact edits, DND, deletions, group creations, routing of ambiguous replies and
outbox drains, through the real services, inbound processing and Worker with a fake gateway:

- no SMS goes to a number that opted out (by text or by staff DND) but the one confirmation of
  each opt-out, and nothing goes out from a locked group;
- no opt-out text is relayed, nor an opt-in of an opted-out number;
- an ambiguous reply (the sender is in several active groups on the number) is never relayed
  before a person routes it;
- every reply reaches every other participant of its group (but the sender's own contact) exactly
  once, and each (business number, recipient) pair receives its texts in the order they were made.

Short by default; GROUPSMS_LONG_TESTS=1 runs many more examples (and PostgreSQL too).
"""

from __future__ import annotations

import itertools
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from sqlmodel import Session, select

from groupsms import db
from groupsms.errors import DuplicateGroup, Forbidden
from groupsms.messaging import inbound, optout
from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.worker import Worker
from groupsms.models import BusinessNumber, Contact, Delivery, Location, Message, User
from groupsms.services import Actor, contacts, groups, messages
from tests.conftest import empty_tables

LONG = os.environ.get("GROUPSMS_LONG_TESTS") == "1"
EXAMPLES = 400 if LONG else 50
STEPS = 60 if LONG else 25

BUSINESS = {"main": "+15125550100", "spare": "+15125550101"}
CONTACT_NUMBERS = [f"+151255502{i:02d}" for i in range(6)]
SECONDARY = {0: "+15125550250", 1: "+15125550251"}  # two contacts may join with both numbers
STRANGERS = ["+15125550290", "+15125550291"]

# What each text is, in the product's words; the model decides from these, the code from its own rules.
STOP_WORDS = ["STOP", "stop all", "Opt-out", "Unsubscribe.", "\u0405\u0422\u041e\u0420", "S T O P", "qu\u200bit"]
START_WORDS = ["START", "Yes", "unstop", "Yes \U0001f44d"]
HELP_WORDS = ["HELP", "info"]

TOTALS: Counter = Counter()


@dataclass
class GroupModel:
    id: int
    number: str  # business number E.164
    participants: list[tuple[int, str]]  # (contact id, captured E.164)
    locked: bool = False


@dataclass
class ContactModel:
    id: int
    number: str  # current primary
    secondary: str | None = None
    dnd: bool = False
    deleted: bool = False


@dataclass
class Expected:
    """A group message and the numbers that must each get it once."""

    message_id: int
    group_id: int
    recipients: Counter = field(default_factory=Counter)


def _reset() -> None:
    empty_tables(db.engine())


class MessagingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        _reset()
        with Session(db.engine()) as s:
            loc = Location(ref="acme", name="Acme Realty", intro_enabled=False)  # only the sends modelled
            s.add(loc)
            s.flush()
            admin = User(location_id=loc.id, ref="ada", email="ada@acme.test", name="Ada Admin", role="admin",
                         data_access="all", password_hash="x")
            s.add(admin)
            self.number_ids = {}
            for i, (ref, e164) in enumerate(BUSINESS.items()):
                n = BusinessNumber(location_id=loc.id, ref=ref, e164=e164, label=ref, is_default=i == 0)
                s.add(n)
                s.flush()
                self.number_ids[e164] = n.id
            self.contacts: dict[int, ContactModel] = {}
            for i, e164 in enumerate(CONTACT_NUMBERS):
                c = Contact(location_id=loc.id, ref=f"c{i}", name=f"Person{i} Test", primary_phone=e164,
                            secondary_phone=SECONDARY.get(i))
                s.add(c)
                s.flush()
                self.contacts[c.id] = ContactModel(c.id, e164, SECONDARY.get(i))
            s.commit()
            self.location_id = loc.id
            self.admin = Actor.of(admin)
        self.fake = FakeGateway()
        self.worker = Worker(self.fake, rate=10_000, concurrency=2, lease_seconds=30)
        self.groups: dict[int, GroupModel] = {}
        self.opted_out: set[str] = set()  # by text, per the model
        self.opt_outs = Counter()  # new opt-outs per number: each may get one confirmation
        self.expected: dict[int, Expected] = {}
        self.waiting: list[tuple[int, str, str]] = []  # needs routing: (message id, sender, business number)
        self.seen_sends = 0
        self.ids = itertools.count(1)
        self.fresh = (f"+1512555{3000 + i:04d}" for i in itertools.count())  # for edited contacts
        self.checked_blocked: set[int] = set()  # refused deliveries, each checked when refused

    def teardown(self) -> None:
        self.worker.close()
        TOTALS["examples"] += 1

    # -- the model's reading of the rules ---------------------------------------------------------

    def staff_dnd_numbers(self) -> set[str]:
        return {n for c in self.contacts.values() if c.dnd for n in (c.number, c.secondary) if n}

    def blocked(self, e164: str) -> bool:
        return e164 in self.opted_out or e164 in self.staff_dnd_numbers()

    def active_groups_with(self, e164: str, business: str) -> list[GroupModel]:
        return [g for g in self.groups.values()
                if not g.locked and g.number == business and any(n == e164 for _, n in g.participants)]

    def lock_where(self, predicate) -> None:
        for g in self.groups.values():
            if any(predicate(cid, n) for cid, n in g.participants):
                g.locked = True

    def relay_expectation(self, message_id: int, group: GroupModel, sender: str) -> None:
        sender_contact = next(cid for cid, n in group.participants if n == sender)
        want = Counter(n for cid, n in group.participants if cid != sender_contact)
        self.expected[message_id] = Expected(message_id, group.id, want)
        self.check_deliveries(message_id)
        TOTALS["relays"] += 1

    def check_deliveries(self, message_id: int) -> None:
        with db.transaction() as s:
            got = Counter(s.exec(select(Delivery.to_e164).where(Delivery.message_id == message_id)).all())
        assert got == self.expected[message_id].recipients, (message_id, got, self.expected[message_id])

    # -- rules --------------------------------------------------------------------------------------

    @initialize()
    def first_group(self) -> None:
        first = list(self.contacts)
        self._create([(first[0], "primary"), (first[0], "secondary"), (first[1], "primary"), (first[2], "primary")],
                     BUSINESS["main"])

    def _eligible(self) -> list[tuple[int, str]]:
        out = []
        for c in self.contacts.values():
            if c.deleted or c.dnd:
                continue
            for which, e164 in (("primary", c.number), ("secondary", c.secondary)):
                if e164 and e164 not in self.opted_out:
                    out.append((c.id, which))
        return out

    def _create(self, picked: list[tuple[int, str]], business: str) -> None:
        gid = groups.create_group(self.admin, self.number_ids[business], picked, allow_duplicate=True)
        numbers = [(cid, self.contacts[cid].number if which == "primary" else self.contacts[cid].secondary)
                   for cid, which in picked]
        self.groups[gid] = GroupModel(gid, business, numbers)
        TOTALS["groups"] += 1

    @rule(data=st.data(), business=st.sampled_from(sorted(BUSINESS.values())))
    def create_group(self, data, business) -> None:
        eligible = self._eligible()
        if len(eligible) < 2:
            return
        picked = data.draw(st.lists(st.sampled_from(eligible), min_size=2, max_size=4, unique=True))
        self._create(picked, business)

    @precondition(lambda self: self.groups)
    @rule(data=st.data())
    def send(self, data) -> None:
        group = self.groups[data.draw(st.sampled_from(sorted(self.groups)))]
        body = f"Update {next(self.ids)}"
        if group.locked:
            with pytest.raises(Forbidden):
                messages.send_message(self.admin, group.id, body)
            return
        mid = messages.send_message(self.admin, group.id, body)
        self.expected[mid] = Expected(mid, group.id, Counter(n for _, n in group.participants))
        self.check_deliveries(mid)
        TOTALS["sends"] += 1

    _TEXT = dict(data=st.data(), business=st.sampled_from(sorted(BUSINESS.values())),
                 kind=st.sampled_from(["reply", "reply", "reply", "stop", "start", "help"]))

    @rule(**_TEXT)
    def text_in(self, data, business, kind) -> None:
        self._text_in(data, business, kind)

    @rule(**_TEXT)
    def another_text_in(self, data, business, kind) -> None:
        self._text_in(data, business, kind)

    def _text_in(self, data, business, kind) -> None:
        numbers = sorted({n for g in self.groups.values() for _, n in g.participants} | set(STRANGERS)
                         | {n for c in self.contacts.values() for n in (c.number, c.secondary) if n})
        sender = data.draw(st.sampled_from(numbers))
        body = {
            "reply": f"Reply {next(self.ids)}",
            "stop": data.draw(st.sampled_from(STOP_WORDS)),
            "start": data.draw(st.sampled_from(START_WORDS)),
            "help": data.draw(st.sampled_from(HELP_WORDS)),
        }[kind]
        message_id = f"in-{next(self.ids)}"
        event_id, _ = inbound.record_event("inbound", {"msisdn": sender[1:], "to": business[1:],
                                                       "messageId": message_id, "text": body})
        inbound.process_event(event_id)
        with db.transaction() as s:
            msg = s.exec(select(Message).where(Message.provider_ref == message_id)).one()
        TOTALS[f"in_{kind}"] += 1
        if kind == "stop":
            if sender not in self.opted_out:
                self.opt_outs[sender] += 1
            self.opted_out.add(sender)
            self.lock_where(lambda cid, n: n == sender)
            return self.check_not_relayed(msg)
        if kind == "start" and sender in self.opted_out:
            self.opted_out.discard(sender)  # groups stay locked (R10)
            return self.check_not_relayed(msg)
        if kind == "help":
            return self.check_not_relayed(msg)
        # An ordinary reply (a "Yes" from a number that is not opted out is one too).
        candidates = self.active_groups_with(sender, business)
        if len(candidates) == 1:
            assert msg.group_id == candidates[0].id
            self.relay_expectation(msg.id, candidates[0], sender)
        elif len(candidates) > 1:
            assert msg.routing == "needs_routing", msg
            self.waiting.append((msg.id, sender, business))
            self.check_not_relayed(msg)
        else:
            self.check_not_relayed(msg)

    def check_not_relayed(self, msg: Message) -> None:
        with db.transaction() as s:
            assert s.exec(select(Delivery.id).where(Delivery.message_id == msg.id)).first() is None, msg.body
            assert s.get(Message, msg.id).sms_text is None

    @precondition(lambda self: self.waiting)
    @rule(data=st.data())
    def route_waiting(self, data) -> None:
        mid, sender, business = self.waiting[data.draw(st.integers(0, len(self.waiting) - 1))]
        candidates = self.active_groups_with(sender, business)
        if not candidates:
            return
        group = data.draw(st.sampled_from(candidates))
        messages.assign_inbound(self.admin, mid, group.id)
        self.waiting.remove((mid, sender, business))
        self.relay_expectation(mid, group, sender)
        TOTALS["routed"] += 1

    @rule(data=st.data(), rare=st.integers(0, 2))
    def edit_contact_number(self, data, rare) -> None:
        contact = self.contacts[data.draw(st.sampled_from(sorted(self.contacts)))]
        if contact.deleted or rare:  # now and then, or nobody is left to text
            return
        contact.number = next(self.fresh)
        contacts.update_contact(self.admin, contact.id, primary_phone=contact.number)  # R8: groups keep the old one
        TOTALS["edits"] += 1

    @rule(data=st.data(), rare=st.integers(0, 2))
    def delete_contact(self, data, rare) -> None:
        contact = self.contacts[data.draw(st.sampled_from(sorted(self.contacts)))]
        if contact.deleted or rare:  # now and then, or nobody is left to text
            return
        contacts.delete_contact(self.admin, contact.id)
        contact.deleted = True
        TOTALS["deletions"] += 1

    @rule(data=st.data(), on=st.booleans(), rare=st.integers(0, 2))
    def staff_dnd(self, data, on, rare) -> None:
        contact = self.contacts[data.draw(st.sampled_from(sorted(self.contacts)))]
        if contact.deleted or rare:
            return
        contacts.set_contact_dnd(self.admin, contact.id, on)
        if on:
            self.lock_where(lambda cid, n: cid == contact.id)
        contact.dnd = on
        TOTALS["dnd"] += 1

    @rule()
    def drain_now(self) -> None:
        self.drain()

    @rule()
    def drain(self) -> None:
        while self.worker.run_once():
            pass
        sent = self.fake.sent
        new, self.seen_sends = sent[self.seen_sends:], len(sent)
        with db.transaction() as s:
            deliveries = {f"d{d.id}": d for d in s.exec(select(Delivery))}
            msgs = {m.id: m for m in s.exec(select(Message))}
        for request in new:
            d = deliveries[request.client_ref]
            if d.opt_out_confirmation:
                continue  # counted below
            # Nothing to a number that opted out (by text or DND), nothing from a locked group.
            assert not self.blocked(request.to_e164), (request.to_e164, request.text)
            m = msgs[d.message_id]
            if m.group_id is not None:
                assert not self.groups[m.group_id].locked, (m.group_id, request.text)
        TOTALS["sms"] += len(new)
        for d in deliveries.values():
            if d.status == "failed" and d.error_code == "blocked" and d.id not in self.checked_blocked:
                # Refused only because the number may not be texted or the group locked, as of now.
                m = msgs[d.message_id]
                locked = m.group_id is not None and self.groups[m.group_id].locked
                assert locked or self.blocked(d.to_e164), (d.to_e164, d.error_text)
                self.checked_blocked.add(d.id)
                TOTALS["refused"] += 1

    # -- invariants (one read of the database per step) ---------------------------------------------

    @invariant()
    def promises_hold(self) -> None:
        with db.transaction() as s:
            deliveries = list(s.exec(select(Delivery)))
            inbound_relayed = s.exec(select(Message).join(Delivery, Delivery.message_id == Message.id).where(
                Message.direction == "inbound")).all()
            # relays ("inbound"), automatic answers ("system") and typed sends ("outbound")
            kinds = {mid: "system" if routing == "system" else direction
                     for mid, direction, routing in s.exec(select(Message.id, Message.direction, Message.routing))}
        sent = Counter(r.client_ref for r in self.fake.sent)
        # Each delivery is sent at most once (the fake provider accepts every send).
        assert not [ref for ref, n in sent.items() if n > 1], "a delivery was sent twice"
        # In order per (business number, recipient): relays among themselves, typed sends among
        # themselves (relays and automatic answers may go ahead of typed sends in a backlog).
        message_of = {f"d{d.id}": d.message_id for d in deliveries}
        last: dict[tuple, int] = {}
        for r in self.fake.sent:
            mid = message_of[r.client_ref]
            lane = (r.from_e164, r.to_e164, kinds[mid])
            assert mid >= last.get(lane, 0), f"out of order on {lane}: {mid} after {last[lane]}"
            last[lane] = mid
        # One confirmation per opt-out.
        confirmations = Counter(d.to_e164 for d in deliveries if d.opt_out_confirmation)
        for number, n in confirmations.items():
            assert n <= self.opt_outs[number], (number, n, self.opt_outs[number])
        # No opt-out text relayed; nothing that waits for routing relayed.
        assert all(m.body not in STOP_WORDS for m in inbound_relayed)
        assert all(m.routing != "needs_routing" for m in inbound_relayed)
        # Every expected recipient got it once, or its delivery was refused (checked when refused).
        for d in deliveries:
            if d.message_id in self.expected and d.status != "queued":
                assert sent[f"d{d.id}"] == 1 or d.id in self.checked_blocked, (d.to_e164, d.status, d.error_text)


def test_messaging_state_machine(database_url, monkeypatch, request):
    if not database_url.startswith("sqlite") and not LONG:
        pytest.skip("PostgreSQL runs with GROUPSMS_LONG_TESTS=1")
    request.getfixturevalue("clean_db")  # the last example's rows are emptied after the test
    # The relay limit is an anti-loop brake with its own tests; here it would hold legitimate bursts.
    monkeypatch.setenv("GROUPSMS_RELAY_LIMIT_PER_MINUTE", "100000")
    TOTALS.clear()
    run_state_machine_as_test(MessagingMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
    with request.getfixturevalue("capsys").disabled():  # the figures show in a plain `make test` run
        print(f"\n[property] messaging state machine: {dict(sorted(TOTALS.items()))}")
    assert TOTALS["examples"] >= 1 and TOTALS["relays"] > 0
