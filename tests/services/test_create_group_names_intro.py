"""Creating a group with a name and the intro text; the location's intro setting; the picker's
"N of M"; warnings that name people."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.domain import intro
from groupsms.errors import Forbidden, ValidationError
from groupsms.models import AuditEvent, Delivery, Group, Location, Message
from groupsms.services import contacts, groups, location_settings, messages
from tests.services.conftest import pick


def _intro_on(world, text: str = "") -> None:
    with db.transaction() as s:
        location = s.get(Location, world.locations["acme"])
        location.intro_enabled, location.intro_text = True, text
        s.add(location)


def _messages(group_id: int) -> list[Message]:
    with db.read() as s:
        return list(s.exec(select(Message).where(Message.group_id == group_id).order_by(Message.id)))


def _deliveries(message_id: int) -> list[Delivery]:
    with db.read() as s:
        return list(s.exec(select(Delivery).where(Delivery.message_id == message_id).order_by(Delivery.id)))


def test_a_group_name_is_trimmed_stored_and_audited(world):
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"),
                              name="  12 Maple   Ridge closing ")
    with db.read() as s:
        assert s.get(Group, gid).name == "12 Maple Ridge closing"
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "group.created")).one()
    assert json.loads(event.detail)["name"] == "12 Maple Ridge closing"
    other = groups.create_group(world.actors["bo"], world.numbers["spare"], pick(world, "carla", "dan"))
    with db.read() as s:
        assert s.get(Group, other).name == ""


@pytest.mark.parametrize("name, problem", [
    ("x" * 121, "Group name must be at most 120 characters"),
    (12, "Group name must be text"),
    ("Bad\x00name", "Group name must not contain control characters"),
])
def test_a_bad_group_name_is_refused_and_nothing_is_written(world, name, problem):
    with pytest.raises(ValidationError, match=problem):
        groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"), name=name)
    with db.read() as s:
        assert s.exec(select(Group)).all() == []


def test_the_intro_goes_to_every_participant_through_the_outbox_with_the_location_wording(world, worker, fake):
    _intro_on(world)
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan", "erin"))
    [message] = _messages(gid)
    assert message.kind == "intro" and message.direction == "outbound"
    assert message.body == ("You're in a group text with Carla, Dan and Erin from Acme Realty. "
                            "Replies go to everyone. Reply STOP to opt out.")
    assert message.notice == "Intro text sent to 3 people"
    assert sorted(d.to_e164 for d in _deliveries(message.id)) == ["+15125550111", "+15125550112", "+15125550113"]
    while worker.run_once():
        pass
    assert sorted((m.to_e164, m.text) for m in fake.sent) == sorted((e, message.body) for e in
                                                              ("+15125550111", "+15125550112", "+15125550113"))
    [view] = messages.list_messages(world.actors["bo"], gid)
    assert view.kind == "intro" and view.notice == "Intro text sent to 3 people" and not view.relayed


def test_the_location_wording_and_an_explicit_choice_per_group(world):
    _intro_on(world, "Hi {names}! {business} set up this group. Reply STOP to opt out.")
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "carla:secondary", "dan"))
    [message] = _messages(gid)
    # Carla joins with both numbers: named once, texted on both.
    assert message.body == "Hi Carla and Dan! Acme Realty set up this group. Reply STOP to opt out."
    assert len(_deliveries(message.id)) == 3
    assert _messages(groups.create_group(world.actors["bo"], world.numbers["spare"], pick(world, "carla", "dan"),
                                         intro=False)) == []
    with pytest.raises(ValidationError, match="Intro must be true or false"):
        groups.create_group(world.actors["bo"], world.numbers["dana_line"], pick(world, "erin", "fay"), intro="yes")


def test_with_the_setting_off_no_intro_unless_asked(world):
    assert _messages(groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))) == []
    gid = groups.create_group(world.actors["bo"], world.numbers["spare"], pick(world, "carla", "dan"), intro=True)
    assert [m.kind for m in _messages(gid)] == ["intro"]


def test_preview_shows_the_intro_these_participants_get_and_overlaps_name_people(world):
    _intro_on(world)
    groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))
    preview = groups.preview_group(world.actors["ada"], world.numbers["main"], pick(world, "carla:secondary", "carla", "erin"))
    assert preview.intro_text.startswith("You're in a group text with Carla and Erin from Acme Realty.")
    assert preview.intro_note == "1 SMS segment"
    assert preview.overlaps == (
        "Carla Client's number (512) 555-0111 is already in 1 active group on this number: "
        "replies from it will wait in Needs routing",)


def test_intro_setting_admin_only_checked_audited(world):
    ada, bo = world.actors["ada"], world.actors["bo"]
    setting = location_settings.get_intro(bo)
    assert (setting.enabled, setting.text, setting.template) == (False, "", intro.DEFAULT_TEMPLATE)
    assert setting.preview.startswith("You're in a group text with Carla, Marcus and Priya from Acme Realty.")
    with pytest.raises(Forbidden):
        location_settings.set_intro(bo, True, "Hi {names}. Reply STOP to opt out.")
    with pytest.raises(ValidationError, match="must say how to opt out"):
        location_settings.set_intro(ada, True, "Hi {names}, welcome.")
    with pytest.raises(ValidationError, match="Intro enabled must be true or false"):
        location_settings.set_intro(ada, "on", "")
    saved = location_settings.set_intro(ada, True, "  {business}: you're in a group with {names}. Reply STOP to opt out. ")
    assert saved.enabled and saved.text == "{business}: you're in a group with {names}. Reply STOP to opt out."
    assert saved.preview == "Acme Realty: you're in a group with Carla, Marcus and Priya. Reply STOP to opt out."
    assert location_settings.set_intro(ada, True, intro.DEFAULT_TEMPLATE).text == ""  # the built-in one
    with db.read() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "location.intro_changed")
                        .order_by(AuditEvent.id)).all()
    assert [sorted(json.loads(e.detail)) for e in events] == [["enabled", "text"], ["text"]]
    # Birch's admin changes birch only.
    location_settings.set_intro(world.actors["zed"], False, "")
    assert location_settings.get_intro(ada).enabled


def test_picker_page_says_how_many_contacts_it_shows_of_how_many(world):
    ada = world.actors["ada"]
    for n in range(5):
        contacts.create_contact(ada, f"Pat Many{n}", f"+1512555096{n}")
    page = groups.picker_page(ada, search="Many", limit=3)
    assert (page.shown, page.total) == (3, 5)
    assert len(page.options) == 3
    page = groups.picker_page(ada, search="Many", limit=50)
    assert (page.shown, page.total) == (5, 5)
    page = groups.picker_page(world.actors["bo"], search="Gus")  # Dana's contact: Bo sees none
    assert (page.shown, page.total, page.options) == (0, 0, ())
