"""The SmsGateway port: status code mapping, request checks, answer parsing, and the FakeGateway."""

from __future__ import annotations

import threading

import pytest

from groupsms.messaging.fake_gateway import FakeGateway
from groupsms.messaging.gateway import (
    AMBIGUOUS,
    FAILED,
    RETRY,
    SENT,
    THROTTLED,
    STATUS_NAMES,
    STATUS_OUTCOMES,
    SendRequest,
    SendResult,
    check_send_request,
    outcome_for_status,
)
from groupsms.messaging.vonage_gateway import result_from_body

# The documented decision for every status of the SMS API (vonage-openapi/sms.yml).
EXPECTED = {
    "0": SENT,  # Success
    "1": THROTTLED,  # Throttled
    "2": FAILED,  # Missing Parameters
    "3": FAILED,  # Invalid Parameters
    "4": FAILED,  # Invalid Credentials
    "5": RETRY,  # Internal Error
    "6": FAILED,  # Invalid Message
    "7": FAILED,  # Number Barred
    "8": FAILED,  # Partner Account Barred
    "9": RETRY,  # Partner Quota Violation ("top-up and retry")
    "10": RETRY,  # Too Many Existing Binds ("back-off and retry")
    "11": FAILED,  # Account Not Enabled For HTTP
    "12": FAILED,  # Message Too Long
    "14": FAILED,  # Invalid Signature
    "15": FAILED,  # Invalid Sender Address
    "22": FAILED,  # Invalid Network Code
    "23": FAILED,  # Invalid Callback Url
    "29": FAILED,  # Non-Whitelisted Destination
    "32": FAILED,  # Signature And API Secret Disallowed
    "33": FAILED,  # Number De-activated
}


def request(**overrides) -> SendRequest:
    values = dict(from_e164="+15125550100", to_e164="+15125550111", text="hello", client_ref="d-1", unicode=False)
    values.update(overrides)
    return SendRequest(**values)


@pytest.mark.parametrize("status,outcome", sorted(EXPECTED.items(), key=lambda kv: int(kv[0])))
def test_every_status_code_maps_as_documented(status, outcome):
    assert STATUS_OUTCOMES[status] == outcome
    assert outcome_for_status(status) == outcome


def test_mapping_covers_exactly_the_documented_codes_with_names():
    assert set(STATUS_OUTCOMES) == set(EXPECTED) == set(STATUS_NAMES)


def test_unknown_status_is_a_permanent_failure_and_keeps_its_code():
    assert outcome_for_status("99") == FAILED
    assert outcome_for_status("") == FAILED
    result = result_from_body({"message-count": "1", "messages": [{"status": "99", "error-text": "New thing"}]})
    assert (result.outcome, result.error_code, result.error_text) == (FAILED, "99", "New thing")


@pytest.mark.parametrize(
    "overrides,problem",
    [
        ({}, None),
        ({"to_e164": "15125550111"}, "to_e164"),
        ({"to_e164": "+1 512 555 0111"}, "to_e164"),
        ({"from_e164": "Acme"}, "from_e164"),
        ({"text": ""}, "text"),
        ({"client_ref": ""}, "client_ref"),
        ({"client_ref": "x" * 40}, None),
        ({"client_ref": "x" * 41}, "client_ref"),
    ],
)
def test_check_send_request(overrides, problem):
    found = check_send_request(request(**overrides))
    assert (found is None) if problem is None else (problem in found)


def test_multipart_answer_collects_every_id_and_sums_prices():
    body = {"message-count": "3", "messages": [
        {"to": "15125550111", "message-id": f"ID{i}", "status": "0", "remaining-balance": "9.9",
         "message-price": "0.03330000", "network": "310260"} for i in range(3)
    ]}
    assert result_from_body(body) == SendResult(SENT, ("ID0", "ID1", "ID2"), "0.09990000",
                                                part_prices=("0.03330000",) * 3, parts_total=3)


def test_partial_failure_is_final_and_keeps_the_accepted_ids():
    body = {"message-count": "2", "messages": [
        {"message-id": "ID0", "status": "0", "message-price": "0.0075"},
        {"status": "5", "error-text": "Internal Error"},
    ]}
    result = result_from_body(body)
    assert result.outcome == FAILED  # resending would duplicate the part that went out
    assert result.message_ids == ("ID0",) and result.error_code == "5"
    assert "1 of 2 parts" in result.error_text
    assert (result.parts_total, result.part_prices) == (2, ("0.0075",))


def test_throttled_answer_says_retry_after_a_second():
    body = {"message-count": "1", "messages": [{"status": "1", "error-text": "Throughput Rate Exceeded"}]}
    assert result_from_body(body) == SendResult(THROTTLED, error_code="1", error_text="Throughput Rate Exceeded",
                                                retry_after=1.0, parts_total=1)


def test_missing_error_text_falls_back_to_the_status_name():
    assert result_from_body({"messages": [{"status": "7"}]}).error_text == "Number Barred"


@pytest.mark.parametrize("body", [None, {}, {"messages": []}, {"messages": "nope"}, "<html>", {"messages": [1]}])
def test_an_answer_that_is_not_the_sms_api_is_ambiguous(body):
    """A 200 whose body does not parse may have been accepted: resending could duplicate it."""
    result = result_from_body(body)
    assert result.outcome == AMBIGUOUS and result.error_code == "unexpected"


# -- FakeGateway ---------------------------------------------------------------------------------


def test_fake_gateway_default_is_sent_with_numbered_ids():
    gateway = FakeGateway()
    results = [gateway.send(request(client_ref=f"d-{i}")) for i in range(3)]
    assert [r.outcome for r in results] == [SENT] * 3
    assert [r.message_ids for r in results] == [("fake-1",), ("fake-2",), ("fake-3",)]
    assert [r.client_ref for r in gateway.sent] == ["d-0", "d-1", "d-2"]


def test_fake_gateway_plays_its_script_first_then_the_default():
    retry = SendResult(RETRY, error_code="1")
    gateway = FakeGateway([retry])
    gateway.script(SendResult(FAILED, error_code="4"))
    outcomes = [gateway.send(request()).outcome for _ in range(3)]
    assert outcomes == [RETRY, FAILED, SENT]
    assert gateway.send(request()).message_ids == ("fake-2",)


def test_fake_gateway_with_a_responder():
    def barred_nines(r: SendRequest) -> SendResult:
        return SendResult(FAILED, error_code="7") if r.to_e164.endswith("9") else SendResult(SENT, ("x",))

    gateway = FakeGateway(barred_nines)
    assert gateway.send(request(to_e164="+15125550119")).error_code == "7"
    assert gateway.send(request()).message_ids == ("x",)


def test_fake_gateway_refuses_what_vonage_would_and_records_it():
    gateway = FakeGateway()
    result = gateway.send(request(client_ref="x" * 41))
    assert result.outcome == FAILED and result.error_code == "invalid-request"
    assert len(gateway.sent) == 1


def test_fake_gateway_is_thread_safe():
    gateway = FakeGateway()
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(50):
            gateway.send(request(client_ref=f"{n}-{i}"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(gateway.sent) == 400
    assert len({r.client_ref for r in gateway.sent}) == 400
    assert gateway.send(request()).message_ids == ("fake-401",)
