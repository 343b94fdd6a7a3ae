"""The "Other texts" list of the conversations page in a real browser (E2): a text from a number in
no group shows with its sender, the number it came to and when; a new one appears live; "Start a
group" opens the group dialog on that number; "Dismiss" takes it off the list.

Numbers used here: 512-555-0168 and 512-555-0169, texting no contact of the demo.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import no_console_errors

MAIN_OFFICE = "+15125550100"


@pytest.fixture(autouse=True)
def _no_console_errors(page: Page) -> Iterator[None]:
    with no_console_errors(page):
        yield


def test_e2_text_from_a_number_in_no_group_is_listed_started_and_dismissed(
    page: Page, sign_in, demo_logins, post_inbound, screenshot
):
    post_inbound("+15125550168", MAIN_OFFICE, "Hi! Is the loft on 5th still for rent?")
    login = demo_logins["admin@acme.test"]
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()

    section = page.get_by_role("region", name="Other texts")
    item = section.get_by_role("listitem", name="Text from (512) 555-0168")
    expect(item).to_contain_text("Hi! Is the loft on 5th still for rent?")
    expect(item).to_contain_text("to Main office · (512) 555-0100")
    expect(item.locator("time")).to_have_text(re.compile(r"^(Just now|\d+ min ago)$"))
    screenshot(page, "conversations-other-texts")

    # Live (E4): a second stranger's text shows up without a reload.
    post_inbound("+15125550169", MAIN_OFFICE, "Wrong number?")
    expect(section.get_by_role("listitem", name="Text from (512) 555-0169")).to_contain_text("Wrong number?")

    item.get_by_role("button", name="Start a group with (512) 555-0168").click()
    dialog = page.get_by_role("dialog", name="New group message")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("From number").locator("option:checked")).to_contain_text("(512) 555-0100")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)

    item.get_by_role("button", name="Dismiss the text from (512) 555-0168").click()
    expect(page.get_by_role("status").filter(has_text="dismissed")).to_contain_text(
        "Text from (512) 555-0168 dismissed.")
    expect(section.get_by_role("listitem", name="Text from (512) 555-0168")).to_have_count(0)
    expect(section.get_by_role("listitem", name="Text from (512) 555-0169")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    expect(page.get_by_role("listitem", name="Text from (512) 555-0169")).to_be_visible()
    expect(page.get_by_role("listitem", name="Text from (512) 555-0168")).to_have_count(0)


def test_r11_assigned_only_user_does_not_see_texts_from_numbers_no_contact_holds(
    page: Page, sign_in, demo_logins, post_inbound
):
    post_inbound("+15125550168", MAIN_OFFICE, "Anyone there?")
    login = demo_logins["bo@acme.test"]
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("searchbox", name="Search conversations")).to_be_visible()
    expect(page.get_by_role("listitem", name=re.compile("^Text from"))).to_have_count(0)
