"""What the group page says, without a browser: the locked banner's story and ways out (R10, E1),
times in the viewer's zone and clock, day dividers, and a delivery button name per message (E3)."""

from __future__ import annotations

from datetime import UTC, datetime

from groupsms.components import chat, chat_panels
from groupsms.domain.clock import Clock
from groupsms.services.groups import GroupDetail, LockCause, ParticipantView
from groupsms.services.messages import MessageView

CHICAGO = Clock("America/Chicago", hour12=True)
NOW = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)  # noon in Chicago
STOP_AT = datetime(2026, 12, 1, 20, 46)  # stored naive UTC: 2:46 PM in Chicago
START_AT = datetime(2026, 12, 2, 15, 10)  # 9:10 AM in Chicago


def _person(pid: int, contact_id: int, name: str, *, dnd: bool = False) -> ParticipantView:
    return ParticipantView(pid, contact_id, name, f"+1737555{pid:04d}", f"(737) 555-{pid:04d}", "primary", None, dnd)


def _detail(causes=(), everyone=False, locked="Tom Becker: Opted out by text on Dec 1, 2026") -> GroupDetail:
    people = (_person(1, 11, "Tom Becker", dnd=True), _person(2, 12, "Ana Ruiz"), _person(3, 13, "Lee Park"))
    return GroupDetail(7, "Tom Becker, Ana Ruiz, Lee Park", 1, "Main", "(512) 555-0100", "Ada Admin",
                       datetime(2026, 11, 30), people, locked, False, "locked", lock_causes=tuple(causes),
                       regroup_everyone=everyone)


def test_r10_e1_the_banner_tells_the_stop_in_the_viewers_time():
    cause = LockCause(11, "Tom Becker", "opt_out", STOP_AT, keyword="STOP")
    detail = _detail([cause])
    assert chat_panels.lock_lines(detail, CHICAGO, NOW) == ["Tom Becker opted out by texting STOP · Dec 1, 2:46 PM."]
    assert [(link.label, link.href) for link in chat_panels.regroup_links(detail)] == [
        ("Create a new group without Tom Becker", "/?regroup=7&without=11")]
    assert "enabled DND" not in " ".join(chat_panels.lock_lines(detail, CHICAGO, NOW))


def test_r10_e1_after_start_the_banner_stays_true_and_offers_everyone_too():
    cause = LockCause(11, "Tom Becker", "opt_out", STOP_AT, keyword="STOP", ended_at=START_AT, still=False)
    detail = _detail([cause], everyone=True)
    assert chat_panels.lock_lines(detail, CHICAGO, NOW) == [
        "Tom Becker opted out by texting STOP · Dec 1, 2:46 PM, and opted back in · Dec 2, 9:10 AM."]
    assert chat_panels.lock_note(detail).startswith("This group stays locked")
    assert [link.label for link in chat_panels.regroup_links(detail)] == [
        "Recreate with everyone", "Create a new group without Tom Becker"]
    assert chat_panels.regroup_links(detail)[0].href == "/?regroup=7"


def test_r10_dnd_lines_say_who_and_when_or_just_that_it_is_on():
    by_ada = LockCause(12, "Ana Ruiz", "dnd", STOP_AT, by="Ada Admin")
    unknown = LockCause(13, "Lee Park", "dnd", None)
    lines = chat_panels.lock_lines(_detail([by_ada, unknown]), Clock("UTC", hour12=False), NOW)
    assert lines == ["Ada Admin turned on Do not disturb for Ana Ruiz · Dec 1, 20:46.",
                     "Do not disturb is on for Lee Park."]


def test_r10_a_lock_without_a_known_cause_shows_the_stored_reason_and_the_dnd_people():
    detail = _detail([], locked="Tom Becker enabled DND")
    assert chat_panels.lock_lines(detail, CHICAGO, NOW) == ["Tom Becker enabled DND."]
    assert [link.label for link in chat_panels.regroup_links(detail)] == ["Create a new group without Tom Becker"]
    assert chat_panels.regroup_links(_detail([], locked=None)) == []


def _message(mid: int, body: str, at: datetime, *, direction="outbound", sender="Ada Admin", relayed=False):
    return MessageView(mid, 7, direction, body, sender, at, "delivered", relayed)


def test_e3_every_delivery_button_has_its_own_name():
    shown = [
        chat.bubble(_message(1, "Closing moved to Friday", STOP_AT), False, NOW, CHICAGO, viewer="Ada Admin", people=3),
        chat.bubble(_message(2, "Bring the keys", STOP_AT), False, NOW, CHICAGO, viewer="Ada Admin", people=3),
        chat.bubble(_message(3, "Closing moved to Friday", START_AT, sender="Dana Full"), False, NOW, CHICAGO,
                    viewer="Ada Admin", people=3),
        chat.bubble(_message(4, "On my way", START_AT, direction="inbound", sender="Tom", relayed=True), False, NOW,
                    CHICAGO, viewer="Ada Admin", people=3),
    ]
    names = [b.status_aria for b in shown]
    assert len(set(names)) == 4
    assert names[0] == ("Delivery status: Delivered. Details for your message of Yesterday, 2:46 PM to 3 people, "
                        "“Closing moved to Friday”")
    assert names[2].startswith("Delivery status: Delivered. Details for Dana Full's message of 9:10 AM to 3 people")
    assert names[3].startswith("Delivery status: Delivered. Details for the relay of Tom's reply of 9:10 AM to 2 people")


def test_e3_the_same_text_twice_in_a_minute_still_gets_two_names():
    twice = [chat.bubble(_message(i, "Call me (urgent)", STOP_AT), False, NOW, CHICAGO, viewer="Ada Admin", people=2)
             for i in (1, 2, 3)]
    names = [b.status_aria for b in chat.with_day_breaks(twice)]
    assert names[1] == names[0] + " (2)" and names[2] == names[0] + " (3)"
    assert [b.status_aria for b in chat.with_day_breaks(chat.with_day_breaks(twice))] == names  # stable on merges


def test_times_are_the_viewers_and_days_are_divided():
    shown = chat.with_day_breaks([
        chat.bubble(_message(1, "a", STOP_AT), False, NOW, CHICAGO),
        chat.bubble(_message(2, "b", datetime(2026, 12, 1, 23, 0)), False, NOW, CHICAGO),
        chat.bubble(_message(3, "c", datetime(2026, 12, 2, 6, 30)), False, NOW, CHICAGO),  # 12:30 AM Dec 2
    ])
    assert [(b.time, b.day, b.day_break) for b in shown] == [
        ("2:46 PM", "Yesterday", True), ("5:00 PM", "Yesterday", False), ("12:30 AM", "Today", True)]
    assert shown[0].timestamp == "Dec 1, 2026, 2:46 PM CST"
    assert "UTC" not in shown[0].timestamp and shown[0].aria == "Message from Ada Admin at Yesterday, 2:46 PM"


def test_r11_r14_not_found_tells_an_assigned_only_user_the_rule():
    text = str(chat.not_found_message(True))
    assert "You see groups made only of contacts assigned to you." in text
    assert "This group has someone who isn't assigned to you, or it doesn't exist." in text
    assert chat.NOT_FOUND == "This conversation does not exist, or you don't have access to it."
