"""The audit log on Users & access (E8): an edit reads as a sentence with before → after; filters by
person, kind and dates (whole days, From and To included); pages past 50 with Older/Newer; the CSV
download holds the filtered rows."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp

ADMIN, ADMIN_PASSWORD = "admin@acme.test", "admin-demo-pass"


@dataclass(frozen=True)
class Made:
    old_name: str
    new_name: str
    person_id: int  # a user of this test only, who made 60 contact edits
    person_name: str


@pytest.fixture(scope="module")
def made(app_server: RunningApp) -> Iterator[Made]:
    from groupsms import db
    from groupsms.services import contacts, sessions, users

    tag = uuid.uuid4().hex[:6]
    engine = db.init(app_server.database_url)
    try:
        _token, admin = sessions.sign_in(ADMIN, ADMIN_PASSWORD)
        old, new = f"Carla M. {tag}", f"Carla Mendes {tag}"
        cid = contacts.create_contact(admin, old, f"+1512555{1300 + int(tag, 16) % 90:04d}")
        contacts.update_contact(admin, cid, name=new)
        email, password = f"audit-{tag}@acme.test", "audit-person-pass-1"
        person_name = f"Avery Audit {tag}"
        person_id = users.create_user(admin, email, person_name, password, "user", "all")
        _t, person = sessions.sign_in(email, password)
        for i in range(60):
            contacts.update_contact(person, cid, name=f"{new} v{i}")
        contacts.update_contact(person, cid, name=new)
        yield Made(old, new, person_id, person_name)
    finally:
        engine.dispose()


def _open_log(page: Page, sign_in) -> None:
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    page.goto("/users")
    expect(page.get_by_role("heading", name="Recent changes")).to_be_visible()


def test_e8_edit_reads_as_a_sentence_with_before_and_after(page: Page, sign_in, made: Made, screenshot):
    _open_log(page, sign_in)
    log = page.get_by_role("table", name="Recent changes")
    page.get_by_label("Person").select_option(label="Ada Admin")
    page.get_by_label("Kind").select_option("contacts")
    page.get_by_role("button", name="Apply filters").click()
    expect(log).to_contain_text(
        f"Ada Admin changed {made.new_name}'s name from '{made.old_name}' to '{made.new_name}'")
    expect(log).not_to_contain_text(made.person_name)
    screenshot(page, "audit-log-sentence")


def test_e8_filter_by_person_and_kind_and_page_past_50(page: Page, sign_in, made: Made, screenshot):
    _open_log(page, sign_in)
    log = page.get_by_role("table", name="Recent changes")
    rows = log.locator("tbody tr")
    page.get_by_label("Person").select_option(str(made.person_id))
    page.get_by_label("Kind").select_option("contacts")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text(f"{made.person_name} changed {made.new_name}'s name from "
                                       f"'{made.new_name} v59' to '{made.new_name}'")
    expect(log).not_to_contain_text("Ada Admin")
    newer, older = page.get_by_role("button", name="Newer"), page.get_by_role("button", name="Older")
    expect(newer).to_be_disabled()
    older.click()
    expect(rows).to_have_count(11)  # 61 edits by this person in all
    expect(rows.last).to_contain_text(f"from '{made.new_name}' to '{made.new_name} v0'")
    expect(older).to_be_disabled()
    screenshot(page, "audit-log-older-page")
    newer.click()
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text(f"'{made.new_name} v59' to '{made.new_name}'")

    # Another kind for the same person: none of their edits are user changes.
    page.get_by_label("Kind").select_option("users")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No changes match these filters.")).to_be_visible()
    screenshot(page, "audit-log-filtered-empty")


def test_e8_csv_download_holds_the_filtered_rows(page: Page, sign_in, made: Made):
    _open_log(page, sign_in)
    page.get_by_label("Person").select_option(str(made.person_id))
    page.get_by_label("Kind").select_option("contacts")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("table", name="Recent changes").locator("tbody tr")).to_have_count(50)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "audit-log.csv"
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert rows[0][0].startswith("When (") and rows[0][1:4] == ["Who", "Kind", "What"]
    assert len(rows) == 1 + 61
    assert {r[1] for r in rows[1:]} == {made.person_name}
    assert rows[1][3] == f"{made.person_name} changed {made.new_name}'s name from '{made.new_name} v59' to '{made.new_name}'"


@dataclass(frozen=True)
class Dated:
    person_id: int  # a user of this test only, whose three edits are stored on three days
    sentences: dict[int, str]  # days ago -> that edit's sentence
    days: dict[int, date]  # days ago -> its date


@pytest.fixture(scope="module")
def dated(app_server: RunningApp) -> Iterator[Dated]:
    from sqlmodel import select

    from groupsms import db
    from groupsms.models import AuditEvent
    from groupsms.services import contacts, sessions, users

    tag = uuid.uuid4().hex[:6]
    engine = db.init(app_server.database_url)
    try:
        _token, admin = sessions.sign_in(ADMIN, ADMIN_PASSWORD)
        base = f"Dora Dates {tag}"
        cid = contacts.create_contact(admin, base, f"+1512555{1400 + int(tag, 16) % 90:04d}")
        email, password = f"dated-{tag}@acme.test", "dated-person-pass-1"
        person_name = f"Dale Dated {tag}"
        person_id = users.create_user(admin, email, person_name, password, "user", "all")
        _t, person = sessions.sign_in(email, password)
        # Midday UTC of each day: the same calendar day in any zone within eleven hours of UTC.
        today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
        sentences, days, previous = {}, {}, base
        for ago in (10, 3, 0):
            name = f"{base} d{ago}"
            contacts.update_contact(person, cid, name=name)
            with db.transaction() as s:
                event = s.exec(select(AuditEvent).where(AuditEvent.actor_user_id == person_id)
                               .order_by(AuditEvent.id.desc())).first()
                event.created_at = today - timedelta(days=ago)
                s.add(event)
            # A sentence names the contact by its name of now (the last edit's).
            sentences[ago] = f"{person_name} changed {base} d0's name from '{previous}' to '{name}'"
            days[ago] = (today - timedelta(days=ago)).date()
            previous = name
        yield Dated(person_id, sentences, days)
    finally:
        engine.dispose()


def test_e8_from_and_to_dates_keep_only_the_changes_of_those_days(page: Page, sign_in, dated: Dated,
                                                                  screenshot):
    _open_log(page, sign_in)
    log = page.get_by_role("table", name="Recent changes")
    rows = log.locator("tbody tr")
    page.get_by_label("Person").select_option(str(dated.person_id))
    page.get_by_label("Kind").select_option("contacts")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(3)

    def apply(date_from: date | None, date_to: date | None) -> None:
        page.get_by_label("From", exact=True).fill(date_from.isoformat() if date_from else "")
        page.get_by_label("To", exact=True).fill(date_to.isoformat() if date_to else "")
        page.get_by_role("button", name="Apply filters").click()

    def shown(*agos: int) -> None:
        expect(rows).to_have_count(len(agos))
        for ago, sentence in dated.sentences.items():
            row = log.locator("tbody tr").filter(has_text=sentence)
            expect(row).to_have_count(1 if ago in agos else 0)

    # A window of days 5 to 1 ago: only the edit of 3 days ago is inside it.
    apply(dated.days[0] - timedelta(days=5), dated.days[0] - timedelta(days=1))
    shown(3)
    expect(page.get_by_label("From", exact=True)).to_have_value((dated.days[0] - timedelta(days=5)).isoformat())
    screenshot(page, "audit-log-date-filter")

    # The ends count whole days: From and To on the edit's own day keep it.
    apply(dated.days[3], dated.days[3])
    shown(3)
    # Only a start: that day and everything after it.
    apply(dated.days[3], None)
    shown(3, 0)
    # Only an end: everything up to that day.
    apply(None, dated.days[3] - timedelta(days=1))
    shown(10)
    # A window with none of the edits.
    apply(dated.days[10] + timedelta(days=1), dated.days[3] - timedelta(days=1))
    expect(rows).to_have_count(0)
    expect(page.get_by_text("No changes match these filters.")).to_be_visible()
    # Clear brings back every day.
    page.get_by_role("button", name="Clear").click()
    page.get_by_label("Person").select_option(str(dated.person_id))
    page.get_by_label("Kind").select_option("contacts")
    page.get_by_role("button", name="Apply filters").click()
    shown(10, 3, 0)
