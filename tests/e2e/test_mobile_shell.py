"""The app shell on a phone (375x800) and on a slow connection: a "Menu" button instead of the
desktop navigation, no page wider than the screen (a wide table scrolls inside itself), and a
skeleton while the page loads."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.a11y_helpers import axe_failures
from tests.e2e.conftest import WIDTHS
from tests.e2e.helpers import acting

ADMIN = "admin@acme.test"
PHONE = {"width": WIDTHS["mobile"][0], "height": WIDTHS["mobile"][1]}  # 375x800
PAGES = ("/", "/contacts", "/numbers", "/users", "/settings/integrations", "/phones", "/account")


def _signed_in(page: Page, sign_in, login) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()


def _page_width(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def _wide_group(app_server, login) -> int:
    """A group with long names and a long title: the page most likely to push sideways."""
    from groupsms.services import contacts, groups, messages

    with acting(app_server.database_url, login.email, login.password) as actor:
        ids = [contacts.create_contact(actor, name, e164) for name, e164 in (
            ("Maximiliana Featherstonehaugh-Cholmondeley", "+18025550310"),
            ("Bartholomew Wolfeschlegelsteinhausen", "+18025550311"),
        )]
        number = next(n for n in groups.picker_numbers(actor) if n.is_default)
        group_id = groups.create_group(
            actor, number.id, [(cid, "primary") for cid in ids], intro=False,
            name="Closing walkthrough for 4417 Northwest Longmeadow Boulevard, unit 12B, with both lenders")
        messages.send_message(actor, group_id, "https://example.com/listings/4417-northwest-longmeadow-boulevard-12b"
                                               "/photos?set=walkthrough-final")
    return group_id


def test_phone_navigation_is_a_menu_and_no_page_scrolls_sideways(
    page: Page, sign_in, demo_logins, app_server, screenshot
):
    group_id = _wide_group(app_server, demo_logins[ADMIN])
    page.set_viewport_size(PHONE)
    page.goto("/login")
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    assert _page_width(page) <= PHONE["width"], ("/login", _page_width(page))
    _signed_in(page, sign_in, demo_logins[ADMIN])

    # The desktop bar of links is not squeezed in: a "Menu" button opens every page.
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    menu.click()
    items = page.get_by_role("menu")
    expect(items.get_by_role("menuitem", name="Users & access")).to_be_visible()
    expect(items.get_by_role("menuitem", name="Account")).to_be_visible()
    failures = axe_failures(page, "mobile-menu-open [mobile]")  # WCAG 2.2 AA with the menu open
    assert not failures, "\n".join(failures)
    expect(items).to_be_visible()
    screenshot(page, "shell-mobile-menu-open", only="mobile")  # at 1280 there is no Menu button
    items.get_by_role("menuitem", name="Contacts").click()
    expect(page).to_have_url(re.compile(r"/contacts$"))
    expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
    page.set_viewport_size(PHONE)

    # Keyboard: the menu opens with Enter and moves with the arrows.
    menu.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("menu")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_be_hidden()
    expect(menu).to_be_focused()

    wide = {}
    for path in (*PAGES, f"/groups/{group_id}"):
        page.goto(path)
        expect(page.locator("main .shell-skeleton")).to_be_hidden()
        expect(page.locator("main h1").first).to_be_visible()
        if path.startswith("/groups/"):
            expect(page.get_by_role("log", name="Messages").get_by_role("article")).to_have_count(1)
        width = _page_width(page)
        if width > PHONE["width"]:
            wide[path] = width
    assert not wide, f"pages wider than {PHONE['width']} px: {wide}"
    page.goto("/users")
    expect(page.get_by_role("list", name="Users")).to_be_visible()
    screenshot(page, "shell-mobile-users-page")


def test_phone_wide_table_scrolls_inside_itself_not_the_page(page: Page, sign_in, demo_logins, screenshot):
    page.set_viewport_size(PHONE)
    _signed_in(page, sign_in, demo_logins[ADMIN])
    page.goto("/users")
    scroller = page.get_by_label("Recent changes, scrollable")  # the audit log's box
    expect(scroller.locator("table tbody tr").first).to_be_visible()
    box = scroller.evaluate("""el => {
        const s = getComputedStyle(el);
        return {scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, overflowX: s.overflowX,
                right: el.getBoundingClientRect().right};
    }""")
    assert box["overflowX"] in ("auto", "scroll"), box
    assert box["scrollWidth"] > box["clientWidth"], box  # the table is wider than the screen...
    assert box["right"] <= PHONE["width"], box  # ...its box is not...
    assert _page_width(page) <= PHONE["width"], _page_width(page)  # ...and the page does not scroll sideways
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")  # it scrolls by itself
    assert scroller.evaluate("el => el.scrollLeft") > 0
    assert page.evaluate("window.scrollX") == 0
    scroller.scroll_into_view_if_needed()
    screenshot(page, "shell-mobile-wide-table-scrolled", only="mobile")


def test_desktop_navigation_marks_the_current_page(page: Page, sign_in, demo_logins):
    _signed_in(page, sign_in, demo_logins[ADMIN])
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Conversations")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    nav.get_by_role("link", name="Numbers").click()
    expect(nav.get_by_role("link", name="Numbers")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Conversations")).not_to_have_attribute("aria-current", "page")


def test_slow_connection_shows_a_skeleton_before_the_data(page: Page, sign_in, demo_logins, screenshot):
    _signed_in(page, sign_in, demo_logins[ADMIN])
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.goto("/contacts", wait_until="commit")
    skeleton = page.locator("main .shell-skeleton")
    expect(skeleton).to_be_visible()
    expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_hidden()
    page.screenshot(path=str(_artifact("shell-slow-connection-skeleton-desktop.png")), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(_artifact("shell-slow-connection-skeleton-mobile.png")), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_role("list", name="Contacts")).to_be_visible(timeout=60_000)
    expect(skeleton).to_be_hidden()
    cdp.send("Network.emulateNetworkConditions",
             {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    screenshot(page, "shell-slow-connection-loaded")


def _artifact(name: str):
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
