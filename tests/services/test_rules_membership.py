"""A group after creation: snapshot tags (R8), immutable membership down to the ORM (R9) and the
DND lock (R10). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import inspect
import re

import pytest
from sqlalchemy import delete as sql_delete
from sqlalchemy import update
from sqlmodel import Session, select

from groupsms import db
from groupsms.errors import NotFound
from groupsms.guards import ImmutableMembership
from groupsms.models import Contact, Group, Participant
from groupsms.services import SERVICE_MODULES, contacts, groups
from tests.services.conftest import pick


def set_columns(model, row_id: int, **values) -> None:
    """Write straight to the database, bypassing the services (another code path, a bulk import)."""
    with Session(db.engine()) as s:
        row = s.get(model, row_id)
        for key, value in values.items():
            setattr(row, key, value)
        s.add(row)
        s.commit()


def block_reason(detail) -> str | None:
    return detail.send_block_reason


def visible(actor) -> set[int]:
    return {g.id for g in groups.list_groups(actor)}


# -- R8 snapshot ----------------------------------------------------------------------------------

def _carla_group(world, actor="ada"):
    return groups.create_group(world.actors[actor], world.numbers["main"],
                               pick(world, "carla", "carla:secondary", "dan"))


def _tags(world, gid, actor="ada") -> dict[tuple[str, str], tuple[str, str | None]]:
    detail = groups.get_group(world.actors[actor], gid)
    return {(p.name, p.which): (p.e164, p.tag) for p in detail.participants}


def test_r8_untouched_participants_have_no_tag(world):
    gid = _carla_group(world)
    assert all(tag is None for _, tag in _tags(world, gid).values())


def test_r8_changed_number_keeps_captured_number_and_is_tagged_updated(world):
    gid = _carla_group(world)
    contacts.update_contact(world.actors["ada"], world.contacts["carla"], primary_phone="512-555-0151")
    assert contacts.get_contact(world.actors["ada"], world.contacts["carla"]).primary_phone == "+15125550151"
    tags = _tags(world, gid)
    assert tags[("Carla Client", "primary")] == ("+15125550111", "Updated")
    assert tags[("Carla Client", "secondary")] == ("+15125550121", None)  # unchanged number
    assert tags[("Dan Buyer", "primary")] == ("+15125550112", None)
    with db.transaction() as s:
        stored = s.exec(select(Participant.e164).where(Participant.group_id == gid)).all()
    assert sorted(stored) == ["+15125550111", "+15125550112", "+15125550121"]


def test_r8_removed_secondary_number_is_tagged_updated(world):
    gid = _carla_group(world)
    contacts.update_contact(world.actors["ada"], world.contacts["carla"], secondary_phone=None)
    assert _tags(world, gid)[("Carla Client", "secondary")] == ("+15125550121", "Updated")


def test_r8_deleted_contact_is_tagged_deleted_over_updated(world):
    gid = _carla_group(world)
    contacts.update_contact(world.actors["ada"], world.contacts["carla"], primary_phone="+15125550151")
    contacts.delete_contact(world.actors["ada"], world.contacts["carla"])
    tags = _tags(world, gid)
    assert tags[("Carla Client", "primary")] == ("+15125550111", "Deleted")
    assert tags[("Carla Client", "secondary")] == ("+15125550121", "Deleted")
    assert tags[("Dan Buyer", "primary")] == ("+15125550112", None)


def test_r8_deleted_contact_group_is_still_readable_by_its_assigned_user(world):
    gid = _carla_group(world, actor="bo")
    contacts.delete_contact(world.actors["ada"], world.contacts["dan"])
    assert gid in visible(world.actors["bo"])
    assert _tags(world, gid, actor="bo")[("Dan Buyer", "primary")][1] == "Deleted"


def test_r8_name_snapshot_is_kept_after_rename(world):
    gid = _carla_group(world)
    contacts.update_contact(world.actors["ada"], world.contacts["carla"], name="Carla Renamed")
    detail = groups.get_group(world.actors["ada"], gid)
    assert [p.name for p in detail.participants] == ["Carla Client", "Carla Client", "Dan Buyer"]
    assert all(p.tag is None for p in detail.participants)  # a rename alone is not "Updated"
    assert "Carla Client" in groups.list_groups(world.actors["ada"])[0].title


# -- R9 immutable membership ----------------------------------------------------------------------

MUTATING = re.compile(
    r"(add|remove|delete|drop|set|update|change|edit|replace|move|swap|kick|join|leave|invite)"
)


def test_r9_no_service_function_changes_participants_or_number():
    offenders = []
    for module in SERVICE_MODULES:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            touches_group = re.search(r"participant|member|group", name)
            if touches_group and MUTATING.search(name):
                offenders.append(f"{module.__name__}.{name}")
            params = set(inspect.signature(fn).parameters)
            if "group_id" in params and params & {"number_id", "participants", "e164"}:
                offenders.append(f"{module.__name__}.{name}{tuple(params)}")
    assert offenders == []
    public_group_functions = {n for n in groups.__all__ if n[0].islower()}
    assert public_group_functions == {
        "picker_numbers", "picker_contacts", "picker_page", "preview_group", "create_group",
        "list_groups", "get_group", "search_participants", "mark_read", "regroup_selection",
        "rename_group",  # a name only: the participants and the number stay (tests/services/test_group_names.py)
    }, "a new group service function: check it cannot change membership (R9)"


def _snapshot(gid):
    with db.transaction() as s:
        group = s.get(Group, gid)
        rows = s.exec(select(Participant).where(Participant.group_id == gid).order_by(Participant.id)).all()
        return group.business_number_id, [(p.id, p.contact_id, p.which, p.name, p.e164) for p in rows]


@pytest.mark.parametrize(
    "change",
    ["participant_e164", "participant_contact", "participant_name", "participant_group",
     "participant_delete", "group_number"],
)
def test_r9_orm_refuses_membership_changes(world, change):
    gid = _carla_group(world)
    other = groups.create_group(world.actors["ada"], world.numbers["spare"], pick(world, "erin", "fay"))
    before = _snapshot(gid)
    with pytest.raises(ImmutableMembership):
        with db.transaction() as s:
            participant = s.exec(select(Participant).where(Participant.group_id == gid)).first()
            group = s.get(Group, gid)
            if change == "participant_e164":
                participant.e164 = "+15125550199"
            elif change == "participant_contact":
                participant.contact_id = world.contacts["erin"]
            elif change == "participant_name":
                participant.name = "Someone Else"
            elif change == "participant_group":
                participant.group_id = other
            elif change == "participant_delete":
                s.delete(participant)
            elif change == "group_number":
                group.business_number_id = world.numbers["spare"]
            s.add(group)
            s.flush()
    assert _snapshot(gid) == before


def test_r9_orm_still_allows_locking_a_group(world):
    gid = _carla_group(world)
    with db.transaction() as s:
        group = s.get(Group, gid)
        group.locked_reason = "Carla Client enabled DND"
        s.add(group)
    assert groups.get_group(world.actors["ada"], gid).locked_reason == "Carla Client enabled DND"


def test_r9_participants_may_be_added_at_creation_in_the_same_transaction(world):
    # Adding is how create_group builds a group: a new group and its participants in one flush.
    with db.transaction() as s:
        group = Group(location_id=world.locations["acme"], business_number_id=world.numbers["spare"])
        s.add(group)
        s.flush()
        for i, ref in enumerate(("erin", "fay")):
            contact = s.get(Contact, world.contacts[ref])
            s.add(Participant(group_id=group.id, contact_id=contact.id, which="primary",
                              name=contact.name, e164=contact.primary_phone, position=i))
        gid = group.id
    assert len(_snapshot(gid)[1]) == 2


def test_r9_orm_refuses_adding_a_participant_to_an_existing_group(world):
    gid = _carla_group(world)
    before = _snapshot(gid)
    with pytest.raises(ImmutableMembership):
        with db.transaction() as s:
            erin = s.get(Contact, world.contacts["erin"])
            s.add(Participant(group_id=gid, contact_id=erin.id, which="primary", name=erin.name,
                              e164=erin.primary_phone, position=9))
    assert _snapshot(gid) == before


@pytest.mark.parametrize(
    "statement", ["update_participant", "delete_participant", "update_group_number", "delete_group"]
)
def test_r9_orm_bulk_statements_cannot_change_membership(world, statement):
    gid = _carla_group(world)
    before = _snapshot(gid)
    with pytest.raises(ImmutableMembership):
        with db.transaction() as s:
            if statement == "update_participant":
                first = before[1][0][0]
                s.exec(update(Participant).where(Participant.id == first).values(e164="+15125550199"))
            elif statement == "delete_participant":
                s.exec(sql_delete(Participant).where(Participant.group_id == gid))
            elif statement == "delete_group":
                s.exec(sql_delete(Group).where(Group.id == gid))
            else:
                s.exec(update(Group).where(Group.id == gid).values(business_number_id=world.numbers["spare"]))
    assert _snapshot(gid) == before


@pytest.mark.parametrize("statement", ["update_participant", "delete_participant", "update_group_number"])
def test_r9_core_table_statements_through_the_session_cannot_change_membership(world, statement):
    gid = _carla_group(world)
    before = _snapshot(gid)
    participant, group = Participant.__table__, Group.__table__
    with pytest.raises(ImmutableMembership):
        with db.transaction() as s:
            first = before[1][0][0]
            if statement == "update_participant":
                s.exec(update(participant).where(participant.c.id == first).values(e164="+15125550199"))
            elif statement == "delete_participant":
                s.exec(sql_delete(participant).where(participant.c.id == first))
            else:
                s.exec(update(group).where(group.c.id == gid).values(business_number_id=world.numbers["spare"]))
    assert _snapshot(gid) == before


# -- R10 DND lock ---------------------------------------------------------------------------------

def test_r10_dnd_locks_the_contacts_groups(world):
    ada = world.actors["ada"]
    g1 = groups.create_group(ada, world.numbers["main"], pick(world, "carla", "dan"))
    g2 = groups.create_group(ada, world.numbers["spare"], pick(world, "carla:secondary", "erin"))
    g3 = groups.create_group(ada, world.numbers["main"], pick(world, "erin", "fay"))
    locked = contacts.set_contact_dnd(world.actors["bo"], world.contacts["carla"], True)
    assert sorted(locked) == sorted([g1, g2])
    for gid in (g1, g2):
        detail = groups.get_group(ada, gid)
        assert detail.locked_reason == "Carla Client enabled DND"
        assert detail.can_send is False
        assert "Carla Client enabled DND" in block_reason(detail)
    untouched = groups.get_group(ada, g3)
    assert untouched.locked_reason is None and untouched.can_send is True and block_reason(untouched) is None
    summaries = {g.id: g.locked_reason for g in groups.list_groups(ada)}
    assert summaries == {g1: "Carla Client enabled DND", g2: "Carla Client enabled DND", g3: None}


def test_r10_setting_dnd_again_locks_nothing_new(world):
    gid = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))
    assert contacts.set_contact_dnd(world.actors["ada"], world.contacts["carla"], True) == [gid]
    assert contacts.set_contact_dnd(world.actors["ada"], world.contacts["carla"], True) == []


def test_r10_lifting_dnd_does_not_unlock(world):
    gid = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))
    contacts.set_contact_dnd(world.actors["ada"], world.contacts["carla"], True)
    assert contacts.set_contact_dnd(world.actors["ada"], world.contacts["carla"], False) == []
    detail = groups.get_group(world.actors["ada"], gid)
    assert detail.locked_reason == "Carla Client enabled DND"
    assert detail.can_send is False
    assert contacts.get_contact(world.actors["ada"], world.contacts["carla"]).dnd is False


def test_r10_dnd_set_directly_in_the_database_still_locks(world):
    gid = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))
    other = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "erin", "fay"))
    set_columns(Contact, world.contacts["dan"], dnd_sms=True)
    detail = groups.get_group(world.actors["ada"], gid)
    assert detail.locked_reason == "Dan Buyer enabled DND"
    assert detail.can_send is False
    assert groups.get_group(world.actors["ada"], other).can_send is True


def test_r10_lifting_dnd_set_outside_the_service_does_not_unlock(world):
    gid = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))
    set_columns(Contact, world.contacts["dan"], dnd_sms=True)
    assert groups.get_group(world.actors["ada"], gid).can_send is False
    contacts.set_contact_dnd(world.actors["ada"], world.contacts["dan"], False)
    assert groups.get_group(world.actors["ada"], gid).can_send is False


def test_r10_lock_names_every_dnd_participant_once(world):
    gid = groups.create_group(world.actors["ada"], world.numbers["main"],
                              pick(world, "carla", "carla:secondary", "dan"))
    set_columns(Contact, world.contacts["carla"], dnd_sms=True)
    set_columns(Contact, world.contacts["dan"], dnd_sms=True)
    assert groups.get_group(world.actors["ada"], gid).locked_reason in (
        "Carla Client and Dan Buyer enabled DND", "Dan Buyer and Carla Client enabled DND"
    )


def test_r10_regroup_selection_offers_the_others_on_the_same_number(world):
    bo = world.actors["bo"]
    gid = groups.create_group(bo, world.numbers["main"], pick(world, "carla", "dan", "erin"))
    contacts.set_contact_dnd(bo, world.contacts["dan"], True)
    number_id, selection = groups.regroup_selection(bo, gid, world.contacts["dan"])
    assert number_id == world.numbers["main"]
    assert selection == [(world.contacts["carla"], "primary"), (world.contacts["erin"], "primary")]
    with pytest.raises(NotFound):
        groups.regroup_selection(bo, gid, world.contacts["fay"])
