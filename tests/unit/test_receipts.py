"""Receipts only move forward (E3): ranking per part and per delivery, the first failure's reason
is kept, and prices add up over the parts of a long SMS."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from groupsms.domain import delivery as d

WORDS = sorted(d.RECEIPT_STATUS)


def fold(receipts, *, status=d.SENT, expected=1, accepted=None):
    parts, prices, code, text, price = {}, {}, None, None, None
    for message_id, word, err, part_price in receipts:
        r = d.apply_receipt(
            status=status, part_statuses=parts, part_prices=prices, error_code=code, error_text=text,
            price=price, message_id=message_id, receipt_status=word, receipt_error=err,
            receipt_price=part_price, expected_parts=expected,
            accepted_parts=expected if accepted is None else accepted,
        )
        status, parts, prices, code, text, price = r.status, r.part_statuses, r.part_prices, r.error_code, r.error_text, r.price
    return status, parts, code, price


def test_late_buffered_receipt_never_downgrades_delivered():
    status, parts, _, _ = fold([("m1", "delivered", "0", None), ("m1", "buffered", "0", None),
                                ("m1", "accepted", None, None)])
    assert status == d.DELIVERED and parts == {"m1": d.DELIVERED}


def test_late_buffered_part_receipt_keeps_that_part_delivered():
    status, parts, _, _ = fold([("p1", "delivered", None, None), ("p2", "delivered", None, None),
                                ("p1", "buffered", None, None)], expected=2)
    assert status == d.DELIVERED and parts == {"p1": d.DELIVERED, "p2": d.DELIVERED}


def test_failed_receipt_error_code_is_kept():
    status, _, code, _ = fold([("p1", "failed", "6", None), ("p2", "rejected", "99", None),
                               ("p1", "expired", "1", None), ("p1", "delivered", "0", None)], expected=2)
    assert status == d.FAILED and code == "6"


def test_a_send_failure_reason_is_not_replaced_by_a_receipt():
    r = d.apply_receipt(status=d.FAILED, part_statuses={}, part_prices={}, error_code="12",
                        error_text="partial failure: 2 of 3 parts accepted", price=None, message_id="p1",
                        receipt_status="failed", receipt_error="6", receipt_price=None, expected_parts=2,
                        accepted_parts=2)
    assert (r.status, r.error_code, r.error_text) == (d.FAILED, "12", "partial failure: 2 of 3 parts accepted")


def test_prices_add_up_over_parts():
    _, _, _, price = fold([("p1", "delivered", None, "0.03330000"), ("p2", "delivered", None, "0.03330000"),
                           ("p2", "delivered", None, "0.03330000"), ("p3", "accepted", None, "0.0333")],
                          expected=3)
    assert price == "0.09990000"


def test_price_from_the_send_is_kept_until_every_part_has_a_receipt_price():
    r = d.apply_receipt(status=d.SENT, part_statuses={}, part_prices={}, error_code=None, error_text=None,
                        price="0.0666", message_id="p1", receipt_status="delivered", receipt_error=None,
                        receipt_price="0.0333", expected_parts=2, accepted_parts=2)
    assert r.price == "0.0666" and r.part_prices == {"p1": "0.0333"}


def test_unparseable_prices_are_ignored():
    assert d.sum_prices(["abc", "", "NaN", "0.5"]) == "0.5"
    assert d.sum_prices(["x"]) is None


def test_partly_accepted_long_sms_is_failed_and_says_how_many_parts():
    status, _, _, _ = fold([("p1", "delivered", None, None), ("p2", "delivered", None, None)],
                           expected=3, accepted=2)
    assert status == d.FAILED
    assert d.parts_note(2, 3) == "2 of 3 parts accepted"
    assert d.parts_note(3, 3) is None and d.parts_note(0, 3) is None and d.parts_note(1, 1) is None


def test_receipt_settles_an_unconfirmed_delivery():
    status, _, _, _ = fold([("m1", "delivered", None, None)], status=d.UNCONFIRMED)
    assert status == d.DELIVERED


@given(st.lists(st.tuples(st.sampled_from(["p1", "p2"]), st.sampled_from(WORDS)), max_size=12))
def test_any_receipt_order_only_moves_each_part_forward(receipts):
    parts, status, seen = {}, d.SENT, {}
    for message_id, word in receipts:
        r = d.apply_receipt(status=status, part_statuses=parts, part_prices={}, error_code=None,
                            error_text=None, price=None, message_id=message_id, receipt_status=word,
                            receipt_error=None, receipt_price=None, expected_parts=2, accepted_parts=2)
        for key, value in r.part_statuses.items():
            assert d.RANK[value] >= d.RANK[parts.get(key, d.QUEUED)]
            if parts.get(key) in d.FINAL:
                assert value == parts[key]
        assert d.RANK[r.status] >= d.RANK[status] and (status not in d.FINAL or r.status == status)
        parts, status = r.part_statuses, r.status
        seen[message_id] = word
