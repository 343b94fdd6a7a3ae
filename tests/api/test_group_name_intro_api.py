"""POST /groups takes an optional name and an intro choice (the location's setting when omitted)."""

from __future__ import annotations

from sqlmodel import select

from groupsms import db
from groupsms.models import Group, Message
from tests.api.conftest import auth

GROUP = {"from": "+15125550100", "participants": [{"contact": "carla"}, {"contact": "dan"}]}


def test_a_group_created_by_the_api_carries_its_name_and_the_intro_when_asked(client, tokens, world):
    made = client.post("/groups", headers=auth(tokens["assigned"]),
                       json={**GROUP, "name": " 12 Maple Ridge closing ", "intro": True})
    assert made.status_code == 201, made.text
    plain = client.post("/groups", headers=auth(tokens["assigned"]),
                        json={"from": "+15125550102", "participants": GROUP["participants"]})
    assert plain.status_code == 201, plain.text
    with db.read() as s:
        assert s.get(Group, made.json()["id"]).name == "12 Maple Ridge closing"
        kinds = s.exec(select(Message.group_id, Message.kind)).all()
    assert kinds == [(made.json()["id"], "intro")]  # the world's location has the intro off by default


def test_a_bad_name_or_intro_is_refused_with_the_field(client, tokens, world):
    for body in ({**GROUP, "name": "x" * 121}, {**GROUP, "name": "a\nb"}, {**GROUP, "intro": "yes"}):
        refused = client.post("/groups", headers=auth(tokens["assigned"]), json=body)
        assert refused.status_code == 422, (body, refused.text)
    with db.read() as s:
        assert s.exec(select(Group)).all() == []
