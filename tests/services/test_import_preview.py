"""The CSV import's preview (E9): says how rows are matched and what each row would do, writes
nothing, and agrees with the import that follows."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from groupsms import db
from groupsms.errors import NotAuthenticated, ValidationError
from groupsms.models import AuditEvent, Contact
from groupsms.services import contacts, imports

CSV = (
    "name,primary_phone,secondary_phone,assigned_to\n"
    "Carla Client,(512) 555-0111,,\n"  # Carla as she is: already up to date
    "Dan Buyer-Smith,512-555-0112,,\n"  # Dan renamed
    "Rae Renter,512 555 0141,,\n"  # new
    ",512 555 0142,,\n"  # no name
    "Rae Renter,512 555 0141,512 555 0143,\n"  # the contact row 4 adds, with a second number
    "Gus Inspector,512 555 0115,,\n"  # Dana's contact: Bo cannot see him, so Bo would add a new one
)


def _count(model) -> int:
    with db.read() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_e9_preview_says_how_rows_match_and_writes_nothing(world):
    before = (_count(Contact), _count(AuditEvent))
    preview = imports.preview_contacts_csv(world.actors["ada"], CSV)
    assert (_count(Contact), _count(AuditEvent)) == before
    assert preview.summary == (
        "Rows are matched to existing contacts you can see by external id (an external_id column), then by "
        "primary phone number (a later row updates the contact an earlier row adds): 2 update existing "
        "contacts, 1 is new, 2 already up to date, 1 skipped (row 5: name is required)."
    )
    assert [(r.row, r.outcome) for r in preview.rows] == [
        (2, "unchanged"), (3, "update"), (4, "new"), (5, "skip"), (6, "update"), (7, "unchanged")]
    texts = [r.text for r in preview.rows]
    assert texts[0] == "Row 2: matched by primary phone (512) 555-0111 (Carla Client): already up to date"
    assert texts[1] == "Row 3: matched by primary phone (512) 555-0112 (Dan Buyer): updates name"
    assert texts[2] == "Row 4: new contact Rae Renter"
    assert texts[3] == "Row 5: name is required (skipped)"
    assert texts[4] == "Row 6: matched by primary phone (512) 555-0141 (the contact row 4 adds): updates secondary phone"
    assert texts[5] == "Row 7: matched by primary phone (512) 555-0115 (Gus Inspector): already up to date"


def test_r11_preview_never_matches_contacts_the_importer_cannot_see(world):
    preview = imports.preview_contacts_csv(world.actors["bo"], CSV)
    assert preview.rows[5].text == "Row 7: new contact Gus Inspector"


@pytest.mark.parametrize("actor", ["ada", "bo"])
def test_e9_the_import_does_what_its_preview_said(world, actor):
    preview = imports.preview_contacts_csv(world.actors[actor], CSV)
    report = imports.import_contacts_csv(world.actors[actor], CSV)
    assert (report.created, report.updated, report.unchanged, report.skipped) == (
        preview.new, preview.update, preview.unchanged, preview.skipped)


def test_e9_preview_refuses_what_the_import_refuses(world):
    with pytest.raises(ValidationError, match="header row needs the columns"):
        imports.preview_contacts_csv(world.actors["ada"], "first,last\nA,B\n")
    with pytest.raises(NotAuthenticated):
        imports.preview_contacts_csv(None, CSV)


def _ref_of(cid: int) -> str | None:
    with db.read() as s:
        return s.get(Contact, cid).ref


def test_e9_rows_match_by_external_id_first_then_by_phone(world):
    """A row with the CRM's id updates that contact, even its primary phone; a row matched by phone
    gives the contact its external id; an id another contact holds is refused (seen or not)."""
    ada = world.actors["ada"]
    rae = contacts.create_contact(ada, "Rae Renter", "+15125550166")  # no external id yet
    text = (
        "external_id,name,primary_phone\n"
        "carla,Carla Client,512 555 0161\n"  # Carla by her id: a new primary phone
        "crm-rae,Rae Renter,512 555 0166\n"  # Rae by her number: she gets the id
        "gus,Gus Twin,512 555 0162\n"  # Gus's id (Dana's contact) on a new contact
        "crm-new,New Person,512 555 0163\n"
        "crm-new,New Person,512 555 0164\n"  # the contact row 5 adds, by its id
    )
    texts = [r.text for r in imports.preview_contacts_csv(ada, text).rows]
    assert texts == [
        "Row 2: matched by external id carla (Carla Client): updates primary phone",
        "Row 3: matched by primary phone (512) 555-0166 (Rae Renter): updates external id",
        "Row 4: matched by external id gus (Gus Inspector): updates name, primary phone",
        "Row 5: new contact New Person",
        "Row 6: matched by external id crm-new (the contact row 5 adds): updates primary phone",
    ]
    report = imports.import_contacts_csv(ada, text)
    assert (report.created, report.updated, report.skipped) == (1, 4, 0)
    with db.read() as s:
        carla = s.get(Contact, world.contacts["carla"])
        new = s.exec(select(Contact).where(Contact.ref == "crm-new")).one()
    assert carla.primary_phone == "+15125550161"
    assert _ref_of(rae) == "crm-rae"
    assert new.primary_phone == "+15125550164"

    # Bo cannot see Gus: his id is "already used", and nothing about Gus is said.
    bo = imports.preview_contacts_csv(world.actors["bo"], "external_id,name,primary_phone\ngus,Gus Twin,512 555 0165\n")
    assert bo.rows[0].text == "Row 2: external id: 'gus' is already used by another contact (skipped)"
    clash = imports.preview_contacts_csv(ada, "external_id,name,primary_phone\nother-id,Rae Renter,512 555 0166\n")
    assert clash.rows[0].outcome == "skip" and "has another external id ('crm-rae')" in clash.rows[0].text
