"""Phone parsing and formatting, the base of R1 (business number), R3 (US/CA
eligibility) and R6 (number search).

Numbers below were checked against phonenumbers 9.0.43 metadata; see the
module docstring of groupsms.domain.phones for which 555 numbers are valid.
"""

from __future__ import annotations

import pytest

from groupsms.domain.phones import (
    PhoneError,
    digits,
    format_display,
    is_us_ca,
    normalize,
    region_of,
)

US = "+15125550111"  # Austin, valid although 555
US_NYC = "+12125550100"
CA_TORONTO = "+14165550100"
CA_VANCOUVER = "+16045550111"
GB_MOBILE = "+447400123456"
GG_MOBILE = "+447911123456"  # +44 but Guernsey
MX = "+525512345678"
JM = "+18765550100"  # +1 but Jamaica
INVALID_AREA_555 = "+15555550100"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(512) 555-0111", US),
        ("512-555-0111", US),
        ("512.555.0111", US),
        ("5125550111", US),
        ("1 512 555 0111", US),
        ("+1 (512) 555-0111", US),
        ("  +15125550111  ", US),
        ("tel:+15125550111", US),
        ("+1 416 555 0100", CA_TORONTO),
        ("(604) 555-0111", CA_VANCOUVER),
        ("+44 7400 123456", GB_MOBILE),
        ("+44 7911 123456", GG_MOBILE),
        ("+52 55 1234 5678", MX),
        ("011 44 7400 123456", GB_MOBILE),  # US international dialling prefix
    ],
)
def test_r1_normalize_returns_e164_for_valid_numbers_of_any_country(
    raw: str, expected: str
) -> None:
    assert normalize(raw) == expected


def test_r1_normalize_uses_the_default_region_for_national_numbers() -> None:
    assert normalize("07400 123456", default_region="GB") == GB_MOBILE
    assert normalize("55 1234 5678", default_region="MX") == MX


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("12ab", "'12ab' is not a phone number"),
        ("hello", "'hello' is not a phone number"),
        ("+1 555 0100", "'+1 555 0100' is not a valid phone number"),
        ("555-0111", "'555-0111' is not a valid phone number"),
        ("+1 555 555 0100", "'+1 555 555 0100' is not a valid phone number"),
        ("+1 512 055 0100", "'+1 512 055 0100' is not a valid phone number"),
        ("+44 7700 900123", "'+44 7700 900123' is not a valid phone number"),
        ("+1 512 555 01111", "'+1 512 555 01111' is not a valid phone number"),
    ],
)
def test_r1_normalize_refuses_unparseable_and_invalid_numbers(raw: str, message: str) -> None:
    with pytest.raises(PhoneError) as caught:
        normalize(raw)
    assert str(caught.value) == message


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_r1_normalize_refuses_empty_input(raw: str) -> None:
    with pytest.raises(PhoneError, match="required"):
        normalize(raw)


def test_r1_normalize_refuses_an_extension_rather_than_dropping_it() -> None:
    with pytest.raises(PhoneError, match="extension"):
        normalize("+1 512 555 0111 ext. 12")


def test_r1_phone_error_is_a_value_error() -> None:
    assert issubclass(PhoneError, ValueError)


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        (US, "US"),
        (US_NYC, "US"),
        ("+18005550100", "US"),
        (CA_TORONTO, "CA"),
        (CA_VANCOUVER, "CA"),
        (GB_MOBILE, "GB"),
        (GG_MOBILE, "GG"),
        (MX, "MX"),
        (JM, "JM"),
    ],
)
def test_r3_region_of_valid_numbers(e164: str, region: str) -> None:
    assert region_of(e164) == region


@pytest.mark.parametrize("e164", [INVALID_AREA_555, "+15125550", "5125550111", "", "junk"])
def test_r3_region_of_invalid_or_non_e164_is_none(e164: str) -> None:
    assert region_of(e164) is None


@pytest.mark.parametrize("e164", [US, US_NYC, CA_TORONTO, CA_VANCOUVER, "+16135550100"])
def test_r3_us_and_canada_numbers_are_us_ca(e164: str) -> None:
    assert is_us_ca(e164)


@pytest.mark.parametrize(
    "e164",
    [GB_MOBILE, GG_MOBILE, MX, JM, INVALID_AREA_555, "+15120550100", "5125550111", "", "x"],
)
def test_r3_other_countries_invalid_and_non_e164_are_not_us_ca(e164: str) -> None:
    # JM shares +1 with the US: the region decides, not the country code.
    assert not is_us_ca(e164)


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        (US, "(512) 555-0111"),
        (CA_TORONTO, "(416) 555-0100"),
        (GB_MOBILE, "+44 7400 123456"),
        (GG_MOBILE, "+44 7911 123456"),
        (MX, "+52 55 1234 5678"),
        (JM, "+1 876-555-0100"),
    ],
)
def test_r3_format_display_national_for_us_ca_international_otherwise(
    e164: str, shown: str
) -> None:
    assert format_display(e164) == shown


@pytest.mark.parametrize("text", ["junk", "", "5125550111", "12ab"])
def test_r3_format_display_returns_unparseable_input_unchanged(text: str) -> None:
    assert format_display(text) == text


def test_r6_digits_keeps_only_ascii_digits_in_order() -> None:
    assert digits("+1 (512) 555-0111") == "15125550111"
    assert digits("abc") == ""
    assert digits("") == ""
    assert digits("٣4") == "4"  # Arabic-Indic three is not an ASCII digit


def test_r6_display_format_round_trips_through_normalize() -> None:
    for e164 in (US, CA_TORONTO, CA_VANCOUVER, GB_MOBILE, MX):
        assert normalize(format_display(e164)) == e164
