"""The intro text: the SMS every participant gets when a group is created, so they know they are in
a group text, who else is in it, that replies go to everyone and how to opt out (E1).

A location may word it itself (`location.intro_text`, "" for the built-in wording). The wording is
a template with two placeholders: {names}, the participants' first names ("Carla, Marcus and
Priya"), and {business}, the location's name. It must say how to opt out (the word STOP) and be
plain SMS text (GSM-7, after typographic quotes and dashes are turned into their GSM-7 forms), so
one intro never costs a Unicode text's three times as many segments.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from groupsms.domain.attribution import short_labels
from groupsms.domain.encoding import GSM7, gsm_name, is_gsm7, smart_encode
from groupsms.domain.segments import check_message_text, sms_segments

__all__ = [
    "DEFAULT_TEMPLATE", "MAX_TEMPLATE_LENGTH", "PLACEHOLDERS", "SAMPLE_NAMES",
    "check_template", "template_in_use", "first_names", "join_names", "render", "segments_note",
    "check_intro",
]

DEFAULT_TEMPLATE = (
    "You're in a group text with {names} from {business}. Replies go to everyone. Reply STOP to opt out."
)
MAX_TEMPLATE_LENGTH = 300
PLACEHOLDERS = ("{names}", "{business}")
# What the setting's preview shows for {names} (a group is not picked yet).
SAMPLE_NAMES = ("Carla Mendes", "Marcus Lee", "Priya Shah")

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_OPT_OUT_WORD = re.compile(r"\bSTOP\b")


def check_template(text: str) -> str | None:
    """None when `text` (trimmed) may be a location's intro wording, else why not. "" is allowed: it
    means the built-in wording."""
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_TEMPLATE_LENGTH:
        return f"The intro text is too long: {len(text)} characters (at most {MAX_TEMPLATE_LENGTH})"
    unknown = [p for p in _PLACEHOLDER.findall(text) if p not in PLACEHOLDERS]
    if unknown:
        return f"The intro text uses {unknown[0]}: the only placeholders are {{names}} and {{business}}"
    rest = _PLACEHOLDER.sub("", text)
    if "{" in rest or "}" in rest:
        return "The intro text has a stray { or }: write placeholders as {names} and {business}"
    if not _OPT_OUT_WORD.search(text):
        return 'The intro text must say how to opt out: include "Reply STOP to opt out"'
    encoded = smart_encode(text)
    if not is_gsm7(encoded):
        odd = "".join(dict.fromkeys(ch for ch in encoded if ch not in GSM7))
        return (f"The intro text has characters a plain SMS cannot carry ({odd}): "
                "they would send every intro as a costlier Unicode text")
    return None


def template_in_use(text: str) -> str:
    """The wording a location's setting stands for: its own text, else the built-in one."""
    return text.strip() or DEFAULT_TEMPLATE


def first_names(names: Sequence[str]) -> list[str]:
    """Each participant's first name in GSM-7 letters, in the order given, made unique the way
    relays label people ("Carla M." when two Carlas are in the group); a blank name or one that is
    a phone number becomes "Participant N", so no number reaches anyone."""
    spelled = {i: gsm_name(name) for i, name in enumerate(names)}
    labels = short_labels(spelled)
    return [labels[i] for i in range(len(names))]


def join_names(names: Sequence[str]) -> str:
    """"Carla", "Carla and Marcus", "Carla, Marcus and Priya"."""
    names = [n for n in names if n]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def render(template: str, names: Sequence[str], business: str) -> str:
    """The intro as it goes out: the template (or the built-in wording for "") with the people's
    first names and the business's name, smart-encoded."""
    text = template_in_use(template)
    filled = text.replace("{names}", join_names(first_names(names)))
    filled = filled.replace("{business}", gsm_name(business) or business.strip())
    return smart_encode(filled)


def segments_note(text: str) -> str:
    """What one intro costs each participant: "1 SMS segment", "2 SMS segments"."""
    count = sms_segments(text).segments
    return f"{count} SMS segment{'' if count == 1 else 's'}"


def check_intro(text: str) -> str | None:
    """None when a rendered intro can be sent, else why not (the composer's limit)."""
    problem = check_message_text(text)
    return f"The intro text cannot be sent: {problem[0].lower()}{problem[1:]}" if problem else None
