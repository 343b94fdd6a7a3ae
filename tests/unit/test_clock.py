"""The viewer's clock: zones (DST), the midnight switch of Today/Yesterday, 12/24 h, invalid zones,
locale parsing, day bounds for date filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from groupsms.domain.clock import UTC_CLOCK, Clock, locale_hour12, valid_zone, zone_names

CHICAGO_12 = Clock("America/Chicago", True)
BERLIN_24 = Clock("Europe/Berlin", False)


def test_time_in_the_viewers_zone_and_clock():
    moment = datetime(2026, 12, 1, 20, 46, tzinfo=UTC)
    assert CHICAGO_12.time(moment) == "2:46 PM"
    assert BERLIN_24.time(moment) == "21:46"
    assert UTC_CLOCK.time(moment) == "20:46"
    assert Clock("America/Chicago", False).time(moment) == "14:46"


def test_naive_times_are_read_as_utc():
    assert CHICAGO_12.time(datetime(2026, 12, 1, 6, 5)) == "12:05 AM"
    assert CHICAGO_12.time(datetime(2026, 12, 1, 18, 0)) == "12:00 PM"


def test_daylight_saving_changes_the_offset():
    summer = datetime(2026, 7, 1, 17, 0, tzinfo=UTC)
    winter = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    assert CHICAGO_12.time(summer) == "12:00 PM"  # CDT, UTC-5
    assert CHICAGO_12.time(winter) == "11:00 AM"  # CST, UTC-6
    assert CHICAGO_12.full(summer).endswith("CDT")
    assert CHICAGO_12.full(winter) == "Jan 15, 2026, 11:00 AM CST"


def test_today_and_yesterday_switch_at_the_viewers_midnight():
    # 03:00 UTC on Dec 2 is 9 PM on Dec 1 in Chicago; "now" is 15:00 UTC on Dec 2 (9 AM in Chicago).
    message = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    now = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    assert UTC_CLOCK.day(message, now) == "Today"
    assert CHICAGO_12.day(message, now) == "Yesterday"
    assert CHICAGO_12.stamp(message, now) == "Yesterday, 9:00 PM"
    assert UTC_CLOCK.stamp(message, now) == "03:00"
    # One minute past the viewer's midnight the same message is no longer today.
    just_before = datetime(2026, 12, 2, 5, 59, tzinfo=UTC)  # 11:59 PM Dec 1 in Chicago
    just_after = datetime(2026, 12, 2, 6, 1, tzinfo=UTC)  # 12:01 AM Dec 2 in Chicago
    assert CHICAGO_12.day(message, just_before) == "Today"
    assert CHICAGO_12.day(message, just_after) == "Yesterday"


def test_day_labels_weekday_and_dates():
    now = datetime(2026, 12, 10, 18, 0, tzinfo=UTC)
    assert CHICAGO_12.day(now - timedelta(days=3), now) == "Monday"
    assert CHICAGO_12.day(now - timedelta(days=20), now) == "Nov 20"
    assert CHICAGO_12.day(datetime(2025, 6, 1, 18, tzinfo=UTC), now) == "Jun 1, 2025"
    assert CHICAGO_12.ago(now - timedelta(seconds=30), now) == "Just now"
    assert CHICAGO_12.ago(now - timedelta(minutes=5), now) == "5 min ago"


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", "America/Chicago\n", "x" * 100, "america chicago"])
def test_invalid_zones_are_refused_and_read_as_utc(name):
    assert not valid_zone(name)
    clock = Clock.resolve(name, "", name, "en-US")
    assert clock.zone_name == "UTC"
    assert clock.hour12  # the locale still says 12-hour


def test_resolve_prefers_the_profile_then_the_browser():
    assert Clock.resolve("Europe/Berlin", "24h", "America/Chicago", "en-US-u-hc-h12") == BERLIN_24
    assert Clock.resolve("", "", "America/Chicago", "en-US-u-hc-h12") == CHICAGO_12
    assert Clock.resolve("", "24h", "America/Chicago", "en-US") == Clock("America/Chicago", False)
    assert Clock.resolve() == UTC_CLOCK


@pytest.mark.parametrize("locale, expected", [
    ("en-US-u-hc-h12", True), ("en-US-u-hc-h23", False), ("en-GB-u-hc-h12", True), ("de-DE-u-hc-h23", False),
    ("en-US", True), ("en-GB", False), ("de-DE", False), ("fr-CA", True), ("en", True), ("", None),
    ("zh-Hant-TW", True), ("de", None), ("ja-JP-u-ca-japanese-hc-h11", True),
])
def test_locale_hour_cycle(locale, expected):
    assert locale_hour12(locale) is expected


def test_day_bounds_are_the_viewers_calendar_day_in_utc():
    start, end = CHICAGO_12.day_bounds(date(2026, 12, 1))
    assert start == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    # The day clocks go back is 25 hours long; the day they go forward, 23.
    start, end = CHICAGO_12.day_bounds(date(2026, 11, 1))
    assert end - start == timedelta(hours=25)
    start, end = CHICAGO_12.day_bounds(date(2026, 3, 8))
    assert end - start == timedelta(hours=23)
    # A datetime is the local day it falls on (9 PM Dec 1 in Chicago).
    assert CHICAGO_12.day_bounds(datetime(2026, 12, 2, 3, 0, tzinfo=UTC))[0] == datetime(2026, 12, 1, 6, tzinfo=UTC)


def test_iso_for_exports_carries_the_offset():
    assert CHICAGO_12.iso(datetime(2026, 12, 1, 20, 46, 5, tzinfo=UTC)) == "2026-12-01 14:46:05 -06:00"
    assert UTC_CLOCK.iso(datetime(2026, 12, 1, 20, 46, 5)) == "2026-12-01 20:46:05 +00:00"


def test_zone_names_are_choosable_zones():
    names = zone_names()
    assert "America/Chicago" in names and "Europe/Berlin" in names
    assert names == sorted(names)
    assert not any(n.startswith("Etc/") for n in names)
