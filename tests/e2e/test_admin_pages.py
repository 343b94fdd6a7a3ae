"""Contacts, Numbers and Users & access in a real browser (E9, R10, R12).

Each test leaves the demo as it found it where later tests could care (the default number, the
role policy); new contacts, numbers and users have names of their own.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import EXPECT_TIMEOUT_MS, RunningApp

ADMIN, DANA = "admin@acme.test", "dana@acme.test"


def _signed_in(page: Page, sign_in, login, path: str) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    page.goto(path)


def _item(page: Page, list_name: str, item_name: str):
    return page.get_by_role("list", name=list_name).get_by_role("listitem", name=item_name, exact=True)


def test_e9_contacts_create_edit_dnd_import_and_search(page: Page, sign_in, demo_logins, screenshot):
    _signed_in(page, sign_in, demo_logins[ADMIN], "/contacts")
    expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
    expect(_item(page, "Contacts", "Carla Mendes")).to_be_visible()

    # Create.
    page.get_by_role("button", name="New contact").click()
    dialog = page.get_by_role("dialog", name="New contact")
    dialog.get_by_label("Name", exact=True).fill("Paula Pruitt")
    dialog.get_by_label("Primary phone").fill("512 555 0161")
    dialog.get_by_label("Assigned to").select_option(label="Bo Assigned")
    dialog.get_by_role("button", name="Create contact").click()
    expect(dialog).to_be_hidden()
    paula = _item(page, "Contacts", "Paula Pruitt")
    expect(paula).to_contain_text("(512) 555-0161")
    expect(paula).to_contain_text("Bo Assigned")

    # A bad number is refused with the reason, and the dialog keeps what was typed.
    page.get_by_role("button", name="Edit Paula Pruitt").click()
    dialog = page.get_by_role("dialog", name="Edit contact")
    dialog.get_by_label("Primary phone").fill("555-12")
    dialog.get_by_role("button", name="Save contact").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Primary phone")
    dialog.get_by_label("Primary phone").fill("(512) 555-0162")
    dialog.get_by_role("button", name="Save contact").click()
    expect(dialog).to_be_hidden()
    expect(paula).to_contain_text("(512) 555-0162")

    # DND asks first (it locks groups), then shows on the contact.
    page.get_by_role("switch", name="DND for Paula Pruitt").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("locked")
    confirm.get_by_role("button", name="Turn on DND").click()
    expect(page.get_by_role("status")).to_contain_text("DND is on for Paula Pruitt")
    expect(page.get_by_role("switch", name="DND for Paula Pruitt")).to_be_checked()

    # CSV import: the good rows come in, the bad one is reported by its row number.
    page.get_by_role("button", name="Import CSV").click()
    dialog = page.get_by_role("dialog", name="Import contacts from CSV")
    dialog.get_by_label("CSV", exact=True).fill(
        "name,primary_phone,dnd,assigned_to\n"
        "Quincy Quill,(512) 555-0171,no,dana@acme.test\n"
        "Broken Row,555-12,,\n"
        "Rosa Reyes,+1 512 555 0172,,\n"
    )
    dialog.get_by_role("button", name="Import").click()
    expect(dialog.get_by_role("status")).to_contain_text("2 imported")
    expect(dialog.get_by_role("status")).to_contain_text("1 row skipped")
    expect(dialog.get_by_role("list", name="Import errors")).to_contain_text("Row 3: primary phone: '555-12'")
    dialog.get_by_role("button", name="Close").click()
    expect(_item(page, "Contacts", "Quincy Quill")).to_contain_text("Dana Full")

    # Search by number in another format.
    page.get_by_label("Search contacts").fill("+1 (512) 555-0172")
    expect(_item(page, "Contacts", "Rosa Reyes")).to_be_visible()
    expect(_item(page, "Contacts", "Carla Mendes")).to_have_count(0)
    page.get_by_label("Search contacts").fill("")
    expect(_item(page, "Contacts", "Carla Mendes")).to_be_visible()

    # Delete asks first.
    page.get_by_role("button", name="Delete Rosa Reyes").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete contact").click()
    expect(_item(page, "Contacts", "Rosa Reyes")).to_have_count(0)
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshot(page, "contacts")


def test_e9_r12_r14_numbers_given_by_the_owner_are_renamed_defaulted_and_assigned(
    page: Page, app_server, sign_in, demo_logins, screenshot
):
    from groupsms import db
    from groupsms.services import inventory

    db.init(app_server.database_url)  # the install owner gives acme a number (as `groupsms numbers assign`)
    inventory.give_to_location("303.555.0188", "acme", label="Open house line", default=True, provision=True)
    _signed_in(page, sign_in, demo_logins[ADMIN], "/numbers")
    expect(page.get_by_text("given to this location by the install owner")).to_be_visible()
    expect(page.get_by_role("button", name="Add number")).to_have_count(0)
    line = _item(page, "Business numbers", "Open house line")
    expect(line).to_contain_text("(303) 555-0188")
    expect(line).to_contain_text("Default")
    expect(_item(page, "Business numbers", "Main office")).not_to_contain_text("Default")

    page.get_by_role("button", name="Rename Open house line").click()
    dialog = page.get_by_role("dialog", name="Rename Open house line")
    dialog.get_by_label("Label").fill("x" * 100 + "y")  # the browser stops at 100 characters
    dialog.get_by_label("Label").fill("Open house")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    line = _item(page, "Business numbers", "Open house")
    expect(line).to_contain_text("(303) 555-0188")

    page.get_by_role("button", name="Make Main office the default").click()
    expect(_item(page, "Business numbers", "Main office")).to_contain_text("Default")
    expect(line).not_to_contain_text("Default")

    page.get_by_role("button", name="Assign Open house").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Dana Full").check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(line).to_contain_text("Assigned to Dana Full")
    screenshot(page, "numbers")


def test_e9_numbers_are_read_only_for_users(page: Page, sign_in, demo_logins):
    _signed_in(page, sign_in, demo_logins[DANA], "/numbers")
    expect(_item(page, "Business numbers", "Dana's line")).to_be_visible()
    expect(page.get_by_text("Only admins can label or assign them")).to_be_visible()
    expect(page.get_by_role("button", name="Add number")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Assign "))).to_have_count(0)


def test_e9_users_create_change_role_access_and_password(page: Page, sign_in, demo_logins, screenshot):
    _signed_in(page, sign_in, demo_logins[ADMIN], "/users")
    expect(page.get_by_role("heading", name="Users & access")).to_be_visible()

    page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog", name="New user")
    dialog.get_by_label("Email").fill("casey@acme.test")
    dialog.get_by_label("Name").fill("Casey Closer")
    dialog.get_by_label("Password").fill("short")
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Password must be at least")
    dialog.get_by_label("Password").fill("casey-demo-pass")
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog).to_be_hidden()
    casey = _item(page, "Users", "Casey Closer")
    expect(casey).to_contain_text("casey@acme.test")
    expect(page.get_by_label("Role of Casey Closer")).to_have_value("user")
    expect(page.get_by_label("Data access of Casey Closer")).to_have_value("assigned")

    page.get_by_label("Role of Casey Closer").select_option("admin")
    expect(page.get_by_role("status")).to_contain_text("Casey Closer: role is now Admin")
    page.get_by_label("Data access of Casey Closer").select_option("all")
    expect(page.get_by_role("status")).to_contain_text("Casey Closer: data access is now All data")
    page.reload()
    expect(page.get_by_label("Role of Casey Closer")).to_have_value("admin")
    expect(page.get_by_label("Data access of Casey Closer")).to_have_value("all")
    # E8: the audit log says who changed the access, and how.
    changes = page.get_by_role("table", name="Recent changes")
    expect(changes.get_by_role("row").filter(
        has_text="Ada Admin changed Casey Closer's role from User to Admin").first).to_contain_text("Users")
    expect(changes).to_contain_text("Ada Admin changed Casey Closer's data access from 'Assigned data only' to "
                                    "'All data'")

    page.get_by_role("button", name="Reset password of Casey Closer").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New password").fill("casey-new-pass")
    dialog.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Casey Closer's password was changed")
    expect(page.get_by_role("checkbox", name="User: Create and edit contacts")).to_be_checked()
    screenshot(page, "users")


def test_e9_users_page_refuses_non_admins(page: Page, sign_in, demo_logins):
    _signed_in(page, sign_in, demo_logins[DANA], "/users")
    expect(page.get_by_role("alert")).to_contain_text("Only admins can manage users")
    expect(page.get_by_role("list", name="Users")).to_have_count(0)
    expect(page.get_by_text("admin@acme.test")).to_have_count(0)
    expect(page.get_by_role("link", name="Users & access")).to_have_count(0)


def test_e9_role_permission_change_takes_effect(
    page: Page, browser: Browser, app_server: RunningApp, sign_in, demo_logins
):
    _signed_in(page, sign_in, demo_logins[ADMIN], "/users")
    permission = page.get_by_role("checkbox", name="User: Create and edit contacts")
    # Admins keep the right to change permissions: the refusal is shown.
    page.get_by_role("checkbox", name="Admin: Change role permissions").click()
    expect(page.get_by_role("alert")).to_contain_text("Admins must keep the right to change permissions")
    expect(page.get_by_role("checkbox", name="Admin: Change role permissions")).to_be_checked()

    dana = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 800})
    dana.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        permission.click()
        expect(permission).not_to_be_checked()
        expect(page.get_by_role("status")).to_contain_text("Users may no longer: create and edit contacts")

        other = dana.new_page()
        _signed_in(other, sign_in, demo_logins[DANA], "/contacts")
        other.get_by_role("button", name="New contact").click()
        dialog = other.get_by_role("dialog", name="New contact")
        dialog.get_by_label("Name", exact=True).fill("Not Allowed")
        dialog.get_by_label("Primary phone").fill("512-555-0181")
        dialog.get_by_role("button", name="Create contact").click()
        expect(dialog.get_by_role("alert")).to_contain_text("Your role may not do this: create and edit contacts")

        permission.click()
        expect(permission).to_be_checked()
        dialog.get_by_role("button", name="Create contact").click()
        expect(dialog).to_be_hidden()
        expect(_item(other, "Contacts", "Not Allowed")).to_be_visible()
    finally:
        dana.close()
        _restore_contact_write(app_server)


def _restore_contact_write(app_server: RunningApp) -> None:
    """Whatever happened above, users may write contacts again (later tests rely on the demo policy)."""
    from groupsms import db
    from groupsms.services import policy, sessions

    engine = db.init(app_server.database_url)
    try:
        _token, actor = sessions.sign_in(ADMIN, "admin-demo-pass")
        policy.set_role_permission(actor, "user", "contact", "write", True)
    finally:
        engine.dispose()
