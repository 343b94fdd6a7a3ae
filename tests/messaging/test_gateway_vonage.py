"""VonageGateway through the real `vonage` SDK, over TLS, against the simulator.

Every test runs with REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE pointing at the system bundle, as on these
machines: the gateway must trust the simulator's CA through VONAGE_CA_BUNDLE regardless.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from vonage import Auth, HttpClientOptions, Vonage
from vonage_sms import SmsError, SmsMessage

from groupsms.config import Settings
from groupsms.messaging.gateway import AMBIGUOUS, FAILED, RETRY, SENT, THROTTLED, SendRequest
from groupsms.messaging.vonage_gateway import VonageGateway, from_settings
from groupsms.simulator import Simulator

KEY, SECRET, SIGNATURE_SECRET = "abcd1234", "secret-0123456789", "sig-secret-0123"
KEY_B, SECRET_B = "efgh5678", "secret-b-98765"
BUSINESS, CARLA = "+15125550100", "+15125550111"
SYSTEM_BUNDLE = next(
    (p for p in ("/etc/ssl/certs/ca-certificates.crt", requests.certs.where()) if Path(p).is_file()),
)


@pytest.fixture(scope="module")
def shared_simulator():
    with Simulator(KEY, SECRET, SIGNATURE_SECRET, rate_limit=10_000, fault_hold=1.0) as sim:
        sim.add_account(KEY_B, SECRET_B)
        yield sim


@pytest.fixture
def simulator(shared_simulator, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", SYSTEM_BUNDLE)
    monkeypatch.setenv("CURL_CA_BUNDLE", SYSTEM_BUNDLE)
    shared_simulator.reset()
    yield shared_simulator
    assert not shared_simulator.pending_faults(), "a test left faults unused"


def gateway_for(sim: Simulator, key: str = KEY, secret: str = SECRET, timeout: float = 5.0) -> VonageGateway:
    return VonageGateway(key, secret, rest_host=sim.rest_host, ca_bundle=sim.ca_bundle_path, timeout=timeout)


def sms(text: str = "Open house at 5", ref: str = "d-1", unicode: bool = False, to: str = CARLA) -> SendRequest:
    return SendRequest(from_e164=BUSINESS, to_e164=to, text=text, client_ref=ref, unicode=unicode)


def test_send_returns_the_provider_id_and_price(simulator):
    result = gateway_for(simulator).send(sms())
    assert result.outcome == SENT and result.error_code is None
    [received] = simulator.inbox(CARLA)
    assert result.message_ids == received.message_ids and len(result.message_ids) == 1
    assert result.price == "0.00750000"
    assert (received.from_e164, received.text, received.client_ref) == (BUSINESS, "Open house at 5", "d-1")
    [record] = simulator.requests()
    # Basic auth, numbers without "+", our client-ref, type=text.
    assert (record.auth, record.api_key, record.api_secret) == ("basic", KEY, SECRET)
    assert record.params["to"] == "15125550111" and record.params["from"] == "15125550100"
    assert record.params["client-ref"] == "d-1" and record.params["type"] == "text"
    assert "sig" not in record.params and "api_key" not in record.params


def test_vonage_ca_bundle_wins_over_requests_ca_bundle_for_vonage_only(simulator):
    assert os.environ["REQUESTS_CA_BUNDLE"] == SYSTEM_BUNDLE
    assert gateway_for(simulator).send(sms()).outcome == SENT
    # What the gateway guards against: a session that trusts the environment ignores its own verify.
    session = requests.Session()
    session.verify = simulator.ca_bundle_path
    with pytest.raises(requests.exceptions.SSLError):
        session.post(f"https://{simulator.rest_host}/sms/json", data={}, timeout=5)
    # And the process environment is untouched for everything else.
    assert os.environ["REQUESTS_CA_BUNDLE"] == SYSTEM_BUNDLE


def test_without_the_ca_bundle_the_simulator_is_not_trusted(simulator):
    gateway = VonageGateway(KEY, SECRET, rest_host=simulator.rest_host, timeout=5)
    result = gateway.send(sms())
    assert result.outcome == RETRY and result.error_code == "connection"
    assert "certificate" in result.error_text.lower()
    assert simulator.requests() == []


def test_unicode_text_is_sent_as_type_unicode(simulator):
    result = gateway_for(simulator).send(sms("Café ☕ à 5h?", unicode=True))
    assert result.outcome == SENT
    [record] = simulator.requests()
    assert record.params["type"] == "unicode"
    assert simulator.inbox(CARLA)[0].text == "Café ☕ à 5h?"


def test_long_text_is_sent_in_parts(simulator):
    text = "The open house moved to Saturday. " * 12  # 408 GSM-7 characters: 3 parts of 153
    result = gateway_for(simulator).send(sms(text))
    assert result.outcome == SENT
    assert len(result.message_ids) == 3 and len(set(result.message_ids)) == 3
    assert result.price == "0.02250000"
    [received] = simulator.inbox(CARLA)
    assert received.text == text and received.message_ids == result.message_ids


def test_throttled_is_throttled(simulator):
    simulator.inject("throttle")
    result = gateway_for(simulator).send(sms())
    assert (result.outcome, result.error_code, result.retry_after) == (THROTTLED, "1", 1.0)
    assert simulator.inbox(CARLA) == []


def test_rate_limit_above_30_per_second_is_throttled_not_http_429(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", SYSTEM_BUNDLE)
    frozen = [1000.0]
    with Simulator(KEY, SECRET, None, rate_limit=30, clock=lambda: frozen[0]) as sim:
        gateway = gateway_for(sim)
        outcomes = [gateway.send(sms(ref=f"d-{i}")).outcome for i in range(31)]
        assert outcomes == [SENT] * 30 + [THROTTLED]
        assert sim.stats()["throttled"] == 1
        frozen[0] += 1.0  # a second later the window has room again
        assert gateway.send(sms(ref="d-late")).outcome == SENT


@pytest.mark.parametrize("fault,outcome", [
    ("http500", AMBIGUOUS), ("http502", AMBIGUOUS), ("http504", AMBIGUOUS), ("http503", RETRY),
    ("http429", THROTTLED),
    ("http401", FAILED), ("http403", FAILED), ("http400", FAILED), ("http404", FAILED),
])
def test_http_errors(simulator, fault, outcome):
    simulator.inject(fault)
    result = gateway_for(simulator).send(sms())
    assert result.outcome == outcome and result.error_code == f"http-{fault[4:]}"
    assert result.retry_after == (1.0 if fault == "http429" else None)  # 503 without Retry-After
    assert len(simulator.requests()) == 1  # the SDK's urllib3 Retry does not repeat it
    assert simulator.inbox(CARLA) == []


def test_timeout_is_ambiguous_and_the_provider_may_still_deliver(simulator):
    simulator.inject("timeout", hold=1.0)
    started = time.monotonic()
    result = gateway_for(simulator, timeout=0.3).send(sms(ref="d-slow"))
    assert time.monotonic() - started < 0.9  # gave up before the simulator answered
    assert (result.outcome, result.error_code) == (AMBIGUOUS, "timeout")
    # The held request is accepted after the client gave up: why a timeout can duplicate an SMS.
    [received] = simulator.wait_for_inbox(CARLA, 1, timeout=5)
    assert received.client_ref == "d-slow"
    assert len(simulator.requests()) == 1


def test_drop_after_read_is_ambiguous_and_is_never_resent_by_the_sdk(simulator):
    simulator.inject("drop_after_read")
    result = gateway_for(simulator).send(sms(ref="d-drop"))
    assert (result.outcome, result.error_code) == (AMBIGUOUS, "connection")
    assert "RemoteDisconnected" in result.error_text
    records = [r for r in simulator.requests() if r.params.get("client-ref") == "d-drop"]
    assert len(records) == 1 and records[0].http_status is None
    assert len(simulator.inbox(CARLA)) == 1  # the simulator did accept it


def test_the_sdk_defaults_would_resend_after_a_drop(simulator):
    """Why the gateway sets pool_maxsize=1: with the SDK's defaults, one send becomes two SMS."""
    client = Vonage(Auth(api_key=KEY, api_secret=SECRET), HttpClientOptions(rest_host=simulator.rest_host))
    client.http_client._session.verify = simulator.ca_bundle_path
    client.http_client._session.trust_env = False
    simulator.inject("drop_after_read")
    client.sms.send(SmsMessage(to="15125550111", from_="15125550100", text="once?", client_ref="d-dup"))
    assert len(simulator.requests()) == 2
    assert len(simulator.inbox(CARLA)) == 2


def test_the_sdk_request_signing_is_refused(simulator):
    """Why the gateway uses Basic auth: the SDK signs fields it does not send (status 14)."""
    client = Vonage(Auth(api_key=KEY, signature_secret=SIGNATURE_SECRET, signature_method="sha256"),
                    HttpClientOptions(rest_host=simulator.rest_host))
    client.http_client._session.verify = simulator.ca_bundle_path
    client.http_client._session.trust_env = False
    with pytest.raises(SmsError, match="error code 14"):
        client.sms.send(SmsMessage(to="15125550111", from_="15125550100", text="signed"))


def test_drop_before_read_is_ambiguous_to_the_client_though_nothing_was_sent(simulator):
    """The POST was written before the connection closed: the client cannot tell it from a drop
    after the provider read it, so it must not resend at once."""
    simulator.inject("drop_before_read")
    result = gateway_for(simulator).send(sms())
    assert result.outcome == AMBIGUOUS and result.error_code == "connection"
    assert simulator.requests() == [] and simulator.inbox(CARLA) == []
    assert simulator.stats()["faults_by_kind"] == {"drop_before_read": 1}


def test_bad_credentials_fail(simulator):
    result = gateway_for(simulator, secret="wrong-secret").send(sms())
    assert (result.outcome, result.error_code, result.error_text) == (FAILED, "4", "Bad Credentials")


def test_refused_parameters_fail_with_the_provider_status(simulator):
    result = gateway_for(simulator).send(sms("x" * 3300))
    assert (result.outcome, result.error_code) == (FAILED, "12")


def test_malformed_request_never_reaches_the_provider(simulator):
    result = gateway_for(simulator).send(sms(ref="x" * 41))
    assert result.outcome == FAILED and result.error_code == "invalid-request"
    assert simulator.requests() == []


def test_connection_refused_is_retry():
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = VonageGateway(KEY, SECRET, rest_host=f"127.0.0.1:{port}", timeout=2).send(sms())
    assert result.outcome == RETRY and result.error_code == "connection"


def test_concurrent_sends_from_two_accounts_keep_their_credentials(simulator):
    gateways = {"a": gateway_for(simulator), "b": gateway_for(simulator, KEY_B, SECRET_B)}
    barrier = threading.Barrier(8)
    results: dict[str, str] = {}
    lock = threading.Lock()

    def worker(n: int) -> None:
        account = "ab"[n % 2]
        barrier.wait()
        for i in range(6):
            ref = f"{account}-{n}-{i}"
            outcome = gateways[account].send(sms(ref=ref)).outcome
            with lock:
                results[ref] = outcome

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 48 and set(results.values()) == {SENT}
    records = simulator.requests()
    assert len(records) == 48
    for record in records:
        expected = (KEY, SECRET) if record.params["client-ref"].startswith("a-") else (KEY_B, SECRET_B)
        assert (record.api_key, record.api_secret) == expected, record
    # One SDK client per thread, each keeping its one connection: 8 connections for 48 requests.
    assert len({record.client_address for record in records}) == 8


def test_from_settings_builds_a_gateway_for_the_configured_host(simulator):
    settings = Settings(
        database_url="sqlite://", secret_key="", vonage_api_key=KEY, vonage_api_secret=SECRET,
        vonage_signature_secret=None, vonage_signature_method="sha256", vonage_rest_host=simulator.rest_host,
        vonage_ca_bundle=simulator.ca_bundle_path, sms_rate=30.0, session_days=14,
    )
    gateway = from_settings(settings)
    assert gateway.send(sms()).outcome == SENT
    with pytest.raises(ValueError, match="VONAGE_API_KEY"):
        from_settings(Settings(**{**settings.__dict__, "vonage_api_key": None}))


@pytest.mark.parametrize("rest_host,ca_bundle", [
    ("https://rest.nexmo.com", None), ("127.0.0.1:1/sms", None), ("rest.nexmo.com", "/no/such/ca.pem"),
])
def test_misconfiguration_is_refused_at_construction(rest_host, ca_bundle):
    with pytest.raises(ValueError):
        VonageGateway(KEY, SECRET, rest_host=rest_host, ca_bundle=ca_bundle)
