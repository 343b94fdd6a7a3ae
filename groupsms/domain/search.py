"""Participant search (R6): by name, or by number whatever its formatting."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import TypeVar

from groupsms.domain.phones import digits

T = TypeVar("T")

# A query made only of these looks like a phone number; "Dan 2" does not.
_PHONE_CHARS = frozenset("0123456789 +-.()/")
# Fewer digits would match nearly every number and drown the name results.
MIN_NUMBER_DIGITS = 3
_COUNTRY_CODE_1 = re.compile(r"^\+?1(?=[ \-.(/])|^\+1")


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: "José" and "jose" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def _number_matches(query: str, e164: str) -> bool:
    if not set(query) <= _PHONE_CHARS:
        return False
    wanted = digits(query)
    if len(wanted) < MIN_NUMBER_DIGITS:
        return False
    have = digits(e164)
    if wanted in have:
        return True
    # A typed country code 1 is optional ("1-555-0111" finds "+1 512 555 0111").
    # Only a 1 that reads as a country code is dropped, so "1999" stays literal.
    if _COUNTRY_CODE_1.match(query) or (len(wanted) == 11 and wanted.startswith("1")):
        rest = wanted[1:]
        return len(rest) >= MIN_NUMBER_DIGITS and rest in have
    return False


def matches(query: str, name: str, e164: str) -> bool:
    """True when the query finds this participant by name or by number."""
    needle = query.strip()
    if not needle:
        return True
    if _fold(needle) in _fold(name or ""):
        return True
    return _number_matches(needle, e164 or "")


def filter_participants(
    query: str, items: Sequence[T], key: Callable[[T], tuple[str, str]]
) -> list[T]:
    """The items whose (name, e164) match the query, in their original order."""
    return [item for item in items if matches(query, *key(item))]


# The conversation list's filters (E7): everything, unread, created by the viewer, locked.
LIST_FILTERS = ("all", "unread", "mine", "locked")


# -- message text (E7): the words of a query, safe for either database's full-text syntax ---------

# Letters and digits of any script; everything else (quotes, "*", parentheses, ":" ...) separates
# words, so nothing a person types can reach the full-text syntax as an operator.
_WORD = re.compile(r"[^\W_]+")
MAX_TEXT_TERMS = 8


def text_terms(query: str) -> list[str]:
    """The words a message must contain (each as a prefix), at most `MAX_TEXT_TERMS`."""
    return [w.casefold() for w in _WORD.findall(query or "")][:MAX_TEXT_TERMS]


def fts5_query(terms: Sequence[str]) -> str:
    """SQLite FTS5: every word as a quoted prefix phrase (`"see"* "you"*`), all required.
    "AND", "NEAR" or "OR" typed by a person are words like any other inside the quotes."""
    return " ".join(f'"{t}"*' for t in terms)


def pg_tsquery(terms: Sequence[str]) -> str:
    """PostgreSQL `to_tsquery('simple', ...)`: every word as a quoted prefix (`'see':* & 'you':*`)."""
    return " & ".join(f"'{t}':*" for t in terms)
