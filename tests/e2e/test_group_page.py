"""The group page in a real browser: the locked banner tells what happened and always offers a way
out (R10, E1), a group's name and its rename (R9 holds), the phone layout, a delivery button name
per message (E3), and the not-found rule for a user who sees only their assigned contacts (R11).

Every test makes its own contacts (737-555-06xx, used by no other module) and groups.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y_helpers import axe_at_both_widths
from tests.e2e.helpers import acting, no_console_errors

MAIN_OFFICE = "+15125550100"
TIME = r"\d{1,2}:\d{2}(?: [AP]M)?"
MOMENT = rf"[A-Z][a-z]{{2}} \d{{1,2}}(?:, \d{{4}})?, {TIME}"  # "Dec 1, 2:46 PM"


@pytest.fixture(autouse=True)
def _no_console_errors(page: Page) -> Iterator[None]:
    with no_console_errors(page):
        yield


@pytest.fixture
def admin(demo_logins):
    return demo_logins["admin@acme.test"]


def make_group(app_server, login, people: list[tuple[str, str]], *, number_label: str = "Main office",
               name: str = "", assigned_user_id=None) -> tuple[int, dict[str, int]]:
    """Fresh contacts (name, E.164) and a group of their primary numbers, made by `login` (no intro
    text: each test counts its own messages)."""
    from groupsms.services import contacts, groups

    with acting(app_server.database_url, login.email, login.password) as actor:
        extra = {} if assigned_user_id is None else {"assigned_user_id": assigned_user_id}
        ids = {n: contacts.create_contact(actor, n, e164, **extra) for n, e164 in people}
        number = next(n for n in groups.picker_numbers(actor) if n.label == number_label)
        group_id = groups.create_group(actor, number.id, [(cid, "primary") for cid in ids.values()], name=name,
                                       intro=False)
    return group_id, ids


def signed_in_at(page: Page, sign_in, login, group_id: int) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    page.goto(f"/groups/{group_id}")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()


def test_r10_e1_stop_then_start_the_banner_tells_what_happened_and_offers_both_ways_out(
    page: Page, sign_in, admin, app_server, post_inbound, screenshot
):
    tomas = ("Tomas Wren", "+17375550601")
    group_id, ids = make_group(app_server, admin, [tomas, ("Ana Wren", "+17375550602"), ("Lee Wren", "+17375550603")])
    signed_in_at(page, sign_in, admin, group_id)

    post_inbound(tomas[1], MAIN_OFFICE, "STOP")
    banner = page.get_by_role("alert").filter(has_text="This group is locked")
    expect(banner).to_contain_text(re.compile(rf"Tomas Wren opted out by texting STOP · {MOMENT}\."))
    expect(banner).not_to_contain_text("DND")
    without = banner.get_by_role("button", name="Create a new group without Tomas Wren", exact=True)
    expect(without).to_be_visible()
    expect(banner.get_by_role("button", name="Recreate with everyone")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Message")).to_be_disabled()
    screenshot(page, "group-page-opted-out")

    post_inbound(tomas[1], MAIN_OFFICE, "START")
    expect(banner).to_contain_text(re.compile(
        rf"Tomas Wren opted out by texting STOP · {MOMENT}, and opted back in · {MOMENT}\."))
    expect(banner).to_contain_text("This group stays locked")
    everyone = banner.get_by_role("button", name="Recreate with everyone", exact=True)
    expect(everyone).to_be_visible()
    expect(without).to_be_visible()  # never disappears
    expect(page.get_by_role("textbox", name="Message")).to_be_disabled()  # still locked (R10)
    screenshot(page, "group-page-opted-back-in")
    page.set_viewport_size({"width": 375, "height": 800})  # on a phone the banner leaves room for the newest
    start = page.get_by_role("log", name="Messages").get_by_role("article").filter(has_text="START")
    expect(start).to_be_in_viewport()
    composer_box = page.get_by_role("textbox", name="Message").bounding_box()
    start_box = start.bounding_box()
    assert start_box and composer_box and start_box["y"] + start_box["height"] <= composer_box["y"] <= 800
    page.set_viewport_size({"width": 1280, "height": 800})

    everyone.click()
    expect(page).to_have_url(re.compile(rf"/\?regroup={group_id}$"))
    dialog = page.get_by_role("dialog", name="New group message")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("3 of 9 selected")).to_be_visible()
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        from groupsms.services import groups

        number_id = groups.get_group(actor, group_id).number_id
    expect(dialog.get_by_label("From number")).to_have_value(str(number_id))  # the same business number
    chips = dialog.get_by_role("group", name="Selected participants")
    for person in ("Tomas Wren", "Ana Wren", "Lee Wren"):
        expect(chips).to_contain_text(person)
    screenshot(page, "group-page-recreate-with-everyone")

    page.goto(f"/groups/{group_id}")  # the old group and its history stay
    banner.get_by_role("button", name="Create a new group without Tomas Wren", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/\?regroup={group_id}&without={ids['Tomas Wren']}$"))
    expect(dialog.get_by_text("2 of 9 selected")).to_be_visible()
    expect(chips).not_to_contain_text("Tomas Wren")


def test_r10_dnd_says_who_turned_it_on(page: Page, sign_in, admin, app_server):
    from groupsms.services import contacts

    group_id, ids = make_group(app_server, admin, [("Val Finch", "+17375550604"), ("Wes Finch", "+17375550605")])
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        contacts.set_contact_dnd(actor, ids["Val Finch"], True)
    signed_in_at(page, sign_in, admin, group_id)
    banner = page.get_by_role("alert").filter(has_text="This group is locked")
    expect(banner).to_contain_text(re.compile(rf"Ada Admin turned on Do not disturb for Val Finch · {MOMENT}\."))
    expect(banner.get_by_role("button", name="Create a new group without Val Finch", exact=True)).to_be_visible()


def test_r9_a_rename_shows_in_the_header_with_the_participants_below_and_members_stay(
    page: Page, sign_in, admin, app_server, screenshot
):
    group_id, _ = make_group(app_server, admin, [("Cam Heron", "+17375550606"), ("Dee Heron", "+17375550607")])
    signed_in_at(page, sign_in, admin, group_id)
    header = page.locator(".chat-header")
    expect(header.get_by_role("heading", level=1)).to_have_text("Cam Heron, Dee Heron")

    conversations = page.context.new_page()  # another tab on the list: it follows the rename live
    conversations.goto("/")
    expect(conversations.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    expect(conversations.get_by_text("Cam Heron, Dee Heron").first).to_be_visible()

    header.get_by_role("button", name="Rename group").click()
    dialog = page.get_by_role("dialog", name="Rename group")
    dialog.get_by_label("Group name").fill("  Heron family closing ")
    assert not axe_at_both_widths(page, "dialog-rename-group", dialog)  # WCAG 2.2 AA, as every dialog
    expect(dialog.get_by_label("Group name")).to_have_value("  Heron family closing ")
    screenshot(page, "group-page-rename-dialog")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(header.get_by_role("heading", level=1)).to_have_text("Heron family closing")
    expect(conversations.get_by_text("Heron family closing").first).to_be_visible()
    conversations.close()
    expect(header.get_by_text("Cam Heron, Dee Heron", exact=True)).to_be_visible()
    top = page.get_by_role("list", name="Participants", exact=True)
    expect(top.get_by_role("listitem")).to_have_count(2)  # R9: the name is not membership
    screenshot(page, "group-page-renamed")

    page.reload()
    expect(header.get_by_role("heading", level=1)).to_have_text("Heron family closing")
    header.get_by_role("button", name="Rename group").click()
    expect(dialog.get_by_label("Group name")).to_have_value("Heron family closing")
    dialog.get_by_label("Group name").fill("")
    dialog.get_by_role("button", name="Save").click()
    expect(header.get_by_role("heading", level=1)).to_have_text("Cam Heron, Dee Heron")

    page.goto("/")
    expect(page.get_by_text("Heron family closing")).to_have_count(0)  # the list shows the people again


def test_phone_layout_puts_the_newest_message_and_the_composer_on_the_first_screen(
    page: Page, sign_in, admin, app_server, screenshot
):
    from groupsms.services import groups, messages

    long_name = "Bartholomew Alexander Fitzgerald-Montgomery the Third"
    people = [(long_name, "+17375550610")] + [(f"{first} Plover", f"+173755506{11 + i}") for i, first in
                                               enumerate(["Ada", "Ben", "Cy", "Di", "Ed", "Flo", "Gil", "Hal"])]
    title = "Closing of 12 Maple Ridge Road with the buyers, the sellers, both lenders and the title company"
    group_id, _ = make_group(app_server, admin, people, name=title)
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        for n in range(1, 13):
            messages.send_message(actor, group_id, f"Update {n}: the walkthrough is on for Friday at 10.")
        assert len(groups.get_group(actor, group_id).participants) == 9

    page.set_viewport_size({"width": 375, "height": 800})
    signed_in_at(page, sign_in, admin, group_id)
    last = page.get_by_role("log", name="Messages").get_by_role("article").filter(has_text="Update 12:")
    box = page.get_by_role("textbox", name="Message")
    send = page.get_by_role("button", name="Send")
    expect(last).to_be_visible()
    expect(last).to_be_in_viewport()
    assert page.evaluate("window.scrollY") == 0
    for element in (last, box, send):
        rect = element.bounding_box()
        assert rect and rect["y"] >= 0 and rect["y"] + rect["height"] <= 800, rect

    people_button = page.get_by_role("button", name="9 people", exact=True)
    expect(people_button).to_be_visible()
    expect(people_button).to_have_attribute("aria-expanded", "false")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_attribute("title", title)  # truncated on screen, whole in the tooltip
    assert heading.evaluate("el => el.scrollWidth > el.clientWidth")
    participants = page.get_by_role("list", name="Participants", exact=True)
    expect(participants).to_be_hidden()
    screenshot(page, "group-page-mobile", only="mobile")  # the phone layout: no desktop picture of it

    # Scrolled back through the log, the composer stays pinned to the bottom of the screen.
    first = page.get_by_role("log", name="Messages").get_by_role("article").filter(has_text="Update 1:")
    page.get_by_role("log", name="Messages").hover()
    page.mouse.wheel(0, -5000)
    expect(first).to_be_in_viewport()
    expect(last).not_to_be_in_viewport()  # it did scroll: the newest is out of sight
    for element in (box, send):
        expect(element).to_be_in_viewport(ratio=1)
        rect = element.bounding_box()
        assert rect and rect["y"] >= 0 and rect["y"] + rect["height"] <= 800, rect
    screenshot(page, "group-page-mobile-log-scrolled-up", only="mobile")

    people_button.click()
    expect(participants.get_by_role("listitem")).to_have_count(9)
    expect(participants.get_by_title(long_name)).to_be_visible()
    screenshot(page, "group-page-mobile-people-open", only="mobile")


def test_e3_every_delivery_button_has_its_own_name(page: Page, sign_in, admin, app_server, screenshot):
    from groupsms.services import messages

    group_id, _ = make_group(app_server, admin, [("Eve Stork", "+17375550620"), ("Finn Stork", "+17375550621")])
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        for text in ("Open house at 5", "Bring the keys", "Bring the keys"):
            messages.send_message(actor, group_id, text)
    signed_in_at(page, sign_in, admin, group_id)
    log = page.get_by_role("log", name="Messages")
    buttons = log.locator("button.status-button")
    expect(buttons.filter(has_text="Delivered")).to_have_count(3, timeout=20_000)
    names = [b.get_attribute("aria-label") for b in buttons.all()]
    assert len(set(names)) == len(names), names
    mine = [n for n in names if "your message" in n]
    assert len(mine) == 3, names
    pattern = re.compile(rf"^Delivery status: Delivered\. Details for your message of {TIME} to 2 people, “.+”")
    assert all(pattern.match(n) for n in mine), mine
    expect(log.get_by_role("button", name=re.compile("“Open house at 5”"))).to_have_count(1)
    screenshot(page, "group-page-delivery-names")


def test_r11_r14_not_found_tells_an_assigned_only_user_the_rule(
    page: Page, sign_in, admin, demo_logins, app_server, screenshot
):
    bo, dana = demo_logins["bo@acme.test"], demo_logins["dana@acme.test"]
    group_id, _ = make_group(app_server, admin, [("Gil Tern", "+17375550622"), ("Hana Tern", "+17375550623")])

    sign_in(page, bo.email, bo.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    for path in (f"/groups/{group_id}", "/groups/999999"):
        page.goto(path)
        expect(page.get_by_role("heading", name="Conversation not found")).to_be_visible()
        expect(page.get_by_text(
            "You see groups made only of contacts assigned to you. This group has someone who isn't assigned "
            "to you, or it doesn't exist.")).to_be_visible()
        expect(page.get_by_text("Gil Tern")).to_have_count(0)
    screenshot(page, "group-page-not-found-assigned-only")

    page.context.clear_cookies()
    sign_in(page, dana.email, dana.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    page.goto("/groups/999999")
    expect(page.get_by_text("This conversation does not exist, or you don't have access to it.")).to_be_visible()
    expect(page.get_by_text("You see groups made only of contacts assigned to you")).to_have_count(0)
    expect(page.get_by_role("heading", name="Conversation not found")).to_be_visible()
    screenshot(page, "group-page-not-found-full-access")
