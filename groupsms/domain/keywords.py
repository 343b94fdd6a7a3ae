"""Carrier keywords in inbound SMS (E1): opt-out, opt-in and help.

Only a message that is the keyword alone counts: "please stop" is
conversation and is relayed like any other reply.
"""

from __future__ import annotations

import unicodedata

STOP = "stop"
START = "start"
HELP = "help"

KEYWORDS: dict[str, str] = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"), STOP
    ),
    **dict.fromkeys(("START", "UNSTOP", "YES"), START),
    **dict.fromkeys(("HELP", "INFO"), HELP),
}


def _is_noise(ch: str) -> bool:
    """Spaces, punctuation, symbols (emoji) and invisible controls around a word.

    Erring toward recognising an opt-out is the safe side of the law.
    """
    return ch.isspace() or unicodedata.category(ch)[0] in "PSZC"


def classify(body: str) -> str | None:
    """"stop", "start" or "help" for a single keyword message, else None."""
    # NFKC folds full-width letters ("ＳＴＯＰ") to plain ones.
    text = unicodedata.normalize("NFKC", body or "")
    start, end = 0, len(text)
    while start < end and _is_noise(text[start]):
        start += 1
    while end > start and _is_noise(text[end - 1]):
        end -= 1
    # Inner spaces stay, so "please stop" is looked up whole and found nowhere.
    return KEYWORDS.get(text[start:end].upper())
