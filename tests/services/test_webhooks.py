"""The Vonage webhook endpoints over HTTP: formats, signatures, freshness, malformed bodies, idempotency."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from groupsms import db
from groupsms.messaging.signatures import sign_params
from groupsms.models import InboundEvent, Message
from groupsms.webhooks.vonage import routes

SECRET = "webhook-test-secret"


@pytest.fixture
def client(world, monkeypatch):
    monkeypatch.setenv("VONAGE_SIGNATURE_SECRET", SECRET)
    monkeypatch.setenv("VONAGE_SIGNATURE_METHOD", "sha256")
    with TestClient(Starlette(routes=routes)) as c:
        yield c


def signed(params: dict, *, at: float | None = None, secret: str = SECRET) -> dict:
    params = {**params, "timestamp": str(int(at if at is not None else time.time())), "nonce": "n-1"}
    return {**params, "sig": sign_params(params, secret, "sha256")}


def inbound(message_id: str = "m-1", text: str = "hello") -> dict:
    return {"msisdn": "15125550111", "to": "15125550100", "messageId": message_id, "text": text, "type": "text"}


def stored() -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(InboundEvent)).one()


@pytest.mark.parametrize("how", ["get", "form", "json"])
def test_webhook_accepts_get_form_and_json(client, how):
    params = signed(inbound(f"m-{how}"))
    url = "/webhooks/vonage/inbound"
    response = {
        "get": lambda: client.get(url, params=params),
        "form": lambda: client.post(url, data=params),
        "json": lambda: client.post(url, json=params),
    }[how]()
    assert response.status_code == 200
    assert stored() == 1
    with db.transaction() as s:
        assert s.exec(select(Message.body)).one() == "hello"


def test_duplicate_message_id_is_stored_once(client):
    params = signed(inbound("m-dup"))
    for _ in range(3):
        assert client.post("/webhooks/vonage/inbound", data=params).status_code == 200
    assert stored() == 1


@pytest.mark.parametrize(
    "params, reason",
    [
        (inbound(), "missing signature"),
        ({**signed(inbound()), "text": "tampered"}, "bad signature"),
        (signed(inbound(), secret="someone-else"), "bad signature"),
        (signed(inbound(), at=time.time() - 25 * 3600), "stale timestamp"),
        (signed(inbound(), at=time.time() + 3600), "timestamp in the future"),
    ],
)
def test_bad_or_stale_signatures_are_refused_and_nothing_is_stored(client, params, reason):
    response = client.post("/webhooks/vonage/inbound", data=params)
    assert response.status_code == 401 and reason in response.text
    assert stored() == 0


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, "not JSON"),
        ({"json": ["a", "list"]}, "must be an object"),
        ({"content": b"x", "headers": {"content-type": "text/plain"}}, "unsupported content type"),
        ({"json": {"nested": {"a": 1}}}, "plain value"),
    ],
)
def test_malformed_bodies_get_400_and_nothing_is_stored(client, kwargs, reason):
    response = client.post("/webhooks/vonage/inbound", **kwargs)
    assert response.status_code == 400 and reason in response.text
    assert stored() == 0


@pytest.mark.parametrize("drop, reason", [("messageId", "missing messageId"), ("msisdn", "missing msisdn")])
def test_signed_but_incomplete_events_get_400(client, drop, reason):
    params = {k: v for k, v in inbound().items() if k != drop}
    response = client.post("/webhooks/vonage/inbound", data=signed(params))
    assert response.status_code == 400 and reason in response.text
    assert stored() == 0


def test_receipt_endpoint_records_status(client):
    params = signed({"msisdn": "15125550111", "to": "15125550100", "messageId": "r-1", "status": "delivered",
                     "err-code": "0", "client-ref": "d999"})
    assert client.get("/webhooks/vonage/status", params=params).status_code == 200
    with db.transaction() as s:
        event = s.exec(select(InboundEvent)).one()
    assert event.kind == "status" and event.processed_at is not None
    assert event.error == "No delivery for this receipt"


def test_signed_retry_twenty_minutes_late_is_accepted(client):
    # Vonage signs with the time it started pushing and keeps that signature on every retry.
    params = signed(inbound("m-late"), at=time.time() - 20 * 60)
    assert client.post("/webhooks/vonage/inbound", data=params).status_code == 200
    assert stored() == 1


def test_signed_retry_a_day_late_is_still_stored_once(client):
    params = signed(inbound("m-day"), at=time.time() - 23 * 3600)
    for _ in range(2):  # a replay inside the window is harmless: stored once per messageId
        assert client.post("/webhooks/vonage/inbound", data=params).status_code == 200
    assert stored() == 1


def test_signed_request_from_the_future_is_refused(client):
    params = signed(inbound("m-future"), at=time.time() + 3600)
    response = client.post("/webhooks/vonage/inbound", data=params)
    assert response.status_code == 401 and "future" in response.text
    assert stored() == 0


@pytest.fixture
def unsigned_client(world, monkeypatch):
    """The webhooks as an app with a real-looking key and no signature secret would serve them."""
    monkeypatch.setenv("VONAGE_API_KEY", "real-looking-key")
    monkeypatch.delenv("VONAGE_SIGNATURE_SECRET", raising=False)
    monkeypatch.delenv("GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS", raising=False)
    with TestClient(Starlette(routes=routes)) as c:
        yield c


@pytest.mark.parametrize("text", ["see you at 5", "STOP", "HELP"])
def test_unsigned_forged_reply_is_refused_without_secret(unsigned_client, text):
    response = unsigned_client.post("/webhooks/vonage/inbound", data=inbound("m-forged", text))
    assert response.status_code == 401 and "VONAGE_SIGNATURE_SECRET" in response.text
    assert stored() == 0
    with db.transaction() as s:
        assert s.exec(select(Message)).all() == []


def test_unsigned_forged_receipt_is_refused_without_secret(unsigned_client):
    response = unsigned_client.get("/webhooks/vonage/status", params={"messageId": "r-1", "status": "delivered"})
    assert response.status_code == 401
    assert stored() == 0


def test_unsigned_webhooks_are_accepted_only_with_the_explicit_opt_out(unsigned_client, monkeypatch, caplog):
    monkeypatch.setenv("GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS", "1")
    with caplog.at_level("WARNING", logger="groupsms.webhooks"):
        response = unsigned_client.post("/webhooks/vonage/inbound", data=inbound("m-experiment"))
    assert response.status_code == 200 and stored() == 1
    assert any("UNSIGNED" in r.getMessage() for r in caplog.records)


def test_a_body_over_the_limit_is_refused_before_it_is_read(client):
    response = client.post("/webhooks/vonage/inbound", content=b"a" * (65 * 1024),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and "too large" in response.text
    assert stored() == 0


def test_a_nul_character_is_a_bad_request_not_a_database_error(client):
    response = client.post("/webhooks/vonage/inbound", json=signed(inbound("m-\x00nul")))
    assert response.status_code == 400 and "NUL" in response.text
    assert stored() == 0


def test_deeply_nested_json_is_a_bad_request_not_a_crash(client):
    response = client.post("/webhooks/vonage/inbound", content=b"[" * 50_000,
                           headers={"content-type": "application/json"})
    assert response.status_code == 400 and "not JSON" in response.text
    assert stored() == 0
