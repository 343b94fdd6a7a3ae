"""Signing in and out in a real browser, finding the login form by its accessible names."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

LOGIN_URL = re.compile(r"/login/?$")
SESSION_COOKIE = "groupsms_session"


def _session_cookie(page: Page) -> str | None:
    return next(
        (c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE and c["value"]),
        None,
    )


def test_visitor_to_conversations_is_sent_to_the_login_form(page: Page, screenshot):
    page.goto("/")

    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_have_count(0)
    screenshot(page, "login")


def test_wrong_password_shows_an_error_and_no_session(page: Page, sign_in, demo_admin, screenshot):
    sign_in(page, demo_admin.email, "not-the-password")

    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password")
    expect(page).to_have_url(LOGIN_URL)
    assert _session_cookie(page) is None
    screenshot(page, "login-error")


def test_demo_admin_signs_in_and_sees_the_conversations_page(
    page: Page, sign_in, demo_admin, screenshot
):
    sign_in(page, demo_admin.email, demo_admin.password)

    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    expect(page).not_to_have_url(LOGIN_URL)
    expect(page.get_by_text(demo_admin.name)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # Either the admin's groups or the empty state, never an error.
    expect(
        page.get_by_role("list", name="Group conversations").or_(
            page.get_by_role("heading", name="No group conversations yet")
        )
    ).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    token = _session_cookie(page)
    assert token and len(token) >= 32
    screenshot(page, "sign-in-lands-on-conversations")

    # The session survives a reload (the cookie is sent again when the page reconnects).
    page.reload()
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    # Signed in, the sign-in page sends you home.
    page.goto("/login")
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    expect(page).not_to_have_url(LOGIN_URL)


def test_conversations_list_the_groups_with_number_and_participant_count(
    page: Page, sign_in, demo_admin, demo_group, screenshot
):
    sign_in(page, demo_admin.email, demo_admin.password)

    group = page.get_by_role("list", name="Group conversations").get_by_role(
        "listitem", name=demo_group.title
    )
    expect(group).to_be_visible()
    expect(group.get_by_role("heading", name=demo_group.title)).to_be_visible()
    expect(group).to_contain_text(demo_group.number_label)
    expect(group).to_contain_text(f"{demo_group.participant_count} participants")
    screenshot(page, "conversations-with-groups")


def test_sign_out_returns_to_login_and_ends_the_session(page: Page, sign_in, demo_admin):
    sign_in(page, demo_admin.email, demo_admin.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    other_tab = page.context.new_page()
    other_tab.goto("/")
    expect(other_tab.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_label("Email")).to_be_visible()
    assert _session_cookie(page) is None
    page.goto("/")
    expect(page).to_have_url(LOGIN_URL)
    # The other tab still shows the page, but its next event finds no session.
    other_tab.get_by_role("button", name="Sign out").click()
    expect(other_tab).to_have_url(LOGIN_URL)


def test_a_stolen_cookie_stops_working_after_sign_out(
    page: Page, sign_in, demo_admin, browser, app_server
):
    sign_in(page, demo_admin.email, demo_admin.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    token = _session_cookie(page)
    assert token

    def visit_with(cookie_value: str) -> Page:
        thief = browser.new_context(base_url=app_server.url)
        thief.add_cookies(
            [{"name": SESSION_COOKIE, "value": cookie_value, "url": app_server.url}]
        )
        stolen = thief.new_page()
        stolen.goto("/")
        return stolen

    # A copied token is a session (the cookie is the only credential) until it is signed out.
    while_valid = visit_with(token)
    expect(while_valid.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    while_valid.context.close()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(LOGIN_URL)

    after_sign_out = visit_with(token)
    expect(after_sign_out).to_have_url(LOGIN_URL)
    after_sign_out.context.close()

    forged = visit_with("x" * 43)
    expect(forged).to_have_url(LOGIN_URL)
    forged.context.close()
