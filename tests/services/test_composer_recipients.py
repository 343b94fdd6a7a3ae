"""The group view's `recipients` (the composer's cost line) is the number of SMS a send queues."""

from __future__ import annotations

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.models import Contact, Delivery
from groupsms.errors import Forbidden
from groupsms.services import groups, messages
from groupsms.services import policy as policy_service
from tests.services.conftest import pick


def test_recipients_is_what_a_send_queues(world):
    a = world.actors
    gid = groups.create_group(a["ada"], world.numbers["main"], pick(world, "carla", "dan", "erin"))
    assert groups.get_group(a["dana"], gid).recipients == 3
    with db.transaction() as s:  # another contact holding Erin's number has DND: no SMS goes there
        s.add(Contact(location_id=world.locations["acme"], name="Erin Again", primary_phone="+15125550113",
                      dnd_sms=True))
    detail = groups.get_group(a["dana"], gid)
    assert detail.can_send and detail.recipients == 2
    mid = messages.send_message(a["dana"], gid, "Inspection moved to 3pm")
    with db.transaction() as s:
        assert len(s.exec(select(Delivery).where(Delivery.message_id == mid)).all()) == detail.recipients


def test_a_role_without_send_sees_why_and_no_cost(world):
    gid = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))
    assert groups.get_group(world.actors["bo"], gid).can_send
    policy_service.set_role_permission(world.actors["ada"], "user", "message", "send", False)
    detail = groups.get_group(world.actors["bo"], gid)
    assert not detail.can_send and detail.recipients == 0
    assert detail.send_block_reason == "Your role can't send — ask an admin"
    with pytest.raises(Forbidden, match="Your role can't send"):
        messages.send_message(world.actors["bo"], gid, "still trying")
