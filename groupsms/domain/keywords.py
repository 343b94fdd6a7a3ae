"""Carrier keywords in inbound SMS (E1): opt-out, opt-in and help.

Only a message that is the keyword alone counts: "please stop" is conversation and is relayed like
any other reply. "Alone" is judged after normalising what handsets and people do to a word: case,
full-width and styled letters, look-alike letters of other scripts (Cyrillic "ЅТОР"), invisible
characters, accents, surrounding punctuation and emoji, spaced letters ("S T O P") and the
two-word forms ("STOP ALL", "OPT-OUT"). Erring toward recognising an opt-out is the safe side of
the law; a word next to another word is never a keyword.

Whether START/UNSTOP/YES opt a number back in depends on the number being opted out: the caller
decides that (messaging/optout.py); this module only names the word.
"""

from __future__ import annotations

import re
import unicodedata

STOP = "stop"
START = "start"
HELP = "help"

# The opt-out words of the FCC (stop, quit, end, revoke, opt out, cancel, unsubscribe) and of the
# carriers (STOPALL, STOP ALL, OPTOUT, OPT-OUT). Written as people write them; matched by
# `compact_form`, so "OPT OUT", "OPT-OUT" and "OPTOUT" are one entry each way.
KEYWORDS: dict[str, str] = {
    **dict.fromkeys(
        ("STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
         "OPT OUT", "OPT-OUT", "OPTOUT"),
        STOP,
    ),
    **dict.fromkeys(("START", "UNSTOP", "YES"), START),
    **dict.fromkeys(("HELP", "INFO"), HELP),
}

# Letters of other scripts that look like Latin ones (after NFKC, before upper-casing). Kept here
# rather than taken from a package: the transliteration libraries map by sound (Cyrillic "Р" to
# "R"), and the confusable-detection ones expose no fold. Only the look-alikes of the letters in
# KEYWORDS matter, and a few more cost nothing.
_LOOK_ALIKES: dict[str, str] = {
    # Cyrillic capitals
    "А": "A", "В": "B", "С": "C", "Е": "E", "Ё": "E", "Н": "H", "І": "I", "Ї": "I", "Ӏ": "I",
    "Ј": "J", "К": "K", "М": "M", "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y",
    "Ү": "Y", "Ԛ": "Q", "Ԝ": "W", "П": "N", "Ц": "U", "Ь": "B", "Ԁ": "D", "Ɩ": "I",
    # Cyrillic small letters (some look like small capitals: upper-casing makes them equal)
    "а": "A", "в": "B", "с": "C", "е": "E", "ё": "E", "һ": "H", "н": "H", "і": "I", "ї": "I",
    "ӏ": "L", "ј": "J", "к": "K", "м": "M", "о": "O", "р": "P", "ѕ": "S", "т": "T", "х": "X",
    "у": "Y", "ү": "Y", "ԛ": "Q", "ԝ": "W", "п": "N", "ц": "U", "ь": "B", "ԁ": "D", "ѵ": "V",
    "Ѵ": "V", "г": "R",
    # Greek capitals and small letters
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
    "α": "A", "β": "B", "ε": "E", "ι": "I", "κ": "K", "ν": "V", "ο": "O", "ρ": "P", "τ": "T",
    "υ": "U", "χ": "X", "ϲ": "C", "ϳ": "J", "ς": "C", "η": "N", "μ": "U",
    # Latin look-alikes that NFKC keeps apart
    "ı": "I", "ɪ": "I", "ʟ": "L", "ɴ": "N", "ʀ": "R", "ꜱ": "S", "ᴛ": "T", "ᴏ": "O", "ᴘ": "P",
    "ᴀ": "A", "ᴄ": "C", "ᴇ": "E", "ᴜ": "U", "ᴠ": "V", "ʏ": "Y", "ʜ": "H", "ᴋ": "K", "ᴅ": "D",
    "ℓ": "L", "0": "O",
}
_FOLD = str.maketrans(_LOOK_ALIKES)

# Invisible characters that are letters or symbols by category, so they are listed by name.
_INVISIBLE = frozenset("\u3164\u115f\u1160\uffa0\u2800")

# Two-word forms, as tuples of the words a message splits into.
_PHRASES = frozenset(tuple(w for w in re.split(r"[ -]", word) if w) for word in KEYWORDS if " " in word or "-" in word)


def compact_form(word: str) -> str:
    """The lookup key of a keyword as written in KEYWORDS: "OPT-OUT" and "OPT OUT" give "OPTOUT"."""
    return re.sub(r"[ -]", "", word.upper())


_BY_KEY: dict[str, str] = {compact_form(word): kind for word, kind in KEYWORDS.items()}


def _letters_and_digits(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LN"


def normalise(body: str) -> list[str]:
    """The words of a message, upper-cased and folded to Latin letters, without invisible
    characters, accents, punctuation, symbols or spacing."""
    # NFKC folds full-width and styled letters ("ＳＴＯＰ", "𝐒𝐓𝐎𝐏"); NFD then splits accents off.
    # Look-alikes are folded before too: NFKC turns some into other letters (lunate "Ϲ" into "Σ").
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", (body or "").translate(_FOLD)))
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cf", "Mn", "Me") or ch in _INVISIBLE:  # zero-width, joiners, accents
            continue
        kept.append(ch)
    folded = "".join(kept).translate(_FOLD).upper()
    words, current = [], []
    for ch in folded:
        if _letters_and_digits(ch):
            current.append(ch)
        elif current:  # spaces, punctuation, symbols and emoji separate words
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def classify(body: str) -> str | None:
    """"stop", "start" or "help" for a message that is one keyword alone, else None."""
    words = normalise(body)
    if not words:
        return None
    if len(words) == 1:
        key = words[0]
    elif all(len(w) == 1 for w in words) or tuple(words) in _PHRASES:
        key = "".join(words)  # "S T O P", "S.T.O.P", "STOP ALL", "OPT-OUT"
    else:
        return None
    return _BY_KEY.get(key)


def keyword_word(body: str) -> str:
    """The normalised word a keyword message was, for the opt-out record ("STOPALL")."""
    return "".join(normalise(body))[:32]
