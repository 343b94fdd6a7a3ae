"""Long inbound SMS (E6): which received parts belong to the same message.

Handsets number long texts with an 8-bit reference they reuse, so the sender, the number and the
reference do not name one message. Parts are joined only when they are not yet part of a message,
arrived within a window of each other, share the same part count, and hold one of each part number:
a second part 1 (say) means the handset started a new message with the same reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)
MISSING = "[...]"  # stands in for a part that never arrived


@dataclass(frozen=True)
class Part:
    event_id: int
    number: int  # concat-part, 1-based
    total: int  # concat-total
    received_at: datetime
    text: str


@dataclass
class PartSet:
    """Parts taken for one message, in arrival order."""

    parts: list[Part] = field(default_factory=list)

    @property
    def first(self) -> Part:
        return self.parts[0]

    @property
    def total(self) -> int:
        return self.first.total

    def numbers(self) -> set[int]:
        return {p.number for p in self.parts}

    def complete(self) -> bool:
        return self.numbers() >= set(range(1, self.total + 1))

    def missing(self) -> list[int]:
        return sorted(set(range(1, self.total + 1)) - self.numbers())

    def text(self) -> str:
        """The parts in order; a missing one shows as "[...]" so a reader sees the gap."""
        by_number = {p.number: p.text for p in self.parts}
        pieces = [by_number[n] if n in by_number else None for n in range(1, self.total + 1)]
        out, after_gap = "", False
        for piece in pieces:
            if piece is None:
                if not after_gap:  # one marker for a run of missing parts
                    out, after_gap = f"{out.rstrip()} {MISSING} ", True
            else:
                out, after_gap = out + (piece.lstrip() if after_gap else piece), False
        return out.strip() if self.missing() else out  # a whole text is kept exactly as sent

    def notice(self) -> str | None:
        missing = self.missing()
        if not missing:
            return None
        listed = ", ".join(str(n) for n in missing)
        noun = "Part" if len(missing) == 1 else "Parts"
        return f"{noun} {listed} of {self.total} never arrived"


def partition(parts: Iterable[Part], window: timedelta = WINDOW) -> list[PartSet]:
    """Unjoined parts of one (sender, number, reference), split into messages.

    Parts are taken in arrival order. Each joins the newest message that lacks its part number, has
    the same part count and began within the window; otherwise it begins a new message. A late
    straggler of an older message still finds it when the newer one already has that part.
    """
    sets: list[PartSet] = []
    for part in sorted(parts, key=lambda p: (p.received_at, p.event_id)):
        home = next(
            (
                candidate
                for candidate in reversed(sets)
                if candidate.total == part.total
                and part.number not in candidate.numbers()
                and part.received_at - candidate.first.received_at <= window
            ),
            None,
        )
        if home is None:
            sets.append(PartSet([part]))
        else:
            home.parts.append(part)
    return sets


def set_of(sets: list[PartSet], event_id: int) -> PartSet | None:
    return next((candidate for candidate in sets if any(p.event_id == event_id for p in candidate.parts)), None)
