"""E4 in scale-out: a browser signed in through one app process sees, without reloading, a reply that
Vonage delivered to another app process (the change travels over Redis)."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

from playwright.sync_api import Browser, expect

from groupsms.messaging.signatures import sign_params
from tests.e2e.conftest import WEBHOOK_SECRET
from tests.e2e.test_group_chat import make_group, open_chat

TORONTO_OFFICE = "+14165550100"
NORA = "+17375550381"


def test_e4_a_reply_through_another_app_process_appears_live(browser: Browser, app_server, other_worker, sign_in,
                                                             demo_logins):
    admin = demo_logins["admin@acme.test"]
    group_id, _ = make_group(app_server, admin, "Toronto office", [("Nora Scale", NORA), ("Otto Scale", "+17375550382")])
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, admin.email, admin.password)
        expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
        open_chat(page, group_id)

        params = {"msisdn": NORA.lstrip("+"), "to": TORONTO_OFFICE.lstrip("+"), "messageId": uuid.uuid4().hex[:16],
                  "text": "Arrived through the other worker", "type": "text", "timestamp": str(int(time.time())),
                  "nonce": uuid.uuid4().hex}
        params["sig"] = sign_params(params, WEBHOOK_SECRET, "sha256")
        request = urllib.request.Request(other_worker + "/webhooks/vonage/inbound", data=json.dumps(params).encode(),
                                         headers={"content-type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200

        reply = page.get_by_role("log", name="Messages").get_by_role("article").filter(
            has_text="Arrived through the other worker")
        expect(reply).to_be_visible(timeout=10_000)
        expect(reply).to_contain_text("Nora")
    finally:
        context.close()
