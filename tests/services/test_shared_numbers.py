"""A contact saved with a number another contact of the location holds is saved with a warning
(create, edit, CSV import); the other contact is named only to users who may see it (R11)."""

from __future__ import annotations

import pytest

from groupsms.errors import NotFound
from groupsms.services import contacts, imports


def test_contact_saved_with_a_number_another_contact_has_gets_a_warning(world):
    a = world.actors
    twin = contacts.create_contact(a["ada"], "Carla Twin", "(512) 555-0111")
    assert contacts.duplicate_number_warnings(a["ada"], twin) == [
        "(512) 555-0111 is also the number of Carla Client: replies from it may need routing by hand."
    ]
    # The other side of the pair says so too, and an unrelated contact says nothing.
    assert contacts.duplicate_number_warnings(a["ada"], world.contacts["carla"]) == [
        "(512) 555-0111 is also the number of Carla Twin: replies from it may need routing by hand."
    ]
    assert contacts.duplicate_number_warnings(a["ada"], world.contacts["dan"]) == []


def test_shared_number_warning_names_only_contacts_the_user_may_see(world):
    a = world.actors
    # Bo (assigned only) edits his contact Dan to Gus's number: Gus is Dana's contact.
    contacts.update_contact(a["bo"], world.contacts["dan"], secondary_phone="+15125550115")
    [warning] = contacts.duplicate_number_warnings(a["bo"], world.contacts["dan"])
    assert warning == ("(512) 555-0115 is also the number of another contact you cannot see: "
                       "replies from it may need routing by hand.")
    assert "Gus" not in warning
    assert contacts.duplicate_number_warnings(a["dana"], world.contacts["dan"]) == [
        "(512) 555-0115 is also the number of Gus Inspector: replies from it may need routing by hand."
    ]


def test_deleted_contacts_do_not_count_as_holding_a_number(world):
    a = world.actors
    contacts.delete_contact(a["ada"], world.contacts["hal"])
    cid = contacts.create_contact(a["ada"], "Hal Again", "+15125550116")
    assert contacts.duplicate_number_warnings(a["ada"], cid) == []


def test_shared_number_warnings_stay_inside_the_location(world):
    cid = contacts.create_contact(world.actors["zed"], "Carla in Birch", "+15125550111")
    assert contacts.duplicate_number_warnings(world.actors["zed"], cid) == []
    with pytest.raises(NotFound):
        contacts.duplicate_number_warnings(world.actors["zed"], world.contacts["carla"])


def test_import_warns_about_rows_with_a_number_another_contact_has(world):
    csv_text = (
        "name,primary_phone,secondary_phone\n"
        "New Person,+17375550198,\n"
        "Carla Work,+15125550121,\n"  # Carla's secondary number
        "Gus Twin,+15125550115,\n"  # Gus: Dana's contact, not Bo's
    )
    report = imports.import_contacts_csv(world.actors["bo"], csv_text)
    assert (report.created, report.errors) == (3, ())
    assert report.warnings == (
        "Row 3: (512) 555-0121 is also the number of Carla Client: replies from it may need routing by hand.",
        "Row 4: (512) 555-0115 is also the number of another contact you cannot see: "
        "replies from it may need routing by hand.",
    )
