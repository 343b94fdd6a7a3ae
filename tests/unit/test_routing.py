"""E2 safe routing: one group routes, none is unrouted, several wait for a person."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groupsms.domain.routing import Route, route_inbound

PROPERTY = settings(max_examples=200, deadline=None, database=None)


def test_e2_exactly_one_group_routes_to_it() -> None:
    assert route_inbound([42]) == Route("route", 42, (42,))


def test_e2_no_group_is_unrouted() -> None:
    assert route_inbound([]) == Route("unrouted", None, ())


def test_e2_several_groups_need_routing_and_are_never_guessed() -> None:
    route = route_inbound([9, 3, 5])
    assert route == Route("needs_routing", None, (3, 5, 9))


def test_e2_the_same_group_listed_twice_is_one_group() -> None:
    assert route_inbound([7, 7]) == Route("route", 7, (7,))


def test_e2_accepts_any_iterable() -> None:
    assert route_inbound(iter({4, 2})).candidates == (2, 4)
    assert route_inbound(g for g in ()).kind == "unrouted"


def test_e2_route_is_a_frozen_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        route_inbound([1]).group_id = 2  # type: ignore[misc]


@PROPERTY
@given(st.lists(st.integers(min_value=1, max_value=10_000), max_size=12))
def test_e2_route_properties(ids: list[int]) -> None:
    route = route_inbound(ids)
    distinct = sorted(set(ids))
    assert route.candidates == tuple(distinct)
    assert route.kind in {"route", "unrouted", "needs_routing"}
    # A group id is chosen only when there is no choice to make.
    assert (route.group_id is not None) == (len(distinct) == 1)
    if route.kind == "route":
        assert route.group_id == distinct[0]
    elif route.kind == "unrouted":
        assert not ids
    else:
        assert len(distinct) >= 2 and route.group_id is None


@PROPERTY
@given(st.lists(st.integers(min_value=1, max_value=50), max_size=8), st.randoms())
def test_e2_route_ignores_order(ids: list[int], rnd: random.Random) -> None:
    shuffled = list(ids)
    rnd.shuffle(shuffled)
    assert route_inbound(shuffled) == route_inbound(ids)
