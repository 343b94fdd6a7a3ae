"""One small test per security rule (S1–S7 in docs/RULES.md); SECURITY.md names the suites that try
each of them much harder (fuzzing, the browser, sign-in floods)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func
from sqlmodel import select
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from groupsms import config, db, security
from groupsms.headers import SecurityHeaders
from groupsms.messaging import signatures
from groupsms.models import InboundEvent
from groupsms.services import sessions
from groupsms.webhooks.vonage import routes

SECRET = "rules-security-secret"
URL = "/webhooks/vonage/inbound"


def sms(message_id: str = "s-1") -> dict[str, str]:
    return {"msisdn": "15125550111", "to": "15125550100", "messageId": message_id, "text": "hi", "type": "text"}


def signed(params: dict[str, str], *, at: float | None = None, method: str = "sha256") -> dict[str, str]:
    params = {**params, "timestamp": str(int(time.time() if at is None else at)), "nonce": "n"}
    return {**params, "sig": signatures.sign_params(params, SECRET, method)}


def stored() -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(InboundEvent)).one()


@pytest.fixture
def client(world, monkeypatch):
    monkeypatch.setenv("VONAGE_SIGNATURE_SECRET", SECRET)
    monkeypatch.setenv("VONAGE_SIGNATURE_METHOD", "sha256")
    monkeypatch.delenv("GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS", raising=False)
    with TestClient(Starlette(routes=routes)) as c:
        yield c


@pytest.mark.parametrize("method", signatures.METHODS)
def test_s1_every_method_verifies_its_own_signature_and_no_other(method):
    params = signed(sms(), method=method)
    assert signatures.verify_params(params, SECRET, method, now=time.time()) is None
    tampered = {**params, "text": "tampered"}
    assert signatures.verify_params(tampered, SECRET, method, now=time.time()) == signatures.BAD_SIGNATURE
    assert signatures.verify_params(params, "another-secret", method, now=time.time()) == signatures.BAD_SIGNATURE
    unsigned = {k: v for k, v in params.items() if k != "sig"}
    assert signatures.verify_params(unsigned, SECRET, method, now=time.time()) == signatures.MISSING_SIGNATURE


def test_s1_a_tampered_request_is_refused_and_nothing_is_stored(client):
    response = client.post(URL, data={**signed(sms()), "text": "forged"})
    assert response.status_code == 401 and "bad signature" in response.text
    assert stored() == 0
    assert client.post(URL, data=signed(sms())).status_code == 200 and stored() == 1


def test_s2_a_day_old_retry_is_accepted_but_not_an_older_one_or_one_from_the_future():
    now = time.time()
    day_old = signed(sms(), at=now - 24 * 3600 + 60)
    assert signatures.verify_params(day_old, SECRET, "sha256", now=now) is None
    older = signed(sms(), at=now - 24 * 3600 - 60)
    assert signatures.verify_params(older, SECRET, "sha256", now=now) == signatures.STALE_TIMESTAMP
    ahead = signed(sms(), at=now + 10 * 60)
    assert signatures.verify_params(ahead, SECRET, "sha256", now=now) == signatures.FUTURE_TIMESTAMP


def test_s3_without_a_secret_the_app_refuses_to_start_and_the_webhooks_refuse_everything(world, monkeypatch):
    monkeypatch.setenv("VONAGE_API_KEY", "a-real-key")
    monkeypatch.delenv("VONAGE_SIGNATURE_SECRET", raising=False)
    monkeypatch.delenv("GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS", raising=False)
    with pytest.raises(SystemExit, match="VONAGE_SIGNATURE_SECRET"):
        config.require_signed_webhooks()
    with TestClient(Starlette(routes=routes)) as c:
        response = c.post(URL, data=sms("unsigned"))  # a forged reply with no signature at all
    assert response.status_code == 401 and "VONAGE_SIGNATURE_SECRET is not set" in response.text
    assert stored() == 0
    monkeypatch.setenv("GROUPSMS_ALLOW_UNSIGNED_WEBHOOKS", "1")  # the explicit local experiment
    assert config.webhook_signing_problem(config.load()) is None


@pytest.mark.parametrize("send, status", [
    (lambda c: c.post(URL, content=b"x" * (65 * 1024), headers={"content-type": "application/json"}), 400),
    (lambda c: c.post(URL, json={**signed(sms()), "text": "nul\x00"}), 400),
    (lambda c: c.post(URL, json={**signed(sms()), "text": {"nested": "value"}}), 400),
    (lambda c: c.post(URL, content=b"[1, 2]", headers={"content-type": "application/json"}), 400),
    (lambda c: c.post(URL, content=b"hello", headers={"content-type": "text/plain"}), 400),
    (lambda c: c.put(URL, data=signed(sms())), 405),
])
def test_s4_oversized_malformed_or_odd_requests_are_refused_and_store_nothing(client, send, status):
    assert send(client).status_code == status
    assert stored() == 0


def test_s5_every_response_carries_the_security_headers_and_pages_a_csp():
    async def page(_request):
        return HTMLResponse("<html><head><script>window.boot = 1;</script></head><body></body></html>")

    with TestClient(SecurityHeaders(Starlette(routes=[Route("/", page)]))) as c:
        headers = c.get("/").headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "'sha256-" in csp and "object-src 'none'" in csp


def test_s6_passwords_are_argon2_and_tokens_are_kept_only_as_keyed_hashes(monkeypatch):
    hashed = security.hash_password("correct-horse-battery")
    assert hashed.startswith("$argon2") and "correct-horse-battery" not in hashed
    assert security.verify_password(hashed, "correct-horse-battery")
    assert not security.verify_password(hashed, "wrong") and not security.verify_password(None, "x")
    token = security.new_token()
    monkeypatch.setenv("GROUPSMS_SECRET_KEY", "key-one")
    one = security.token_hash(token)
    monkeypatch.setenv("GROUPSMS_SECRET_KEY", "key-two")
    assert token not in one and security.token_hash(token) != one  # the key is part of the hash
    assert len(token) >= 40 and security.new_token() != token


def test_s7_sign_in_waits_grow_then_stop_growing_and_the_first_tries_cost_nothing():
    for throttle in (sessions.EMAIL, sessions.CLIENT, sessions.GLOBAL):
        assert [throttle.wait(n) for n in range(throttle.free)] == [0.0] * throttle.free
        waits = [throttle.wait(throttle.free + n) for n in range(40)]
        assert waits == sorted(waits) and waits[1] == 2 * waits[0]
        assert max(waits) == throttle.cap  # a wait, never a lockout
    assert sessions.EMAIL.cap <= 120  # a stranger can make an email's owner wait 2 minutes at most
