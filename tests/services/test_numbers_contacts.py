"""Business numbers (R1, R12) and contacts (R3, R6, R11, E9) through the services."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from groupsms import db
from groupsms.errors import Forbidden, NotFound, ValidationError
from groupsms.models import AuditEvent, BusinessNumber, Contact
from groupsms.services import contacts, groups, inventory, numbers


def count(model) -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def defaults(actor) -> list[int]:
    return [n.id for n in numbers.list_numbers(actor) if n.is_default]


# -- numbers --------------------------------------------------------------------------------------

def give(e164: str, location: str = "acme", **kwargs) -> int:
    """The install owner gives a number to a location (simulator mode: the account acquires it)."""
    return inventory.give_to_location(e164, location, provision=True, **kwargs)


def test_r1_owner_gives_a_us_number_in_any_format(world):
    nid = give("(512) 555-0150", label="Sales")
    view = {n.id: n for n in numbers.list_numbers(world.actors["ada"])}[nid]
    assert (view.e164, view.display, view.label, view.is_default, view.assigned_user_ids) == (
        "+15125550150", "(512) 555-0150", "Sales", False, ())
    assert nid in {n.id for n in groups.picker_numbers(world.actors["bo"])}  # unassigned: everyone's


def test_r1_owner_gives_a_canadian_number_with_a_default_label(world):
    nid = give("+1 604 555 0150")
    view = {n.id: n for n in numbers.list_numbers(world.actors["ada"])}[nid]
    assert (view.e164, view.label) == ("+16045550150", "(604) 555-0150")


@pytest.mark.parametrize("raw, words", [
    ("+442071234567", "US or Canada"),
    ("+18765550100", "US or Canada"),  # Jamaica shares +1
    ("+15555550100", "not a valid phone number"),
    ("512 555 0150 ext. 12", "extension"),
    ("hello", "not a phone number"),
    (None, "text"),
    (5125550150, "text"),
])
def test_r1_giving_a_number_refusals_are_readable(world, raw, words):
    before = count(BusinessNumber)
    with pytest.raises(ValidationError) as info:
        give(raw)
    assert words in str(info.value)
    assert info.value.errors[0].field == "number"
    assert count(BusinessNumber) == before


def test_r1_a_number_given_to_a_location_is_not_given_to_another(world):
    with pytest.raises(ValidationError, match='already given to location "acme"'):
        give("512-555-0100", "birch")
    assert give("512-555-0100", "acme") == world.numbers["main"]  # again to its location: nothing new
    assert count(BusinessNumber) == 5


def test_r12_admin_renames_a_number(world):
    ada = world.actors["ada"]
    numbers.set_number_label(ada, world.numbers["spare"], "  Open   house ")
    numbers.set_number_label(ada, world.numbers["toronto"], "")
    labels = {n.id: n.label for n in numbers.list_numbers(ada)}
    assert (labels[world.numbers["spare"]], labels[world.numbers["toronto"]]) == ("Open house", "(416) 555-0100")
    with pytest.raises(ValidationError):
        numbers.set_number_label(ada, world.numbers["spare"], "x" * 101)


@pytest.mark.parametrize("who", ["dana", "bo"])
def test_r12_only_admins_manage_numbers(world, who):
    actor = world.actors[who]
    with pytest.raises(Forbidden):
        numbers.set_number_label(actor, world.numbers["spare"], "Mine now")
    with pytest.raises(Forbidden):
        numbers.set_default_number(actor, world.numbers["spare"])
    with pytest.raises(Forbidden):
        numbers.assign_number(actor, world.numbers["spare"], [world.users[who]])
    assert defaults(world.actors["ada"]) == [world.numbers["main"]]
    assert {n.id: n.assigned_user_ids for n in numbers.list_numbers(world.actors["ada"])}[
        world.numbers["spare"]] == ()


def test_r12_there_is_one_default_number(world):
    ada = world.actors["ada"]
    numbers.set_default_number(ada, world.numbers["toronto"])
    assert defaults(ada) == [world.numbers["toronto"]]
    nid = give("+15125550150", label="New default", default=True)
    assert defaults(ada) == [nid]
    assert groups.picker_numbers(world.actors["bo"])[0].id == nid
    with db.transaction() as s:  # birch keeps its own default
        assert s.get(BusinessNumber, world.numbers["birch_main"]).is_default


def test_r12_assign_number_replaces_the_assignees(world):
    ada, n, u = world.actors["ada"], world.numbers, world.users
    numbers.assign_number(ada, n["spare"], [u["bo"], u["dana"], u["bo"]])
    def assigned():
        return {v.id: v.assigned_user_ids for v in numbers.list_numbers(ada)}[n["spare"]]
    assert assigned() == tuple(sorted([u["bo"], u["dana"]]))
    numbers.assign_number(ada, n["spare"], (str(u["dana"]),))
    assert assigned() == (u["dana"],)
    assert n["spare"] not in {v.id for v in numbers.list_numbers(world.actors["bo"])}
    numbers.assign_number(ada, n["spare"], [])
    assert assigned() == ()
    assert n["spare"] in {v.id for v in numbers.list_numbers(world.actors["bo"])}


@pytest.mark.parametrize("user_ids", [None, "5", 5, {"a": 1}])
def test_r12_assign_number_needs_a_list(world, user_ids):
    with pytest.raises(ValidationError):
        numbers.assign_number(world.actors["ada"], world.numbers["spare"], user_ids)


def test_r12_assign_number_with_an_unknown_user_changes_nothing(world):
    ada = world.actors["ada"]
    with pytest.raises(NotFound):
        numbers.assign_number(ada, world.numbers["main"], [world.users["dana"], 987_654])
    assert {v.id: v.assigned_user_ids for v in numbers.list_numbers(ada)}[world.numbers["main"]] == (
        world.users["ada"],)


def test_r12_number_changes_are_audited(world):
    ada = world.actors["ada"]
    nid = give("+15125550150")
    numbers.set_default_number(ada, nid)
    numbers.set_default_number(ada, nid)  # no change, no event
    numbers.set_number_label(ada, nid, "Sales")
    with db.transaction() as s:
        events = [(e.action, e.actor_user_id, e.object_id) for e in s.exec(
            select(AuditEvent).where(AuditEvent.object_type == "business_number").order_by(AuditEvent.id))]
    assert events == [("number.given", None, nid),  # by the install owner
                      ("number.default_set", world.users["ada"], nid),
                      ("number.labelled", world.users["ada"], nid)]


# -- contacts -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"primary_phone": "not a phone"}, "primary phone"),
    ({"primary_phone": "+15555550100"}, "primary phone"),
    ({"primary_phone": ""}, "primary phone"),
    ({"primary_phone": None}, "primary phone"),
    ({"primary_phone": 5125550141}, "primary phone"),
    ({"primary_phone": "512-555-0141 x7"}, "primary phone"),
    ({"secondary_phone": "nope"}, "secondary phone"),
    ({"secondary_phone": "(512) 555-0141"}, "secondary phone"),  # the same as the primary
    ({"name": "   "}, "name"),
    ({"name": None}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"dnd": "yes"}, "DND"),
])
def test_e9_create_contact_validates_and_names_the_field(world, kwargs, field):
    args = {"name": "Rae Renter", "primary_phone": "+15125550141", **kwargs}
    before = count(Contact)
    with pytest.raises(ValidationError) as info:
        contacts.create_contact(world.actors["ada"], **args)
    assert info.value.errors[0].field == field
    assert str(info.value).lower().startswith(field.lower())
    assert count(Contact) == before


def test_e9_create_contact_normalizes_numbers_and_name(world):
    cid = contacts.create_contact(world.actors["ada"], "  Rae   Renter ", "(512) 555-0141",
                                  "+44 20 7123 4567")
    view = contacts.get_contact(world.actors["ada"], cid)
    assert (view.name, view.primary_phone, view.primary_display, view.secondary_phone) == (
        "Rae Renter", "+15125550141", "(512) 555-0141", "+442071234567")
    assert (view.primary_is_us_ca, view.secondary_is_us_ca, view.dnd, view.deleted) == (
        True, False, False, False)
    options = {o.which: o.disabled_reason for o in groups.picker_contacts(world.actors["ada"], search="Rae")}
    assert options == {"primary": None, "secondary": "Not a US/Canada number"}  # R3: shown, disabled


def test_r11_assigned_users_contacts_are_assigned_to_them(world):
    cid = contacts.create_contact(world.actors["bo"], "Rae Renter", "+15125550141")
    assert contacts.get_contact(world.actors["bo"], cid).assigned_user_id == world.users["bo"]
    assert cid in {c.id for c in contacts.list_contacts(world.actors["bo"])}
    explicit = contacts.create_contact(world.actors["bo"], "Sam Seller", "+15125550142",
                                       assigned_user_id=world.users["bo"])
    assert contacts.get_contact(world.actors["bo"], explicit).assigned_user_id == world.users["bo"]


def test_r11_full_access_users_contacts_are_unassigned_unless_said(world):
    cid = contacts.create_contact(world.actors["dana"], "Rae Renter", "+15125550141")
    assert contacts.get_contact(world.actors["dana"], cid).assigned_user_id is None
    cid = contacts.create_contact(world.actors["dana"], "Sam Seller", "+15125550142",
                                  assigned_user_id=world.users["bo"])
    assert contacts.get_contact(world.actors["bo"], cid).assigned_user_id == world.users["bo"]


@pytest.mark.parametrize("assignee", ["dana", "ada", None])
def test_r11_assigned_user_cannot_assign_to_someone_else(world, assignee):
    bo = world.actors["bo"]
    target = world.users[assignee] if assignee else None
    before = count(Contact)
    with pytest.raises(ValidationError) as info:
        contacts.create_contact(bo, "Rae Renter", "+15125550141", assigned_user_id=target)
    assert info.value.errors[0].field == "assigned user"
    assert count(Contact) == before
    with pytest.raises(ValidationError):
        contacts.update_contact(bo, world.contacts["carla"], assigned_user_id=target)
    carla = contacts.get_contact(world.actors["ada"], world.contacts["carla"])
    assert carla.assigned_user_id == world.users["bo"]


@pytest.mark.parametrize("other", ["gus", "hal", "pia"])
def test_r11_assigned_user_cannot_read_or_edit_others_contacts(world, other):
    bo, cid = world.actors["bo"], world.contacts[other]
    for call in (
        lambda: contacts.get_contact(bo, cid),
        lambda: contacts.update_contact(bo, cid, name="Mine now"),
        lambda: contacts.update_contact(bo, cid, assigned_user_id=world.users["bo"]),
        lambda: contacts.set_contact_dnd(bo, cid, True),
    ):
        with pytest.raises(NotFound, match="^Contact not found$"):
            call()


def test_r11_assigned_user_lists_only_his_contacts(world):
    names = {c.name for c in contacts.list_contacts(world.actors["bo"])}
    assert "Carla Client" in names and not names & {"Gus Inspector", "Hal Title", "Pia Birch"}
    assert len(contacts.list_contacts(world.actors["dana"], limit=500)) == 13


FORMATS = ["(512) 555-0111", "5125550111", "+1 512-555-0111", "+15125550111", "1 512 555 0111",
           "512.555.0111"]


@pytest.mark.parametrize("text", FORMATS)
def test_r6_contact_search_ignores_number_formatting(world, text):
    for who in ("ada", "bo"):
        assert [c.name for c in contacts.list_contacts(world.actors[who], search=text)] == ["Carla Client"]
        found = {(o.name, o.which) for o in groups.picker_contacts(world.actors[who], search=text)}
        assert found == {("Carla Client", "primary"), ("Carla Client", "secondary")}


def test_r6_contact_search_finds_secondary_numbers_and_names(world):
    ada = world.actors["ada"]
    assert [c.name for c in contacts.list_contacts(ada, search="(512) 555-0121")] == ["Carla Client"]
    assert [c.name for c in contacts.list_contacts(ada, search="carla")] == ["Carla Client"]
    assert [c.name for c in contacts.list_contacts(ada, search="CLIENT")] == ["Carla Client"]
    assert contacts.list_contacts(ada, search="(512) 555-0199") == []
    assert {c.name for c in contacts.list_contacts(ada, search="416 555")} == {"Kim Toronto"}


@pytest.mark.parametrize("text", ["%", "_", "C_rla"])
def test_r6_contact_search_treats_wildcards_as_text(world, text):
    assert contacts.list_contacts(world.actors["ada"], search=text) == []


@pytest.mark.parametrize("search, limit", [
    (123, None), (["x"], None), (None, 0), (None, -1), (None, "10"), (None, True),
])
def test_e9_list_contacts_refuses_bad_arguments(world, search, limit):
    with pytest.raises(ValidationError):
        contacts.list_contacts(world.actors["ada"], search=search, limit=limit)


def test_e9_update_contact_changes_only_what_is_given(world):
    ada, carla = world.actors["ada"], world.contacts["carla"]
    contacts.update_contact(ada, carla, secondary_phone="")  # cleared
    view = contacts.get_contact(ada, carla)
    assert (view.name, view.primary_phone, view.secondary_phone) == ("Carla Client", "+15125550111", None)
    with pytest.raises(ValidationError) as info:
        contacts.update_contact(ada, carla, primary_phone=None)
    assert info.value.errors[0].field == "primary phone"
    with pytest.raises(ValidationError):  # the secondary would equal the primary
        contacts.update_contact(ada, world.contacts["carla"], secondary_phone="+15125550111")
    assert contacts.get_contact(ada, carla).secondary_phone is None
    events = _events("contact.updated")
    assert [(e.actor_user_id, e.object_id) for e in events] == [(world.users["ada"], carla)]


def test_e9_deleted_contact_is_hidden_but_readable_and_frozen(world):
    ada, hal = world.actors["ada"], world.contacts["hal"]
    contacts.delete_contact(ada, hal)
    assert "Hal Title" not in {c.name for c in contacts.list_contacts(ada)}
    assert "Hal Title" in {c.name for c in contacts.list_contacts(ada, include_deleted=True)}
    assert contacts.get_contact(ada, hal).deleted
    assert not groups.picker_contacts(ada, search="Hal")
    for call in (
        lambda: contacts.update_contact(ada, hal, name="Back"),
        lambda: contacts.delete_contact(ada, hal),
        lambda: contacts.set_contact_dnd(ada, hal, True),
        lambda: groups.create_group(ada, world.numbers["main"],
                                    [(hal, "primary"), (world.contacts["dan"], "primary")]),
    ):
        with pytest.raises(NotFound):
            call()
    assert [(e.actor_user_id, e.object_id) for e in _events("contact.deleted")] == [(world.users["ada"], hal)]


def test_e9_only_roles_with_the_permission_delete_contacts(world):
    for who in ("dana", "bo"):
        with pytest.raises(Forbidden):
            contacts.delete_contact(world.actors[who], world.contacts["carla"])
    assert not contacts.get_contact(world.actors["ada"], world.contacts["carla"]).deleted


def test_r3_contact_dnd_shows_in_the_picker_at_once(world):
    bo = world.actors["bo"]
    contacts.set_contact_dnd(bo, world.contacts["dan"], True)
    assert contacts.get_contact(bo, world.contacts["dan"]).dnd
    assert {o.disabled_reason for o in groups.picker_contacts(bo, search="Dan Buyer")} == {"DND enabled"}
    contacts.set_contact_dnd(bo, world.contacts["dan"], False)
    assert {o.disabled_reason for o in groups.picker_contacts(bo, search="Dan Buyer")} == {None}
    with pytest.raises(ValidationError):
        contacts.set_contact_dnd(bo, world.contacts["dan"], "on")


def test_r3_contact_created_with_dnd_is_ineligible(world):
    cid = contacts.create_contact(world.actors["bo"], "Quiet Quentin", "+15125550144", dnd=True)
    assert contacts.get_contact(world.actors["bo"], cid).dnd
    with pytest.raises(ValidationError) as info:
        groups.create_group(world.actors["bo"], world.numbers["main"],
                            [(cid, "primary"), (world.contacts["dan"], "primary")])
    assert "DND enabled" in str(info.value)


def _events(action: str) -> list[AuditEvent]:
    with db.transaction() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
