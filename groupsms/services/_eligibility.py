"""The facts about a contact's numbers that decide whether they may join a group (R3, E1)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from groupsms.domain import groups as rules
from groupsms.models import BusinessNumber, Contact, ProviderNumber
from groupsms.services._dnd import opted_out_notes


def participant_choice(contact: Contact, which: str, facts: NumberFacts) -> rules.ParticipantChoice:
    e164 = contact.phone(which)
    return rules.ParticipantChoice(
        contact_id=contact.id, which=which, name=contact.name, e164=e164,
        dnd=contact.dnd_sms, deleted=contact.deleted_at is not None,
        opted_out=facts.opted_out.get(e164), business_number=e164 in facts.business,
    )


@dataclass(frozen=True)
class NumberFacts:
    opted_out: dict[str, str]  # E1: "Opted out by text on <date>" per number in the registry
    business: frozenset[str]  # numbers the install texts from: never a participant


def number_facts(s: Session, location_id: int, contacts: list[Contact]) -> NumberFacts:
    e164s = {e for c in contacts for e in (c.primary_phone, c.secondary_phone) if e}
    if not e164s:
        return NumberFacts({}, frozenset())
    # Any location's, and any the provider account owns: a relay to one would text ourselves.
    business = set(s.exec(select(BusinessNumber.e164).where(BusinessNumber.e164.in_(e164s))).all())
    business |= set(s.exec(select(ProviderNumber.e164).where(ProviderNumber.e164.in_(e164s))).all())
    return NumberFacts(opted_out_notes(s, location_id, e164s), frozenset(business))
