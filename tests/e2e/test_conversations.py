"""The conversations page in a real browser: preview, time, unread count, search (E7) and the
"needs routing" list (E2).

Contacts made here use 512-555-014x/015x, distinct from the other browser tests' data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import acting, no_console_errors

MAIN_OFFICE = "+15125550100"


@dataclass(frozen=True)
class Made:
    group_ids: list[int]
    titles: list[str]
    e164s: dict[str, str]  # name -> number


def _make(app_server, login, people: list[tuple[str, str]], groups_of: list[list[int]]) -> Made:
    """Fresh unassigned contacts, and groups of them (indexes into `people`) on the main office number."""
    from groupsms.services import contacts, groups

    with acting(app_server.database_url, login.email, login.password) as actor:
        ids = [contacts.create_contact(actor, name, e164, assigned_user_id=None) for name, e164 in people]
        number = next(n for n in groups.picker_numbers(actor) if n.e164 == MAIN_OFFICE)
        group_ids = [groups.create_group(actor, number.id, [(ids[i], "primary") for i in members])
                     for members in groups_of]
    titles = [", ".join(people[i][0] for i in members) for members in groups_of]
    return Made(group_ids, titles, dict(people))


@pytest.fixture(scope="module")
def wrens(app_server, demo_logins) -> Made:
    people = [("Otto Wren", "+15125550140"), ("Pia Wren", "+15125550141"), ("Rex Wren", "+15125550142")]
    return _make(app_server, demo_logins["admin@acme.test"], people, [[0, 1, 2]])


@pytest.fixture(scope="module")
def finches(app_server, demo_logins) -> Made:
    """Sol is in two active groups on the same number: his replies need routing."""
    people = [("Sol Finch", "+15125550150"), ("Tess Finch", "+15125550151"), ("Uma Finch", "+15125550152")]
    return _make(app_server, demo_logins["admin@acme.test"], people, [[0, 1], [0, 2]])


@pytest.fixture(autouse=True)
def _no_console_errors(page: Page) -> Iterator[None]:
    with no_console_errors(page):
        yield

def _signed_in(page: Page, sign_in, login) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()


def _conversations(page: Page):
    return page.get_by_role("list", name="Group conversations")


def test_e7_list_shows_preview_time_unread_count_and_searches(
    page: Page, sign_in, demo_logins, wrens, post_inbound, screenshot
):
    title = wrens.titles[0]
    post_inbound(wrens.e164s["Otto Wren"], MAIN_OFFICE, "Is the house on Elm still available?")
    _signed_in(page, sign_in, demo_logins["admin@acme.test"])

    item = _conversations(page).get_by_role("listitem", name=title)
    expect(item).to_be_visible()
    expect(item.get_by_role("heading", name=title)).to_be_visible()
    expect(item).to_contain_text("Is the house on Elm still available?")
    expect(item).to_contain_text("Main office")
    expect(item).to_contain_text("3 participants")
    expect(item.locator("time")).to_have_text(re.compile(r"^(Just now|\d+ min ago)$"))
    expect(item.locator(".conv-unread-badge")).to_have_text("1 unread")
    expect(item.get_by_role("link")).to_have_attribute("href", f"/groups/{wrens.group_ids[0]}")
    screenshot(page, "conversations")

    search = page.get_by_role("searchbox", name="Search conversations")
    search.fill("Pia Wren")
    expect(_conversations(page).get_by_role("listitem")).to_have_count(1)
    expect(_conversations(page).get_by_role("listitem", name=title)).to_be_visible()

    for number in ("(512) 555-0142", "5125550142", "+1 512-555-0142"):
        search.fill(number)
        expect(_conversations(page).get_by_role("listitem")).to_have_count(1)
        expect(_conversations(page).get_by_role("listitem", name=title)).to_be_visible()

    search.fill("nobody-by-this-name")
    expect(page.get_by_text("No conversations match")).to_be_visible()
    expect(_conversations(page)).to_have_count(0)

    search.fill("")
    expect(_conversations(page).get_by_role("listitem", name=title)).to_be_visible()

    # A second reply arrives; "Refresh conversations" shows it without a reload.
    post_inbound(wrens.e164s["Rex Wren"], MAIN_OFFICE, "I can do Saturday at 10")
    page.get_by_role("button", name="Refresh conversations").click()
    expect(item).to_contain_text("I can do Saturday at 10")
    expect(item.locator(".conv-unread-badge")).to_have_text("2 unread")


def test_e2_needs_routing_item_is_assigned_to_the_chosen_group(
    page: Page, sign_in, demo_logins, finches, post_inbound, screenshot
):
    first, second = finches.titles
    post_inbound(finches.e164s["Sol Finch"], MAIN_OFFICE, "Which of you gets the keys?")
    _signed_in(page, sign_in, demo_logins["admin@acme.test"])

    section = page.get_by_role("region", name="Needs routing")
    expect(section).to_be_visible()
    item = section.get_by_role("listitem", name="Message from Sol Finch · (512) 555-0150")
    expect(item).to_contain_text("Which of you gets the keys?")
    expect(item).to_contain_text("(512) 555-0100")
    choice = item.get_by_role("group", name="Group for the message from Sol Finch · (512) 555-0150")
    expect(choice.get_by_role("radio")).to_have_count(2)
    expect(choice.get_by_role("radio", name=first, exact=True)).not_to_be_checked()
    screenshot(page, "conversations-needs-routing")

    choice.get_by_role("radio", name=second, exact=True).check()
    item.get_by_role("button", name=re.compile("^Assign")).click()
    page.get_by_role("alertdialog").get_by_role("button", name="Relay reply").click()

    expect(page.get_by_role("status").filter(has_text="moved to")).to_contain_text(second)
    expect(section.get_by_role("listitem", name="Message from Sol Finch · (512) 555-0150")).to_have_count(0)
    chosen = _conversations(page).get_by_role("listitem", name=second, exact=True)
    expect(chosen).to_contain_text("Which of you gets the keys?")
    other = _conversations(page).get_by_role("listitem", name=first, exact=True)
    expect(other).not_to_contain_text("Which of you gets the keys?")


def test_r11_assigned_only_user_sees_neither_foreign_groups_nor_their_routing(
    page: Page, sign_in, demo_logins, wrens, finches
):
    # The wrens and finches are nobody's contacts: Bo (assigned data only) sees none of their groups.
    _signed_in(page, sign_in, demo_logins["bo@acme.test"])
    expect(page.get_by_role("searchbox", name="Search conversations")).to_be_visible()
    expect(
        _conversations(page).or_(page.get_by_role("heading", name="No group conversations yet"))
    ).to_be_visible()
    for title in (*wrens.titles, *finches.titles):
        expect(page.get_by_role("listitem", name=title, exact=True)).to_have_count(0)
    expect(page.get_by_role("listitem", name=re.compile("^Message from"))).to_have_count(0)
