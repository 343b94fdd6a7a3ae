"""The webhook parser against Vonage's contract (shared/vonage-openapi/sms.yml): the spec's own
example inbound SMS and delivery receipt are accepted and stored, and every field we require is one
the contract defines."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from groupsms import db
from groupsms.messaging import inbound, vonage_inbound
from groupsms.models import InboundEvent, Message

yaml = pytest.importorskip("yaml")
SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "vonage-openapi" / "sms.yml"


@pytest.fixture(scope="module")
def schemas() -> dict:
    if not SPEC_PATH.is_file():
        pytest.skip(f"Vonage's SMS OpenAPI file is not at {SPEC_PATH} (it comes with shared/)")
    return yaml.safe_load(SPEC_PATH.read_text())["components"]["schemas"]


def example(schema: dict) -> dict[str, str]:
    return {name: str(prop["example"]) for name, prop in schema["properties"].items() if "example" in prop}


@pytest.mark.parametrize("kind, schema_name", [("inbound", "InboundMessage"), ("status", "DeliveryReceipt")])
def test_required_fields_are_the_contracts(schemas, kind, schema_name):
    schema = schemas[schema_name]
    assert set(vonage_inbound.REQUIRED[kind]) <= set(schema["properties"])
    assert set(schema.get("required", ())) - {"api-key", "message-timestamp", "type", "keyword"} <= set(
        vonage_inbound.REQUIRED[kind]) | {"text", "price", "network-code", "scts", "err-code"}


def test_the_contracts_example_inbound_sms_is_stored(schemas, world):
    params = example(schemas["InboundMessage"])
    params.pop("concat", None)  # the example mixes a single message with concat fields
    event_id, new = inbound.record_event("inbound", params)
    inbound.process_event(event_id)
    with db.transaction() as s:
        event = s.get(InboundEvent, event_id)
        assert new and event.processed_at is not None
        assert event.error == "Not a business number of any location"  # 447700900000 is not ours
        assert s.exec(select(Message)).all() == []


def test_the_contracts_example_receipt_is_stored(schemas, world):
    params = example(schemas["DeliveryReceipt"])
    event_id, new = inbound.record_event("status", params)
    inbound.process_event(event_id)
    with db.transaction() as s:
        assert new and s.get(InboundEvent, event_id).error == "No delivery for this receipt"
