"""Accounts in a real browser: signing out and in as someone else in the same tab, changing your own
password, admins deactivating a user.

Each test leaves the demo logins as it found them (later tests sign in with them).
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

LOGIN_URL = re.compile(r"/login/?$")
ADMIN, BO = "admin@acme.test", "bo@acme.test"
# Dana's contact: the admin sees it, Bo (assigned data only) never may.
NOT_BOS = "Olivia Grant"

_WATCH = """(text) => {
    window.__sawText = false;
    const check = () => { if (document.body.innerText.includes(text)) window.__sawText = true; };
    new MutationObserver(check).observe(document.body, {childList: true, subtree: true, characterData: true});
    check();
}"""


def _conversations(page: Page) -> None:
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()


def test_sign_out_then_another_user_sees_nothing_of_the_previous_one(page: Page, sign_in, demo_logins):
    admin, bo = demo_logins[ADMIN], demo_logins[BO]
    sign_in(page, admin.email, admin.password)
    _conversations(page)
    page.get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("list", name="Contacts").get_by_role("listitem", name=NOT_BOS)).to_be_visible()
    page.get_by_role("link", name="Users & access").click()
    expect(page.get_by_role("list", name="Users")).to_contain_text("dana@acme.test")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(LOGIN_URL)
    sign_in(page, bo.email, bo.password)  # the same tab: the same page states in the store
    _conversations(page)
    expect(page.get_by_role("link", name="Account of " + bo.name)).to_be_visible()
    # Watch every render from here on: the admin's contacts must never be drawn, not even for a moment
    # before Bo's own list arrives.
    page.evaluate(_WATCH, NOT_BOS)
    page.get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("list", name="Contacts").get_by_role("listitem", name="Carla Mendes")).to_be_visible()
    expect(page.get_by_text(NOT_BOS)).to_have_count(0)
    assert page.evaluate("window.__sawText") is False
    page.goto("/users")
    expect(page.get_by_role("alert")).to_contain_text("Only admins can manage users")
    expect(page.get_by_text("dana@acme.test")).to_have_count(0)


def test_user_changes_own_password_with_the_current_one(page: Page, sign_in, demo_logins, browser, app_server):
    bo = demo_logins[BO]
    other = browser.new_context(base_url=app_server.url)
    elsewhere = other.new_page()
    sign_in(elsewhere, bo.email, bo.password)
    _conversations(elsewhere)

    sign_in(page, bo.email, bo.password)
    _conversations(page)
    page.get_by_role("link", name="Account of " + bo.name).click()
    expect(page.get_by_role("heading", name="Account")).to_be_visible()

    def change(current: str, new: str) -> None:
        page.get_by_label("Current password").fill(current)
        page.get_by_label("New password", exact=True).fill(new)
        page.get_by_label("New password again").fill(new)
        page.get_by_role("button", name="Change password").click()

    change("not-my-password", "bo-brand-new-pass")
    expect(page.get_by_role("alert")).to_contain_text("current password is wrong")
    change(bo.password, "bo-brand-new-pass")
    expect(page.get_by_role("status")).to_contain_text("Password changed")
    # This tab stays signed in; the other browser's session has ended.
    page.get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
    elsewhere.reload()
    expect(elsewhere).to_have_url(LOGIN_URL)
    other.close()

    page.get_by_role("link", name="Account of " + bo.name).click()
    change("bo-brand-new-pass", bo.password)  # back to the demo password for the other tests
    expect(page.get_by_role("status")).to_contain_text("Password changed")


def test_admin_deactivates_and_reactivates_a_user(page: Page, sign_in, demo_logins, browser, app_server):
    admin, dana = demo_logins[ADMIN], demo_logins["dana@acme.test"]
    other = browser.new_context(base_url=app_server.url)
    danas = other.new_page()
    sign_in(danas, dana.email, dana.password)
    _conversations(danas)

    sign_in(page, admin.email, admin.password)
    _conversations(page)
    page.get_by_role("link", name="Users & access").click()
    expect(page.get_by_role("button", name="Deactivate " + admin.name)).to_have_count(0)  # not yourself
    page.get_by_role("button", name="Deactivate " + dana.name).click()
    expect(page.get_by_role("status")).to_contain_text("deactivated")
    item = page.get_by_role("list", name="Users").get_by_role("listitem", name=dana.name, exact=True)
    expect(item).to_contain_text("Inactive")

    danas.reload()  # her session ended at once
    expect(danas).to_have_url(LOGIN_URL)
    sign_in(danas, dana.email, dana.password)
    expect(danas.get_by_role("alert")).to_contain_text("deactivated")

    page.get_by_role("button", name="Reactivate " + dana.name).click()
    expect(item).not_to_contain_text("Inactive")
    sign_in(danas, dana.email, dana.password)
    _conversations(danas)
    other.close()
