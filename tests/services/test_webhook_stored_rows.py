"""A webhook stores exactly what storing the event and processing it later stores (E1, E2, E6, R10):
the same messages, routing, notes, deliveries, opt-outs and change events, whether the text goes to
Other texts, waits for routing, goes to a group, is a keyword, is a part of a long text or was sent to
a number that is no business number's. The webhook's own path (`inbound.receive`) and the retry's
(`record_event`, then `process_event`) are both checked against the same rows."""

from __future__ import annotations

import json
import os

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.messaging import inbound, notify
from groupsms.models import Contact, Delivery, Group, InboundEvent, Message, OptOut, Participant
from groupsms.services import groups
from tests.services.conftest import pick

MAIN = "15125550100"


def _text(sender: str, message_id: str, text: str, to: str = MAIN, **extra: str) -> dict[str, str]:
    return {"msisdn": sender, "to": to, "messageId": message_id, "text": text, "type": "text", **extra}


def _other(world):
    return [_text("15125550199", "o-1", "Is the house still for sale?")]


def _two_groups(world):
    for _ in range(2):
        groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"),
                            allow_duplicate=True)
    return [_text("15125550111", "t-1", "Which one is this?")]


def _one_group(world):
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan", "erin"))
    return [_text("15125550112", "g-1", "See you at 5")]


def _locked_group(world):
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    with db.transaction() as s:  # Dan asks for no texts: the group is locked (R10)
        s.get(Contact, world.contacts["dan"]).dnd_sms = True
    return [_text("15125550111", "l-1", "Anyone there?")]


def _not_ours(world):
    return [_text("15125550111", "n-1", "Hello?", to="15125550999")]


def _stop(world):
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    return [_text("15125550111", "s-1", "STOP")]


def _long(world):
    part = {"concat": "true", "concat-ref": "7", "concat-total": "2"}
    return [_text("15125550199", "p-1", "Hello ", **part, **{"concat-part": "1"}),
            _text("15125550199", "p-2", "there", **part, **{"concat-part": "2"})]


def _group_on_another_number(world):
    groups.create_group(world.actors["dana"], world.numbers["dana_line"], pick(world, "carla", "dan"))
    return [_text("15125550111", "a-1", "Hi, it's Carla")]  # to the main number: no group of hers there


def _stored_already(world):
    with db.transaction() as s:  # a message already holds the text's reference
        s.add(Message(location_id=world.locations["acme"], business_number_id=world.numbers["main"],
                      direction="inbound", body="the first copy", from_e164="+15125550199", provider_ref="x-1",
                      status="none", routing="unrouted"))
    return [_text("15125550199", "x-1", "the second copy")]


SCENARIOS = {"other texts": _other, "group on another number": _group_on_another_number,
             "stored already": _stored_already, "needs routing": _two_groups, "one group": _one_group,
             "locked group": _locked_group, "not a business number": _not_ours, "stop": _stop,
             "long text": _long}

MESSAGE_COLUMNS = ("location_id", "group_id", "business_number_id", "direction", "routing", "body",
                   "sender_user_id", "sender_participant_id", "from_e164", "sms_text", "status", "provider_ref",
                   "client_key", "incomplete", "notice", "kind", "dismissed_at")


def _stored(world, changes: list) -> dict:
    """What the texts left in the database and told the app, with ids named (the world's by their
    ref, groups g0, g1 by age, messages m0, m1 by age, participants by their number)."""
    with db.transaction() as s:
        messages = s.exec(select(Message).order_by(Message.id)).all()
        group_ids = s.exec(select(Group.id).order_by(Group.id)).all()
        names = {("location_id", v): k for k, v in world.locations.items()}
        names |= {("business_number_id", v): k for k, v in world.numbers.items()}
        names |= {("group_id", g): f"g{i}" for i, g in enumerate(group_ids)}
        names |= {("message_id", m.id): f"m{i}" for i, m in enumerate(messages)}
        names |= {("sender_participant_id", p.id): f"{p.e164} in g{group_ids.index(p.group_id)}"
                  for p in s.exec(select(Participant)).all()}

        def named(column: str, value: object) -> object:
            return names.get((column, value), value)

        return {
            "messages": [{c: named(c, getattr(m, c)) for c in MESSAGE_COLUMNS} for m in messages],
            "events": [(e.kind, e.provider_message_id, e.concat_key, e.payload, e.processed_at is not None,
                        e.error, e.attempts, e.next_attempt_at, e.gave_up_at,
                        named("message_id", e.consumed_by_message_id)) for e in
                       s.exec(select(InboundEvent).order_by(InboundEvent.id)).all()],
            "deliveries": sorted((named("message_id", d.message_id), d.to_e164, d.status)
                                 for d in s.exec(select(Delivery)).all()),
            "opt_outs": [(o.e164, o.keyword, o.via, o.active, named("message_id", o.confirmation_message_id))
                         for o in s.exec(select(OptOut)).all()],
            "changes": [(type(c).__name__, {k: _named_change(named, k, v) for k, v in vars(c).items()})
                        for c in changes],
        }


def _named_change(named, key: str, value: object) -> object:  # noqa: ANN001
    if key == "groups":
        return tuple(named("group_id", g) for g in value)
    if key == "reason":
        return value.split(" on ")[0]  # "...: Opted out by text on <today>"
    return named(key, value)


def _run(world, scenario: str, via: str) -> tuple[list[dict[str, str]], dict]:
    texts = SCENARIOS[scenario](world)
    changes: list = []
    unsubscribe = notify.subscribe(changes.append)
    try:
        for params in texts:
            if via == "webhook":
                assert inbound.receive("inbound", params)[1]
            else:
                event_id, new = inbound.record_event("inbound", params)
                assert new
                inbound.process_event(event_id)
    finally:
        unsubscribe()
    return texts, _stored(world, changes)


@pytest.mark.parametrize("via", ["webhook", "stored then processed"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_webhook_stores_what_processing_the_stored_event_stores(world, scenario, via):
    texts, stored = _run(world, scenario, via)
    if os.environ.get("SHOW_STORED"):
        print(f"\n{scenario!r}: {stored!r},")
    assert stored == _expected(scenario, texts)


def _message(**fields: object) -> dict:
    """A stored message's columns: an inbound text kept in Other texts unless `fields` say otherwise."""
    return {**dict.fromkeys(MESSAGE_COLUMNS), "location_id": "acme", "business_number_id": "main",
            "direction": "inbound", "routing": "unrouted", "status": "none", "incomplete": False, "kind": "text",
            **fields}


def _expected(scenario: str, texts: list[dict[str, str]]) -> dict:
    """EXPECTED[scenario], with each text's event as stored: its raw payload, processed, never retried,
    and the note, long-text key and joined message EXPECTED gives it."""
    expected = dict(EXPECTED[scenario])
    events = expected["events"]
    assert sorted(events) == sorted(t["messageId"] for t in texts)
    expected["events"] = [
        ("inbound", t["messageId"], events[t["messageId"]].get("concat_key"), json.dumps(t, sort_keys=True), True,
         events[t["messageId"]].get("error"), 0, None, None, events[t["messageId"]].get("consumed_by"))
        for t in texts]
    return expected


# What the texts store, by either path (the long text: its two parts, one message); each text's event
# row is built by `_expected` from the text, with what is given here for it.
EXPECTED = {
    'group on another number': {
        'messages': [_message(body="Hi, it's Carla", from_e164='+15125550111', provider_ref='a-1')],
        'events': {'a-1': {}},
        'deliveries': [],
        'opt_outs': [],
        'changes': [('RoutingChanged', {'location_id': 'acme', 'message_id': 'm0', 'state': 'unrouted'})],
    },
    'stored already': {
        'messages': [_message(body='the first copy', from_e164='+15125550199', provider_ref='x-1')],
        'events': {'x-1': {}},
        'deliveries': [],
        'opt_outs': [],
        'changes': [],
    },
    'other texts': {
        'messages': [_message(body='Is the house still for sale?', from_e164='+15125550199',
                provider_ref='o-1')],
        'events': {'o-1': {}},
        'deliveries': [],
        'opt_outs': [],
        'changes': [('RoutingChanged', {'location_id': 'acme', 'message_id': 'm0', 'state': 'unrouted'})],
    },
    'needs routing': {
        'messages': [_message(routing='needs_routing', body='Which one is this?', from_e164='+15125550111',
                provider_ref='t-1')],
        'events': {'t-1': {}},
        'deliveries': [],
        'opt_outs': [],
        'changes': [('RoutingChanged', {'location_id': 'acme', 'message_id': 'm0', 'state': 'needs_routing'})],
    },
    'one group': {
        'messages': [_message(group_id='g0', routing='routed', body='See you at 5',
                sender_participant_id='+15125550112 in g0', from_e164='+15125550112',
                sms_text='Dan: See you at 5', status='queued', provider_ref='g-1')],
        'events': {'g-1': {}},
        'deliveries': [('m0', '+15125550111', 'queued'), ('m0', '+15125550113', 'queued')],
        'opt_outs': [],
        'changes': [('MessageAdded', {'location_id': 'acme', 'group_id': 'g0', 'message_id': 'm0',
                'inbound': True})],
    },
    'locked group': {
        'messages': [_message(group_id='g0', routing='routed', body='Anyone there?',
                sender_participant_id='+15125550111 in g0', from_e164='+15125550111', provider_ref='l-1')],
        'events': {'l-1': {}},
        'deliveries': [],
        'opt_outs': [],
        'changes': [('MessageAdded', {'location_id': 'acme', 'group_id': 'g0', 'message_id': 'm0',
                'inbound': True})],
    },
    'not a business number': {
        'messages': [],
        'events': {'n-1': {'error': 'Not a business number of any location'}},
        'deliveries': [],
        'opt_outs': [],
        'changes': [],
    },
    'stop': {
        'messages': [_message(group_id='g0', routing='routed', body='STOP',
                sender_participant_id='+15125550111 in g0', from_e164='+15125550111', provider_ref='s-1',
                notice='Opt-out: not relayed'),
                     _message(direction='outbound', routing='system',
                             body='Acme Realty: you are unsubscribed and will receive no more messages from this number. '
                                  'Reply START to resubscribe.', from_e164=None, status='queued', provider_ref=None)],
        'events': {'s-1': {}},
        'deliveries': [('m1', '+15125550111', 'queued')],
        'opt_outs': [('+15125550111', 'STOP', 'text', True, 'm1')],
        'changes': [('GroupLocked', {'location_id': 'acme', 'group_id': 'g0',
                'reason': 'Carla Client: Opted out by text'}), ('OptOutChanged', {'location_id': 'acme',
                'number': '+15125550111', 'business_number_id': 'main', 'opted_out': True, 'groups': ('g0',)}),
                ('MessageAdded', {'location_id': 'acme', 'group_id': 'g0', 'message_id': 'm0',
                'inbound': True})],
    },
    'long text': {
        'messages': [_message(body='Hello there', from_e164='+15125550199',
                provider_ref='concat:15125550199:15125550100:7:1')],
        'events': {'p-1': {'concat_key': '15125550199:15125550100:7', 'consumed_by': 'm0'},
                'p-2': {'concat_key': '15125550199:15125550100:7', 'consumed_by': 'm0'}},
        'deliveries': [],
        'opt_outs': [],
        'changes': [('RoutingChanged', {'location_id': 'acme', 'message_id': 'm0', 'state': 'unrouted'})],
    },
}
