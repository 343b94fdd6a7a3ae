"""The simulator and the gateway against Vonage's own SMS API contract (shared/vonage-openapi/sms.yml)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from groupsms.messaging.gateway import (
    MAX_CLIENT_REF,
    STATUS_NAMES,
    STATUS_OUTCOMES,
    SendRequest,
)
from groupsms.messaging.signatures import verify_params
from groupsms.messaging.vonage_gateway import VonageGateway
from groupsms.simulator import Simulator
from groupsms.simulator.testing import WebhookReceiver

yaml = pytest.importorskip("yaml", reason="PyYAML (the [test] extra) reads the OpenAPI file")

# /work/main/tests/messaging/this.py -> /work/shared/vonage-openapi/sms.yml (shared/ lies beside the clone)
SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "vonage-openapi" / "sms.yml"
KEY, SECRET, SIGNATURE_SECRET = "abcd1234", "secret-0123456789", "sig-secret-0123"
SIGNATURE_FIELDS = {"sig", "nonce", "timestamp"}


@pytest.fixture(scope="module")
def spec() -> dict:
    if not SPEC_PATH.is_file():
        pytest.skip(f"Vonage's SMS OpenAPI file is not at {SPEC_PATH} (it comes with shared/, beside the repository)")
    return yaml.safe_load(SPEC_PATH.read_text())


@pytest.fixture(scope="module")
def schemas(spec) -> dict:
    return spec["components"]["schemas"]


@pytest.fixture(scope="module")
def receiver():
    with WebhookReceiver() as app:
        yield app


@pytest.fixture(scope="module")
def shared_simulator(receiver):
    with Simulator(KEY, SECRET, SIGNATURE_SECRET, rate_limit=10_000, app_webhook_base=receiver.base_url) as simulator:
        yield simulator


@pytest.fixture
def sim(shared_simulator, receiver):
    shared_simulator.reset()  # waits for the receipts of earlier tests to be sent
    receiver.clear()
    return shared_simulator


def send_raw(sim: Simulator, **params: str) -> dict:
    session = requests.Session()
    session.verify, session.trust_env = sim.ca_bundle_path, False
    with session:
        response = session.post(f"https://{sim.rest_host}/sms/json", timeout=5, data={
            "api_key": KEY, "api_secret": SECRET, "from": "15125550100", "to": "15125550111", **params})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    return response.json()


def assert_strings(values: dict, properties: dict) -> None:
    for name, value in values.items():
        assert properties[name]["type"] == "string", name
        assert isinstance(value, str), (name, value)


def test_spec_path_resolves_next_to_the_repository():
    assert SPEC_PATH.parts[-3:] == ("shared", "vonage-openapi", "sms.yml")
    assert SPEC_PATH.parent.parent.parent == Path(__file__).resolve().parents[3]


def test_status_codes_are_exactly_the_spec(spec):
    documented = {"0"} | {str(code) for code in spec["x-errors"]}
    assert set(STATUS_OUTCOMES) == documented
    for code, error in spec["x-errors"].items():
        assert error["description"].startswith(STATUS_NAMES[str(code)] + "."), code


@pytest.mark.parametrize("params", [
    {"text": "hello", "client-ref": "d-1"},
    {"text": "x" * 400},  # three parts, no client-ref
    {"text": "Café ☕", "type": "unicode", "client-ref": "d-2"},
])
def test_send_response_has_the_spec_fields(sim, schemas, params):
    body = send_raw(sim, **params)
    assert set(body) == set(schemas["SMS"]["properties"])
    assert_strings({"message-count": body["message-count"]}, schemas["SMS"]["properties"])
    assert int(body["message-count"]) == len(body["messages"]) >= 1
    message_fields = schemas["Message"]["properties"]
    always = {"to", "message-id", "status", "remaining-balance", "message-price", "network"}
    for message in body["messages"]:
        assert always <= set(message) <= set(message_fields)
        assert ("client-ref" in message) == ("client-ref" in params)
        assert_strings(message, message_fields)
        assert re.fullmatch(message_fields["to"].get("pattern", r".*"), message["to"])


@pytest.mark.parametrize("params", [{"api_secret": "wrong"}, {"to": ""}, {"type": "vcard"}])
def test_error_response_has_the_spec_fields(sim, schemas, params):
    body = send_raw(sim, text="hi", **params)
    assert set(body) == set(schemas["Error"]["properties"])
    [message] = body["messages"]
    assert set(message) == set(schemas["ErrorMessage"]["properties"])
    assert_strings(message, schemas["ErrorMessage"]["properties"])
    assert message["status"] in STATUS_OUTCOMES


def test_the_gateway_sends_only_spec_parameters(sim, schemas):
    gateway = VonageGateway(KEY, SECRET, rest_host=sim.rest_host, ca_bundle=sim.ca_bundle_path)
    gateway.send(SendRequest("+15125550100", "+15125550111", "Café ☕", "d-" + "9" * 38, True))
    [record] = sim.requests()
    fields = schemas["NewMessage"]["properties"]
    assert set(record.params) <= set(fields)
    assert re.fullmatch(fields["to"]["pattern"], record.params["to"])
    assert record.params["type"] in fields["type"]["enum"]
    assert len(record.params["client-ref"]) <= MAX_CLIENT_REF


def test_delivery_receipts_carry_the_spec_fields(sim, receiver, schemas):
    send_raw(sim, text="y" * 200, **{"client-ref": "d-7"})
    hooks = receiver.wait_for(2, "/webhooks/vonage/status")
    fields = schemas["DeliveryReceipt"]["properties"]
    for hook in hooks:
        # Signed and with a client-ref, a receipt carries every field the spec lists, and only those.
        assert set(hook.params) == set(fields)
        assert_strings(hook.params, fields)
        assert hook.params["status"] in fields["status"]["x-possible-values"]
        assert verify_params(hook.params, SIGNATURE_SECRET, "sha256", now=time.time()) is None


@pytest.mark.parametrize("text,parts", [("yes see you at 5", 1), ("Running late, sorry! " * 10, 2)])
def test_inbound_posts_carry_the_spec_fields(sim, receiver, schemas, text, parts):
    sim.post_inbound("+15125550111", "+15125550100", text)
    hooks = receiver.received("/webhooks/vonage/inbound")
    assert len(hooks) == parts
    schema = schemas["InboundMessage"]
    fields = schema["properties"]
    concat = {"concat", "concat-ref", "concat-total", "concat-part"}
    for hook in hooks:
        keys = set(hook.params)
        assert set(schema["required"]) <= keys
        assert keys - {"sig"} <= set(fields)  # the spec lists timestamp and nonce, and sig elsewhere
        assert SIGNATURE_FIELDS <= keys
        assert concat <= keys if parts > 1 else not concat & keys
        assert_strings({k: v for k, v in hook.params.items() if k != "sig"}, fields)
