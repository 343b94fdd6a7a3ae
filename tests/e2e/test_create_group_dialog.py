"""The group dialog's own blocks in a real browser: the duplicate notice and the warnings sit by the
selection where the user looks (not under the footer) and name people; the picker says how many
contacts it shows of how many; the list is one tab stop with arrow keys; a name given at creation;
the intro text every participant gets, and the admins' setting of its wording (each location its own).

Contacts made here are unassigned and unique to this module ("Aab… Quarry" sort first in the
picker; "Heath", "Zyx Bulk" and 737-555-04xx/12xx numbers are used nowhere else).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.helpers import acting, no_console_errors

GROUP_URL = re.compile(r"/groups/(\d+)/?$")
QUARRIES = [("Aabel Quarry", "+17375550460", "(737) 555-0460"), ("Aabra Quarry", "+17375550461", "(737) 555-0461"),
            ("Aacy Quarry", "+17375550462", "(737) 555-0462")]
HEATHS = [("Sky Heath", "+17375550470", "(737) 555-0470"), ("Tam Heath", "+17375550471", "(737) 555-0471")]
BULK = 110
WORDING = "Hi {names}! {business} started this group text. Reply STOP to opt out."
BIRCH_WORDING = "{business} here: {names} are in this group text. Reply STOP to opt out."


@pytest.fixture(autouse=True)
def _no_console_errors(page: Page) -> Iterator[None]:
    with no_console_errors(page):
        yield


@pytest.fixture(scope="module")
def admin(demo_logins):
    return demo_logins["admin@acme.test"]


def _contacts(app_server, admin, people) -> list[int]:
    from groupsms.services import contacts

    with acting(app_server.database_url, admin.email, admin.password) as actor:
        return [contacts.create_contact(actor, name, e164, assigned_user_id=None) for name, e164, _ in people]


@pytest.fixture(scope="module")
def quarries(app_server, admin) -> int:
    """Three fresh contacts already in a group together on the main office number."""
    from groupsms.services import groups

    ids = _contacts(app_server, admin, QUARRIES)
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        number = next(n for n in groups.picker_numbers(actor) if n.label == "Main office")
        return groups.create_group(actor, number.id, [(i, "primary") for i in ids], intro=False)


def _signed_in(page: Page, sign_in, login) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()


def _open_dialog(page: Page) -> Locator:
    page.get_by_role("button", name="Create a new message").click()
    page.get_by_role("menuitem", name="Group Message").click()
    dialog = page.get_by_role("dialog", name="New group message")
    expect(dialog.get_by_label("From number")).to_be_visible()
    expect(dialog.get_by_role("list", name="Contact numbers")).to_be_visible()
    return dialog


def _pick(dialog: Locator, label: str) -> None:
    box = dialog.get_by_role("checkbox", name=label)
    box.click()
    expect(box).to_be_checked()


def _within(inner, outer) -> bool:
    return (inner["y"] >= outer["y"] - 0.5 and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5)


def test_duplicate_notice_and_warnings_appear_by_the_selection_in_view_and_name_people(
    page: Page, sign_in, admin, quarries, screenshot
):
    page.set_viewport_size({"width": 1280, "height": 720})
    _signed_in(page, sign_in, admin)
    dialog = _open_dialog(page)
    for name, _, display in QUARRIES:  # first in the full list, which fills the picker's height
        _pick(dialog, f"{name} {display}")

    notice = dialog.get_by_role("status").filter(has_text="A group with exactly these participants already exists")
    expect(notice).to_be_in_viewport(ratio=1)
    expect(notice.get_by_role("button", name="Open that group")).to_be_in_viewport(ratio=1)
    box, footer = notice.bounding_box(), dialog.locator(".conv-dialog-footer").bounding_box()
    assert _within(box, dialog.bounding_box()), (box, dialog.bounding_box())
    assert box["y"] + box["height"] <= footer["y"], "the notice is under the footer"
    # E2 names the person whose number it is, not a bare number.
    for name, _, display in QUARRIES:
        expect(dialog.get_by_text(f"{name}'s number {display} is already in 1 active group on this number")
               ).to_be_visible()
    screenshot(page, "create-group-dialog-duplicate-in-view")

    dialog.get_by_role("button", name="Open that group").click()
    expect(page).to_have_url(re.compile(rf"/groups/{quarries}/?$"))


def test_picker_says_how_many_contacts_it_shows_of_how_many(page: Page, sign_in, admin, app_server, screenshot):
    _contacts(app_server, admin, [(f"Zyx Bulk {n:03d}", f"+173755512{n:02d}" if n < 100 else f"+17375551{n:03d}", "")
                                  for n in range(BULK)])
    _signed_in(page, sign_in, admin)
    dialog = _open_dialog(page)
    dialog.get_by_role("searchbox", name="Search contacts").fill("Zyx Bulk")
    expect(dialog.get_by_text(f"100 of {BULK} contacts shown — search to find the rest")).to_be_visible()
    expect(dialog.get_by_role("checkbox", name=re.compile("^Zyx Bulk"))).to_have_count(100)
    screenshot(page, "create-group-dialog-picker-count")
    dialog.get_by_role("searchbox", name="Search contacts").fill("Zyx Bulk 05")  # 050 to 059
    expect(dialog.get_by_text("10 contacts match", exact=True)).to_be_visible()
    expect(dialog.get_by_role("checkbox", name=re.compile("^Zyx Bulk"))).to_have_count(10)


def _tab_stops(options: Locator) -> int:
    """How many places of the picker (its checkbox group and what it holds) Tab stops at."""
    return options.evaluate("""list => {
        const group = list.parentElement;
        return [group, ...group.querySelectorAll("*")].filter(e => e.tabIndex >= 0 && !e.disabled).length;
    }""")


def test_the_list_is_one_tab_stop_arrow_keys_move_and_space_picks(page: Page, sign_in, admin, quarries):
    _signed_in(page, sign_in, admin)
    dialog = _open_dialog(page)
    options = dialog.get_by_role("list", name="Contact numbers")
    first, second = (dialog.get_by_role("checkbox", name=f"{n} {d}") for n, _, d in QUARRIES[:2])
    expect(first).to_be_visible()
    assert _tab_stops(options) == 1

    dialog.get_by_role("searchbox", name="Search contacts").focus()
    page.keyboard.press("Tab")
    expect(first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(second).to_be_focused()
    page.keyboard.press("Space")
    expect(second).to_be_checked()
    expect(dialog.get_by_text("1 of 9 selected")).to_be_visible()
    page.keyboard.press("ArrowUp")
    expect(first).to_be_focused()
    page.keyboard.press("Tab")  # leaves the list: the next stop is after it
    expect(dialog.get_by_role("checkbox", name="Send intro text")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # back into the list, at the box last focused
    expect(first).to_be_focused()
    page.keyboard.press("Shift+Tab")  # and out of it before the list: one stop either way
    expect(dialog.get_by_role("searchbox", name="Search contacts")).to_be_focused()


def _intro_rows(database_url: str, group_id: int) -> list[tuple[str, str]]:
    from sqlmodel import select

    from groupsms import db
    from groupsms.models import Delivery, Group, Message

    engine = db.init(database_url)
    try:
        with db.read() as s:
            name = s.get(Group, group_id).name
            rows = s.exec(select(Message.body, Delivery.to_e164).join(Delivery, Delivery.message_id == Message.id)
                          .where(Message.group_id == group_id, Message.kind == "intro")).all()
    finally:
        engine.dispose()
    return name, sorted((to, body) for body, to in rows)


def test_admin_words_the_intro_and_a_named_group_texts_it_to_every_participant(
    page: Page, sign_in, admin, app_server, screenshot, demo_logins, browser: Browser
):
    from groupsms.services import location_settings

    _contacts(app_server, admin, HEATHS)
    birch = demo_logins["admin@birch.test"]
    with acting(app_server.database_url, birch.email, birch.password) as actor:
        location_settings.set_intro(actor, True, BIRCH_WORDING)  # the other location words its own
    try:
        _signed_in(page, sign_in, admin)
        page.goto("/numbers")
        card = page.get_by_role("region", name="Group intro text")
        expect(card.get_by_role("switch")).to_be_checked()
        box = card.get_by_label("Intro text", exact=True)
        expect(box).to_have_value(re.compile("^You're in a group text with \\{names\\} from \\{business\\}"))
        box.fill("Hi {names}, welcome to the group.")
        expect(card.get_by_role("alert")).to_contain_text("must say how to opt out")
        expect(card.get_by_role("button", name="Save intro text")).to_be_disabled()
        box.fill(WORDING)
        preview = card.get_by_label("Intro text preview")
        expect(preview).to_have_text("Hi Carla, Marcus and Priya! Acme Realty started this group text. "
                                     "Reply STOP to opt out.")
        card.get_by_role("button", name="Save intro text").click()
        expect(card.get_by_role("status")).to_contain_text("Intro text saved")
        screenshot(page, "intro-setting-card")

        # The wording is the location's: Birch Homes' admin still finds theirs, and its preview.
        other = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 800})
        try:
            birch_page = other.new_page()
            _signed_in(birch_page, sign_in, birch)
            birch_page.goto("/numbers")
            birch_card = birch_page.get_by_role("region", name="Group intro text")
            expect(birch_card.get_by_label("Intro text", exact=True)).to_have_value(BIRCH_WORDING)
            expect(birch_card.get_by_label("Intro text preview")).to_contain_text(
                "Birch Homes here: Carla, Marcus and Priya are in this group text. Reply STOP to opt out.")
            expect(birch_card).not_to_contain_text("started this group text")
            screenshot(birch_page, "intro-setting-card-other-location")
        finally:
            other.close()

        page.goto("/")
        dialog = _open_dialog(page)
        dialog.get_by_label("Group name (optional)").fill("12 Maple Ridge closing")
        dialog.get_by_role("searchbox", name="Search contacts").fill("Heath")
        for name, _, display in HEATHS:
            _pick(dialog, f"{name} {display}")
        expect(dialog.get_by_role("checkbox", name="Send intro text")).to_be_checked()
        text = "Hi Sky and Tam! Acme Realty started this group text. Reply STOP to opt out."
        expect(dialog.get_by_label("Intro text", exact=True)).to_have_text(text)
        screenshot(page, "create-group-dialog-intro")
        dialog.get_by_role("button", name="Create group").click()
        expect(page).to_have_url(GROUP_URL)
        group_id = int(GROUP_URL.search(page.url).group(1))

        expect(page.get_by_role("heading", name="12 Maple Ridge closing")).to_be_visible()  # the chat's header
        line = page.get_by_role("log", name="Messages").get_by_role("article").filter(has_text=text)
        expect(line).to_have_count(1)
        expect(line).to_contain_text("Intro text sent to 2 people")
        screenshot(page, "group-chat-intro-line")
        name, rows = _intro_rows(app_server.database_url, group_id)
        assert name == "12 Maple Ridge closing"
        assert rows == [(e164, text) for _, e164, _ in HEATHS], rows  # one intro SMS per participant

        page.goto("/")
        expect(page.get_by_role("list", name="Group conversations")
               .get_by_role("heading", name="12 Maple Ridge closing")).to_be_visible()
    finally:
        with acting(app_server.database_url, admin.email, admin.password) as actor:
            location_settings.set_intro(actor, True, "")  # the demo's built-in wording, for other tests
        with acting(app_server.database_url, birch.email, birch.password) as actor:
            location_settings.set_intro(actor, True, "")
