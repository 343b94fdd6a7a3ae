"""Field checks of the load file: each returns the normalized value or raises _Invalid."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from groupsms.domain import phones
from groupsms.models import DATA_ACCESS, ROLES
from groupsms.security import check_password_strength

# Refs appear in commands such as `--participant carla:primary`, hence no colon, no spaces.
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


# ---------------------------------------------------------------------------------------------
# Field checks: each returns the normalized value or raises _Invalid with the reason.


class _Invalid(ValueError):
    pass


def _got(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(max_len: int, *, allow_empty: bool = False) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _Invalid(f"must be a string, got {_got(value)}")
        text = value.strip()
        if not text and not allow_empty:
            raise _Invalid("must not be empty")
        if len(text) > max_len:
            raise _Invalid(f"must be at most {max_len} characters, got {len(text)}")
        return text

    return check


def _ref(value: Any) -> str:
    text = _text(64)(value)
    if not _REF.match(text):
        raise _Invalid(f"must be letters, digits, '-', '_' or '.', got {_got(value)}")
    return text


def _email(value: Any) -> str:
    text = _text(254)(value).lower()
    local, at, domain = text.partition("@")
    if not at or not local or "." not in domain or "@" in domain or " " in text:
        raise _Invalid(f"is not an email address: {_got(value)}")
    return text


def _password(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"must be a string, got {_got(value)}")
    problem = check_password_strength(value)
    if problem:
        raise _Invalid(problem)
    return value


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            wanted = " or ".join(f'"{o}"' for o in options)
            raise _Invalid(f"must be {wanted}, got {_got(value)}")
        return value

    return check


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, got {_got(value)}")
    return value


def _phone(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"must be a string, got {_got(value)}")
    try:
        return phones.normalize(value)
    except phones.PhoneError as err:
        raise _Invalid(str(err)) from None


def _business_phone(value: Any) -> str:
    e164 = _phone(value)
    if not phones.is_us_ca(e164):
        region = phones.region_of(e164) or "unknown region"
        raise _Invalid(f"{e164} is a {region} number; a business number must be a US or Canada number")
    return e164


def _nullable(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def _ref_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _Invalid(f"must be a list of user refs, got {_got(value)}")
    refs: list[str] = []
    for item in value:
        ref = _ref(item)
        if ref not in refs:
            refs.append(ref)
    return refs


def _array(value: Any) -> list:
    if not isinstance(value, list):
        raise _Invalid(f"must be a list, got {_got(value)}")
    return value


# key -> (check, required). Entries leave out optional keys to keep the stored value.
LOCATION_FIELDS = {
    "ref": (_ref, True), "name": (_text(200), True),
    "users": (_array, False), "numbers": (_array, False), "contacts": (_array, False),
}
USER_FIELDS = {
    "ref": (_ref, True), "email": (_email, True), "name": (_text(200), True),
    "password": (_password, False),  # required for a new user, checked against the database
    "role": (_choice(ROLES), False), "data_access": (_choice(DATA_ACCESS), False),
}
NUMBER_FIELDS = {
    "ref": (_ref, True), "e164": (_business_phone, True), "label": (_text(100, allow_empty=True), False),
    "default": (_bool, False), "assigned_to": (_ref_list, False),
}
CONTACT_FIELDS = {
    "ref": (_ref, True), "name": (_text(200), True), "primary_phone": (_phone, True),
    "secondary_phone": (_nullable(_phone), False), "dnd": (_bool, False),
    "assigned_to": (_nullable(_ref), False), "deleted": (_bool, False),
}
CHILD_FIELDS = {"users": USER_FIELDS, "numbers": NUMBER_FIELDS, "contacts": CONTACT_FIELDS}
