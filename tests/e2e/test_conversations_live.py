"""The conversations list is live (E4/E7): replies, sends, needs-routing items and their assignment
show in every open conversations page without a reload, each user seeing only what they may see,
and the search a user typed is kept.

Contacts made here use 737-555-0160..0169, distinct from the other browser tests' data.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import acting

LIVE_TIMEOUT_MS = 5_000
TORONTO_OFFICE = "+14165550100"


@dataclass(frozen=True)
class Larks:
    chat_id: int  # Vic and Wes
    chat_title: str
    routed_ids: tuple[int, int]  # both with Yara: her replies need routing (E2)
    routed_titles: tuple[str, str]


@pytest.fixture(scope="module")
def larks(app_server, demo_logins) -> Larks:
    """Fresh unassigned contacts and three groups on the Toronto office number, made by the admin."""
    from groupsms.services import contacts, groups

    admin = demo_logins["admin@acme.test"]
    people = {"Vic Lark": "+17375550160", "Wes Lark": "+17375550161", "Yara Lark": "+17375550163",
              "Zeb Lark": "+17375550164", "Abe Lark": "+17375550165"}
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        ids = {name: contacts.create_contact(actor, name, e164, assigned_user_id=None)
               for name, e164 in people.items()}
        number = next(n for n in groups.picker_numbers(actor) if n.e164 == TORONTO_OFFICE)

        def make(*names: str) -> int:
            # No intro text: the lists start with "No messages yet".
            return groups.create_group(actor, number.id, [(ids[n], "primary") for n in names], intro=False)

        chat, first, second = make("Vic Lark", "Wes Lark"), make("Yara Lark", "Zeb Lark"), make("Yara Lark", "Abe Lark")
        titles = {g.id: g.title for g in groups.list_groups(actor, limit=200)}
    return Larks(chat, titles[chat], (first, second), (titles[first], titles[second]))


def _conversations_page(browser: Browser, app_server, sign_in, login) -> Page:
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    return page


@pytest.fixture
def pages(browser: Browser, app_server, sign_in, demo_logins, larks) -> Iterator[tuple[Page, Page]]:
    """The admin's and Dana's (full data access, no admin) conversations pages, open side by side."""
    admin = _conversations_page(browser, app_server, sign_in, demo_logins["admin@acme.test"])
    dana = _conversations_page(browser, app_server, sign_in, demo_logins["dana@acme.test"])
    try:
        yield admin, dana
    finally:
        admin.context.close()
        dana.context.close()


def _item(page: Page, title: str):
    return page.get_by_role("list", name="Group conversations").get_by_role("listitem", name=title, exact=True)


def _routing_item(page: Page, sender: str):
    return page.get_by_role("region", name="Needs routing").get_by_role("listitem", name=f"Message from {sender}")


def test_reply_and_send_update_preview_order_and_unread_in_every_open_list(pages, larks, post_inbound):
    page_a, page_b = pages
    for page in pages:
        expect(_item(page, larks.chat_title)).to_be_visible()
        expect(_item(page, larks.chat_title)).to_contain_text("No messages yet")

    # A participant replies by SMS: both lists show the preview, the unread count, and the group on top.
    started = time.monotonic()
    post_inbound("+17375550160", TORONTO_OFFICE, "Running 10 minutes late")
    expect(_item(page_a, larks.chat_title)).to_contain_text("Running 10 minutes late", timeout=LIVE_TIMEOUT_MS)
    delay_a = time.monotonic() - started
    expect(_item(page_b, larks.chat_title)).to_contain_text("Running 10 minutes late", timeout=LIVE_TIMEOUT_MS)
    delay_b = time.monotonic() - started
    print(f"\nlive list, inbound reply: admin after {delay_a:.3f} s, Dana after {delay_b:.3f} s")  # noqa: T201
    for page in pages:
        item = _item(page, larks.chat_title)
        expect(item.locator(".conv-unread-badge")).to_have_text("1 unread", timeout=LIVE_TIMEOUT_MS)
        expect(item.locator("time")).to_have_text("Just now")
        first = page.get_by_role("list", name="Group conversations").get_by_role("listitem").first
        expect(first).to_have_accessible_name(larks.chat_title)

    # Dana searches; the next reply updates her filtered list and keeps her search.
    search = page_b.get_by_role("searchbox", name="Search conversations")
    search.fill("Wes Lark")
    expect(page_b.get_by_role("list", name="Group conversations").get_by_role("listitem")).to_have_count(1)
    started = time.monotonic()
    post_inbound("+17375550161", TORONTO_OFFICE, "Same here, parking now")
    expect(_item(page_b, larks.chat_title)).to_contain_text("Same here, parking now", timeout=LIVE_TIMEOUT_MS)
    delay_search = time.monotonic() - started
    expect(_item(page_b, larks.chat_title).locator(".conv-unread-badge")).to_have_text("2 unread")
    expect(page_b.get_by_role("list", name="Group conversations").get_by_role("listitem")).to_have_count(1)
    expect(search).to_have_value("Wes Lark")
    expect(_item(page_a, larks.chat_title)).to_contain_text("Same here, parking now", timeout=LIVE_TIMEOUT_MS)
    print(f"live list, reply under a search: Dana after {delay_search:.3f} s")  # noqa: T201

    # The admin sends from the group page in another tab: both lists show the message.
    chat = page_a.context.new_page()
    chat.goto(f"/groups/{larks.chat_id}")
    box = chat.get_by_role("textbox", name="Message")
    box.fill("No rush, we will wait inside")
    started = time.monotonic()
    box.press("Enter")
    expect(_item(page_b, larks.chat_title)).to_contain_text("No rush, we will wait inside", timeout=LIVE_TIMEOUT_MS)
    delay_sent_b = time.monotonic() - started
    expect(_item(page_a, larks.chat_title)).to_contain_text("No rush, we will wait inside", timeout=LIVE_TIMEOUT_MS)
    delay_sent_a = time.monotonic() - started
    print(f"live list, sent message: Dana after {delay_sent_b:.3f} s, admin after {delay_sent_a:.3f} s")  # noqa: T201
    # Having read the group in the other tab, the admin has no unread left; Dana still has hers.
    expect(_item(page_a, larks.chat_title).locator(".conv-unread-badge")).to_have_count(0)
    expect(_item(page_b, larks.chat_title).locator(".conv-unread-badge")).to_have_text("2 unread")
    assert max(delay_a, delay_b, delay_search) < 2.0, (delay_a, delay_b, delay_search)


def test_needs_routing_item_appears_and_its_assignment_shows_live(pages, larks, post_inbound):
    page_a, page_b = pages
    sender = "Yara Lark · (737) 555-0163"
    first, second = larks.routed_titles
    for page in pages:
        expect(_item(page, second)).to_be_visible()

    started = time.monotonic()
    post_inbound("+17375550163", TORONTO_OFFICE, "Which group is this going to?")
    item_a = _routing_item(page_a, sender)
    expect(item_a).to_contain_text("Which group is this going to?", timeout=LIVE_TIMEOUT_MS)
    delay_a = time.monotonic() - started
    # Dana has access to the (unassigned) Toronto number, so she sees it too.
    expect(_routing_item(page_b, sender)).to_contain_text("Which group is this going to?", timeout=LIVE_TIMEOUT_MS)
    delay_b = time.monotonic() - started
    print(f"\nlive needs routing: admin after {delay_a:.3f} s, Dana after {delay_b:.3f} s")  # noqa: T201
    choices = item_a.get_by_role("group", name=re.compile("^Group for the message from"))
    expect(choices.get_by_role("radio")).to_have_count(2)
    expect(choices.get_by_role("radio", name=first, exact=True)).to_be_visible()

    # The admin assigns it: Dana's page drops the item and shows the message in the chosen group.
    choices.get_by_role("radio", name=second, exact=True).check()
    item_a.get_by_role("button", name=re.compile("^Assign")).click()
    started = time.monotonic()
    page_a.get_by_role("alertdialog").get_by_role("button", name="Relay reply").click()
    expect(_routing_item(page_b, sender)).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    expect(_item(page_b, second)).to_contain_text("Which group is this going to?", timeout=LIVE_TIMEOUT_MS)
    delay_assigned = time.monotonic() - started
    print(f"live assignment: Dana after {delay_assigned:.3f} s")  # noqa: T201
    expect(_item(page_b, first)).not_to_contain_text("Which group is this going to?")
    expect(_routing_item(page_a, sender)).to_have_count(0)
    assert max(delay_a, delay_b) < 2.0, (delay_a, delay_b)
