"""The group conversation page in a real browser (R6–R10, R13, R14, E3, E5).

Each test builds its own group through the services, on the running app's database, with contacts
no other test of this module uses, so tests don't see each other's messages or contact changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

CHAT_URL = re.compile(r"/groups/\d+/?$")


@contextmanager
def services(app_server) -> Iterator[None]:
    """Use the services in this process against the running app's database."""
    from groupsms import db

    engine = db.init(app_server.database_url)
    try:
        yield
    finally:
        engine.dispose()


def actor_for(email: str, password: str):
    from groupsms.services import sessions

    return sessions.sign_in(email, password)[1]


def make_group(
    app_server, login, number_label: str, people: list[tuple[str, str]], *, contacts_by=None
) -> tuple[int, dict[str, int]]:
    """Fresh contacts (name, E.164), made by `contacts_by` (default: `login`), and a group of their
    primary numbers created by `login` from the number labelled `number_label`. Fresh contacts keep
    tests independent: nobody else edits them, and replies from them route to this group only (E2).
    Returns the group id and the contact ids by name."""
    from groupsms.services import contacts, groups

    maker = contacts_by or login
    with services(app_server):
        owner = actor_for(maker.email, maker.password)
        ids = {name: contacts.create_contact(owner, name, e164) for name, e164 in people}
        actor = owner if maker is login else actor_for(login.email, login.password)
        number = next(n for n in groups.picker_numbers(actor) if n.label == number_label)
        # No intro text: the chat starts with "No messages yet" and holds only what a test sends.
        group_id = groups.create_group(actor, number.id, [(cid, "primary") for cid in ids.values()], intro=False)
    return group_id, ids


def open_chat(page: Page, group_id: int) -> None:
    page.goto(f"/groups/{group_id}")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()


@pytest.fixture
def admin(demo_logins):
    return demo_logins["admin@acme.test"]


def test_r4_e3_e5_send_with_enter_then_delivered_and_per_participant_status(
    page: Page, sign_in, admin, app_server, screenshot
):
    group_id, _ = make_group(
        app_server, admin, "Main office",
        [("Iris Heron", "+17375550170"), ("Jude Heron", "+17375550171"), ("Kai Heron", "+17375550172")],
    )
    sign_in(page, admin.email, admin.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    open_chat(page, group_id)

    messages = page.get_by_role("log", name="Messages")
    expect(page.get_by_role("heading", name="No messages yet")).to_be_visible()
    box = page.get_by_role("textbox", name="Message")
    box.fill("Closing moved to Friday 10am")
    expect(page.get_by_text(re.compile(r"28 characters · 1 segment · GSM-7"))).to_be_visible()

    # Shift+Enter is a new line, Enter sends (E5).
    box.press("Shift+Enter")
    box.press_sequentially("See you there")
    expect(box).to_have_value("Closing moved to Friday 10am\nSee you there")
    box.press("Enter")

    bubble = messages.get_by_role("article").filter(has_text="Closing moved to Friday 10am")
    expect(bubble).to_have_count(1)
    expect(bubble).to_contain_text("See you there")
    expect(bubble).to_contain_text(admin.name)
    expect(box).to_have_value("")
    # The built-in simulator sends delivery receipts: the aggregate reaches "Delivered" live.
    status = bubble.get_by_role("button", name=re.compile(r"^Delivery status: Delivered"))
    expect(status).to_be_visible(timeout=20_000)

    status.click()
    details = bubble.get_by_role("list", name="Delivery per participant")
    for name in ("Iris Heron", "Jude Heron", "Kai Heron"):
        expect(details.get_by_role("listitem", name=re.compile(rf"^{name}, .*: Delivered"))).to_be_visible()
    expect(status).to_have_attribute("aria-expanded", "true")

    # A unicode message switches the counter to UCS-2.
    box.fill("Thanks 🙏")
    expect(page.get_by_text(re.compile(r"8 characters · 1 segment · UCS-2"))).to_be_visible()
    box.fill("")
    expect(page.get_by_text(re.compile(r"^0 characters · 0 segments"))).to_be_visible()
    screenshot(page, "group-chat")


def test_e5_composer_refuses_a_message_over_the_hard_limit(page: Page, sign_in, admin, app_server):
    group_id, _ = make_group(app_server, admin, "Toronto office", [("Leo Plover", "+17375550173"), ("Max Plover", "+17375550174")])
    sign_in(page, admin.email, admin.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    open_chat(page, group_id)

    box = page.get_by_role("textbox", name="Message")
    box.fill("x" * 1600)  # 11 GSM-7 segments of 153
    expect(page.get_by_role("alert").filter(has_text="Message is too long: 11 segments (max 10)")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    box.press("Enter")
    expect(page.get_by_role("heading", name="No messages yet")).to_be_visible()


def test_history_loads_in_pages_of_30_when_scrolling_up(page: Page, sign_in, admin, app_server):
    from groupsms.services import messages

    group_id, _ = make_group(app_server, admin, "Toronto office", [("Ned Stilt", "+17375550175"), ("Oona Stilt", "+17375550176")])
    with services(app_server):
        actor = actor_for(admin.email, admin.password)
        for n in range(1, 36):
            messages.send_message(actor, group_id, f"Update number {n}")

    sign_in(page, admin.email, admin.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    open_chat(page, group_id)
    bubbles = page.get_by_role("log", name="Messages").get_by_role("article")
    expect(bubbles).to_have_count(30)
    expect(bubbles.last).to_contain_text("Update number 35")
    expect(bubbles.first).to_contain_text("Update number 6")

    # Scrolling up to the top loads the page before (the button does the same from a keyboard).
    log = page.get_by_role("log", name="Messages")
    log.evaluate("el => { el.scrollTop = el.scrollHeight; }")  # reading the newest messages
    expect(page.get_by_text("Update number 6", exact=True)).not_to_be_in_viewport()
    log.hover()
    page.mouse.wheel(0, -20_000)
    expect(bubbles).to_have_count(35)
    expect(bubbles.first).to_contain_text("Update number 1")
    expect(page.get_by_text("Start of the conversation")).to_be_visible()


def test_r6_r7_r9_participant_search_by_name_and_by_any_number_format(page: Page, sign_in, admin, app_server):
    group_id, _ = make_group(
        app_server, admin, "Toronto office",
        [("Pam Egret", "+17375550177"), ("Quin Egret", "+17375550178"), ("Ray Egret", "+17375550179")],
    )
    sign_in(page, admin.email, admin.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    open_chat(page, group_id)

    top = page.get_by_role("list", name="Participants", exact=True)
    expect(top.get_by_role("listitem")).to_have_count(3)
    expect(top).to_contain_text("(737) 555-0177")
    search = page.get_by_role("searchbox", name="Search participants")

    search.fill("quin")
    expect(top.get_by_role("listitem")).to_have_count(1)
    expect(top.get_by_role("listitem")).to_contain_text("Quin Egret")

    for typed in ("7375550177", "(737) 555-0177", "+1 737-555-0177"):
        search.fill(typed)
        expect(top.get_by_role("listitem")).to_have_count(1)
        expect(top.get_by_role("listitem")).to_contain_text("Pam Egret")

    search.fill("nobody-here")
    expect(page.get_by_text("No participant matches your search.")).to_be_visible()
    search.fill("")
    expect(top.get_by_role("listitem")).to_have_count(3)

    # The right panel: the contact's name and a chevron that shows everyone (R7).
    details = page.get_by_role("complementary", name="Conversation details")
    expect(details.get_by_role("heading", name="Pam Egret")).to_be_visible()
    chevron = details.get_by_role("button", name="Show participants", exact=True)
    expect(chevron).to_have_attribute("aria-expanded", "false")
    chevron.press("Enter")  # keyboard works too
    everyone = details.get_by_role("list", name="All participants")
    expect(everyone.get_by_role("listitem")).to_have_count(3)
    expect(chevron).to_have_attribute("aria-expanded", "true")
    # R9: nothing on the page changes members or the number.
    for word in ("Add participant", "Remove", "Change number", "Edit group"):
        expect(page.get_by_role("button", name=re.compile(word, re.I))).to_have_count(0)


def test_r8_updated_and_deleted_tags_after_the_contacts_change(page: Page, sign_in, admin, app_server):
    from groupsms.services import contacts

    group_id, ids = make_group(
        app_server, admin, "Main office",
        [("Sid Ibis", "+17375550180"), ("Tia Ibis", "+17375550181"), ("Uma Ibis", "+17375550182")],
    )
    with services(app_server):
        actor = actor_for(admin.email, admin.password)
        contacts.update_contact(actor, ids["Sid Ibis"], primary_phone="+17375550190")
        contacts.delete_contact(actor, ids["Tia Ibis"])

    sign_in(page, admin.email, admin.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    open_chat(page, group_id)

    top = page.get_by_role("list", name="Participants", exact=True)
    tom = top.get_by_role("listitem", name=re.compile(r"^Sid Ibis"))
    sam = top.get_by_role("listitem", name=re.compile(r"^Tia Ibis"))
    grace = top.get_by_role("listitem", name=re.compile(r"^Uma Ibis"))
    expect(tom).to_contain_text("Updated")
    expect(tom).to_contain_text("(737) 555-0180")  # the captured number, not the new one (R8)
    expect(sam).to_contain_text("Deleted")
    expect(grace).not_to_contain_text("Updated")
    expect(grace).not_to_contain_text("Deleted")


def test_r10_dnd_locks_the_group_and_offers_a_new_group_without_them(
    page: Page, sign_in, admin, app_server, screenshot
):
    from groupsms.services import contacts

    group_id, ids = make_group(
        app_server, admin, "Main office",
        [("Val Rail", "+17375550183"), ("Wes Rail", "+17375550184"), ("Xia Rail", "+17375550185")],
    )
    with services(app_server):
        contacts.set_contact_dnd(actor_for(admin.email, admin.password), ids["Val Rail"], True)

    sign_in(page, admin.email, admin.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    open_chat(page, group_id)

    banner = page.get_by_role("alert").filter(has_text="This group is locked")
    expect(banner).to_contain_text("Ada Admin turned on Do not disturb for Val Rail · ")
    expect(page.get_by_role("textbox", name="Message")).to_be_disabled()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    regroup = banner.get_by_role("button", name="Create a new group without Val Rail", exact=True)
    expect(regroup).to_be_visible()
    expect(banner.get_by_role("button", name=re.compile("without (Wes|Xia)"))).to_have_count(0)
    screenshot(page, "group-chat-locked")

    regroup.click()
    expect(page).to_have_url(re.compile(rf"/\?regroup={group_id}&without={ids['Val Rail']}$"))


def test_r13_user_without_access_to_the_number_sees_why_they_cannot_send(
    page: Page, sign_in, demo_logins, app_server
):
    dana, bo = demo_logins["dana@acme.test"], demo_logins["bo@acme.test"]
    # Bo's contacts (Bo creates them: they are assigned to him), in a group Dana creates on her line,
    # which is assigned to Dana only: Bo sees the group but may not send (R13).
    group_id, _ = make_group(
        app_server, dana, "Dana's line", [("Yan Coot", "+17375550186"), ("Zed Coot", "+17375550187")],
        contacts_by=bo,
    )

    sign_in(page, bo.email, bo.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    open_chat(page, group_id)

    expect(page.get_by_text(
        "You don't have access to (512) 555-0101, the number this group sends from"
    )).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_be_disabled()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()


def test_r14_other_location_and_bad_ids_get_not_found(page: Page, sign_in, admin, demo_logins, app_server):
    group_id, _ = make_group(app_server, admin, "Toronto office", [("Abe Crane", "+17375550188"), ("Cy Crane", "+17375550189")])
    birch = demo_logins["admin@birch.test"]
    sign_in(page, birch.email, birch.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()

    for path in (f"/groups/{group_id}", "/groups/abc", "/groups/999999"):
        page.goto(path)
        expect(page.get_by_role("heading", name="Conversation not found")).to_be_visible()
        expect(page.get_by_role("textbox", name="Message")).to_have_count(0)
        expect(page.get_by_text("Abe Crane")).to_have_count(0)


def test_signed_out_visitor_is_sent_to_sign_in(page: Page):
    page.goto("/groups/1")
    expect(page).to_have_url(re.compile(r"/login/?$"))
