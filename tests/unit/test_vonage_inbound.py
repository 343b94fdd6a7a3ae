"""The Vonage SMS API adapter: webhook fields in, provider-neutral events out (E3, E6), and the
processing modules that read only those events."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from groupsms.messaging import inbound, transport, vonage_inbound
from groupsms.messaging.transport import BadEvent, ConcatPart, InboundText, Receipt

MESSAGING = Path(inbound.__file__).parent
# Field names only Vonage's webhooks use ("to", "text" and "status" are plain words elsewhere too).
VONAGE_FIELDS = {"msisdn", "messageId", "message-timestamp", "concat", "concat-ref", "concat-part",
                 "concat-total", "err-code", "client-ref", "network-code", "api-key", "scts"}


def test_an_inbound_sms_becomes_an_inbound_text():
    sms = vonage_inbound.SMS_API.parse("inbound", {
        "msisdn": "15125550111", "to": "15125550100", "messageId": "0A0000000123ABCD1", "text": "See you at 5",
        "type": "text", "keyword": "SEE", "message-timestamp": "2026-12-01 10:02:03", "api-key": "abcd1234",
    })
    assert sms == InboundText("0A0000000123ABCD1", "+15125550111", "+15125550100", "See you at 5",
                              datetime(2026, 12, 1, 10, 2, 3, tzinfo=UTC), None)
    assert sms.event_key == "0A0000000123ABCD1" and sms.concat_key is None


def test_e6_a_part_of_a_long_sms_carries_its_part_and_the_key_of_its_siblings():
    sms = vonage_inbound.parse_inbound({
        "msisdn": "+15125550111", "to": "15125550100", "messageId": "p2", "text": "second half",
        "concat": "true", "concat-ref": "42", "concat-part": "2", "concat-total": "3",
    })
    assert sms.part == ConcatPart("42", 2, 3)
    assert sms.concat_key == "15125550111:15125550100:42"
    assert sms.received_at is None  # no timestamp: informative only, never a reason to refuse


@pytest.mark.parametrize("params, reason", [
    ({"to": "15125550100", "messageId": "x"}, "missing msisdn"),
    ({"msisdn": "hello", "to": "15125550100", "messageId": "x"}, "msisdn must be a phone number"),
    ({"msisdn": "15125550111", "to": "15125550100", "messageId": "x" * 61}, "messageId is too long"),
    ({"msisdn": "15125550111", "to": "15125550100", "messageId": "x", "concat": "true", "concat-ref": "1",
      "concat-part": "4", "concat-total": "3"}, "inconsistent"),
    ({"msisdn": "15125550111", "to": "15125550100", "messageId": "x", "concat": "true",
      "concat-part": "two", "concat-total": "3"}, "must be numbers"),
])
def test_an_unusable_inbound_sms_is_a_bad_event(params, reason):
    with pytest.raises(BadEvent, match=reason):
        vonage_inbound.SMS_API.parse("inbound", params)


def test_e3_a_delivery_receipt_becomes_a_receipt():
    receipt = vonage_inbound.SMS_API.parse("status", {
        "messageId": "0A0000001234567B", "status": "DELIVERED", "err-code": "0", "price": "0.03330000",
        "client-ref": "d12", "to": "Acme", "msisdn": "15125550111", "network-code": "310090",
    })
    assert receipt == Receipt("0A0000001234567B", "delivered", "d12", "0", "0.03330000", None)
    assert receipt.event_key == "0A0000001234567B:delivered"
    bare = vonage_inbound.parse_receipt({"messageId": "m", "status": "failed", "err-code": "", "price": ""})
    assert (bare.client_ref, bare.error_code, bare.price) == (None, None, None)
    with pytest.raises(BadEvent, match="status is too long"):
        vonage_inbound.parse_receipt({"messageId": "m", "status": "x" * 41})
    with pytest.raises(BadEvent, match="unknown event kind"):
        inbound.parse("mms-inbound", {"messageId": "m"})


def _string_constants(path: Path) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


@pytest.mark.parametrize("module", ["inbound.py", "parts.py", "relay.py", "inbound_loop.py",
                                    "inbound_failures.py", "transport.py"])
def test_processing_reads_no_vonage_field_name(module):
    used = _string_constants(MESSAGING / module)
    assert not {s for s in used if s in VONAGE_FIELDS}, f"{module} reads Vonage's fields; map them in vonage_inbound.py"


def test_every_stored_kind_has_an_adapter_that_implements_the_transport_port():
    assert set(inbound.ADAPTERS) == {transport.INBOUND, transport.STATUS}
    for adapter in inbound.ADAPTERS.values():
        assert callable(getattr(adapter, "parse", None))
