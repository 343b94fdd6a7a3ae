"""Contacts from CSV (E9): good rows imported, bad rows skipped and reported by row number, matching
by primary phone updates, assigned-only users import for themselves (R11), and a size limit."""

from __future__ import annotations

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.errors import Forbidden, NotAuthenticated, ValidationError
from groupsms.models import AuditEvent, Contact
from groupsms.services import contacts, imports, policy


def _by_phone(world, actor_ref="ada"):
    return {c.primary_phone: c for c in contacts.list_contacts(world.actors[actor_ref], limit=500)}


def test_e9_good_rows_are_imported_and_bad_rows_reported_and_skipped(world):
    csv_text = (
        "Name,Primary Phone,Secondary_Phone,DND,Assigned To,Notes\n"
        "Rae Renter,(512) 555-0141,,no,dana@acme.test,likes mornings\n"
        "Bad Number,555-12,,,,\n"
        "Sol Seller,+1 512-555-0142,512.555.0143,yes,,\n"
        ",512-555-0144,,,,\n"
        "Tia Tenant,5125550145,,maybe,,\n"
        "Uma Unknown,5125550146,,,nobody@acme.test,\n"
        "Vic Abroad,+44 7400 123456,,0,,\n"
    )
    report = imports.import_contacts_csv(world.actors["ada"], csv_text)

    assert (report.created, report.updated, report.skipped) == (3, 0, 4)
    assert report.errors == (
        "Row 3: primary phone: '555-12' is not a valid phone number",
        "Row 5: name is required",
        "Row 6: DND: 'maybe' is not yes/no (use true, false, yes, no, 1 or 0)",
        "Row 7: assigned to: no user with the email 'nobody@acme.test' in this location",
    )
    assert report.ignored_columns == ("Notes",)
    found = _by_phone(world)
    rae, sol, vic = found["+15125550141"], found["+15125550142"], found["+447400123456"]
    assert (rae.name, rae.assigned_user_id, rae.dnd) == ("Rae Renter", world.users["dana"], False)
    assert (sol.secondary_phone, sol.dnd, sol.assigned_user_id) == ("+15125550143", True, None)
    assert vic.name == "Vic Abroad" and not vic.primary_is_us_ca
    assert "+15125550144" not in found and "+15125550146" not in found
    with db.transaction() as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("contact.created") == 3 and actions[-1] == "contacts.imported"


def test_e9_matching_primary_phone_updates_instead_of_duplicating(world):
    csv_text = (
        "primary_phone,name,secondary_phone,dnd\n"
        "512-555-0111,Carla Mendes,,\n"  # carla: new name, secondary kept (empty cell)
        "512-555-0112,Dan Buyer,,true\n"  # dan: DND on (locks his groups)
        "512-555-0117,Ivy Optout,,false\n"  # ivy opted out: an import never lifts DND (E1)
        "512-555-0113,Erin Seller,,\n"  # erin: nothing changes
    )
    before = len(_by_phone(world))
    report = imports.import_contacts_csv(world.actors["dana"], csv_text)

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 2, 2, ())
    found = _by_phone(world)
    assert len(found) == before
    carla = found["+15125550111"]
    assert (carla.name, carla.secondary_phone) == ("Carla Mendes", "+15125550121")
    assert found["+15125550112"].dnd is True
    assert found["+15125550117"].dnd is True


def test_r11_assigned_only_users_import_contacts_for_themselves(world):
    bo = world.actors["bo"]
    csv_text = (
        "name,primary_phone,assigned_to\n"
        "Wes Walker,512-555-0151,\n"
        "Xia Xu,512-555-0152,BO@acme.test\n"
        "Yan Young,512-555-0153,dana@acme.test\n"
        "Gus Again,512-555-0115,\n"  # Dana's contact: invisible to Bo, so never matched or changed
    )
    report = imports.import_contacts_csv(bo, csv_text)

    assert (report.created, report.updated) == (3, 0)
    assert report.errors == ("Row 4: you can only assign contacts to yourself",)
    mine = _by_phone(world, "bo")
    assert mine["+15125550151"].assigned_user_id == world.users["bo"]
    assert mine["+15125550152"].assigned_user_id == world.users["bo"]
    assert mine["+15125550115"].name == "Gus Again"
    with db.transaction() as s:
        gus = s.get(Contact, world.contacts["gus"])
        assert (gus.name, gus.assigned_user_id) == ("Gus Inspector", world.users["dana"])


def test_e9_the_file_is_refused_as_a_whole_when_unusable(world):
    ada = world.actors["ada"]
    too_many = "name,primary_phone\n" + "".join(f"P{i},512-555-01{i % 100:02d}\n" for i in range(5001))
    too_big = "name,primary_phone\n" + "x" * (imports.MAX_CSV_BYTES + 1)
    cases = [
        (too_many, "at most 5000"),
        (too_big, "too large"),
        ("", "empty"),
        ("name,phone_number\nA,5125550161\n", "needs the columns name and primary_phone"),
        ("name,primary_phone\n", "no contacts"),
        (None, "must be text"),
    ]
    count = len(_by_phone(world))
    for csv_text, message in cases:
        with pytest.raises(ValidationError, match=message):
            imports.import_contacts_csv(ada, csv_text)
    assert len(_by_phone(world)) == count


def test_e9_import_needs_the_contact_write_permission(world):
    with pytest.raises(NotAuthenticated):
        imports.import_contacts_csv(None, "name,primary_phone\nA,5125550161\n")
    policy.set_role_permission(world.actors["ada"], "user", "contact", "write", False)
    with pytest.raises(Forbidden):
        imports.import_contacts_csv(world.actors["dana"], "name,primary_phone\nA,5125550161\n")


def test_e9_a_bom_and_blank_lines_are_fine(world):
    report = imports.import_contacts_csv(world.actors["ada"], "\ufeffNAME,PRIMARY_PHONE\r\n\r\nZoe,5125550171\r\n")
    assert (report.created, report.errors) == (1, ())
