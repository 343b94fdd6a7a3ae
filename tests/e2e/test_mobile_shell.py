"""The app shell on a phone (375 px) and on a slow connection: a "Menu" button instead of the
desktop navigation, no page wider than the screen, and a skeleton while the page loads."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

ADMIN = "admin@acme.test"
PHONE = {"width": 375, "height": 812}
PAGES = ("/", "/contacts", "/numbers", "/users", "/settings/integrations", "/phones", "/account")


def _signed_in(page: Page, sign_in, login) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()


def _page_width(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_phone_navigation_is_a_menu_and_no_page_scrolls_sideways(page: Page, sign_in, demo_logins, screenshot):
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
    screenshot(page, "shell-mobile-menu-open")
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
    for path in PAGES:
        page.goto(path)
        expect(page.locator("main .shell-skeleton")).to_be_hidden()
        expect(page.locator("main h1").first).to_be_visible()
        width = _page_width(page)
        if width > PHONE["width"]:
            wide[path] = width
    assert not wide, f"pages wider than {PHONE['width']} px: {wide}"
    page.goto("/users")
    expect(page.get_by_role("list", name="Users")).to_be_visible()
    screenshot(page, "shell-mobile-users-page")


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
