"""The "Create a new message" → "Group Message" dialog in a real browser (R2, R3, R10–R12, E2, E11).

Groups made here use contacts created for this module (512-555-017x), so nothing collides with the
demo group of test_sign_in or with test_conversations (E11 would offer the existing group).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import acting, no_console_errors

GROUP_URL = re.compile(r"/groups/(\d+)/?$")
HOME_URL = re.compile(r"/(\?.*)?$")


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    display: str


@pytest.fixture(scope="module")
def kestrels(app_server, demo_logins) -> list[Person]:
    """Three fresh, unassigned contacts for the create and duplicate test."""
    from groupsms.services import contacts

    admin = demo_logins["admin@acme.test"]
    people = [("Ivo Kestrel", "0170"), ("Juno Kestrel", "0171"), ("Kai Kestrel", "0172")]
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        return [
            Person(contacts.create_contact(actor, name, f"+1512555{tail}", assigned_user_id=None), name,
                   f"(512) 555-{tail}")
            for name, tail in people
        ]


@dataclass(frozen=True)
class RegroupCase:
    group_id: int
    number_id: int
    left_out: Person
    kept: list[Person]


@pytest.fixture(scope="module")
def larks(app_server, demo_logins) -> RegroupCase:
    """A group of three fresh contacts on the Toronto number, to regroup without the first one."""
    from groupsms.services import contacts, groups

    admin = demo_logins["admin@acme.test"]
    people = [("Lev Lark", "0175"), ("Mae Lark", "0176"), ("Noa Lark", "0177")]
    with acting(app_server.database_url, admin.email, admin.password) as actor:
        made = [
            Person(contacts.create_contact(actor, name, f"+1512555{tail}", assigned_user_id=None), name,
                   f"(512) 555-{tail}")
            for name, tail in people
        ]
        number = next(n for n in groups.picker_numbers(actor) if n.label == "Toronto office")
        group_id = groups.create_group(actor, number.id, [(p.id, "primary") for p in made])
    return RegroupCase(group_id, number.id, made[0], made[1:])


@pytest.fixture(autouse=True)
def _no_console_errors(page: Page) -> Iterator[None]:
    with no_console_errors(page):
        yield

def _signed_in(page: Page, sign_in, login) -> None:
    sign_in(page, login.email, login.password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()


def _open_dialog(page: Page) -> Locator:
    page.get_by_role("button", name="Create a new message").click()
    page.get_by_role("menuitem", name="Group Message").click()
    dialog = page.get_by_role("dialog", name="New group message")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("From number")).to_be_visible()
    return dialog


def _search(dialog: Locator, text: str) -> None:
    dialog.get_by_role("searchbox", name="Search contacts").fill(text)


def _checkbox(dialog: Locator, label: str) -> Locator:
    return dialog.get_by_role("checkbox", name=label)


def _option_row(dialog: Locator, name: str) -> Locator:
    return dialog.get_by_role("list", name="Contact numbers").get_by_role("listitem").filter(has_text=name)


def _pick(dialog: Locator, label: str) -> None:
    box = _checkbox(dialog, label)
    box.click()
    expect(box).to_be_checked()


def _number_labels(dialog: Locator) -> list[str]:
    return [t.split(" · ")[0] for t in dialog.get_by_label("From number").locator("option").all_inner_texts()]


def test_r1_r3_admin_sees_every_number_and_ineligible_contacts_disabled_with_their_reason(
    page: Page, sign_in, demo_logins, screenshot
):
    _signed_in(page, sign_in, demo_logins["admin@acme.test"])
    dialog = _open_dialog(page)

    demo_numbers = ["Main office", "Dana's line", "Toronto office"]
    # Other tests may add numbers: the demo's three are offered, the default first.
    assert [n for n in _number_labels(dialog) if n in demo_numbers] == demo_numbers

    _search(dialog, "Hank")
    expect(_checkbox(dialog, "Carla Mendes")).to_have_count(0)
    hank = _checkbox(dialog, "Hank Dawson (512) 555-0119")
    expect(hank).to_be_disabled()
    expect(hank).to_have_accessible_name(re.compile("DND enabled"))
    expect(_option_row(dialog, "Hank Dawson").get_by_text("DND enabled")).to_be_visible()

    _search(dialog, "Jorge")
    expect(_checkbox(dialog, "Hank Dawson")).to_have_count(0)
    jorge = _checkbox(dialog, "Jorge Castillo")
    expect(jorge).to_be_disabled()
    expect(_option_row(dialog, "Jorge Castillo").get_by_text("Not a US/Canada number")).to_be_visible()

    # Search by number, whatever its formatting.
    _search(dialog, "512 555 0111")
    expect(_checkbox(dialog, "Carla Mendes (512) 555-0111")).to_be_enabled()

    _search(dialog, "")
    expect(_checkbox(dialog, "Ben Carter (512) 555-0127")).to_be_visible()
    screenshot(page, "create-group-picker")


def test_r2_two_to_nine_participants_and_the_selection_survives_a_search(page: Page, sign_in, demo_logins,
                                                                         screenshot):
    _signed_in(page, sign_in, demo_logins["admin@acme.test"])
    dialog = _open_dialog(page)
    create = dialog.get_by_role("button", name="Create group")
    count = dialog.get_by_text(re.compile(r"^\d of 9 selected$"))
    expect(count).to_have_text("0 of 9 selected")
    expect(create).to_be_disabled()

    _search(dialog, "Carla")
    _pick(dialog, "Carla Mendes (737) 555-0111")
    expect(count).to_have_text("1 of 9 selected")
    expect(create).to_be_disabled()

    # A new search hides Carla, but she stays picked.
    _search(dialog, "Sofia")
    expect(_checkbox(dialog, "Carla Mendes")).to_have_count(0)
    _pick(dialog, "Sofia Rossi (512) 555-0128")
    expect(count).to_have_text("2 of 9 selected")
    expect(dialog.get_by_role("group", name="Selected participants")).to_contain_text("Carla Mendes")
    expect(create).to_be_enabled()

    _search(dialog, "")
    expect(_checkbox(dialog, "Carla Mendes (737) 555-0111")).to_be_checked()
    options = dialog.get_by_role("list", name="Contact numbers")
    enabled = options.locator("button[role=checkbox]:not([disabled])")
    picked = 2
    for i in range(enabled.count()):
        if picked == 9:
            break
        box = enabled.nth(i)
        if box.get_attribute("aria-checked") == "true":
            continue
        box.click()
        picked += 1
        expect(count).to_have_text(f"{picked} of 9 selected")
    assert picked == 9

    tenth = options.locator("button[role=checkbox][aria-checked=false]:not([disabled])").first
    tenth_label = tenth.locator("xpath=ancestor::li[1]")  # the checkbox's name and number sit beside it
    tenth_name = tenth_label.locator(".conv-option-name").inner_text().strip()
    tenth_number = tenth_label.locator(".conv-option-number").inner_text().split(" · ")[0].strip()
    tenth.click()
    limit = dialog.get_by_role("alert").filter(has_text="A group can have at most 9 participants")
    # The warning names the person who was not added, by name and number.
    expect(limit).to_contain_text(
        f"A group can have at most 9 participants. Uncheck someone before adding {tenth_name} {tenth_number}.")
    expect(count).to_have_text("9 of 9 selected")
    expect(tenth).not_to_be_checked()
    # It shows where the user is looking: wholly inside the viewport and the dialog.
    expect(limit).to_be_in_viewport(ratio=1)
    box, viewport, frame = limit.bounding_box(), page.viewport_size, dialog.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (box, viewport)
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (box, viewport)
    assert frame["y"] - 0.5 <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"] + 0.5, (box, frame)
    screenshot(page, "create-group-dialog-participant-limit")
    expect(limit).to_be_visible()

    # Removing someone from the chips frees a place.
    dialog.get_by_role("button", name="Remove Sofia Rossi (512) 555-0128").click()
    expect(count).to_have_text("8 of 9 selected")
    expect(_checkbox(dialog, "Sofia Rossi (512) 555-0128")).not_to_be_checked()

    # Escape closes the dialog and forgets the selection.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    dialog = _open_dialog(page)
    expect(dialog.get_by_text("0 of 9 selected")).to_be_visible()


def test_e11_create_a_group_of_three_then_the_duplicate_is_offered(
    page: Page, sign_in, demo_logins, kestrels, screenshot
):
    _signed_in(page, sign_in, demo_logins["admin@acme.test"])
    dialog = _open_dialog(page)
    expect(dialog.get_by_label("From number")).to_have_value(re.compile(r"^\d+$"))
    _search(dialog, "Kestrel")
    for person in kestrels:
        _pick(dialog, f"{person.name} {person.display}")
    expect(dialog.get_by_text("3 of 9 selected")).to_be_visible()
    dialog.get_by_role("button", name="Create group").click()

    expect(page).to_have_url(GROUP_URL)
    group_id = GROUP_URL.search(page.url).group(1)

    page.goto("/")
    dialog = _open_dialog(page)
    _search(dialog, "Kestrel")
    for person in kestrels:
        _pick(dialog, f"{person.name} {person.display}")
    # E2: each number is already in a group on this number; E11: the very same group exists.
    expect(dialog.get_by_text("is already in 1 active group on this number").first).to_be_visible()
    expect(dialog.get_by_text("A group with exactly these participants already exists")).to_be_visible()
    screenshot(page, "create-group-dialog")
    dialog.get_by_role("button", name="Open that group").click()
    expect(page).to_have_url(re.compile(rf"/groups/{group_id}/?$"))


def test_e11_create_anyway_makes_a_second_group(page: Page, sign_in, demo_logins, kestrels):
    _signed_in(page, sign_in, demo_logins["admin@acme.test"])
    dialog = _open_dialog(page)
    _search(dialog, "Kestrel")
    for person in kestrels[:2]:
        _pick(dialog, f"{person.name} {person.display}")
    dialog.get_by_role("button", name="Create group").click()
    expect(page).to_have_url(GROUP_URL)
    first = GROUP_URL.search(page.url).group(1)

    page.goto("/")
    dialog = _open_dialog(page)
    _search(dialog, "Kestrel")
    for person in kestrels[:2]:
        _pick(dialog, f"{person.name} {person.display}")
    expect(dialog.get_by_text("A group with exactly these participants already exists")).to_be_visible()
    dialog.get_by_role("button", name="Create anyway").click()
    expect(page).to_have_url(GROUP_URL)
    assert GROUP_URL.search(page.url).group(1) != first


def test_r11_r12_assigned_only_user_picks_only_their_contacts_and_numbers(page: Page, sign_in, demo_logins, app_server):
    _signed_in(page, sign_in, demo_logins["bo@acme.test"])
    dialog = _open_dialog(page)

    numbers = _number_labels(dialog)
    assert "Dana's line" not in numbers
    assert "Main office" in numbers and "Toronto office" in numbers

    expect(_checkbox(dialog, "Carla Mendes (512) 555-0111")).to_be_visible()
    names = set(dialog.locator(".conv-option-name").all_inner_texts())
    bo_book = {"Carla Mendes", "Marcus Lee", "Priya Raman", "Tom Becker", "Lena Ortiz", "Sam Whitfield",
               "Grace Okafor", "Jorge Castillo", "Hank Dawson"}
    bo = demo_logins["bo@acme.test"]
    with acting(app_server.database_url, bo.email, bo.password) as actor:
        from groupsms.services import contacts

        assigned_to_bo = {c.name for c in contacts.list_contacts(actor)}  # other tests may add some
    assert bo_book <= names and names == assigned_to_bo, names

    for someone_else in ("Ben Carter", "Devon Price", "Kestrel", "5125550127"):
        _search(dialog, someone_else)
        expect(dialog.get_by_text("No contacts match your search.")).to_be_visible()
        expect(dialog.get_by_role("list", name="Contact numbers").get_by_role("checkbox")).to_have_count(0)


def test_r10_regroup_link_opens_the_dialog_without_that_contact(page: Page, sign_in, demo_logins, larks):
    _signed_in(page, sign_in, demo_logins["admin@acme.test"])
    page.goto(f"/?regroup={larks.group_id}&without={larks.left_out.id}")

    dialog = page.get_by_role("dialog", name="New group message")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("From number")).to_have_value(str(larks.number_id))
    expect(dialog.get_by_text("2 of 9 selected")).to_be_visible()
    chips = dialog.get_by_role("group", name="Selected participants")
    for person in larks.kept:
        expect(chips).to_contain_text(person.name)
    expect(chips).not_to_contain_text(larks.left_out.name)
    _search(dialog, "Lark")
    for person in larks.kept:
        expect(_checkbox(dialog, f"{person.name} {person.display}")).to_be_checked()
    expect(_checkbox(dialog, f"{larks.left_out.name} {larks.left_out.display}")).not_to_be_checked()


@pytest.mark.parametrize("query", ["regroup=abc&without=1", "regroup=1&without=-2", "regroup=99999999&without=1",
                                   "regroup=" + "9" * 40 + "&without=1", "without=1"])
def test_bad_regroup_links_just_show_the_list(page: Page, sign_in, demo_logins, query):
    _signed_in(page, sign_in, demo_logins["admin@acme.test"])
    page.goto(f"/?{query}")
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search conversations")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)
