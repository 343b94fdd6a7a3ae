""""Needs routing" in a real browser (E2): no group is preselected, each candidate shows its name,
participants and last messages, and routing asks first, naming who will get the reply; "Cancel"
routes nothing, "Relay reply" relays to exactly those people.

Contacts made here use 512-555-087x, distinct from the other browser tests' data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y_helpers import axe_at_both_widths
from tests.e2e.helpers import acting, no_console_errors

MAIN_OFFICE = "+15125550100"
CARLA, MARCUS, PRIYA, TOM, NINA = ("+15125550871", "+15125550872", "+15125550873", "+15125550874",
                                   "+15125550875")
PEOPLE = [("Carla Vance", CARLA), ("Marcus Lee", MARCUS), ("Priya Raman", PRIYA), ("Tom Becker", TOM),
          ("Nina Cole", NINA)]
MAPLE = "12 Maple Ridge closing"
REPLY = "Signed the addendum, see you Friday"
SENDER = "Carla Vance · (512) 555-0871"


@dataclass(frozen=True)
class Closings:
    maple: int
    other: int


def _db(app_server):
    from groupsms import db

    return db.init(app_server.database_url)


@pytest.fixture(scope="module")
def closings(app_server, demo_logins) -> Closings:
    """Carla is in a named group with Marcus, Priya and Tom, and in an unnamed one with Nina."""
    from groupsms import db
    from groupsms.models import Group
    from groupsms.services import contacts, groups, messages

    admin = demo_logins["admin@acme.test"]
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        ids = [contacts.create_contact(actor, name, e164, assigned_user_id=None) for name, e164 in PEOPLE]
        number = next(n for n in groups.picker_numbers(actor) if n.e164 == MAIN_OFFICE)
        maple = groups.create_group(actor, number.id, [(ids[i], "primary") for i in (0, 1, 2, 3)], intro=False)
        other = groups.create_group(actor, number.id, [(ids[i], "primary") for i in (0, 4)], intro=False)
        with db.transaction() as s:
            s.get(Group, maple).name = MAPLE
        messages.send_message(actor, maple, "The addendum is in the portal")
        messages.send_message(actor, other, "Nina, your lender called back")
    return Closings(maple, other)


@pytest.fixture(autouse=True)
def _no_console_errors(page: Page) -> Iterator[None]:
    with no_console_errors(page):
        yield


def _reply_state(app_server, body: str):
    """(its group id, the numbers it was relayed to) of the inbound message with this text."""
    from sqlmodel import select

    from groupsms import db
    from groupsms.models import Delivery, Message

    engine = _db(app_server)
    try:
        with db.transaction() as s:
            message = s.exec(select(Message).where(Message.body == body, Message.direction == "inbound")).one()
            to = set(s.exec(select(Delivery.to_e164).where(Delivery.message_id == message.id)).all())
            return message.group_id, message.routing, to
    finally:
        engine.dispose()


def test_routing_shows_candidates_unchosen_and_relays_only_after_confirming(
    page: Page, sign_in, demo_logins, closings, post_inbound, app_server, screenshot
):
    post_inbound(CARLA, MAIN_OFFICE, REPLY)
    admin = demo_logins["admin@acme.test"]
    sign_in(page, admin.email, admin.password)

    section = page.get_by_role("region", name="Needs routing")
    item = section.get_by_role("listitem", name=f"Message from {SENDER}")
    expect(item).to_contain_text(REPLY)
    choices = item.get_by_role("group", name=f"Group for the message from {SENDER}")
    maple = choices.get_by_role("radio", name=MAPLE, exact=True)
    other = choices.get_by_role("radio", name="Carla Vance, Nina Cole", exact=True)
    # No group is chosen for the user.
    expect(choices.get_by_role("radio")).to_have_count(2)
    expect(maple).not_to_be_checked()
    expect(other).not_to_be_checked()
    # Each candidate: its name (else its people), its participants and its last message with sender.
    expect(choices).to_contain_text("Participants: Carla Vance, Marcus Lee, Priya Raman, Tom Becker")
    expect(choices).to_contain_text("Participants: Carla Vance, Nina Cole")
    expect(choices.get_by_role("list", name=f"Last messages in {MAPLE}")).to_contain_text(
        "Ada Admin: The addendum is in the portal")
    expect(choices.get_by_role("list", name="Last messages in Carla Vance, Nina Cole")).to_contain_text(
        "Nina, your lender called back")
    screenshot(page, "needs-routing-candidates")

    # Assigning without a choice says what is missing.
    item.get_by_role("button", name=f"Assign the message from {SENDER}").click()
    expect(section.get_by_role("alert")).to_have_text(f"Choose the group the message from {SENDER} belongs to.")

    # With a choice, a dialog names who will get the reply; Cancel routes nothing.
    maple.check()
    item.get_by_role("button", name=f"Assign the message from {SENDER}").click()
    dialog = page.get_by_role("alertdialog", name="Relay this reply?")
    question = f"Relay Carla's reply to Marcus Lee, Priya Raman and Tom Becker in '{MAPLE}'?"
    expect(dialog).to_contain_text(question)
    screenshot(page, "needs-routing-confirm")
    assert not axe_at_both_widths(page, "dialog-relay-this-reply", dialog)  # WCAG 2.2 AA, as every dialog
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(item).to_be_visible()
    assert _reply_state(app_server, REPLY) == (None, "needs_routing", set())

    # Confirmed: the reply goes into that group and is relayed to exactly the people named.
    item.get_by_role("button", name=f"Assign the message from {SENDER}").click()
    expect(dialog).to_contain_text(question)
    dialog.get_by_role("button", name="Relay reply").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="moved to")).to_contain_text(MAPLE)
    expect(section.get_by_role("listitem", name=f"Message from {SENDER}")).to_have_count(0)
    screenshot(page, "needs-routing-relayed")
    group_id, routing, to = _reply_state(app_server, REPLY)
    assert (group_id, routing) == (closings.maple, "routed")
    assert to == {MARCUS, PRIYA, TOM}
