"""Smart encoding: what goes out by SMS uses GSM-7 look-alikes for typographic characters.

One curly quote, dash, ellipsis or non-breaking space (word processors and phone keyboards insert
them silently) would send the whole text as UCS-2: 70 characters a segment instead of 160, often
two or three times the carrier cost. Like the carriers' and Twilio's "smart encoding", those
characters are replaced by their GSM-7 forms, but only when that makes the whole text GSM-7: a
text with an emoji or a non-Latin letter goes as UCS-2 anyway and is left exactly as typed.

`gsm_name` transliterates a person's name (the relay prefix "Carla: ...") so that a non-GSM letter
in a participant's name does not turn every relay of theirs into UCS-2.
"""

from __future__ import annotations

import unicodedata

from anyascii import anyascii

# GSM 03.38 default alphabet and its extension table (ESC 0x1B is not a character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7 = GSM7_BASIC | GSM7_EXTENSION


def _table() -> dict[str, str]:
    groups = {
        '"': "«»“”„‟″‶ʺˮ❝❞〝〞〟",
        "'": "‘’‛′‵ʹʻʼʽˈˊˋ´`❛❜",
        ",": "‚、",
        "-": "‐‑‒–—―⁃−˗﹘﹣•",
        "<": "‹˂",
        ">": "›˃",
        "/": "⁄∕⧸÷",
        "\\": "⧵⧹",
        "|": "ǀ∣❘",
        "^": "ˆ˄‸",
        "~": "˜",
        ":": "ː∶꞉",
        ";": "\u037e",  # U+037E GREEK QUESTION MARK, which renders as a semicolon
        "!": "ǃ",
        ".": "․。",
        "*": "∗",
        " ": "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
             "\u202f\u205f\u3000",
        "\n": "\u2028\u2029",
        # Invisible characters cost a UCS-2 segment and show nothing.
        "": "\u00ad\u200b\u200c\u200d\u2060\ufeff",
    }
    table = {ch: to for to, chars in groups.items() for ch in chars}
    table.update({"…": "...", "‥": "..", "‼": "!!", "⁇": "??", "⁈": "?!", "⁉": "!?",
                  "¼": "1/4", "½": "1/2", "¾": "3/4"})
    # Fullwidth forms of ASCII (Asian keyboards): their ASCII character when GSM-7 has it.
    for code in range(0xFF01, 0xFF5F):
        plain = chr(code - 0xFEE0)
        table.setdefault(chr(code), plain if plain in GSM7 else table.get(plain, plain))
    return table


SMART_REPLACEMENTS: dict[str, str] = _table()
_TRANSLATE = str.maketrans(SMART_REPLACEMENTS)


def is_gsm7(text: str) -> bool:
    """True when every character fits the GSM-7 alphabet or its extension."""
    return all(ch in GSM7 for ch in text)


def smart_encode(text: str) -> str:
    """The text as it goes out: GSM-7 look-alikes for typographic characters when that makes the
    whole text GSM-7, else the text unchanged (it goes as UCS-2, which shows every character)."""
    if is_gsm7(text):
        return text
    # NFC first: a letter typed as base + accent ("e" + U+0301) is the GSM-7 "é" it looks like.
    replaced = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    return replaced if is_gsm7(replaced) else text


def _gsm_letters(ch: str) -> str:
    """One character of a name in GSM-7: itself, its Latin transliteration, or nothing."""
    if ch in GSM7:
        return ch
    if ch in SMART_REPLACEMENTS:
        return SMART_REPLACEMENTS[ch]
    if unicodedata.category(ch).startswith(("S", "C")):
        return " "  # emoji, symbols and controls: not part of a name (anyascii spells out ":smile:")
    plain = anyascii(ch)
    return plain if is_gsm7(plain) else ""


def gsm_name(name: str) -> str:
    """A name spelled in GSM-7 letters: "Zoë Łukasz" -> "Zoe Lukasz", "Иван" -> "Ivan"; GSM-7
    letters (é, ñ, ß, Ø...) are kept. Blank when nothing of the name can be spelled."""
    text = unicodedata.normalize("NFC", name or "")
    return " ".join("".join(_gsm_letters(ch) for ch in text).split())
