"""The Phones page (E10): simulated handsets show what the group sent them, and a reply typed there
arrives in the group through the simulator's signed inbound webhook (and is relayed, R5)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from groupsms.simulator.testing import wait_until
from tests.e2e.conftest import RunningApp

ADMIN, ADMIN_PASSWORD = "admin@acme.test", "admin-demo-pass"
TORONTO = "+14165550100"  # a number the other browser tests leave alone, so routing is unambiguous (E2)
SOFIA, ETHAN = "Sofia Rossi", "Ethan Brooks"
SOFIA_PHONE, ETHAN_PHONE = f"{SOFIA} (512) 555-0128", f"{ETHAN} (512) 555-0129"  # handset buttons
GROUP_TEXT = "Open house Saturday 2pm, see you there"
REPLY_TEXT = "Count me in, bringing flyers"


class Services:
    """The app's services, called from the test process against the app's database."""

    def __init__(self, app_server: RunningApp) -> None:
        from groupsms import db
        from groupsms.services import sessions

        self.engine = db.init(app_server.database_url)
        _token, self.actor = sessions.sign_in(ADMIN, ADMIN_PASSWORD)

    def group_with_message(self) -> int:
        from groupsms.errors import DuplicateGroup
        from groupsms.services import groups, messages

        number = next(n for n in groups.picker_numbers(self.actor) if n.e164 == TORONTO)
        # Searched by name: other tests add contacts, and the picker shows only its first page.
        options = [o for who in (SOFIA, ETHAN) for o in groups.picker_contacts(self.actor, search=who)
                   if o.which == "primary" and o.name == who]
        assert len(options) == 2, options
        try:
            gid = groups.create_group(self.actor, number.id, [(o.contact_id, o.which) for o in options])
        except DuplicateGroup as existing:
            gid = existing.group_id
        messages.send_message(self.actor, gid, GROUP_TEXT)
        return gid

    def bodies(self, group_id: int) -> list[str]:
        from groupsms.services import messages

        return [m.body for m in messages.list_messages(self.actor, group_id)]


@pytest.fixture
def services(app_server: RunningApp) -> Iterator[Services]:
    running = Services(app_server)
    yield running
    running.engine.dispose()


def _open_handset(page: Page, name: str):
    page.get_by_role("list", name="Handsets").get_by_role("button", name=name).click()
    expect(page.get_by_role("heading", name=f"{name.split(' (')[0]}'s phone")).to_be_visible()


def _refresh_until_text(page: Page, handset: str, text: str) -> None:
    """The worker sends in the background: open the handset again (it reads its texts afresh) until
    it shows the text. (Not "Refresh" then a click: the refresh reorders the list under the mouse.)"""
    texts = page.get_by_role("list", name="Texts")

    def shown() -> bool:
        _open_handset(page, handset)
        page.wait_for_timeout(300)
        return texts.count() > 0 and text in texts.inner_text()

    wait_until(shown, timeout=15, interval=0.25, what=f"{text!r} on {handset}'s phone")


def test_e10_phones_show_group_texts_and_replies_reach_the_group(
    page: Page, sign_in, demo_logins, services: Services, screenshot
):
    group_id = services.group_with_message()
    admin = demo_logins[ADMIN]
    sign_in(page, admin.email, admin.password)
    expect(page.get_by_role("link", name="Phones")).to_be_visible()
    page.get_by_role("link", name="Phones").click()
    expect(page.get_by_role("heading", name="Phones", exact=True)).to_be_visible()
    handsets = page.get_by_role("list", name="Handsets")
    expect(handsets.get_by_role("button", name=SOFIA_PHONE)).to_be_visible()
    expect(handsets.get_by_role("button", name=ETHAN_PHONE)).to_be_visible()

    _refresh_until_text(page, SOFIA_PHONE, GROUP_TEXT)
    texts = page.get_by_role("list", name="Texts")
    expect(texts).to_contain_text("(416) 555-0100")

    page.get_by_label("Reply to").select_option(TORONTO)
    page.get_by_label(f"Reply as {SOFIA}").fill(REPLY_TEXT)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text(f"Sent as {SOFIA}")
    expect(texts).to_contain_text(REPLY_TEXT)
    wait_until(lambda: REPLY_TEXT in services.bodies(group_id), timeout=15, what="the reply stored in the group")

    # Relayed to the other participant, attributed by first name (R5).
    _refresh_until_text(page, ETHAN_PHONE, f"Sofia: {REPLY_TEXT}")
    screenshot(page, "phones")


def test_e10_phones_hide_contacts_the_user_cannot_see(page: Page, sign_in, demo_logins):
    bo = demo_logins["bo@acme.test"]
    sign_in(page, bo.email, bo.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    page.goto("/phones")
    handsets = page.get_by_role("list", name="Handsets")
    expect(handsets.get_by_role("button", name="Carla Mendes (512) 555-0111")).to_be_visible()
    expect(handsets.get_by_role("button", name=SOFIA, exact=False)).to_have_count(0)  # nobody's contact
    expect(handsets.get_by_role("button", name="Devon Price", exact=False)).to_have_count(0)  # Dana's
