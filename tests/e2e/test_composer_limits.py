"""The composer's limits in a real browser: the cost of a message as you type (segments × the
people it reaches ≈ SMS), and a role without "Send messages" gets a disabled composer that says
why (R13), from the next load of the page.

Contacts made here use 512-555-088x, distinct from the other browser tests' data.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import acting, no_console_errors

PEOPLE = [("Ava Quill", "+15125550881"), ("Ben Quill", "+15125550882"), ("Cy Quill", "+15125550883")]
ROLE_CANT_SEND = "Your role can't send — ask an admin"


@pytest.fixture(scope="module")
def quills(app_server, demo_logins) -> int:
    from groupsms.services import contacts, groups

    admin = demo_logins["admin@acme.test"]
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        ids = [contacts.create_contact(actor, name, e164, assigned_user_id=None) for name, e164 in PEOPLE]
        number = next(n for n in groups.picker_numbers(actor) if n.label == "Main office")
        return groups.create_group(actor, number.id, [(cid, "primary") for cid in ids], intro=False)


@pytest.fixture(autouse=True)
def _no_console_errors(page: Page) -> Iterator[None]:
    with no_console_errors(page):
        yield


def _set_user_send(app_server, demo_logins, allowed: bool) -> None:
    from groupsms.services import policy

    admin = demo_logins["admin@acme.test"]
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        policy.set_role_permission(actor, "user", "message", "send", allowed)


def _open(page: Page, sign_in, login, group_id: int) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    page.goto(f"/groups/{group_id}")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()


def test_cost_line_shows_segments_times_people_as_you_type(page: Page, sign_in, demo_logins, quills, screenshot):
    _open(page, sign_in, demo_logins["dana@acme.test"], quills)
    box = page.get_by_role("textbox", name="Message")
    cost = page.locator("#composer-cost")
    box.fill("See you at the inspection")
    expect(cost).to_have_text("1 segment × 3 people ≈ 3 SMS")
    box.fill("Details for Saturday. " * 20)  # 440 GSM-7 characters: 3 segments of 153
    expect(cost).to_have_text("3 segments × 3 people ≈ 9 SMS")
    expect(box).to_have_attribute("aria-describedby", "composer-counter composer-cost")
    screenshot(page, "composer-cost-line")
    box.fill("")
    expect(cost).to_have_text("")


def test_role_without_send_gets_a_disabled_composer_that_says_why(
    page: Page, sign_in, demo_logins, quills, app_server, screenshot
):
    dana = demo_logins["dana@acme.test"]
    _open(page, sign_in, dana, quills)
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_be_enabled()
    try:
        _set_user_send(app_server, demo_logins, False)
        page.reload()  # a permission change takes effect at the next load of the page
        box = page.get_by_role("textbox", name="Message")
        expect(box).to_be_disabled()
        expect(box).to_have_attribute("aria-disabled", "true")
        expect(box).to_have_attribute("aria-describedby", "composer-blocked")
        expect(page.locator("#composer-blocked")).to_have_text(ROLE_CANT_SEND)
        expect(page.locator("#composer-blocked")).to_be_visible()
        expect(page.get_by_role("button", name="Send")).to_be_disabled()
        screenshot(page, "composer-role-cannot-send")
    finally:
        _set_user_send(app_server, demo_logins, True)
    page.reload()
    expect(page.get_by_role("textbox", name="Message")).to_be_enabled()
