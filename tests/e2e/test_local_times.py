"""Times read in the viewer's zone and clock: a browser in Chicago with an en-US locale sees 12-hour
Chicago times (no "UTC") on the conversation list, in the conversation, on the Phones page and in
the audit log; "Today" and "Yesterday" switch at Chicago's midnight, checked on every run with one
message stored each side of it where UTC's calendar disagrees; a profile set to Europe/Berlin and
24-hour changes what is shown."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from groupsms.simulator.testing import wait_until
from tests.e2e.conftest import EXPECT_TIMEOUT_MS, RunningApp

ADMIN, ADMIN_PASSWORD = "admin@acme.test", "admin-demo-pass"
TWELVE_HOUR = re.compile(r"\b\d{1,2}:\d\d [AP]M\b")
CHICAGO = ZoneInfo("America/Chicago")


@dataclass(frozen=True)
class Setup:
    group_name: str
    contact: str  # the first participant's name
    contact_phone: str  # its handset button's name
    message: str
    at: datetime  # when the message is stored as sent (UTC)
    chicago_yesterday: bool  # whether `at` is yesterday in Chicago (and today in UTC)
    user_email: str  # a full-access user of this test only
    user_password: str


def _moment(now: datetime) -> tuple[datetime, bool]:
    """A time that is "yesterday" in Chicago but "today" in UTC when the two dates agree (from
    Chicago's midnight on); before that, one that is "today" in Chicago but "yesterday" in UTC."""
    utc_midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    chicago_today = now.astimezone(CHICAGO).date()
    if chicago_today == now.date():
        chicago_midnight = datetime(chicago_today.year, chicago_today.month, chicago_today.day,
                                    tzinfo=CHICAGO).astimezone(UTC)
        return utc_midnight + (chicago_midnight - utc_midnight) / 2, True
    return utc_midnight - timedelta(minutes=30), False


@pytest.fixture(scope="module")
def setup(app_server: RunningApp) -> Iterator[Setup]:
    from sqlmodel import select

    from groupsms import db
    from groupsms.models import Group, Message
    from groupsms.services import contacts, groups, messages, sessions, users

    tag = uuid.uuid4().hex[:6]
    engine = db.init(app_server.database_url)
    try:
        _token, admin = sessions.sign_in(ADMIN, ADMIN_PASSWORD)
        digits = int(tag, 16) % 80
        first, second = f"Tina Zone {tag}", f"Omar Zone {tag}"
        c1 = contacts.create_contact(admin, first, f"+1512555{1100 + digits:04d}")
        c2 = contacts.create_contact(admin, second, f"+1512555{1200 + digits:04d}")
        number = next(n for n in groups.picker_numbers(admin) if n.is_default)
        name = f"Time check {tag}"
        gid = groups.create_group(admin, number.id, [(c1, "primary"), (c2, "primary")], name=name, intro=False)
        body = f"Walkthrough notes {tag}"
        mid = messages.send_message(admin, gid, body)
        at, yesterday = _moment(datetime.now(UTC))
        with db.transaction() as s:
            message = s.get(Message, mid)
            message.created_at = at
            s.add(message)
            group = s.exec(select(Group).where(Group.id == gid)).one()
            group.last_activity_at = at
            s.add(group)
        email, password = f"tess-{tag}@acme.test", "tess-time-pass-1"
        users.create_user(admin, email, f"Tess Time {tag}", password, "user", "all")
        phone = f"{first} (512) 555-{1100 + digits:04d}"
        yield Setup(name, first, phone, body, at, yesterday, email, password)
    finally:
        engine.dispose()


@pytest.fixture
def chicago(browser: Browser, app_server: RunningApp) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 800},
                                  timezone_id="America/Chicago", locale="en-US")
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    yield context
    context.close()


def _find(page: Page, name: str):
    """The group's row on the conversation list (searched for, whatever else the list holds)."""
    page.get_by_label("Search conversations").fill(name)
    return page.get_by_role("listitem", name=name)


def _no_utc(page: Page) -> None:
    expect(page.locator("main")).not_to_contain_text("UTC")


def test_chicago_browser_reads_12_hour_chicago_times_everywhere(chicago: BrowserContext, setup: Setup,
                                                                  sign_in, screenshot):
    page = chicago.new_page()
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()

    # The conversation list: the stored time is yesterday in Chicago (today in UTC), or the reverse.
    row = _find(page, setup.group_name)
    local = setup.at.astimezone(CHICAGO)
    clock = f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    if setup.chicago_yesterday:
        expect(row).to_contain_text("Yesterday")
    else:
        expect(row).to_contain_text(clock)
        expect(row).not_to_contain_text("Yesterday")
    screenshot(page, "local-times-list-chicago")

    # The conversation: the bubble's time is Chicago's, the day divider Chicago's day.
    row.click()
    bubble_area = page.get_by_text(setup.message)
    expect(bubble_area).to_be_visible()
    expect(page.locator("main")).to_contain_text(clock)
    if setup.chicago_yesterday:
        expect(page.locator("main")).to_contain_text("Yesterday")
    _no_utc(page)
    screenshot(page, "local-times-bubble-chicago")

    # Phones: the texts the handset received carry 12-hour Chicago times.
    page.goto("/phones")
    handsets = page.get_by_role("list", name="Handsets")
    button = handsets.get_by_role("button", name=setup.contact_phone)
    expect(button).to_be_visible()

    def received() -> bool:
        button.click()
        texts = page.get_by_role("list", name="Texts")
        page.wait_for_timeout(300)
        return texts.count() > 0 and setup.message in texts.inner_text()

    wait_until(received, timeout=20, interval=0.25, what="the group's text on the handset")
    texts = page.get_by_role("list", name="Texts")
    expect(texts).to_contain_text(TWELVE_HOUR)
    _no_utc(page)
    screenshot(page, "local-times-phones-chicago")

    # The audit log: 12-hour Chicago times, and it says which zone.
    page.goto("/users")
    log = page.get_by_role("table", name="Recent changes")
    expect(log).to_contain_text(f"created the group '{setup.group_name}'")
    expect(page.get_by_text("Times are in America/Chicago.")).to_be_visible()
    expect(log.locator("tbody tr").first.locator("td").first).to_have_text(TWELVE_HOUR)
    expect(log).not_to_contain_text("UTC")
    screenshot(page, "local-times-audit-chicago")


def test_profile_time_zone_and_clock_override_the_browser(chicago: BrowserContext, setup: Setup, sign_in,
                                                           screenshot):
    page = chicago.new_page()
    sign_in(page, setup.user_email, setup.user_password)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    expect(_find(page, setup.group_name)).to_be_visible()

    page.goto("/account")
    zone = page.get_by_label("Time zone")
    expect(zone.locator("option").first).to_have_text("Automatic (browser: America/Chicago)")
    expect(page.get_by_text(re.compile(r"Times now read like .* C[SD]T\."))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Times now read like .*\d [AP]M C[SD]T\."))).to_be_visible()
    zone.select_option("Europe/Berlin")
    page.get_by_label("Clock").select_option("24h")
    page.get_by_role("button", name="Save time settings").click()
    expect(page.get_by_text(re.compile(r"Saved\. Times now read like .* \d\d:\d\d CES?T\."))).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    screenshot(page, "local-times-profile-berlin")

    # The list now reads Berlin's 24-hour clock: the stored time is "today" there.
    page.goto("/")
    berlin = setup.at.astimezone(ZoneInfo("Europe/Berlin"))
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    row = _find(page, setup.group_name)
    today_in_berlin = berlin.date() == datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")).date()
    if today_in_berlin:
        expect(row).to_contain_text(f"{berlin.hour:02d}:{berlin.minute:02d}")
    expect(row).not_to_contain_text(re.compile(r"\d [AP]M"))
    screenshot(page, "local-times-list-berlin")


def test_sign_in_focuses_email_and_reads_the_browsers_zone_and_clock(chicago: BrowserContext, screenshot):
    page = chicago.new_page()
    page.goto("/login")
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    expect(page.get_by_label("Email")).to_be_focused()
    expect(page.locator("#browser_zone")).to_have_value("America/Chicago")
    expect(page.locator("#browser_locale")).to_have_value("en-US-u-hc-h12")
    screenshot(page, "sign-in-email-focused")


def _day_switch_moments(now: datetime) -> tuple[datetime, datetime]:
    """Two stored times, (yesterday, today) in Chicago, where UTC's calendar disagrees.

    While Chicago and UTC share a date (from Chicago's midnight on), "yesterday" falls between
    UTC's midnight and Chicago's: yesterday in Chicago, today in UTC. While Chicago is still a
    date behind UTC, "today" falls between Chicago's midnight and UTC's (today in Chicago,
    yesterday in UTC), and "yesterday" is Chicago's midday before it (two UTC dates back). Either
    way a page that used UTC's midnight would label at least one of them wrong."""
    local = now.astimezone(CHICAGO)
    chicago_midnight = datetime(local.year, local.month, local.day, tzinfo=CHICAGO).astimezone(UTC)
    utc_midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if local.date() == now.date():
        yesterday = utc_midnight + (chicago_midnight - utc_midnight) / 2
        since_midnight = now - chicago_midnight
        today = (chicago_midnight + since_midnight / 2 if since_midnight > timedelta(hours=2, minutes=30)
                 else now - timedelta(minutes=5))
    else:
        today = chicago_midnight + (utc_midnight - chicago_midnight) / 2
        yesterday = chicago_midnight - timedelta(hours=12)
    return yesterday, today


def _twelve_hour(moment: datetime) -> str:
    t = moment.astimezone(CHICAGO)
    return f"{t.hour % 12 or 12}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"


@dataclass(frozen=True)
class DaySwitch:
    yesterday_group: str  # its only message is at `yesterday`
    both_group: str  # a message at `yesterday`, then one at `today`
    yesterday_body: str
    today_body: str
    yesterday: datetime
    today: datetime


@pytest.fixture
def day_switch(app_server: RunningApp) -> Iterator[DaySwitch]:
    from groupsms import db
    from groupsms.models import Group, Message
    from groupsms.services import contacts, groups, messages, sessions

    tag = uuid.uuid4().hex[:6]
    now = datetime.now(UTC)
    yesterday, today = _day_switch_moments(now)
    # The moments really straddle Chicago's midnight, and UTC's calendar says otherwise.
    assert (now.astimezone(CHICAGO).date() - yesterday.astimezone(CHICAGO).date()).days == 1
    assert today.astimezone(CHICAGO).date() == now.astimezone(CHICAGO).date() and today < now
    assert (today.date() != now.date()) or ((now.date() - yesterday.date()).days != 1)
    engine = db.init(app_server.database_url)
    try:
        _token, admin = sessions.sign_in(ADMIN, ADMIN_PASSWORD)
        digits = int(tag, 16) % 80
        people = [contacts.create_contact(admin, f"{first} Midnight {tag}", f"+1512555{base + digits:04d}")
                  for first, base in (("Rosa", 1300), ("Ugo", 1400), ("Vera", 1500))]
        number = next(n for n in groups.picker_numbers(admin) if n.is_default)
        names = (f"Day switch {tag} yesterday", f"Day switch {tag} both")
        y_gid = groups.create_group(admin, number.id, [(people[0], "primary"), (people[1], "primary")],
                                    name=names[0], intro=False)
        b_gid = groups.create_group(admin, number.id, [(people[1], "primary"), (people[2], "primary")],
                                    name=names[1], intro=False)
        y_body, t_body = f"Inspection booked {tag}", f"Keys picked up {tag}"
        stored = [(messages.send_message(admin, y_gid, y_body), yesterday),
                  (messages.send_message(admin, b_gid, y_body), yesterday),
                  (messages.send_message(admin, b_gid, t_body), today)]
        with db.transaction() as s:
            for mid, at in stored:
                message = s.get(Message, mid)
                message.created_at = at
                s.add(message)
            for gid, at in ((y_gid, yesterday), (b_gid, today)):
                group = s.get(Group, gid)
                group.last_activity_at = at
                s.add(group)
        yield DaySwitch(names[0], names[1], y_body, t_body, yesterday, today)
    finally:
        engine.dispose()


def test_today_and_yesterday_switch_at_the_viewers_midnight_not_utcs(chicago: BrowserContext,
                                                                       day_switch: DaySwitch, sign_in,
                                                                       screenshot):
    page = chicago.new_page()
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
    today_clock, yesterday_clock = _twelve_hour(day_switch.today), _twelve_hour(day_switch.yesterday)

    # The list: a group last active yesterday (in Chicago) says "Yesterday"; one active today
    # shows the clock time (or how many minutes ago, within the hour), never "Yesterday".
    page.get_by_label("Search conversations").fill(day_switch.yesterday_group.rsplit(" ", 1)[0])
    yesterday_row = page.get_by_role("listitem", name=day_switch.yesterday_group)
    today_row = page.get_by_role("listitem", name=day_switch.both_group)
    expect(yesterday_row.locator("time")).to_have_text("Yesterday")
    if datetime.now(UTC) - day_switch.today >= timedelta(hours=1):
        expect(today_row.locator("time")).to_have_text(today_clock)
    else:
        expect(today_row.locator("time")).to_have_text(re.compile(r"^\d+ min ago$"))
    expect(today_row).not_to_contain_text("Yesterday")
    _no_utc(page)
    screenshot(page, "local-times-list-today-and-yesterday-chicago")

    # The conversation: a "Yesterday" divider above yesterday's message, a "Today" divider above
    # today's; each bubble reads its Chicago clock time, and yesterday's names the day.
    today_row.click()
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_role("separator")).to_have_count(2)
    expect(log.get_by_role("separator").nth(0)).to_have_accessible_name("Yesterday")
    expect(log.get_by_role("separator").nth(1)).to_have_accessible_name("Today")
    yesterday_bubble = log.get_by_role("article", name=f"Message from Ada Admin at Yesterday, {yesterday_clock}",
                                       exact=True)
    today_bubble = log.get_by_role("article", name=f"Message from Ada Admin at {today_clock}", exact=True)
    expect(yesterday_bubble).to_contain_text(day_switch.yesterday_body)
    expect(yesterday_bubble.locator(".chat-bubble-time")).to_have_text(yesterday_clock)
    expect(today_bubble).to_contain_text(day_switch.today_body)
    expect(today_bubble.locator(".chat-bubble-time")).to_have_text(today_clock)
    _no_utc(page)
    screenshot(page, "local-times-chat-today-and-yesterday-chicago")
