"""Every endpoint with a token of each role: admin Ada, full-access user Dana, assigned-only user
Bo, Zed of another location, and no token. The services decide (R11–R14): another location's
objects are "not found", a role without the permission is 403, no token is 401."""

from __future__ import annotations

import pytest

from groupsms.messaging import inbound
from groupsms.services import groups
from tests.api.conftest import ROLES, auth
from tests.services.conftest import pick

ADMIN, FULL, ASSIGNED, OTHER, NONE = ROLES


def _group(world) -> int:
    return groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))


def _needs_routing(world) -> int:
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "erin"))
    event_id, _ = inbound.record_event("inbound", {"msisdn": "15125550111", "to": "15125550100",
                                                   "messageId": "api-matrix-1", "text": "which group?"})
    inbound.process_event(event_id)
    from groupsms.services import messages

    [item] = messages.list_needs_routing(world.actors["ada"])
    return item.message_id


def _subscription(world) -> int:
    from groupsms.services import webhook_subscriptions as subs

    view, _ = subs.create_subscription(world.actors["ada"], "http://127.0.0.1:9/hook", ["group.created"])
    return view.id


def _delivery(world) -> int:
    from groupsms.services import webhook_subscriptions as subs

    sid = _subscription(world)
    _group(world)
    [d] = subs.list_deliveries(world.actors["ada"], sid)
    return d.id


# name: (setup(world) -> value, request(value) -> (method, path, json), {role: status})
CASES = {
    "list numbers": (None, lambda _: ("GET", "/numbers", None), {ADMIN: 200, FULL: 200, ASSIGNED: 200, OTHER: 200}),
    "list contacts": (None, lambda _: ("GET", "/contacts?q=a", None), {ADMIN: 200, FULL: 200, ASSIGNED: 200, OTHER: 200}),
    "get Dana's contact": (None, lambda _: ("GET", "/contacts/gus", None), {ADMIN: 200, FULL: 200, ASSIGNED: 404, OTHER: 404}),
    "put Bo's contact": (None, lambda _: ("PUT", "/contacts/carla", {"name": "Carla C", "primary_phone": "+15125550111"}),
                         {ADMIN: 200, FULL: 200, ASSIGNED: 200, OTHER: 201}),
    "put Dana's contact": (None, lambda _: ("PUT", "/contacts/gus", {"name": "Gus I", "primary_phone": "+15125550115"}),
                           {ADMIN: 200, FULL: 200, ASSIGNED: 404, OTHER: 201}),
    "delete a contact": (None, lambda _: ("DELETE", "/contacts/hal", None), {ADMIN: 204, FULL: 403, ASSIGNED: 404, OTHER: 404}),
    "create group": (None, lambda _: ("POST", "/groups", {"from": "+15125550100", "participants": [
        {"contact": "erin"}, {"contact": "fay"}]}), {ADMIN: 201, FULL: 201, ASSIGNED: 201, OTHER: 404}),
    "list groups": (_group, lambda _: ("GET", "/groups", None), {ADMIN: 200, FULL: 200, ASSIGNED: 200, OTHER: 200}),
    "get group": (_group, lambda g: ("GET", f"/groups/{g}", None), {ADMIN: 200, FULL: 200, ASSIGNED: 200, OTHER: 404}),
    "send": (_group, lambda g: ("POST", f"/groups/{g}/messages", {"text": "hello"}),
             {ADMIN: 201, FULL: 201, ASSIGNED: 201, OTHER: 404}),
    "list messages": (_group, lambda g: ("GET", f"/groups/{g}/messages", None),
                      {ADMIN: 200, FULL: 200, ASSIGNED: 200, OTHER: 404}),
    "list needs routing": (_needs_routing, lambda _: ("GET", "/inbound?state=needs_routing", None),
                           {ADMIN: 200, FULL: 200, ASSIGNED: 200, OTHER: 200}),
    "route": (_needs_routing, lambda m: ("POST", f"/inbound/{m}/route", {"group_id": 1}),
              {ADMIN: 200, FULL: 200, ASSIGNED: 200, OTHER: 404}),
    "subscribe": (None, lambda _: ("POST", "/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["group.created"]}),
                  {ADMIN: 201, FULL: 403, ASSIGNED: 403, OTHER: 201}),
    "list subscriptions": (_subscription, lambda _: ("GET", "/webhooks", None),
                           {ADMIN: 200, FULL: 403, ASSIGNED: 403, OTHER: 200}),
    "unsubscribe": (_subscription, lambda s: ("DELETE", f"/webhooks/{s}", None),
                    {ADMIN: 204, FULL: 403, ASSIGNED: 403, OTHER: 404}),
    "list deliveries": (_subscription, lambda s: ("GET", f"/webhooks/{s}/deliveries", None),
                        {ADMIN: 200, FULL: 403, ASSIGNED: 403, OTHER: 404}),
    "resend": (_delivery, lambda d: ("POST", f"/webhooks/deliveries/{d}/resend", None),
               {ADMIN: 200, FULL: 403, ASSIGNED: 403, OTHER: 404}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", list(CASES))
def test_every_endpoint_for_every_role(case, role, client, tokens, world, monkeypatch):
    monkeypatch.setenv("GROUPSMS_WEBHOOK_ALLOW_PRIVATE", "1")
    setup, request, expected = CASES[case]
    value = setup(world) if setup else None
    method, path, body = request(value)
    response = client.request(method, path, json=body, headers=auth(tokens[role]))
    want = 401 if role == NONE else expected[role]
    assert response.status_code == want, response.text
    if want >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == want


def test_lists_hold_only_what_the_role_may_see(client, tokens, world):
    gid = _group(world)
    groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "gus", "hal"))
    seen = {role: client.get("/contacts", headers=auth(tokens[role]), params={"limit": 200}).json()["data"]
            for role in (ADMIN, ASSIGNED, OTHER)}
    assert {c["external_id"] for c in seen[OTHER]} == {"pia", "quinn"}
    assert "gus" not in {c["external_id"] for c in seen[ASSIGNED]} and "carla" in {c["external_id"] for c in seen[ASSIGNED]}
    assert {"gus", "hal", "carla"} <= {c["external_id"] for c in seen[ADMIN]}
    assert [g["id"] for g in client.get("/groups", headers=auth(tokens[ASSIGNED])).json()["data"]] == [gid]
    assert len(client.get("/groups", headers=auth(tokens[FULL])).json()["data"]) == 2
    assert client.get("/groups", headers=auth(tokens[OTHER])).json()["data"] == []
    assert {n["e164"] for n in client.get("/numbers", headers=auth(tokens[OTHER])).json()["data"]} == {"+17375550100"}
    # Bo may use the default number, the unassigned ones, not Dana's line (R12).
    bo_numbers = {n["e164"] for n in client.get("/numbers", headers=auth(tokens[ASSIGNED])).json()["data"]}
    assert "+15125550101" not in bo_numbers and "+15125550100" in bo_numbers


def test_another_locations_put_does_not_touch_this_locations_contact(client, tokens, world):
    client.put("/contacts/carla", headers=auth(tokens[OTHER]), json={"name": "Not Carla", "primary_phone": "+17375550199"})
    carla = client.get("/contacts/carla", headers=auth(tokens[ADMIN])).json()
    assert carla["name"] == "Carla Client" and carla["primary_phone"] == "+15125550111"
