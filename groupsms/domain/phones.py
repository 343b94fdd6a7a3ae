"""Phone numbers: parse, validate and format with ``phonenumbers``.

Every number stored by groupsms is E.164 ("+15125550111"). Region, not the
country code, decides US/Canada: +1 is shared by the whole NANP.

Facts from phonenumbers 9.0.43 metadata that tests and demo data rely on:
- 555-01xx numbers in real area codes are valid: +1 512 555 0100..0199 (US),
  +1 416 / +1 604 555 01xx (CA). Area code 555 itself is invalid
  (+1 555 555 0100), as are exchanges starting with 0 or 1 (+1 512 055 0100).
- +1 876 555 0100 is valid but Jamaica (JM), so not US/CA.
- +44 7911 123456 is valid but Guernsey (GG); +44 7400 123456 is GB.
- +44 7700 900xxx (Ofcom's drama range) is invalid in this metadata.
- +52 55 1234 5678 is a valid Mexico (MX) number.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

US_CA_REGIONS = frozenset({"US", "CA"})


class PhoneError(ValueError):
    """A phone number that cannot be used; the message says why."""


def normalize(raw: str, default_region: str = "US") -> str:
    """Return the E.164 form of a valid number of any country, or raise PhoneError."""
    if not isinstance(raw, str) or not raw.strip():
        raise PhoneError("A phone number is required")
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException:
        raise PhoneError(f"{text!r} is not a phone number") from None
    # E.164 has no extension: dropping it silently would text another line.
    if number.extension:
        raise PhoneError(f"{text!r} has an extension; a texting number cannot have one")
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _parse_e164(e164: str) -> PhoneNumber | None:
    """Parse an E.164 string without guessing a region; None when unparseable."""
    if not isinstance(e164, str) or not e164.strip():
        return None
    try:
        return phonenumbers.parse(e164.strip(), None)
    except NumberParseException:
        return None


def region_of(e164: str) -> str | None:
    """ISO region of a valid number ("US", "CA", "GB"...), None otherwise."""
    number = _parse_e164(e164)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.region_code_for_number(number)


def is_us_ca(e164: str) -> bool:
    """True for a valid number whose region is the United States or Canada."""
    return region_of(e164) in US_CA_REGIONS


def format_display(e164: str) -> str:
    """Human format: national for US/CA ("(512) 555-0111"), international otherwise."""
    number = _parse_e164(e164)
    if number is None:
        return e164
    if is_us_ca(e164):
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def digits(text: str) -> str:
    """Only the ASCII digits of text, in order."""
    return "".join(ch for ch in text if "0" <= ch <= "9")
