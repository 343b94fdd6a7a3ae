"""An admin creates an API token in the browser, sees it once, uses it against /api/v1, and
revokes it (then the API answers 401)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp


def _api(app: RunningApp, path: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(app.url + "/api/v1" + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_admin_creates_a_token_uses_it_and_revokes_it(page: Page, sign_in, demo_admin, app_server, screenshot):
    sign_in(page, demo_admin.email, demo_admin.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    page.get_by_role("link", name="Users & access").click()  # the section sits on "Users & access"
    expect(page).to_have_url(f"{app_server.url}/users")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()

    page.get_by_label("Token name").fill("Browser test CRM")
    page.get_by_label("Acts as").select_option(label=f"{demo_admin.name} ({demo_admin.email})")
    page.get_by_label("read", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    shown = page.get_by_label("New API token")
    expect(shown).to_contain_text("gsm_")
    token = shown.inner_text().strip()
    row = page.get_by_role("list", name="API tokens").get_by_role("listitem", name="Browser test CRM")
    expect(row).to_contain_text(token[:12])
    expect(row).not_to_contain_text(token)
    screenshot(page, "api-tokens")

    status, body = _api(app_server, "/groups", token)
    assert status == 200 and isinstance(body["data"], list)
    status, body = _api(app_server, "/numbers", token)
    assert status == 200 and body["data"]
    refused = urllib.request.Request(app_server.url + "/api/v1/groups", data=b"{}", method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(refused, timeout=10)
        raise AssertionError("a read-only token created a group")
    except urllib.error.HTTPError as err:
        assert err.code == 403  # the token has the read scope only

    page.get_by_role("button", name="Done").click()
    expect(shown).to_be_hidden()
    page.reload()
    expect(row).to_contain_text("last used")
    expect(page.get_by_label("New API token")).to_have_count(0)  # shown once
    row.get_by_role("button", name="Revoke Browser test CRM").click()
    expect(page.get_by_role("status").filter(has_text="revoked")).to_be_visible()
    assert _api(app_server, "/groups", token)[0] == 401
