"""The contacts page in a real browser: errors on the fields they are about, merging a duplicate
(its groups keep their captured participant and still open; DND on the kept contact locks them),
and the CSV import's preview (E9, R8, R10). Contacts here have names and numbers of their own."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.a11y_helpers import axe_at_both_widths
from tests.e2e.helpers import acting

ADMIN = "admin@acme.test"


def _signed_in(page: Page, sign_in, login, path: str) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    page.goto(path)
    expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()


def _item(page: Page, name: str):
    return page.get_by_role("list", name="Contacts").get_by_role("listitem", name=name, exact=True)


def test_e9_an_empty_save_names_each_missing_field_under_it(page: Page, sign_in, demo_logins, screenshot):
    _signed_in(page, sign_in, demo_logins[ADMIN], "/contacts")
    page.get_by_role("button", name="New contact").click()
    dialog = page.get_by_role("dialog", name="New contact")
    dialog.get_by_role("button", name="Create contact").click()

    name = dialog.get_by_label("Name", exact=True)
    primary = dialog.get_by_label("Primary phone")
    expect(dialog.locator("#contact-name-error")).to_have_text("Enter a name")
    expect(dialog.locator("#contact-primary-error")).to_have_text("Enter a phone number")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_attribute("aria-describedby", re.compile(r"\bcontact-name-error\b"))
    expect(primary).to_have_attribute("aria-invalid", "true")
    expect(primary).to_have_attribute("aria-describedby", re.compile(r"\bcontact-primary-error\b"))
    expect(name).to_be_focused()
    # The banner only points at them: the messages are on the fields.
    expect(dialog.get_by_role("alert")).to_have_text("Check Name and Primary phone below.")
    screenshot(page, "contacts-empty-save-field-errors")

    # A number that is not a real US or Canada one: said under that field, which gets the focus.
    name.fill("Fiona Fieldcheck")
    primary.fill("+1 555 12")
    dialog.get_by_role("button", name="Create contact").click()
    expect(dialog.locator("#contact-primary-error")).to_have_text("This isn't a valid US or Canada number")
    expect(dialog.locator("#contact-name-error")).to_have_count(0)
    expect(name).to_have_attribute("aria-invalid", "false")
    expect(primary).to_be_focused()
    expect(primary).to_have_value("+1 555 12")  # what was typed stays
    screenshot(page, "contacts-invalid-number-under-field")

    primary.fill("(604) 555-0160")
    dialog.get_by_role("button", name="Create contact").click()
    expect(dialog).to_be_hidden()
    expect(_item(page, "Fiona Fieldcheck")).to_contain_text("(604) 555-0160")


def test_e9_r8_r10_merge_keeps_the_groups_participant_and_dnd_locks_it(
    page: Page, sign_in, demo_logins, app_server, screenshot
):
    from groupsms.services import contacts, groups

    login = demo_logins[ADMIN]
    with acting(app_server.database_url, login.email, login.password) as ada:
        keep = contacts.create_contact(ada, "Mira Mergewell", "+16045550161")
        duplicate = contacts.create_contact(ada, "Mira M.", "+16045550162")
        friend = contacts.create_contact(ada, "Nils Mergewell", "+16045550163")
        number = next(n for n in groups.picker_numbers(ada) if n.is_default)
        group_id = groups.create_group(ada, number.id, [(duplicate, "primary"), (friend, "primary")])

    _signed_in(page, sign_in, login, "/contacts")
    # Same number or same name: the page points at likely duplicates (these two share neither).
    expect(_item(page, "Mira M.")).to_be_visible()
    page.get_by_role("button", name="Merge duplicates").click()
    dialog = page.get_by_role("dialog", name="Merge duplicate contacts")
    dialog.get_by_label("Contact to keep").select_option(label="Mira Mergewell · (604) 555-0161")
    dialog.get_by_label("Duplicate to remove").select_option(label="Mira M. · (604) 555-0162")
    expect(dialog.get_by_label("Secondary phone")).to_contain_text("Duplicate: (empty)")
    expect(dialog.get_by_label("Primary phone")).to_contain_text("Duplicate: (604) 555-0162")
    screenshot(page, "contacts-merge-dialog")
    assert not axe_at_both_widths(page, "dialog-merge-contacts", dialog)  # WCAG 2.2 AA, as every dialog
    dialog.get_by_role("button", name="Merge contacts").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="Mira M. merged into Mira Mergewell")).to_be_visible()
    expect(_item(page, "Mira M.")).to_have_count(0)
    # The kept contact took the duplicate's number where its own was empty.
    expect(_item(page, "Mira Mergewell")).to_contain_text("(604) 555-0162")
    screenshot(page, "contacts-merged")

    # The group still opens and shows the participant as captured (R8).
    page.goto(f"/groups/{group_id}")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    top = page.get_by_role("list", name="Participants", exact=True)
    expect(top.get_by_role("listitem", name=re.compile(r"^Mira M\."))).to_contain_text("(604) 555-0162")
    expect(page.get_by_role("alert").filter(has_text="This group is locked")).to_have_count(0)

    # DND on the kept contact locks the group that had the removed one (R10).
    page.goto("/contacts")
    page.get_by_role("switch", name="DND for Mira Mergewell").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Turn on DND").click()
    expect(page.get_by_role("status").filter(has_text="DND is on for Mira Mergewell: 1 group is now locked")
           ).to_be_visible()
    page.goto(f"/groups/{group_id}")
    expect(page.get_by_role("alert").filter(has_text="This group is locked")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_be_disabled()
    screenshot(page, "group-locked-after-merge-dnd")


def test_e9_import_preview_says_how_each_row_matches_before_saving(
    page: Page, sign_in, demo_logins, app_server, screenshot
):
    from groupsms.services import contacts

    login = demo_logins[ADMIN]
    with acting(app_server.database_url, login.email, login.password) as ada:
        contacts.create_contact(ada, "Pia Previewson", "+16045550164")

    _signed_in(page, sign_in, login, "/contacts")
    page.get_by_role("button", name="Import CSV").click()
    dialog = page.get_by_role("dialog", name="Import contacts from CSV")
    dialog.get_by_label("CSV", exact=True).fill(
        "name,primary_phone\n"
        "Pia Previewson-Lee,(604) 555-0164\n"
        "Quentin Previewson,604 555 0165\n"
        ",604 555 0166\n"
    )
    dialog.get_by_role("button", name="Preview").click()
    preview = dialog.get_by_role("status", name="Import preview")
    expect(preview).to_contain_text(
        "Rows are matched to existing contacts you can see by external id (an external_id column), "
        "then by primary phone number")
    expect(preview).to_contain_text("1 updates an existing contact, 1 is new, 1 skipped (row 4: name is required)")
    rows = dialog.get_by_role("list", name="Preview rows")
    expect(rows).to_contain_text("Row 2: matched by primary phone (604) 555-0164 (Pia Previewson): updates name")
    expect(rows).to_contain_text("Row 3: new contact Quentin Previewson")
    expect(rows).to_contain_text("Row 4: name is required (skipped)")
    screenshot(page, "contacts-import-preview")
    # Nothing is saved by a preview.
    with acting(app_server.database_url, login.email, login.password) as ada:
        assert [c.name for c in contacts.list_contacts(ada, "Previewson")] == ["Pia Previewson"]

    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(dialog.get_by_role("status")).to_contain_text("2 imported (1 new, 1 updated)")
    dialog.get_by_role("button", name="Close").click()
    expect(_item(page, "Quentin Previewson")).to_be_visible()
    expect(_item(page, "Pia Previewson-Lee")).to_be_visible()


def test_e9_possible_duplicates_are_pointed_out_and_open_the_merge(
    page: Page, sign_in, demo_logins, app_server, screenshot
):
    from groupsms.services import contacts

    login = demo_logins[ADMIN]
    with acting(app_server.database_url, login.email, login.password) as ada:
        first = contacts.create_contact(ada, "Omar Overlap", "+16045550167")
        second = contacts.create_contact(ada, "overlap, OMAR", "+16045550168")

    _signed_in(page, sign_in, login, "/contacts")
    hints = page.get_by_role("region", name="Possible duplicates")
    expect(hints).to_contain_text("Omar Overlap and overlap, OMAR have the same name")
    screenshot(page, "contacts-possible-duplicates")
    hints.get_by_role("button", name="Merge Omar Overlap and overlap, OMAR have the same name").click()
    dialog = page.get_by_role("dialog", name="Merge duplicate contacts")
    expect(dialog.get_by_label("Contact to keep")).to_have_value(str(first))
    expect(dialog.get_by_label("Duplicate to remove")).to_have_value(str(second))
    expect(dialog.get_by_label("Name")).to_contain_text("Duplicate: overlap, OMAR")
