"""Tokens (shown once, hashed, scoped, revocable, last use), idempotent sends, the duplicate group,
cursor pagination, problem details and the per-token rate limit."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from groupsms import cli, db
from groupsms.errors import NotFound
from groupsms.models import ApiToken, AuditEvent, Delivery, Message
from groupsms.security import token_hash
from groupsms.services import api_tokens, groups, integrations
from tests.api.conftest import auth
from tests.services.conftest import pick

GROUP = {"from": "+15125550100", "participants": [{"contact": "carla"}, {"contact": "dan", "number": "primary"}]}


@pytest.fixture
def cli_db(database_url, monkeypatch):
    monkeypatch.setenv("GROUPSMS_DATABASE_URL", database_url)


def test_cli_prints_a_token_that_is_stored_hashed_and_acts_as_its_user(client, world, capsys, cli_db):
    assert cli.main(["api-token", "create", "--as", "bo@acme.test", "--name", "CRM sync", "--scope", "read"]) == 0
    token = json.loads(capsys.readouterr().out)["token"]
    with db.transaction() as s:
        row = s.exec(select(ApiToken)).one()
        assert row.token_hash == token_hash(token) and token not in (row.prefix, row.token_hash)
        assert row.user_id == world.users["bo"] and row.scopes == "read" and row.last_used_at is None
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "api_token.created")).one()
    assert client.get("/groups", headers=auth(token)).status_code == 200
    with db.transaction() as s:
        assert s.exec(select(ApiToken)).one().last_used_at is not None
    denied = client.post("/groups", headers=auth(token), json=GROUP)
    assert denied.status_code == 403 and denied.json()["scope"] == "send"


def test_cli_refuses_an_unknown_user_and_an_admin_scope_for_a_user(world, capsys, cli_db):
    assert cli.main(["api-token", "create", "--as", "nobody@acme.test", "--name", "x"]) == 1
    assert cli.main(["api-token", "create", "--as", "bo@acme.test", "--name", "x", "--scope", "admin"]) == 1
    assert "admin" in capsys.readouterr().err


def test_admin_creates_lists_and_revokes_tokens_of_their_location_only(client, world):
    token_id, token = api_tokens.create_token(world.actors["ada"], world.users["bo"], "Bo's CRM", ["read", "send"])
    [view] = api_tokens.list_tokens(world.actors["ada"])
    assert (view.name, view.user_email, view.scopes) == ("Bo's CRM", "bo@acme.test", ("read", "send"))
    assert token.startswith(view.prefix) and len(view.prefix) < len(token)
    assert api_tokens.list_tokens(world.actors["zed"]) == []
    from groupsms.errors import Forbidden, NotFound

    with pytest.raises(NotFound):
        api_tokens.revoke_token(world.actors["zed"], token_id)
    with pytest.raises(Forbidden):
        api_tokens.create_token(world.actors["bo"], world.users["bo"], "mine")
    with pytest.raises(NotFound):
        api_tokens.create_token(world.actors["ada"], world.users["zed"], "theirs")
    assert client.get("/numbers", headers=auth(token)).status_code == 200
    api_tokens.revoke_token(world.actors["ada"], token_id)
    answer = client.get("/numbers", headers=auth(token))
    assert answer.status_code == 401 and "Bearer" in answer.headers["www-authenticate"]


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer gsm_not-a-real-token-at-all-xxxxxxxx", "Basic Ym86cHc="])
def test_missing_or_bad_tokens_get_401(client, world, header):
    answer = client.get("/numbers", headers={"Authorization": header} if header else {})
    assert answer.status_code == 401
    assert answer.json()["title"] == "Unauthorized"


def test_a_deactivated_users_token_stops_working(client, tokens, world):
    from groupsms.models import User

    with db.transaction() as s:
        user = s.get(User, world.users["bo"])
        user.is_active = False
        s.add(user)
    assert client.get("/numbers", headers=auth(tokens["assigned"])).status_code == 401


def test_a_retry_with_the_same_idempotency_key_sends_nothing_again(client, tokens, world):
    gid = client.post("/groups", headers=auth(tokens["assigned"]), json=GROUP).json()["id"]
    headers = {**auth(tokens["assigned"]), "Idempotency-Key": "order-42-reminder"}
    first = client.post(f"/groups/{gid}/messages", headers=headers, json={"text": "See you at 5"})
    again = client.post(f"/groups/{gid}/messages", headers=headers, json={"text": "See you at 5"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    other = client.post(f"/groups/{gid}/messages", headers={**headers, "Idempotency-Key": "order-43"}, json={"text": "x"})
    assert other.json()["id"] != first.json()["id"]
    with db.transaction() as s:
        assert len(s.exec(select(Message).where(Message.group_id == gid)).all()) == 2
        assert len(s.exec(select(Delivery).where(Delivery.message_id == first.json()["id"])).all()) == 2
    # Another user's same key is their own compose.
    theirs = client.post(f"/groups/{gid}/messages", headers={**auth(tokens["admin"]), "Idempotency-Key": "order-42-reminder"},
                         json={"text": "See you at 5"})
    assert theirs.json()["id"] != first.json()["id"]


def test_a_duplicate_group_answers_409_with_the_existing_groups_id(client, tokens, world):
    first = client.post("/groups", headers=auth(tokens["assigned"]), json=GROUP)
    again = client.post("/groups", headers=auth(tokens["admin"]), json=GROUP)
    assert again.status_code == 409
    assert again.json()["existing_group_id"] == first.json()["id"]
    forced = client.post("/groups", headers=auth(tokens["admin"]), json={**GROUP, "allow_duplicate": True})
    assert forced.status_code == 201 and forced.json()["id"] != first.json()["id"]


def test_a_refused_group_names_the_field_and_the_rule(client, tokens, world):
    dnd = client.post("/groups", headers=auth(tokens["assigned"]), json={
        "from": "+15125550100", "participants": [{"contact": "carla"}, {"contact": "ivy"}]})
    assert dnd.status_code == 422
    assert dnd.json()["errors"] == [{"field": "participants[1]", "rule": "R3", "message": dnd.json()["errors"][0]["message"]}]
    alone = client.post("/groups", headers=auth(tokens["assigned"]), json={
        "from": "+15125550100", "participants": [{"contact": "carla"}]})
    assert alone.json()["errors"][0]["rule"] == "R2"
    malformed = client.post("/groups", headers=auth(tokens["assigned"]), json={"participants": [{"contact": "carla"}]})
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "from" and malformed.json()["errors"][0]["rule"] == "missing"
    bad_phone = client.put("/contacts/zoe", headers=auth(tokens["admin"]), json={"name": "Zoe", "primary_phone": "12"})
    assert bad_phone.status_code == 422 and bad_phone.json()["errors"][0]["field"] == "primary_phone"


def test_lists_page_with_next_cursor_without_gaps_or_repeats(client, tokens, world):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get("/contacts", headers=auth(tokens["admin"]), params=params).json()
        seen += [c["external_id"] for c in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 13 and pages == 4
    bad = client.get("/contacts", headers=auth(tokens["admin"]), params={"cursor": "nonsense!"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


def test_message_pages_go_back_in_time(client, tokens, world):
    gid = client.post("/groups", headers=auth(tokens["assigned"]), json=GROUP).json()["id"]
    for i in range(5):
        client.post(f"/groups/{gid}/messages", headers=auth(tokens["assigned"]), json={"text": f"note {i}"})
    first = client.get(f"/groups/{gid}/messages", headers=auth(tokens["assigned"]), params={"limit": 3}).json()
    second = client.get(f"/groups/{gid}/messages", headers=auth(tokens["assigned"]),
                        params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [m["text"] for m in first["data"]] == ["note 4", "note 3", "note 2"]
    assert [m["text"] for m in second["data"]] == ["note 1", "note 0"] and second["next_cursor"] is None
    assert {r["status"] for r in first["data"][0]["recipients"]} == {"queued"}


def test_put_contact_creates_then_updates_and_dnd_locks_its_groups(client, tokens, world):
    body = {"name": "Nia New", "primary_phone": "+1 512 555 0141", "assigned_to": "bo@acme.test"}
    created = client.put("/contacts/crm-77", headers=auth(tokens["admin"]), json=body)
    assert created.status_code == 201 and created.json()["primary_phone"] == "+15125550141"
    gid = client.post("/groups", headers=auth(tokens["assigned"]), json={
        "from": "+15125550100", "participants": [{"contact": "crm-77"}, {"contact": "dan"}]}).json()["id"]
    updated = client.put("/contacts/crm-77", headers=auth(tokens["assigned"]), json={**body, "dnd": True})
    assert updated.status_code == 200 and updated.json()["dnd"] is True
    group = client.get(f"/groups/{gid}", headers=auth(tokens["assigned"])).json()
    assert group["locked_reason"] and group["can_send"] is False
    assert client.delete("/contacts/crm-77", headers=auth(tokens["admin"])).status_code == 204
    group = client.get(f"/groups/{gid}", headers=auth(tokens["admin"])).json()
    assert [p["tag"] for p in group["participants"]] == ["Deleted", None]
    assert client.get("/contacts/crm-77", headers=auth(tokens["admin"])).status_code == 404


def test_past_the_rate_limit_a_token_gets_429_with_retry_after(client, tokens, world, monkeypatch):
    monkeypatch.setenv("GROUPSMS_API_RATE_PER_MINUTE", "3")
    answers = [client.get("/numbers", headers=auth(tokens["admin"])) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    assert client.get("/numbers", headers=auth(tokens["full"])).status_code == 200  # per token


def test_openapi_document_and_docs_page(client):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert {"/groups", "/groups/{group_id}/messages", "/contacts/{external_id}", "/inbound", "/webhooks"} <= set(doc["paths"])
    page = client.get("/docs")
    assert page.status_code == 200 and "POST" in page.text and "/groups/{group_id}/messages" in page.text


def test_unknown_and_repeated_query_parameters_are_refused(client, tokens, world):
    misspelt = client.get("/contacts?limt=5", headers=auth(tokens["admin"]))
    assert misspelt.status_code == 422 and misspelt.json()["errors"][0]["rule"] == "unknown_parameter"
    twice = client.get("/contacts?q=carla&q=dan", headers=auth(tokens["admin"]))
    assert twice.status_code == 422 and twice.json()["errors"][0] == {
        "field": "q", "rule": "repeated_parameter", "message": "Give this parameter once"}


def test_group_facts_answer_only_for_a_group_the_user_may_see(world):
    """The participants' external ids of a group come only with the group itself (R11, R14): Bo may
    not see Dana's group of her own contacts, Zed no acme group."""
    group_id = groups.create_group(world.actors["dana"], world.numbers["dana_line"], pick(world, "gus", "hal"))
    e164, refs = integrations.group_facts(world.actors["dana"], group_id)
    assert e164 == "+15125550101" and refs == {world.contacts["gus"]: "gus", world.contacts["hal"]: "hal"}
    for who in ("bo", "zed"):
        with pytest.raises(NotFound):
            integrations.group_facts(world.actors[who], group_id)
