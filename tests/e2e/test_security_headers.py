"""Security headers in a real browser: the app works under its Content-Security-Policy (sign in,
open a group, send a message) with no CSP violation, and other sites cannot frame it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import acting, no_console_errors

# Collects every CSP violation the page reports, before any of the page's own scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || ''));
});
"""


def _group(app_server, login) -> int:
    from groupsms.services import contacts, groups

    with acting(app_server.database_url, login.email, login.password) as actor:
        ids = [contacts.create_contact(actor, name, e164)
               for name, e164 in [("Csp Alder", "+17375550181"), ("Csp Birch", "+17375550182")]]
        number = next(n for n in groups.picker_numbers(actor) if n.is_default)
        return groups.create_group(actor, number.id, [(cid, "primary") for cid in ids])


def test_pages_send_csp_and_frame_protection(page: Page, sign_in, demo_logins, app_server):
    admin = demo_logins["admin@acme.test"]
    group_id = _group(app_server, admin)
    page.add_init_script(RECORD_VIOLATIONS)
    with no_console_errors(page):
        response = page.goto("/login")
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "'sha256-" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "camera=()" in headers["permissions-policy"]
        assert "strict-transport-security" not in headers  # plain http on localhost

        sign_in(page, admin.email, admin.password)
        expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
        page.goto(f"/groups/{group_id}")
        box = page.get_by_role("textbox", name="Message")
        box.fill("Under a strict CSP")
        page.get_by_role("button", name="Send").click()
        bubble = page.get_by_role("log", name="Messages").get_by_role("article").filter(has_text="Under a strict CSP")
        expect(bubble).to_have_count(1)
        # Live updates over the websocket still arrive: the simulator's receipts turn it Delivered.
        expect(bubble.get_by_role("button", name=re.compile(r"^Delivery status: Delivered"))).to_be_visible(
            timeout=20_000)
        assert page.evaluate("window.__cspViolations") == []


def test_another_site_cannot_frame_the_app(context, app_server):
    attacker = context.new_page()
    with attacker.expect_console_message(predicate=lambda m: "frame-ancestors" in m.text, timeout=15_000):
        attacker.set_content(f'<iframe id="victim" src="{app_server.url}/login"></iframe>')
    expect(attacker.frame_locator("#victim").get_by_role("button", name="Sign in")).to_have_count(0)
