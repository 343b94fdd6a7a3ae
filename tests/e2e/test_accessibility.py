"""WCAG 2.2 AA in a real browser: axe-core on every page and every dialog, at desktop and phone
widths, with a screenshot of each (artifacts/a11y-page-<page>-*.png, a11y-dialog-<dialog>-*.png,
a11y-menu-<menu>-*.png), also in the states they pass through (a menu open, a dialog's warnings, a
locked group, not found); contrast of solid fills and focus rings from the computed styles; the
focus back on the control that opened a dialog.

axe's serious and critical violations fail; the lesser ones are printed.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.a11y_helpers import axe_at_both_widths, focus_ring, text_contrast
from tests.e2e.helpers import acting

ADMIN = "admin@acme.test"


def _signed_in(page: Page, sign_in, login) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()


def _group_with_a_sent_message(app_server, login) -> int:
    """A fresh group of two fresh contacts, with one message sent to it (an outbound bubble)."""
    from groupsms.services import contacts, groups, messages

    tag = uuid.uuid4().hex[:6]
    # Numbers of their own (no other group on the business number has this pair: E11).
    base = 100 + int(tag, 16) % 98
    with acting(app_server.database_url, login.email, login.password) as actor:
        ids = [
            contacts.create_contact(actor, f"Axe {name} {tag}", f"+1802555{base + n:04d}")
            for n, name in enumerate(("Avery", "Blake"))
        ]
        number = next(n for n in groups.picker_numbers(actor) if n.is_default)
        group_id = groups.create_group(actor, number.id, [(cid, "primary") for cid in ids], intro=False)
        messages.send_message(actor, group_id, "Open house moved to 5 pm, see you there.")
    return group_id


def test_sign_in_page_has_no_serious_axe_violations_and_focuses_email(page: Page, screenshot):
    page.goto("/login")
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    failures = axe_at_both_widths(page, "sign-in")
    screenshot(page, "a11y-page-sign-in")
    assert not failures, "\n".join(failures)
    expect(page.get_by_label("Email")).to_be_focused()


def test_every_page_and_dialog_has_no_serious_axe_violations(
    page: Page, sign_in, demo_logins, app_server, screenshot
):
    admin = demo_logins[ADMIN]
    group_id = _group_with_a_sent_message(app_server, admin)
    _signed_in(page, sign_in, admin)
    failures: list[str] = []

    def check(name: str, ready=None) -> None:
        failures.extend(axe_at_both_widths(page, name, ready))
        screenshot(page, f"a11y-{name}")

    # Conversations, and its "Group Message" dialog.
    check("page-conversations")
    page.get_by_role("button", name="Create a new message").click()
    page.get_by_role("menuitem", name="Group Message").click()
    dialog = page.get_by_role("dialog", name="New group message")
    expect(dialog.get_by_role("checkbox").first).to_be_visible()
    check("dialog-create-group", dialog)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # A conversation with a sent message, and its delivery details.
    page.goto(f"/groups/{group_id}")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    bubble = page.get_by_role("article").filter(has_text="Open house moved to 5 pm")
    expect(bubble).to_be_visible()
    check("page-group-chat")
    bubble.locator(".status-button").click()
    expect(bubble.locator(".delivery-list")).to_be_visible()
    check("dialog-delivery-details")

    # Contacts and its dialogs.
    page.goto("/contacts")
    expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
    expect(page.get_by_role("list", name="Contacts")).to_be_visible()
    check("page-contacts")
    for opener, title, name in (
        ("New contact", "New contact", "dialog-new-contact"),
        ("Import CSV", "Import contacts from CSV", "dialog-import-contacts"),
    ):
        page.get_by_role("button", name=opener, exact=True).click()
        dialog = page.get_by_role("dialog", name=title)
        check(name, dialog)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
    page.get_by_role("button", name=re.compile(r"^Edit ")).first.click()
    dialog = page.get_by_role("dialog", name="Edit contact")
    expect(dialog.get_by_label("Name", exact=True)).not_to_have_value("")
    check("dialog-edit-contact", dialog)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name=re.compile(r"^Delete ")).first.click()
    confirm = page.get_by_role("alertdialog")
    check("dialog-delete-contact", confirm)
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()

    # Numbers and its dialogs.
    page.goto("/numbers")
    expect(page.get_by_role("list", name="Business numbers")).to_be_visible()
    check("page-numbers")
    for opener, name in (("Rename ", "dialog-rename-number"), ("Assign ", "dialog-assign-number")):
        page.get_by_role("button", name=re.compile("^" + opener)).first.click()
        dialog = page.get_by_role("dialog")
        check(name, dialog)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

    # Users & access (with API tokens and webhooks) and its dialogs.
    page.goto("/users")
    expect(page.get_by_role("list", name="Users")).to_be_visible()
    check("page-users")
    page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog", name="New user")
    check("dialog-new-user", dialog)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name=re.compile(r"^Reset password of ")).first.click()
    dialog = page.get_by_role("dialog")
    check("dialog-reset-password", dialog)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Integrations: a new API token shows its one-time secret.
    page.goto("/settings/integrations")
    page.get_by_label("Token name").fill(f"Axe check {uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("New API token")).to_be_visible()
    check("page-integrations")

    # Phones (the simulator's handsets) and Account.
    page.goto("/phones")
    expect(page.get_by_role("heading", name="Phones", exact=True)).to_be_visible()
    check("page-phones")
    page.goto("/account")
    expect(page.get_by_role("heading", name=re.compile("Account"))).to_be_visible()
    check("page-account")

    assert not failures, "\n".join(failures)


def test_menus_confirmations_warnings_locked_banner_and_not_found_have_no_serious_axe_violations(
    page: Page, sign_in, demo_logins, app_server, screenshot
):
    """The states a page passes through, not only its first look: an open menu, the create-group
    dialog with its duplicate notice and warnings, a locked group's banner, the not-found page and
    the DND confirmation."""
    from groupsms.services import contacts, groups

    admin = demo_logins[ADMIN]
    # 802-555-032x/033x/034x: numbers no other test uses.
    duplicates = [("Axe Cora Warning", "+18025550320", "(802) 555-0320"),
                  ("Axe Dane Warning", "+18025550321", "(802) 555-0321")]
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        number = next(n for n in groups.picker_numbers(actor) if n.is_default)
        ids = [contacts.create_contact(actor, name, e164) for name, e164, _ in duplicates]
        groups.create_group(actor, number.id, [(cid, "primary") for cid in ids], intro=False)
        locked_ids = [contacts.create_contact(actor, name, e164)
                      for name, e164 in (("Axe Ezra Locked", "+18025550330"), ("Axe Fay Locked", "+18025550331"))]
        locked = groups.create_group(actor, number.id, [(cid, "primary") for cid in locked_ids], intro=False)
        contacts.set_contact_dnd(actor, locked_ids[0], True)
        contacts.create_contact(actor, "Axe Gus Switch", "+18025550340")
    _signed_in(page, sign_in, admin)
    failures: list[str] = []

    def check(name: str, ready) -> None:
        failures.extend(axe_at_both_widths(page, name, ready))
        expect(ready).to_be_visible()
        screenshot(page, f"a11y-{name}")

    # The "Create a new message" menu, open.
    opener = page.get_by_role("button", name="Create a new message")
    opener.click()
    menu = page.get_by_role("menu")
    expect(menu.get_by_role("menuitem", name="Group Message")).to_be_visible()
    check("menu-new-message", menu)
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(opener).to_be_focused()

    # The create-group dialog showing the duplicate notice and a warning for each person.
    opener.click()
    page.get_by_role("menuitem", name="Group Message").click()
    dialog = page.get_by_role("dialog", name="New group message")
    dialog.get_by_role("searchbox", name="Search contacts").fill("Warning")
    for name, _, display in duplicates:
        box = dialog.get_by_role("checkbox", name=f"{name} {display}")
        box.click()
        expect(box).to_be_checked()
    notice = dialog.get_by_role("status").filter(has_text="A group with exactly these participants already exists")
    expect(notice.get_by_role("button", name="Open that group")).to_be_visible()
    for name, _, display in duplicates:
        expect(dialog.get_by_text(f"{name}'s number {display} is already in 1 active group on this number")
               ).to_be_visible()
    check("dialog-create-group-warnings", notice)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # A locked group: its banner says why and offers a way out, the composer is off.
    page.goto(f"/groups/{locked}")
    banner = page.get_by_role("alert").filter(has_text="This group is locked")
    expect(banner).to_contain_text("turned on Do not disturb for Axe Ezra Locked")
    expect(banner.get_by_role("button", name="Create a new group without Axe Ezra Locked")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_be_disabled()
    check("page-group-locked", banner)

    # A conversation that does not exist.
    page.goto("/groups/999999")
    heading = page.get_by_role("heading", name="Conversation not found")
    expect(page.get_by_text("This conversation does not exist, or you don't have access to it.")).to_be_visible()
    check("page-conversation-not-found", heading)

    # The DND confirmation on a contact; Cancel turns nothing on.
    page.goto("/contacts")
    page.get_by_label("Search contacts").fill("Axe Gus Switch")
    switch = page.get_by_role("switch", name="DND for Axe Gus Switch")
    expect(switch).not_to_be_checked()
    switch.click()
    confirm = page.get_by_role("alertdialog", name="Turn on DND for Axe Gus Switch?")
    expect(confirm.get_by_role("button", name="Turn on DND")).to_be_visible()
    check("dialog-dnd-confirm", confirm)
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(switch).not_to_be_checked()

    assert not failures, "\n".join(failures)


def test_solid_fills_have_4_5_contrast_and_focus_rings_3_1(page: Page, sign_in, demo_logins, app_server, screenshot):
    admin = demo_logins[ADMIN]
    group_id = _group_with_a_sent_message(app_server, admin)
    _signed_in(page, sign_in, admin)

    # The outbound bubble: white text on the darker accent.
    page.goto(f"/groups/{group_id}")
    bubble = page.get_by_role("article").filter(has_text="Open house moved to 5 pm").locator(".chat-bubble")
    expect(bubble).to_be_visible()
    body = bubble.locator(".chat-bubble-body")
    assert text_contrast(page, body) >= 4.5, text_contrast(page, body)

    # A primary button: "New contact".
    page.goto("/contacts")
    new_contact = page.get_by_role("button", name="New contact", exact=True)
    expect(new_contact).to_be_visible()
    assert text_contrast(page, new_contact) >= 4.5, text_contrast(page, new_contact)

    # Its focus ring, reached with the keyboard, against the page and against the button.
    new_contact.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(new_contact).to_be_focused()
    ring, against_page, against_control = focus_ring(page, new_contact)
    assert against_page >= 3 and against_control >= 3, (ring, against_page, against_control)

    # A navigation link and a soft button keep the same ring.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Numbers").focus()
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    ring, against_page, against_control = focus_ring(page, focused)
    assert against_page >= 3 and against_control >= 3, (ring, against_page, against_control)
    screenshot(page, "a11y-focus-ring-nav-link", only="desktop")  # a phone has a Menu, not this bar
    import_csv = page.get_by_role("button", name="Import CSV")
    import_csv.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(import_csv).to_be_focused()
    ring, against_page, against_control = focus_ring(page, import_csv)
    assert against_page >= 3 and against_control >= 3, (ring, against_page, against_control)
    new_contact.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(new_contact).to_be_focused()
    screenshot(page, "a11y-focus-ring-primary-button")


def test_closing_a_dialog_returns_focus_to_the_control_that_opened_it(page: Page, sign_in, demo_logins, screenshot):
    _signed_in(page, sign_in, demo_logins[ADMIN])

    # Conversations: the "Group Message" dialog, opened from the "Create a new message" menu.
    opener = page.get_by_role("button", name="Create a new message")
    opener.click()
    page.get_by_role("menuitem", name="Group Message").click()
    dialog = page.get_by_role("dialog", name="New group message")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    page.goto("/contacts")
    new_contact = page.get_by_role("button", name="New contact", exact=True)
    expect(new_contact).to_be_visible()

    # Opened with the keyboard, closed with Escape.
    new_contact.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(new_contact).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New contact")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(new_contact).to_be_focused()
    screenshot(page, "a11y-focus-returned-after-escape")

    # Opened with the mouse, closed with Cancel.
    new_contact.click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(new_contact).to_be_focused()

    # An edit dialog opened from a row of the list, closed with Cancel.
    edit = page.get_by_role("button", name=re.compile(r"^Edit ")).first
    edit.click()
    dialog = page.get_by_role("dialog", name="Edit contact")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(edit).to_be_focused()

    # The confirmation (an alert dialog), closed with Cancel.
    delete = page.get_by_role("button", name=re.compile(r"^Delete ")).first
    delete.click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(delete).to_be_focused()
    screenshot(page, "a11y-focus-returned-after-cancel")
