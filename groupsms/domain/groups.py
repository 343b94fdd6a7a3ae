"""Group rules: business number (R1), size (R2), eligibility (R3), snapshot tags
(R8), DND lock (R10), duplicate guard (E11) and the overlap warning of E2.

Pure functions over plain values: services load the facts, these decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from groupsms.domain.phones import format_display, is_us_ca

MIN_PARTICIPANTS = 2
MAX_PARTICIPANTS = 9
WHICH_NUMBERS = ("primary", "secondary")

# Texts shown next to disabled checkboxes in the picker (R3): keep them exact.
REASON_DELETED = "Contact deleted"
REASON_NO_NUMBER = "No number"
REASON_DND = "DND enabled"
REASON_NOT_US_CA = "Not a US/Canada number"
REASON_BUSINESS_NUMBER = "One of our business numbers"

TAG_DELETED = "Deleted"
TAG_UPDATED = "Updated"


@dataclass(frozen=True)
class Problem:
    """One refused rule: which rule, which form field, and a sentence for the user."""

    rule: str
    field: str
    message: str


@dataclass(frozen=True)
class BusinessNumberFacts:
    """What the service knows about the chosen business number."""

    e164: str
    in_location: bool
    sms_capable: bool = True


@dataclass(frozen=True)
class ParticipantChoice:
    """One picked (contact, which number) pair with the facts R2/R3 need."""

    contact_id: int
    which: str  # "primary" | "secondary"
    name: str
    e164: str | None
    dnd: bool
    deleted: bool = False
    # "Opted out by text on <date>" when the number texted STOP (E1); None otherwise.
    opted_out: str | None = None
    # The number is a business number of the install: relaying to it would loop (E1 pumping).
    business_number: bool = False


def group_title(names: Sequence[str]) -> str:
    """A conversation's title: its participants' names in order."""
    return ", ".join(names) if names else "Empty group"


def opted_out_text(when: datetime) -> str:
    """E1: how the app says a number opted out by texting STOP, e.g. "Opted out by text on Dec 1, 2026"."""
    return f"Opted out by text on {when:%b} {when.day}, {when.year}"


def check_business_number(number: BusinessNumberFacts) -> list[Problem]:
    """R1: the number belongs to the location, can send SMS and is US/CA."""
    problems: list[Problem] = []
    if not number.in_location:
        problems.append(
            Problem("R1", "business_number", "The business number does not belong to this location")
        )
    if not number.sms_capable:
        problems.append(Problem("R1", "business_number", "The business number cannot send SMS"))
    if not is_us_ca(number.e164):
        problems.append(
            Problem("R1", "business_number", "The business number must be a US or Canada number")
        )
    return problems


def ineligibility_reason(choice: ParticipantChoice) -> str | None:
    """R3: why this number cannot be picked, or None when it can.

    Order: the most fundamental reason first, so the picker shows one clear text.
    """
    if choice.deleted:
        return REASON_DELETED
    if choice.e164 is None:
        return REASON_NO_NUMBER
    if choice.business_number:
        return REASON_BUSINESS_NUMBER
    if choice.dnd:
        return REASON_DND
    if choice.opted_out:
        return choice.opted_out
    if not is_us_ca(choice.e164):
        return REASON_NOT_US_CA
    return None


def _contact_label(choice: ParticipantChoice) -> str:
    return choice.name.strip() or f"Contact {choice.contact_id}"


def _number_label(choice: ParticipantChoice) -> str:
    """"Carla Client's number (512) 555-0111", or "...'s primary number" without one."""
    if choice.e164 is None:
        return f"{_contact_label(choice)}'s {choice.which} number"
    return f"{_contact_label(choice)}'s number {format_display(choice.e164)}"


def _check_size(choices: Sequence[ParticipantChoice]) -> list[Problem]:
    # Each distinct (contact, which) pair is one participant; repeats are reported apart.
    chosen = len({(c.contact_id, c.which) for c in choices})
    if chosen < MIN_PARTICIPANTS:
        message = f"A group needs at least {MIN_PARTICIPANTS} participants ({chosen} chosen)"
        return [Problem("R2", "participants", message)]
    if chosen > MAX_PARTICIPANTS:
        message = f"A group can have at most {MAX_PARTICIPANTS} participants ({chosen} chosen)"
        return [Problem("R2", "participants", message)]
    return []


def _check_repeats(choices: Sequence[ParticipantChoice]) -> list[Problem]:
    """R2: a valid which, no (contact, which) pair twice, no E.164 twice."""
    problems: list[Problem] = []
    pairs: set[tuple[int, str]] = set()
    owner_of: dict[str, ParticipantChoice] = {}
    for i, choice in enumerate(choices):
        field = f"participants[{i}]"
        if choice.which not in WHICH_NUMBERS:
            message = (
                f"Choose the primary or secondary number of {_contact_label(choice)}"
                f" (got {choice.which!r})"
            )
            problems.append(Problem("R2", field, message))
            continue
        pair = (choice.contact_id, choice.which)
        first = owner_of.get(choice.e164) if choice.e164 is not None else None
        if pair in pairs or (first is not None and first.contact_id == choice.contact_id):
            problems.append(Problem("R2", field, f"{_number_label(choice)} is chosen twice"))
        elif first is not None:
            message = f"{_number_label(choice)} is chosen twice (also {_contact_label(first)}'s)"
            problems.append(Problem("R2", field, message))
        pairs.add(pair)
        if choice.e164 is not None:
            owner_of.setdefault(choice.e164, choice)
    return problems


def _check_eligibility(choices: Sequence[ParticipantChoice]) -> list[Problem]:
    problems: list[Problem] = []
    for i, choice in enumerate(choices):
        reason = ineligibility_reason(choice)
        if reason is not None:
            message = f"{_number_label(choice)} cannot be added ({reason})"
            problems.append(Problem("R3", f"participants[{i}]", message))
    return problems


def check_participants(choices: Sequence[ParticipantChoice]) -> list[Problem]:
    """R2 size and repeats, then R3 eligibility of each choice."""
    return _check_size(choices) + _check_repeats(choices) + _check_eligibility(choices)


def check_group(number: BusinessNumberFacts, choices: Sequence[ParticipantChoice]) -> list[Problem]:
    """Everything that must hold before a group is created (R1, R2, R3)."""
    return check_business_number(number) + check_participants(choices)


def participant_tag(
    snapshot_e164: str, current_e164: str | None, contact_deleted: bool
) -> str | None:
    """R8: "Deleted" wins over "Updated"; a number that went away counts as updated."""
    if contact_deleted:
        return TAG_DELETED
    if current_e164 != snapshot_e164:
        return TAG_UPDATED
    return None


def _join_names(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def lock_reason(dnd_names: Sequence[str], opted_out: Sequence[tuple[str, datetime]] = ()) -> str | None:
    """R10: why a group is locked, e.g. "Carla Client and Dan Doe enabled DND", or for numbers that
    texted STOP (E1) "Dan Doe: Opted out by text on Dec 1, 2026"."""
    names: list[str] = []
    for raw in dnd_names:
        # A contact in the group with both numbers is still one person.
        name = raw.strip() or "a participant"
        if name not in names:
            names.append(name)
    sentences = []
    if names:
        sentence = f"{_join_names(names)} enabled DND"
        sentences.append(sentence[0].upper() + sentence[1:])
    for raw, when in opted_out:
        sentence = f"{raw.strip() or 'A participant'}: {opted_out_text(when)}"
        if sentence not in sentences:
            sentences.append(sentence)
    return "; ".join(sentences) or None


def participant_key(e164s: Iterable[str]) -> frozenset[str]:
    """The order-insensitive identity of a group's participant numbers."""
    return frozenset(e164s)


def find_duplicate(new_e164s: Iterable[str], existing: Mapping[int, Iterable[str]]) -> int | None:
    """E11: the smallest id of an active group with exactly these numbers, if any.

    The caller passes only active groups on the same business number.
    """
    key = participant_key(new_e164s)
    if not key:
        return None
    same = [group_id for group_id, numbers in existing.items() if participant_key(numbers) == key]
    return min(same) if same else None


def overlap_warnings(
    new_e164s: Iterable[str], existing: Mapping[int, Iterable[str]]
) -> dict[str, list[int]]:
    """E2: for each new number already in other active groups, those groups' ids.

    Such numbers make inbound routing ambiguous, so creation warns (never refuses).
    """
    members = {group_id: participant_key(numbers) for group_id, numbers in existing.items()}
    warnings: dict[str, list[int]] = {}
    for e164 in new_e164s:
        if e164 in warnings:
            continue
        groups = sorted(group_id for group_id, key in members.items() if e164 in key)
        if groups:
            warnings[e164] = groups
    return warnings
