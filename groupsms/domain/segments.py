"""SMS segment counting for the composer (E5), per 3GPP TS 23.038.

Vonage splits long text itself; this only predicts what it will do so the
composer can show characters, segments and encoding, and enforce a limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from groupsms.domain.encoding import GSM7_BASIC, GSM7_EXTENSION, is_gsm7, smart_encode

__all__ = [
    "GSM_7", "UCS_2", "GSM7_BASIC", "GSM7_EXTENSION", "GSM7_SINGLE", "GSM7_MULTI", "UCS2_SINGLE", "UCS2_MULTI",
    "MAX_SEGMENTS", "SegmentInfo", "is_gsm7",
    "count_segments", "sms_segments", "check_message_text", "check_relay_text",
]

GSM_7 = "GSM-7"
UCS_2 = "UCS-2"

GSM7_SINGLE, GSM7_MULTI = 160, 153  # multi-part loses 7 septets to the UDH
UCS2_SINGLE, UCS2_MULTI = 70, 67  # in UTF-16 code units
MAX_SEGMENTS = 10


@dataclass(frozen=True)
class SegmentInfo:
    """What the composer shows: "42 characters, 1 segment, GSM-7"."""

    encoding: str  # "GSM-7" | "UCS-2"
    characters: int  # code points typed
    segments: int
    per_segment: int  # capacity of each segment in this message, in units
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2


def _gsm7_cost(ch: str) -> int:
    return 2 if ch in GSM7_EXTENSION else 1


def _ucs2_cost(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1  # a surrogate pair, e.g. most emoji


def _pack(costs: list[int], capacity: int) -> int:
    """Segments needed when no character is split across two segments.

    An escape pair or a surrogate pair cannot be cut, so a segment may end a
    unit short: the count can exceed ceil(units / capacity).
    """
    segments, used = 1, 0
    for cost in costs:
        if used + cost > capacity:
            segments, used = segments + 1, 0
        used += cost
    return segments


def count_segments(text: str) -> SegmentInfo:
    """Encoding, units and segments for text as an SMS."""
    if is_gsm7(text):
        encoding, single, multi, cost = GSM_7, GSM7_SINGLE, GSM7_MULTI, _gsm7_cost
    else:
        encoding, single, multi, cost = UCS_2, UCS2_SINGLE, UCS2_MULTI, _ucs2_cost
    costs = [cost(ch) for ch in text]
    units = sum(costs)
    if units == 0:
        segments, per_segment = 0, single
    elif units <= single:
        segments, per_segment = 1, single
    else:
        segments, per_segment = _pack(costs, multi), multi
    return SegmentInfo(encoding, len(text), segments, per_segment, units)


def sms_segments(text: str) -> SegmentInfo:
    """What each recipient gets for `text`: counted on its smart-encoded form, as it goes out."""
    return count_segments(smart_encode(text))


def check_message_text(text: str) -> str | None:
    """The composer's hard limit: None when the text can be sent, else why not."""
    if not text.strip():
        return "Message is empty"
    info = sms_segments(text)
    if info.segments > MAX_SEGMENTS:
        return f"Message is too long: {info.segments} segments (max {MAX_SEGMENTS})"
    return None


def check_relay_text(sms_text: str) -> str | None:
    """None when a relay (with its sender's name) may go out, else the notice for the business.

    A relay is not the business's own text: nobody chose to pay for more than the limit, and
    a loop of auto-responders must not fan out page-long texts to every participant.
    """
    info = count_segments(sms_text)
    if info.segments > MAX_SEGMENTS:
        return (f"Not relayed to the group: with the sender's name it is {info.segments} SMS segments "
                f"(max {MAX_SEGMENTS})")
    return None
