"""The composer in a real browser: one compose sends one message, however it is submitted twice
(a double click on Send, Enter pressed twice fast, a second submit that gets past the page), and
the counter shows what each recipient gets after smart encoding."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from playwright.sync_api import Page, expect

from groupsms.simulator.testing import wait_until
from tests.e2e.helpers import acting, no_console_errors


@pytest.fixture
def admin(demo_logins):
    return demo_logins["admin@acme.test"]


def make_group(app_server, admin, people: list[tuple[str, str]]) -> int:
    """Fresh contacts (nobody else texts them) and a group of them on the Main office number."""
    from groupsms.services import contacts, groups

    with acting(app_server.database_url, admin.email, admin.password) as actor:
        ids = [contacts.create_contact(actor, name, e164) for name, e164 in people]
        number = next(n for n in groups.picker_numbers(actor) if n.label == "Main office")
        # No intro text: these tests count the SMS of typed messages.
        return groups.create_group(actor, number.id, [(cid, "primary") for cid in ids], intro=False)


def sms_per_recipient(app_server, group_id: int) -> dict[str, Counter]:
    """Message text -> how many SMS each recipient was queued, from the app's database."""
    from sqlmodel import select

    from groupsms import db
    from groupsms.models import Delivery, Message

    engine = db.init(app_server.database_url)
    try:
        with db.transaction() as s:
            rows = s.exec(select(Message.body, Delivery.to_e164).join(Delivery, Delivery.message_id == Message.id)
                          .where(Message.group_id == group_id)).all()
    finally:
        engine.dispose()
    out: dict[str, Counter] = {}
    for body, to in rows:
        out.setdefault(body, Counter())[to] += 1
    return out


def open_chat(page: Page, sign_in, admin, group_id: int) -> None:
    sign_in(page, admin.email, admin.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    page.goto(f"/groups/{group_id}")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()


PEOPLE = [("Uma Tern", "+17375550193"), ("Vic Tern", "+17375550194"), ("Wes Tern", "+17375550195")]


def test_double_click_on_send_or_enter_twice_texts_every_participant_once(page: Page, sign_in, admin, app_server,
                                                                           screenshot):
    group_id = make_group(app_server, admin, PEOPLE)
    numbers = {e164 for _, e164 in PEOPLE}
    with no_console_errors(page):
        open_chat(page, sign_in, admin, group_id)
        box = page.get_by_role("textbox", name="Message")
        send = page.get_by_role("button", name="Send")
        bubbles = page.get_by_role("log", name="Messages").get_by_role("article")

        box.fill("Double click test")
        send.dblclick()
        expect(bubbles.filter(has_text="Double click test")).to_have_count(1)
        expect(box).to_have_value("")

        box.fill("Enter twice test")
        box.press("Enter")
        box.press("Enter")
        expect(bubbles.filter(has_text="Enter twice test")).to_have_count(1)
        expect(box).to_have_value("")

        # A second submit that gets past the page (a stale tab, a retried event) carries the same
        # compose key: the server sends once.
        box.fill("Resubmit test")
        page.evaluate("""() => {
            const form = document.getElementById("chat-composer-form");
            const box = document.getElementById("chat-composer");
            form.requestSubmit();
            delete form.dataset.sendingSince;
            box.value = "Resubmit test";
            form.requestSubmit();
        }""")
        expect(bubbles.filter(has_text="Resubmit test")).to_have_count(1)

        # Every message reached "Delivered" (the simulator's receipts): nothing is still on its way.
        for text in ("Double click test", "Enter twice test", "Resubmit test"):
            status = bubbles.filter(has_text=text).get_by_role("button", name=re.compile(r"^Delivery status: Delivered"))
            expect(status).to_be_visible(timeout=20_000)
        sent = wait_until(lambda: sms_per_recipient(app_server, group_id), timeout=10, what="the deliveries")
        assert sent == {text: Counter({n: 1 for n in numbers})
                        for text in ("Double click test", "Enter twice test", "Resubmit test")}
        expect(bubbles).to_have_count(3)
        # One bubble per compose, each delivered once, at both widths.
        screenshot(page, "composer-double-send-one-bubble-each")
        expect(bubbles).to_have_count(3)

        # The next compose sends again (the composer was released and has a new key).
        box.fill("After the tests")
        send.click()
        expect(bubbles.filter(has_text="After the tests")).to_have_count(1)
        expect(bubbles).to_have_count(4)


def test_counter_counts_the_smart_encoded_text_each_recipient_gets(page: Page, sign_in, admin, app_server):
    group_id = make_group(app_server, admin, [("Xia Rail", "+17375550196"), ("Yul Rail", "+17375550197")])
    open_chat(page, sign_in, admin, group_id)
    box = page.get_by_role("textbox", name="Message")
    box.fill("It’s “done” — see you…")
    expect(page.get_by_text(re.compile(
        r"^24 characters · 1 segment · GSM-7 \(160/segment\) · punctuation sent as plain GSM-7"))).to_be_visible()
    box.press("Enter")
    bubble = page.get_by_role("log", name="Messages").get_by_role("article").filter(has_text="It’s “done” — see you…")
    expect(bubble).to_have_count(1)  # the conversation shows what was typed
    expect(page.get_by_text(re.compile(r"^0 characters · 0 segments"))).to_be_visible()
