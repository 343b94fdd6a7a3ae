"""What the "Needs routing" section shows of a waiting reply: candidates and the question the
confirmation dialog asks, with times in the viewer's zone and clock."""

from __future__ import annotations

from datetime import datetime

from groupsms.components.routing import people_list, routing_question, routing_row
from groupsms.domain.clock import Clock
from groupsms.services.messages import RecentMessage, RoutingCandidate, RoutingItem

AT = datetime(2026, 12, 1, 20, 46)  # stored naive UTC: 2:46 PM in Chicago
NOW = datetime(2026, 12, 1, 21, 0)


def candidate(**kw) -> RoutingCandidate:
    base = dict(group_id=7, name="12 Maple Ridge closing", title="12 Maple Ridge closing",
                participants=("Carla Vance", "Marcus Lee", "Priya Raman", "Tom Becker"), sender="Carla",
                recipients=("Marcus Lee", "Priya Raman", "Tom Becker"),
                recent=(RecentMessage("Ada Admin", "The addendum is in the portal", AT, "outbound"),))
    base.update(kw)
    return RoutingCandidate(**base)


def test_people_list_reads_like_a_sentence():
    assert people_list(()) == ""
    assert people_list(("Dan",)) == "Dan"
    assert people_list(("Dan", "Erin")) == "Dan and Erin"
    assert people_list(("Dan", "Erin", "Fay")) == "Dan, Erin and Fay"


def test_question_names_who_gets_the_reply_and_the_group():
    assert routing_question(candidate()) == (
        "Relay Carla's reply to Marcus Lee, Priya Raman and Tom Becker in '12 Maple Ridge closing'?")
    assert routing_question(candidate(sender="Chris")).startswith("Relay Chris' reply to")
    assert routing_question(candidate(recipients=())) == (
        "Move Carla's reply to '12 Maple Ridge closing'? Nobody else in it will get an SMS.")


def test_row_shows_candidates_in_the_viewers_time():
    item = RoutingItem(41, "Carla Vance", "(512) 555-0871", "(512) 555-0100", "Signed", AT, (7,),
                       ("12 Maple Ridge closing",), (candidate(),))
    row = routing_row(item, Clock("America/Chicago", True), NOW)
    assert row.sender == "Carla Vance · (512) 555-0871" and row.when == "14 min ago"
    [c] = row.candidates
    assert (c.id, c.title, c.people) == ("7", "12 Maple Ridge closing",
                                         "Carla Vance, Marcus Lee, Priya Raman, Tom Becker")
    assert [(r.sender, r.body, r.when) for r in c.recent] == [("Ada Admin", "The addendum is in the portal", "2:46 PM")]
    assert "UTC" not in c.recent[0].when_full and "CST" in c.recent[0].when_full
    assert routing_row(item, Clock("UTC", False), NOW).candidates[0].recent[0].when == "20:46"
