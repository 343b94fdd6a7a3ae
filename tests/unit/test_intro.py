"""The intro text's wording rules and rendering (domain/intro.py)."""

from __future__ import annotations

import pytest

from groupsms.domain import intro
from groupsms.domain.encoding import is_gsm7


def test_the_built_in_wording_names_first_names_the_business_and_how_to_opt_out():
    text = intro.render("", ["Carla Mendes", "Marcus Lee", "Priya Shah"], "Acme Realty")
    assert text == ("You're in a group text with Carla, Marcus and Priya from Acme Realty. "
                    "Replies go to everyone. Reply STOP to opt out.")


@pytest.mark.parametrize("names, joined", [
    ([], ""), (["Carla"], "Carla"), (["Carla", "Marcus"], "Carla and Marcus"),
    (["Carla", "Marcus", "Priya", "Tom"], "Carla, Marcus, Priya and Tom"),
])
def test_names_are_joined_the_way_people_write_them(names, joined):
    assert intro.join_names(names) == joined


def test_first_names_are_unique_gsm_spelled_and_never_a_number():
    assert intro.first_names(["Carla Mendes", "Carla Brown", "Zoë Ann", "+1 512 555 0111", ""]) == [
        "Carla M.", "Carla B.", "Zoe", "Participant 4", "Participant 5"]


def test_a_location_wording_is_filled_and_smart_encoded_to_gsm7():
    text = intro.render("“Hi” {names} — {business} here. Reply STOP to opt out.", ["Zoë Ann", "Иван Петров"], "Acme")
    assert text == '"Hi" Zoe and Ivan - Acme here. Reply STOP to opt out.'
    assert is_gsm7(text)


@pytest.mark.parametrize("text, problem", [
    ("Hi {names}, welcome to the group.", "must say how to opt out"),
    ("Hi {names}, text stop to leave.", "must say how to opt out"),
    ("Hi {name}. Reply STOP to opt out.", "uses {name}"),
    ("Hi {names. Reply STOP to opt out.", "stray { or }"),
    ("Hi {names} 🏡 Reply STOP to opt out.", "characters a plain SMS cannot carry (🏡)"),
    ("x" * 300 + " STOP", "too long: 305 characters"),
])
def test_a_wording_without_stop_or_with_bad_placeholders_is_refused_with_the_reason(text, problem):
    assert problem in intro.check_template(text)


@pytest.mark.parametrize("text", ["", "   ", intro.DEFAULT_TEMPLATE, "{business}: {names}. Reply STOP to opt out."])
def test_good_wordings_pass(text):
    assert intro.check_template(text) is None


def test_blank_means_the_built_in_wording():
    assert intro.template_in_use("  ") == intro.DEFAULT_TEMPLATE
    assert intro.template_in_use(" Mine. Reply STOP ") == "Mine. Reply STOP"


def test_segments_note_and_the_send_limit():
    assert intro.segments_note(intro.DEFAULT_TEMPLATE) == "1 SMS segment"
    assert intro.segments_note("x" * 200) == "2 SMS segments"
    assert intro.check_intro("Hello. Reply STOP") is None
    assert "too long" in intro.check_intro("x" * 2000)
