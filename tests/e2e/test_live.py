"""Live updates (E4): two users in two browsers see replies, relays, messages and statuses appear
without reloading."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_group_chat import make_group, open_chat

LIVE_TIMEOUT_MS = 5_000
TORONTO_OFFICE = "+14165550100"
DOT = "+17375550191"


def _signed_in_page(browser: Browser, app_server, sign_in, login) -> Page:
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    return page


def test_e4_reply_message_and_status_appear_live_in_every_browser(
    browser: Browser, app_server, sign_in, demo_logins, post_inbound
):
    admin, dana = demo_logins["admin@acme.test"], demo_logins["dana@acme.test"]
    group_id, _ = make_group(
        app_server, admin, "Toronto office", [("Dot Swift", DOT), ("Eli Swift", "+17375550192")]
    )
    page_a = _signed_in_page(browser, app_server, sign_in, admin)
    page_b = _signed_in_page(browser, app_server, sign_in, dana)
    try:
        open_chat(page_a, group_id)
        open_chat(page_b, group_id)
        log_a = page_a.get_by_role("log", name="Messages")
        log_b = page_b.get_by_role("log", name="Messages")

        # A participant replies by SMS: stored, relayed to Eli, and shown in both browsers.
        started = time.monotonic()
        post_inbound(DOT, TORONTO_OFFICE, "Can we push the showing to 6?")
        reply_a = log_a.get_by_role("article").filter(has_text="Can we push the showing to 6?")
        reply_b = log_b.get_by_role("article").filter(has_text="Can we push the showing to 6?")
        expect(reply_a).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        delay_a = time.monotonic() - started
        expect(reply_b).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        delay_b = time.monotonic() - started
        print(f"\nlive inbound reply: browser A after {delay_a:.3f} s, browser B after {delay_b:.3f} s")  # noqa: T201
        expect(reply_b).to_contain_text("Dot")
        expect(reply_b).to_contain_text("Relayed to the group")
        expect(reply_b.get_by_role("button", name=re.compile(r"^Delivery status: Delivered"))).to_be_visible(
            timeout=LIVE_TIMEOUT_MS
        )

        # A message sent in browser A shows in browser B, then its delivery status follows.
        box = page_a.get_by_role("textbox", name="Message")
        box.fill("6pm works, see you there")
        started = time.monotonic()
        box.press("Enter")
        sent_b = log_b.get_by_role("article").filter(has_text="6pm works, see you there")
        expect(sent_b).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        delay_sent = time.monotonic() - started
        expect(sent_b).to_contain_text(admin.name)
        expect(sent_b.get_by_role("button", name=re.compile(r"^Delivery status: Delivered"))).to_be_visible(
            timeout=LIVE_TIMEOUT_MS
        )
        delay_status = time.monotonic() - started
        print(  # noqa: T201
            f"live outbound: shown in browser B after {delay_sent:.3f} s, "
            f"delivered in browser B after {delay_status:.3f} s (simulator receipts wait 0.3 s)"
        )

        # An open delivery panel follows the receipts too.
        sent_b.get_by_role("button", name=re.compile(r"^Delivery status")).click()
        expect(sent_b.get_by_role("listitem", name=re.compile(r"^Dot Swift, .*: Delivered"))).to_be_visible()
        assert delay_a < 2.0 and delay_b < 2.0, (delay_a, delay_b)
    finally:
        page_a.context.close()
        page_b.context.close()
