"""R6 participant search: by name (case and accents ignored) or by number
(formatting ignored)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groupsms.domain.search import filter_participants, matches

CARLA = "+15125550111"
PROPERTY = settings(max_examples=150, deadline=None, database=None)


@pytest.mark.parametrize(
    "query",
    ["5125550111", "(512) 555-0111", "+1 512-555-0111", "512.555.0111", "555-0111",
     "15125550111", "+15125550111", "1 (512) 555 0111", "0111", "512"],
)
def test_r6_number_search_ignores_formatting(query: str) -> None:
    assert matches(query, "Carla Client", CARLA)


@pytest.mark.parametrize("query", ["5125550112", "(512) 555-0199", "+44 512", "999"])
def test_r6_other_numbers_do_not_match(query: str) -> None:
    assert not matches(query, "Carla Client", CARLA)


def test_r6_fewer_than_three_digits_do_not_search_numbers() -> None:
    assert not matches("51", "Carla Client", CARLA)
    assert not matches("(5", "Carla Client", CARLA)


def test_r6_leading_country_code_one_is_optional() -> None:
    # "1-555-0111" means +1 and then 555-0111.
    assert matches("1-555-0111", "Dan Doe", CARLA)
    assert matches("+1 555 0111", "Dan Doe", CARLA)
    # A 1 that is part of the digits is not dropped.
    assert not matches("1999", "Dan Doe", "+15125559990")


def test_r6_non_us_numbers_are_searchable() -> None:
    assert matches("7400 123456", "Gina Brit", "+447400123456")
    assert matches("+44 7400 123 456", "Gina Brit", "+447400123456")


@pytest.mark.parametrize("query", ["carla", "CARLA", "Client", "la Cl", "  carla  "])
def test_r6_name_search_is_case_insensitive_substring(query: str) -> None:
    assert matches(query, "Carla Client", CARLA)


def test_r6_name_search_ignores_accents_both_ways() -> None:
    assert matches("jose", "José Núñez", CARLA)
    assert matches("nunez", "José Núñez", CARLA)
    assert matches("JOSÉ", "Jose Nunez", CARLA)


def test_r6_name_mismatch_does_not_match() -> None:
    assert not matches("dan", "Carla Client", CARLA)


def test_r6_text_with_digits_is_not_a_number_query() -> None:
    # "Dan 2" must not find every number containing a 2.
    assert not matches("Carla 512", "Dan Doe", CARLA)


@pytest.mark.parametrize("query", ["", "   ", "\t"])
def test_r6_blank_query_matches_everything(query: str) -> None:
    assert matches(query, "", "")
    assert matches(query, "Carla Client", CARLA)


@dataclass(frozen=True)
class Row:
    name: str
    e164: str


ROWS = [
    Row("Carla Client", CARLA),
    Row("Dan Doe", "+15125550112"),
    Row("Carla Mendes", "+14165550100"),
    Row("Gina Brit", "+447400123456"),
]


def test_r6_filter_keeps_order_of_matches() -> None:
    found = filter_participants("carla", ROWS, lambda r: (r.name, r.e164))
    assert found == [ROWS[0], ROWS[2]]


def test_r6_filter_by_number() -> None:
    found = filter_participants("(416) 555", ROWS, lambda r: (r.name, r.e164))
    assert found == [ROWS[2]]


def test_r6_filter_blank_returns_all() -> None:
    assert filter_participants(" ", ROWS, lambda r: (r.name, r.e164)) == ROWS


_separators = st.lists(st.sampled_from(["", " ", "-", ".", "  ", " - "]), min_size=10, max_size=10)


@PROPERTY
@given(
    area=st.integers(201, 989),
    line=st.integers(0, 9999),
    seps=_separators,
    plus_one=st.sampled_from(["", "1", "+1", "+1 ", "1-"]),
    parens=st.booleans(),
)
def test_r6_any_formatting_of_the_number_matches(
    area: int, line: int, seps: list[str], plus_one: str, parens: bool
) -> None:
    national = f"{area}555{line:04d}"
    e164 = f"+1{national}"
    body = "".join(d + s for d, s in zip(national, seps, strict=True)).strip(" -.")
    if parens:
        body = f"({national[:3]}) {national[3:]}"
    query = plus_one + body
    assert matches(query, "Nobody", e164)
    # The same formatting of a different line never matches.
    other = f"+1{area}555{(line + 1) % 10000:04d}"
    assert not matches(query, "Nobody", other)
