import random

from hypothesis import given
from hypothesis import strategies as st

from groupsms.domain import delivery as d


def test_e3_aggregate_of_recipients():
    assert d.aggregate([]) == d.NONE
    assert d.aggregate(["queued", "delivered"]) == d.QUEUED
    assert d.aggregate(["sent", "delivered"]) == d.SENT
    assert d.aggregate(["delivered", "delivered"]) == d.DELIVERED
    assert d.aggregate(["failed", "delivered"]) == d.PARTIAL
    assert d.aggregate(["failed", "failed"]) == d.FAILED


STATUSES = [d.QUEUED, d.SENT, d.DELIVERED, d.FAILED, d.UNCONFIRMED]


@given(st.lists(st.sampled_from(STATUSES), max_size=40))
def test_e3_aggregate_depends_only_on_which_statuses_occur(statuses):
    # outbox.refresh_status asks the database for each status once (SELECT DISTINCT)
    assert d.aggregate(statuses) == d.aggregate(sorted(set(statuses)))


def test_e3_long_sms_is_delivered_only_when_every_part_is():
    assert d.combine_parts({"a": "delivered"}, expected_parts=2) == d.SENT
    assert d.combine_parts({"a": "delivered", "b": "delivered"}, expected_parts=2) == d.DELIVERED
    assert d.combine_parts({"a": "delivered", "b": "failed"}, expected_parts=2) == d.FAILED


def test_e3_receipt_statuses_cover_vonage_values():
    assert set(d.RECEIPT_STATUS) == {"delivered", "accepted", "buffered", "expired", "failed", "rejected", "unknown"}


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=2**32))
def test_backoff_grows_and_is_capped(attempt, seed):
    wait = d.backoff_seconds(attempt, rng=random.Random(seed))
    ceiling = min(300.0, 2.0 * 2 ** (attempt - 1))
    assert ceiling / 2 <= wait <= ceiling
