"""The conversation list's rows: a named group's title and people, and times in the viewer's zone
and clock."""

from __future__ import annotations

from datetime import datetime, timezone

from groupsms.components.conversation_list import group_row
from groupsms.domain.clock import Clock
from groupsms.services.groups import GroupSummary

NOW = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)


def _summary(**changes) -> GroupSummary:
    values = dict(id=7, title="Carla Client, Dan Buyer", number_label="Main office", number_display="(512) 555-0100",
                  participant_count=2, locked_reason=None, last_message_preview="See you at 5",
                  last_activity_at=datetime(2026, 12, 2, 14, 46), unread_count=1, people="Carla Client, Dan Buyer")
    values.update(changes)
    return GroupSummary(**values)


def test_a_named_group_shows_its_name_with_its_people_below():
    row = group_row(_summary(title="12 Maple Ridge closing", name="12 Maple Ridge closing"), Clock(), NOW)
    assert (row.title, row.people, row.initials) == ("12 Maple Ridge closing", "Carla Client, Dan Buyer", "1M")


def test_an_unnamed_group_is_titled_by_its_people():
    row = group_row(_summary(), Clock(), NOW)
    assert (row.title, row.people, row.initials) == ("Carla Client, Dan Buyer", "", "CD")


def test_row_times_read_in_the_viewers_zone_and_clock():
    chicago = group_row(_summary(), Clock("America/Chicago", hour12=True), NOW)
    assert chicago.when == "8:46 AM"
    assert chicago.when_full == "Dec 2, 2026, 8:46 AM CST"
    utc = group_row(_summary(), Clock(), NOW)
    assert utc.when == "14:46"  # no profile or browser zone: UTC, 24-hour
    tokyo = group_row(_summary(), Clock("Asia/Tokyo"), NOW)  # 23:46 on Dec 2 there, 03:00 on Dec 3 now
    assert tokyo.when == "Yesterday"
