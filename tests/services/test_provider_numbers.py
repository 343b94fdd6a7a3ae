"""Numbers come from the provider account and are given to locations by the install owner (R1, R12, R14).

A location admin labels, defaults and assigns the numbers their location was given; no service
function or page handler lets them bring in a number of their own, and nothing they can call tells
them which numbers another location has.
"""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from groupsms import db
from groupsms.errors import NotFound, ValidationError
from groupsms.messaging.numbers import OwnedNumber, SimulatorNumbers, VonageNumbers
from groupsms.models import AuditEvent, BusinessNumber, ProviderNumber
from groupsms.simulator import Simulator
from groupsms.simulator.numbers_api import STANDARD_NUMBERS
from groupsms.simulator.numbers_api import inventory as simulator_inventory
from groupsms.services import inventory, numbers

UNOWNED = "+15125550177"


def count(model) -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def stored() -> dict[str, tuple[str, str, bool]]:
    with db.transaction() as s:
        return {p.e164: (p.source, p.country, p.sms_capable) for p in s.exec(select(ProviderNumber))}


class FakeNumbers:
    """A fake of the ProviderNumbers port."""

    source = "vonage"

    def __init__(self, *owned: OwnedNumber) -> None:
        self.owned = list(owned)

    def owned_numbers(self) -> list[OwnedNumber]:
        return list(self.owned)


def _admin_calls(world, number_id):
    ada = world.actors["ada"]
    return {
        "set_number_label": lambda: numbers.set_number_label(ada, number_id, "Mine now"),
        "set_default_number": lambda: numbers.set_default_number(ada, number_id),
        "assign_number": lambda: numbers.assign_number(ada, number_id, [world.users["bo"]]),
    }


def test_location_admin_cannot_claim_unprovisioned_number(world):
    # No admin-facing service function takes a phone number: admins act on the numbers they were given.
    for name, fn in inspect.getmembers(numbers, inspect.isfunction):
        if fn.__module__ == numbers.__name__ and not name.startswith("_"):
            params = set(inspect.signature(fn).parameters)
            assert not params & {"e164", "number", "phone"}, f"numbers.{name} takes a phone number"
    assert not hasattr(numbers, "create_number")
    # Passing a number where an id goes finds nothing, and writes nothing.
    before = count(BusinessNumber), count(ProviderNumber)
    for name, call in _admin_calls(world, UNOWNED).items():
        with pytest.raises(NotFound, match="Number not found"):
            call()
    assert (count(BusinessNumber), count(ProviderNumber)) == before
    # The Numbers page offers only labelling, the default and assigning.
    from groupsms.pages.numbers import NumbersState

    handlers = set(NumbersState.event_handlers) - {"setvar"}
    assert handlers == {"load", "open_label", "close_label", "save_label", "make_default", "open_assign",
                        "close_assign", "save_assign"}
    # The install owner's way in refuses a number the provider account does not own.
    with pytest.raises(ValidationError, match="not a number of the provider account"):
        inventory.give_to_location(UNOWNED, "acme")
    assert (count(BusinessNumber), count(ProviderNumber)) == before


def test_number_in_other_location_not_revealed(world):
    birch_number = world.numbers["birch_main"]
    for name, call in _admin_calls(world, birch_number).items():
        with pytest.raises(NotFound) as other:
            call()
        missing_call = _admin_calls(world, 987_654)[name]
        with pytest.raises(NotFound) as missing:
            missing_call()
        assert str(other.value) == str(missing.value) == "Number not found", name
    ada = world.actors["ada"]
    assert birch_number not in {n.id for n in numbers.list_numbers(ada)}
    assert "+17375550100" not in {n.e164 for n in numbers.list_numbers(ada)}
    with db.transaction() as s:  # nothing of birch's changed
        row = s.get(BusinessNumber, birch_number)
        assert (row.label, row.is_default) == ("Birch main", True)


@pytest.mark.parametrize("provider", ["fake", "simulator over https"])
def test_numbers_sync_stores_provider_numbers(world, provider):
    if provider == "fake":
        fake = FakeNumbers(OwnedNumber("+15125550150", "US", True), OwnedNumber("+14165550150", "CA", True),
                           OwnedNumber("+15125550151", "US", False))
        report = inventory.sync(fake)
        expected = {"+15125550150": ("vonage", "US", True), "+14165550150": ("vonage", "CA", True),
                    "+15125550151": ("vonage", "US", False)}
    else:
        with Simulator("numbers-key", "numbers-secret", None) as sim:
            simulator_inventory(sim).add("+15125550150")
            simulator_inventory(sim).add("+15125550151", ("VOICE",))  # no SMS feature
            https = VonageNumbers(sim.api_key, sim.api_secret, sim.rest_host, sim.ca_bundle_path)
            report = inventory.sync(https)
        expected = {e164: ("vonage", "CA" if e164.startswith("+1416") else "US", True)
                    for e164 in STANDARD_NUMBERS}
        expected |= {"+15125550150": ("vonage", "US", True), "+15125550151": ("vonage", "US", False)}
    assert stored() == expected
    assert sorted(report.added) == sorted(expected)
    # A second sync: the number the account gave up is forgotten, the others are unchanged.
    gone = "+15125550150"
    again = inventory.sync(FakeNumbers(*(OwnedNumber(e, c, sms) for e, (_, c, sms) in expected.items()
                                         if e != gone)))
    assert (again.added, again.removed, again.unchanged) == ([], [gone], len(expected) - 1)
    assert gone not in stored()
    # The R1 check at the door: a non-SMS number cannot be given to a location.
    with pytest.raises(ValidationError, match="cannot send SMS"):
        inventory.give_to_location("+15125550151", "acme")
    with db.transaction() as s:
        actions = [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.object_type == "provider_number"))]
    assert actions == ["numbers.synced", "numbers.synced"]


def test_numbers_sync_keeps_what_the_simulator_was_given(world):
    inventory.give_to_location("+15125550160", "acme", provision=True)  # acquired by the simulator
    with db.transaction() as s:
        provisioned = inventory.simulator_provisioned(s)
    assert provisioned == ["+15125550160"]
    report = inventory.sync(SimulatorNumbers(provisioned))
    assert report.removed == [] and "+15125550160" in stored()
    assert set(STANDARD_NUMBERS) <= set(stored())


def test_numbers_sync_reports_a_number_still_given_to_a_location(world):
    inventory.sync(FakeNumbers(OwnedNumber("+15125550100", "US", True)))  # acme's main
    report = inventory.sync(FakeNumbers())
    assert report.still_given == [("+15125550100", "acme")]


def test_owner_assigns_number_to_location(world):
    inventory.sync(FakeNumbers(OwnedNumber("+15125550150", "US", True), OwnedNumber("+15125550152", "US", True)))
    nid = inventory.give_to_location("(512) 555-0150", "acme", label="Open house", default=True)
    ada, zed = world.actors["ada"], world.actors["zed"]
    views = {n.id: n for n in numbers.list_numbers(ada)}
    assert (views[nid].e164, views[nid].label, views[nid].is_default) == ("+15125550150", "Open house", True)
    assert [n.id for n in numbers.list_numbers(ada) if n.is_default] == [nid]
    assert nid not in {n.id for n in numbers.list_numbers(zed)}
    # Admins then manage it like any number of theirs.
    numbers.assign_number(ada, nid, [world.users["dana"]])
    numbers.set_number_label(ada, nid, "Dana's open house")
    # The owner is told plainly what is refused.
    with pytest.raises(ValidationError, match='already given to location "acme"'):
        inventory.give_to_location("+15125550150", "birch")
    with pytest.raises(ValidationError, match='No location "nowhere"'):
        inventory.give_to_location("+15125550152", "nowhere")
    # Taken back: gone from the location (and its user assignments), still in the inventory.
    assert inventory.take_from_location("+15125550150") == "acme"
    assert nid not in {n.id for n in numbers.list_numbers(ada)}
    assert "+15125550150" in stored()
    with pytest.raises(ValidationError, match="not given to any location"):
        inventory.take_from_location("+15125550150")
    # Then it may go to another location.
    other = inventory.give_to_location("+15125550150", "birch")
    assert other in {n.id for n in numbers.list_numbers(zed)}


def test_owner_cannot_take_back_a_number_a_group_uses(world):
    from groupsms.services import groups

    carla, dan = world.contacts["carla"], world.contacts["dan"]
    groups.create_group(world.actors["ada"], world.numbers["spare"], [(carla, "primary"), (dan, "primary")])
    with pytest.raises(ValidationError, match='used by 1 group of location "acme"'):
        inventory.take_from_location("+15125550102")
    with Session(db.engine()) as s:
        assert s.get(BusinessNumber, world.numbers["spare"]) is not None
