"""The conversation list (E7): group names and message text found by search inside what the user
may see (R11), the filters, the unread count in the tab's title kept live, browser notifications of
new replies while the tab is hidden, and the assigned-only wording of the no-match and empty states.

Contacts made here are the Herons, 737-555-0270..0281, distinct from the other browser tests' data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from groupsms.simulator.testing import wait_until
from tests.e2e.helpers import acting

LIVE_TIMEOUT_MS = 10_000
BASE_TITLE = "Conversations · groupsms"
PHONES = {
    "Quill Heron": "+17375550270", "Rhea Heron": "+17375550271",  # Bo's: "Heron Lakehouse closing"
    "Saul Heron": "+17375550272", "Tess Heron": "+17375550273",  # nobody's: Ada's "Heron estate private"
    "Uma Heron": "+17375550274", "Vera Heron": "+17375550275",  # nobody's: Dana's "Heron filters"
    "Wynn Heron": "+17375550276", "Xena Heron": "+17375550277",  # Bo's: "Heron notify"
}
NOTIFICATION_STUB = """
window.__notes = [];
window.__hidden = false;
Object.defineProperty(document, "hidden", {configurable: true, get: () => window.__hidden});
Object.defineProperty(document, "visibilityState", {configurable: true,
  get: () => (window.__hidden ? "hidden" : "visible")});
class RecordingNotification {
  constructor(title, options) { window.__notes.push({title, body: (options || {}).body || ""}); }
  static requestPermission() { window.__asked = (window.__asked || 0) + 1; return Promise.resolve("granted"); }
}
RecordingNotification.permission = "granted";
window.Notification = RecordingNotification;
"""


@dataclass(frozen=True)
class Herons:
    number: str  # the default number every Heron group texts from
    lakehouse: int
    private: int
    filters: int
    notify: int


@pytest.fixture(scope="module")
def herons(app_server, demo_logins) -> Herons:
    from groupsms.services import contacts, groups, messages

    db_url = app_server.database_url
    with acting(db_url, "bo@acme.test", demo_logins["bo@acme.test"].password) as bo:
        bo_id = bo.user_id
    with acting(db_url, "admin@acme.test", demo_logins["admin@acme.test"].password) as ada:
        owners = {"Quill Heron": bo_id, "Rhea Heron": bo_id, "Wynn Heron": bo_id, "Xena Heron": bo_id}
        ids = {name: contacts.create_contact(ada, name, e164, assigned_user_id=owners.get(name))
               for name, e164 in PHONES.items()}
        number = next(n for n in groups.picker_numbers(ada) if n.is_default)
        private = groups.create_group(ada, number.id, [(ids["Saul Heron"], "primary"), (ids["Tess Heron"], "primary")],
                                      name="Heron estate private", intro=False)
        messages.send_message(ada, private, "The secret appraisal came in low")

    def make(actor, name: str, *people: str) -> int:
        return groups.create_group(actor, number.id, [(ids[p], "primary") for p in people], name=name, intro=False)

    with acting(db_url, "bo@acme.test", demo_logins["bo@acme.test"].password) as bo:
        lakehouse = make(bo, "Heron Lakehouse closing", "Quill Heron", "Rhea Heron")
        messages.send_message(bo, lakehouse, "The appraisal came in at 512k")
        messages.send_message(bo, lakehouse, "Talk tomorrow about the offer")
        notify = make(bo, "Heron notify", "Wynn Heron", "Xena Heron")
    with acting(db_url, "dana@acme.test", demo_logins["dana@acme.test"].password) as dana:
        filters = make(dana, "Heron filters", "Uma Heron", "Vera Heron")
    return Herons(number.e164, lakehouse, private, filters, notify)


def _item(page: Page, title: str):
    return page.get_by_role("list", name="Group conversations").get_by_role("listitem", name=title, exact=True)


def _open_list(page: Page, sign_in, login) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()


def _search(page: Page, text: str) -> None:
    page.get_by_label("Search conversations").fill(text)


def _chip(page: Page, label: str):
    return page.get_by_role("group", name="Filter conversations").get_by_role(
        "button", name=re.compile(rf"^{re.escape(label)} \d+$"))


def _chip_count(page: Page, label: str) -> int:
    return int(re.search(r"(\d+)\s*$", _chip(page, label).inner_text()).group(1))


def _title_for(count: int) -> str:
    return f"({count}) {BASE_TITLE}" if count else BASE_TITLE


def test_e7_search_finds_group_names_and_message_text_only_where_the_user_may_see(
    page: Page, sign_in, demo_logins, herons, screenshot, browser: Browser, app_server,
):
    _open_list(page, sign_in, demo_logins["bo@acme.test"])
    _search(page, "lakehouse")
    row = _item(page, "Heron Lakehouse closing")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Quill Heron, Rhea Heron")  # the people, under the group's name
    expect(page.get_by_role("list", name="Group conversations").get_by_role("listitem")).to_have_count(1)

    _search(page, "apprais")  # a word of a message, by its beginning
    expect(row).to_contain_text("The appraisal came in at 512k")  # the matching message as the snippet
    expect(row).not_to_contain_text("Talk tomorrow")
    expect(_item(page, "Heron estate private")).to_have_count(0)  # R11: Bo may not see Ada's group
    screenshot(page, "inbox-search-message-text")

    _search(page, "secret appraisal")
    no_match = page.get_by_role("status").filter(has_text="No conversations match")
    expect(no_match).to_contain_text("You see groups made only of contacts assigned to you.")
    expect(no_match).to_contain_text("A group that includes anyone else's contact is not searched.")
    screenshot(page, "inbox-assigned-only-no-match")

    admin = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 800})
    try:
        other = admin.new_page()
        _open_list(other, sign_in, demo_logins["admin@acme.test"])
        _search(other, 'secret "appraisal" AND (')  # full-text syntax typed by a person is just words
        expect(_item(other, "Heron estate private")).to_contain_text("The secret appraisal came in low")
        expect(other.get_by_text("No conversations match")).to_have_count(0)
    finally:
        admin.close()


def test_e7_filters_and_the_tab_title_count_follow_a_reply_live(
    page: Page, sign_in, demo_logins, herons, post_inbound, screenshot,
):
    _open_list(page, sign_in, demo_logins["dana@acme.test"])
    expect(_chip(page, "Unread")).to_be_visible()
    unread = _chip_count(page, "Unread")
    expect(page).to_have_title(_title_for(unread))

    post_inbound(PHONES["Uma Heron"], herons.number, "Is the walkthrough still on?")
    expect(page).to_have_title(_title_for(unread + 1), timeout=LIVE_TIMEOUT_MS)  # live, no reload
    expect(page.get_by_role("button", name=f"Unread {unread + 1}", exact=True)).to_be_visible()

    _chip(page, "Unread").click()
    expect(_chip(page, "Unread")).to_have_attribute("aria-pressed", "true")
    expect(_item(page, "Heron filters")).to_contain_text("Is the walkthrough still on?")
    expect(_item(page, "Heron Lakehouse closing")).to_have_count(0)  # no reply waiting in it
    screenshot(page, "inbox-filter-unread-tab-title")

    _chip(page, "Created by me").click()
    expect(_chip(page, "Created by me")).to_have_attribute("aria-pressed", "true")
    expect(_chip(page, "Unread")).to_have_attribute("aria-pressed", "false")
    expect(_item(page, "Heron filters")).to_be_visible()
    expect(_item(page, "Heron estate private")).to_have_count(0)  # Ada's, though Dana sees it
    screenshot(page, "inbox-filter-created-by-me")
    _search(page, "heron")  # combined with the search
    expect(page.get_by_role("list", name="Group conversations").get_by_role("listitem")).to_have_count(1)

    _chip(page, "Locked").click()
    expect(_item(page, "Heron filters")).to_have_count(0)
    post_inbound(PHONES["Vera Heron"], herons.number, "STOP")  # E1: the group locks
    expect(_item(page, "Heron filters")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(_item(page, "Heron filters").get_by_text("Locked", exact=True)).to_be_visible()
    screenshot(page, "inbox-filter-locked")

    _chip(page, "All").click()
    expect(_item(page, "Heron filters")).to_be_visible()
    _search(page, "")
    expect(_item(page, "Heron estate private")).to_be_visible()


@pytest.fixture
def notifying_page(browser: Browser, app_server) -> Iterator[Page]:
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 800})
    context.grant_permissions(["notifications"], origin=app_server.url)
    context.add_init_script(NOTIFICATION_STUB)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _wait_for_message(app_server, demo_logins, group_title: str, text: str) -> None:
    """Until the app stored the reply (as the admin sees it): a condition with a timeout."""
    from groupsms.services import groups

    with acting(app_server.database_url, "admin@acme.test", demo_logins["admin@acme.test"].password) as ada:
        wait_until(lambda: any(g.last_message_preview == text for g in groups.list_groups(ada, search=group_title)),
                   timeout=LIVE_TIMEOUT_MS / 1000, interval=0.1, what=f"the reply {text!r} in {group_title!r}")


def test_e7_notifies_a_new_reply_only_while_hidden_and_only_in_groups_the_user_may_see(
    notifying_page: Page, sign_in, demo_logins, herons, post_inbound, screenshot, app_server,
):
    page = notifying_page
    _open_list(page, sign_in, demo_logins["bo@acme.test"])
    toggle = page.get_by_role("button", name="Notify me")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__asked") == 1
    assert page.evaluate("localStorage.getItem('groupsms.notify')") == "on"

    post_inbound(PHONES["Wynn Heron"], herons.number, "Visible tab: no notification")
    expect(_item(page, "Heron notify")).to_contain_text("Visible tab: no notification", timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.__notes") == []

    page.evaluate("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))")
    post_inbound(PHONES["Saul Heron"], herons.number, "In a group Bo may not see")
    _wait_for_message(app_server, demo_logins, "Heron estate private", "In a group Bo may not see")
    post_inbound(PHONES["Xena Heron"], herons.number, "Can we move it to 4?")
    page.wait_for_function("window.__notes.length >= 1", timeout=LIVE_TIMEOUT_MS)
    expect(_item(page, "Heron notify")).to_contain_text("Can we move it to 4?")
    assert page.evaluate("window.__notes") == [{"title": "Heron notify", "body": "Xena: Can we move it to 4?"}]

    page.reload()  # the choice is remembered in this browser
    expect(page.get_by_role("button", name="Notify me")).to_have_attribute("aria-pressed", "true")
    page.evaluate("window.__hidden = false")
    screenshot(page, "inbox-notify-on")


def test_r11_an_assigned_only_user_without_groups_is_told_which_groups_they_see(
    page: Page, sign_in, demo_logins, app_server, screenshot,
):
    """A group that mixes the user's contact with someone else's stays out of their list, and the
    empty list says why."""
    import uuid

    from groupsms.services import contacts, groups, users

    tag = uuid.uuid4().hex[:6]
    email, password = f"ines-{tag}@acme.test", "ines-assigned-pass-1"
    with acting(app_server.database_url, "admin@acme.test", demo_logins["admin@acme.test"].password) as ada:
        ines = users.create_user(ada, email, f"Ines Assigned {tag}", password, "user", "assigned")
        hers = contacts.create_contact(ada, f"Yuri Heron {tag}", "+17375550278", assigned_user_id=ines)
        nobodys = contacts.create_contact(ada, f"Zora Heron {tag}", "+17375550279", assigned_user_id=None)
        number = next(n for n in groups.picker_numbers(ada) if n.is_default)
        groups.create_group(ada, number.id, [(hers, "primary"), (nobodys, "primary")],
                            name=f"Heron mixed {tag}", intro=False)

    sign_in(page, email, password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    empty = page.get_by_role("heading", name="No group conversations yet")
    expect(empty).to_be_visible()
    state = page.locator("main").get_by_text("You see groups made only of contacts assigned to you.")
    expect(state).to_have_text(
        "You see groups made only of contacts assigned to you. Create a group from “Create a new message” "
        "→ “Group Message”. Groups you or others create with only your contacts show up here; a group that "
        "includes anyone else's contact does not.")
    expect(page.get_by_role("list", name="Group conversations")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(f"Heron mixed {tag}")
    expect(page.locator("main")).not_to_contain_text("Every group of your location shows up here.")
    screenshot(page, "inbox-assigned-only-empty-list")
