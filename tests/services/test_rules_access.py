"""Who sees and does what with groups: data access (R11), number access (R12), send access (R13),
tenancy (R14) and the audit trail (E8). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlmodel import select

from groupsms import db
from groupsms.errors import Forbidden, NotFound, ValidationError
from groupsms.models import AuditEvent, BusinessNumber, Group, User
from groupsms.services import contacts, groups, numbers, policy, users
from tests.services.conftest import pick


def count(model) -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def block_reason(detail) -> str | None:
    return detail.send_block_reason  # a public field (it was once renamed `_send_block_reason`)


def visible(actor) -> set[int]:
    return {g.id for g in groups.list_groups(actor)}


# -- R11 data access ------------------------------------------------------------------------------

def test_r11_assigned_user_sees_only_groups_of_his_contacts(world):
    ada, bo = world.actors["ada"], world.actors["bo"]
    mine = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan"))
    mixed = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "gus"))
    unassigned = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "hal"))
    assert visible(bo) == {mine}
    assert groups.get_group(bo, mine).id == mine
    for gid in (mixed, unassigned):
        with pytest.raises(NotFound) as info:
            groups.get_group(bo, gid)
        assert str(info.value) == "Group not found"
        with pytest.raises(NotFound):
            groups.search_participants(bo, gid, "carla")
    assert visible(world.actors["dana"]) == {mine, mixed, unassigned}
    assert visible(ada) == {mine, mixed, unassigned}


def test_r11_assigned_user_search_does_not_reveal_hidden_groups(world):
    groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "gus"))
    assert groups.list_groups(world.actors["bo"], search="Gus") == []
    assert groups.list_groups(world.actors["bo"], search="Carla") == []


def test_r11_assigned_user_picker_has_only_his_contacts(world):
    names = {o.name for o in groups.picker_contacts(world.actors["bo"], limit=200)}
    assert names == {"Carla Client", "Dan Buyer", "Erin Seller", "Fay Lender", "Ivy Optout",
                     "Jon London", "Kim Toronto", "Lea Lawyer", "Max Mover", "Ned Neighbor", "Ola Owner"}
    assert groups.picker_contacts(world.actors["bo"], search="Hal") == []
    assert groups.picker_contacts(world.actors["bo"], search="5125550115") == []  # Gus's number
    dana_names = {o.name for o in groups.picker_contacts(world.actors["dana"], limit=200)}
    assert {"Gus Inspector", "Hal Title"} <= dana_names
    assert "Pia Birch" not in dana_names


@pytest.mark.parametrize("other", ["hal", "gus", "pia"])
def test_r11_assigned_user_cannot_create_with_someone_elses_contact(world, other):
    before = count(Group)
    with pytest.raises(NotFound) as info:
        groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", other))
    assert str(info.value) == "Contact not found"
    with pytest.raises(NotFound):
        groups.preview_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", other))
    assert count(Group) == before


def test_r11_full_access_user_sees_and_creates_with_any_contact(world):
    gid = groups.create_group(world.actors["dana"], world.numbers["main"], pick(world, "gus", "hal", "carla"))
    assert gid in visible(world.actors["dana"])
    assert gid not in visible(world.actors["bo"])


def test_r11_reassigning_a_contact_away_hides_the_group(world):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    assert gid in visible(world.actors["bo"])
    contacts.update_contact(world.actors["ada"], world.contacts["dan"], assigned_user_id=world.users["dana"])
    assert gid not in visible(world.actors["bo"])
    with pytest.raises(NotFound):
        groups.get_group(world.actors["bo"], gid)
    contacts.update_contact(world.actors["ada"], world.contacts["dan"], assigned_user_id=world.users["bo"])
    assert gid in visible(world.actors["bo"])


def test_r11_data_access_change_applies_at_once(world):
    mixed = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "gus"))
    users.set_user_data_access(world.actors["ada"], world.users["bo"], "all")
    assert mixed in visible(world.actors["bo"])  # the same Actor object: services reload the user
    users.set_user_data_access(world.actors["ada"], world.users["bo"], "assigned")
    assert mixed not in visible(world.actors["bo"])


# -- R12 number access ----------------------------------------------------------------------------

def _numbers(actor) -> tuple[set[int], set[int]]:
    return {n.id for n in numbers.list_numbers(actor)}, {n.id for n in groups.picker_numbers(actor)}


def test_r12_user_numbers_are_default_own_and_unassigned(world):
    n = world.numbers
    listed, picked = _numbers(world.actors["bo"])
    assert listed == picked == {n["main"], n["spare"], n["toronto"]}
    listed, picked = _numbers(world.actors["dana"])
    assert listed == picked == {n["main"], n["dana_line"], n["spare"], n["toronto"]}
    listed, picked = _numbers(world.actors["ada"])
    assert listed == picked == {n["main"], n["dana_line"], n["spare"], n["toronto"]}
    assert groups.picker_numbers(world.actors["bo"])[0].id == n["main"]  # the default first
    assert groups.picker_numbers(world.actors["bo"])[0].is_default


def test_r12_user_cannot_create_on_a_number_assigned_to_someone_else(world):
    before = count(Group)
    with pytest.raises(NotFound) as info:
        groups.create_group(world.actors["bo"], world.numbers["dana_line"], pick(world, "carla", "dan"))
    assert str(info.value) == "Number not found"
    assert count(Group) == before


def test_r12_assigning_a_number_takes_it_from_the_others(world):
    ada, bo = world.actors["ada"], world.actors["bo"]
    numbers.assign_number(ada, world.numbers["spare"], [world.users["dana"]])
    assert world.numbers["spare"] not in _numbers(bo)[0] | _numbers(bo)[1]
    assert world.numbers["spare"] in _numbers(world.actors["dana"])[1]
    with pytest.raises(NotFound):
        groups.create_group(bo, world.numbers["spare"], pick(world, "carla", "dan"))
    numbers.assign_number(ada, world.numbers["spare"], [])  # unassigned again: everyone's
    assert world.numbers["spare"] in _numbers(bo)[1]


def test_r12_the_default_number_is_everyones(world):
    ada, bo = world.actors["ada"], world.actors["bo"]
    numbers.set_default_number(ada, world.numbers["dana_line"])
    listed, picked = _numbers(bo)
    assert world.numbers["dana_line"] in listed and world.numbers["dana_line"] in picked
    assert world.numbers["main"] not in listed  # main is assigned to Ada and no longer the default
    gid = groups.create_group(bo, world.numbers["dana_line"], pick(world, "carla", "dan"))
    assert groups.get_group(bo, gid).can_send
    defaults = [n.id for n in numbers.list_numbers(ada) if n.is_default]
    assert defaults == [world.numbers["dana_line"]]


# -- R13 send access ------------------------------------------------------------------------------

def test_r13_losing_the_number_blocks_sending_but_not_reading(world):
    dana = world.actors["dana"]
    gid = groups.create_group(dana, world.numbers["dana_line"], pick(world, "gus", "hal"))
    assert groups.get_group(dana, gid).can_send
    numbers.assign_number(world.actors["ada"], world.numbers["dana_line"], [world.users["ada"]])
    detail = groups.get_group(dana, gid)
    assert gid in visible(dana)
    assert detail.can_send is False
    assert "(512) 555-0101" in block_reason(detail)
    assert detail.locked_reason is None
    assert groups.get_group(world.actors["ada"], gid).can_send  # admins use every number


def test_r13_assigned_user_sees_group_on_a_number_he_cannot_use(world):
    gid = groups.create_group(world.actors["ada"], world.numbers["dana_line"], pick(world, "carla", "dan"))
    detail = groups.get_group(world.actors["bo"], gid)
    assert gid in visible(world.actors["bo"])
    assert detail.can_send is False
    assert "(512) 555-0101" in block_reason(detail)


def test_r13_role_without_send_permission_cannot_send(world):
    gid = groups.create_group(world.actors["dana"], world.numbers["main"], pick(world, "gus", "hal"))
    policy.set_role_permission(world.actors["ada"], "user", "message", "send", False)
    detail = groups.get_group(world.actors["dana"], gid)
    assert detail.can_send is False and block_reason(detail)
    assert groups.get_group(world.actors["ada"], gid).can_send


# -- R14 tenancy ----------------------------------------------------------------------------------

MISSING = 987_654


def _birch_group(world) -> int:
    return groups.create_group(world.actors["zed"], world.numbers["birch_main"], pick(world, "pia", "quinn"))


def _calls(world, bg):
    """name -> (call with a birch id, call with a missing id)."""
    ada = world.actors["ada"]
    c, n, u = world.contacts, world.numbers, world.users
    def both(fn, birch_id):
        return (lambda: fn(birch_id), lambda: fn(MISSING))
    return {
        "get_group": both(lambda i: groups.get_group(ada, i), bg),
        "search_participants": both(lambda i: groups.search_participants(ada, i, "a"), bg),
        "get_contact": both(lambda i: contacts.get_contact(ada, i), c["pia"]),
        "update_contact": both(lambda i: contacts.update_contact(ada, i, name="X"), c["pia"]),
        "delete_contact": both(lambda i: contacts.delete_contact(ada, i), c["pia"]),
        "set_contact_dnd": both(lambda i: contacts.set_contact_dnd(ada, i, True), c["pia"]),
        "create_group_contact": both(
            lambda i: groups.create_group(ada, n["main"], [(c["carla"], "primary"), (i, "primary")]),
            c["pia"]),
        "create_group_number": both(lambda i: groups.create_group(ada, i, pick(world, "carla", "dan")),
                                    n["birch_main"]),
        "preview_group_number": both(lambda i: groups.preview_group(ada, i, pick(world, "carla", "dan")),
                                     n["birch_main"]),
        "set_default_number": both(lambda i: numbers.set_default_number(ada, i), n["birch_main"]),
        "assign_number": both(lambda i: numbers.assign_number(ada, i, []), n["birch_main"]),
        "assign_number_user": both(lambda i: numbers.assign_number(ada, n["spare"], [i]), u["zed"]),
        "set_user_role": both(lambda i: users.set_user_role(ada, i, "user"), u["zed"]),
        "set_user_data_access": both(lambda i: users.set_user_data_access(ada, i, "assigned"), u["zed"]),
        "set_user_password": both(lambda i: users.set_user_password(ada, i, "a-new-password"), u["zed"]),
        "contact_assignee": both(
            lambda i: contacts.update_contact(ada, c["carla"], assigned_user_id=i), u["zed"]),
        "create_contact_assignee": both(
            lambda i: contacts.create_contact(ada, "New", "+15125550161", assigned_user_id=i), u["zed"]),
    }


CALL_NAMES = sorted([
    "get_group", "search_participants", "get_contact", "update_contact", "delete_contact",
    "set_contact_dnd", "create_group_contact", "create_group_number", "preview_group_number",
    "set_default_number", "assign_number", "assign_number_user", "set_user_role",
    "set_user_data_access", "set_user_password", "contact_assignee", "create_contact_assignee",
])


@pytest.mark.parametrize("name", CALL_NAMES)
def test_r14_other_location_ids_look_missing(world, name):
    bg = _birch_group(world)
    calls = _calls(world, bg)
    assert set(calls) == set(CALL_NAMES)
    with_birch, with_missing = calls[name]
    with pytest.raises(NotFound) as birch:
        with_birch()
    with pytest.raises(NotFound) as missing:
        with_missing()
    assert str(birch.value) == str(missing.value)
    # birch is untouched
    assert {g.id for g in groups.list_groups(world.actors["zed"])} == {bg}
    pia = contacts.get_contact(world.actors["zed"], world.contacts["pia"])
    assert (pia.name, pia.dnd, pia.deleted) == ("Pia Birch", False, False)
    with db.transaction() as s:
        zed = s.get(User, world.users["zed"])
        assert (zed.role, zed.data_access) == ("admin", "all")
        assert s.get(BusinessNumber, world.numbers["birch_main"]).is_default


BAD_IDS = ["abc", "", " ", "1.5", "-1", -1, 0, None, True, False, 2**31 - 1, 1.0, [1], {"id": 1}, b"1"]


def _id_calls(world, bad):
    ada = world.actors["ada"]
    return (
        lambda: groups.get_group(ada, bad),
        lambda: groups.search_participants(ada, bad, ""),
        lambda: contacts.get_contact(ada, bad),
        lambda: contacts.update_contact(ada, bad, name="X"),
        lambda: contacts.set_contact_dnd(ada, bad, True),
        lambda: contacts.delete_contact(ada, bad),
        lambda: numbers.set_default_number(ada, bad),
        lambda: numbers.assign_number(ada, bad, []),
        lambda: users.set_user_role(ada, bad, "user"),
        lambda: groups.create_group(ada, bad, pick(world, "carla", "dan")),
        lambda: groups.create_group(ada, world.numbers["main"],
                                    [(bad, "primary"), (world.contacts["dan"], "primary")]),
    )


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_r14_garbage_ids_are_not_found(world, bad):
    for call in _id_calls(world, bad):
        with pytest.raises(NotFound):
            call()


# Ids are INTEGER columns (32-bit on PostgreSQL, 64-bit on SQLite): larger ids once crashed the
# query (PostgreSQL "integer out of range", SQLite OverflowError) instead of being not found.
HUGE_IDS = [2**31, 10**12, 2**63, 10**20, str(10**20)]


@pytest.mark.parametrize("bad", HUGE_IDS, ids=repr)
def test_r14_huge_ids_are_not_found(world, bad):
    for call in _id_calls(world, bad):
        with pytest.raises(NotFound):
            call()


def test_r14_string_ids_of_own_objects_work(world):
    participants = [(str(world.contacts["carla"]), "primary"), (f" {world.contacts['dan']} ", "primary")]
    gid = groups.create_group(world.actors["ada"], str(world.numbers["main"]), participants)
    assert groups.get_group(world.actors["ada"], str(gid)).id == gid


def test_r14_lists_never_show_the_other_location(world):
    bg = _birch_group(world)
    ada = world.actors["ada"]
    assert bg not in visible(ada)
    assert "Pia Birch" not in {c.name for c in contacts.list_contacts(ada, limit=500)}
    assert contacts.list_contacts(ada, search="7375550111") == []
    assert world.numbers["birch_main"] not in {n.id for n in numbers.list_numbers(ada)}
    assert "zed@birch.test" not in {u.email for u in users.list_users(ada)}
    assert {c.name for c in contacts.list_contacts(world.actors["zed"])} == {"Pia Birch", "Quinn Birch"}


# -- E8 audit -------------------------------------------------------------------------------------

def _events(action: str) -> list[AuditEvent]:
    with db.transaction() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_e8_changes_are_audited_with_their_actor(world):
    a, u, c, n = world.actors, world.users, world.contacts, world.numbers
    gid = groups.create_group(a["bo"], n["main"], pick(world, "carla", "dan"))
    contacts.update_contact(a["dana"], c["erin"], name="Erin S.")
    contacts.set_contact_dnd(a["bo"], c["carla"], True)
    users.set_user_role(a["ada"], u["dana"], "admin")
    numbers.assign_number(a["ada"], n["spare"], [u["bo"]])
    policy.set_role_permission(a["ada"], "user", "contact", "delete", True)

    expected = [
        ("group.created", u["bo"], "group", gid),
        ("contact.updated", u["dana"], "contact", c["erin"]),
        ("contact.dnd_changed", u["bo"], "contact", c["carla"]),
        ("user.role_changed", u["ada"], "user", u["dana"]),
        ("number.assigned", u["ada"], "business_number", n["spare"]),
        ("policy.changed", u["ada"], "policy", None),
    ]
    for action, actor_id, object_type, object_id in expected:
        events = _events(action)
        assert len(events) == 1, action
        event = events[0]
        assert (event.actor_user_id, event.object_type, event.object_id) == (actor_id, object_type, object_id)
        assert event.location_id == world.locations["acme"]
        assert event.created_at is not None
    assert json.loads(_events("contact.dnd_changed")[0].detail)["locked_groups"] == [gid]
    assert json.loads(_events("user.role_changed")[0].detail) == {"old": "user", "new": "admin"}
    assert json.loads(_events("number.assigned")[0].detail) == {"old": [], "new": [u["bo"]]}


def test_e8_refused_and_no_op_changes_leave_no_audit_event(world):
    before = count(AuditEvent)
    with pytest.raises(ValidationError):
        groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla"))
    contacts.update_contact(world.actors["ada"], world.contacts["carla"], name="Carla Client")  # same
    contacts.set_contact_dnd(world.actors["ada"], world.contacts["carla"], False)  # already off
    users.set_user_role(world.actors["ada"], world.users["bo"], "user")
    assert count(AuditEvent) == before


# -- regressions found while writing these tests --------------------------------------------------

def test_r11_dnd_change_does_not_reveal_groups_the_user_cannot_see(world):
    hidden = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "gus"))
    mine = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    locked = contacts.set_contact_dnd(world.actors["bo"], world.contacts["carla"], True)
    assert groups.get_group(world.actors["ada"], hidden).locked_reason  # locked all the same
    assert set(locked) <= visible(world.actors["bo"])
    assert locked == [mine]


def test_e11_duplicate_of_a_group_the_user_cannot_see_is_not_offered(world):
    twin = contacts.create_contact(world.actors["ada"], "Carla Twin", "+15125550111", assigned_user_id=None)
    hidden = groups.create_group(world.actors["ada"], world.numbers["main"],
                                 [(twin, "primary")] + pick(world, "dan"))
    assert hidden not in visible(world.actors["bo"])
    preview = groups.preview_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    assert preview.duplicate_group_id in (None, *visible(world.actors["bo"]))
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    assert gid in visible(world.actors["bo"])


def test_e8_audit_log_shows_who_changed_what_in_the_location_only(world):
    from groupsms.services import audit, users

    users.set_user_role(world.actors["ada"], world.users["bo"], "admin")
    groups.create_group(world.actors["dana"], world.numbers["main"], pick(world, "carla", "dan"))
    users.set_user_role(world.actors["zed"], world.users["zed"], "admin")  # birch: no change, no event
    entries = audit.list_audit_events(world.actors["ada"])
    assert [(e.actor, e.action) for e in entries[:2]] == [("Dana Full", "group.created"), ("Ada Admin", "user.role_changed")]
    assert "new: admin" in entries[1].detail and "old: user" in entries[1].detail
    assert all(e.actor != "Zed Birch" for e in entries)
    with pytest.raises(Forbidden):
        audit.list_audit_events(world.actors["dana"])
