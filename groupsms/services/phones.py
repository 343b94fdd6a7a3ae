"""Simulated handsets (E10): what each contact's phone received, and replying as that contact.

Only with the built-in simulator (`messaging.runtime.simulator()`). A reply goes out through the
simulator's signed inbound webhook, back into this app's real `/webhooks/vonage/inbound` route, so it
is routed, stored and relayed exactly like an SMS from a real phone.

Access: the actor sees the handsets of the contacts they may see (R11), and only the texts those
handsets exchanged with their own location's business numbers (R14: a number can belong to contacts
of several locations; the other location's texts are none of their business).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from groupsms import db
from groupsms.access import scopes
from groupsms.domain.phones import PhoneError, format_display, normalize
from groupsms.errors import GroupsmsError, NotFound, ValidationError
from groupsms.messaging import runtime
from groupsms.models import BusinessNumber, Contact, User
from groupsms.services._base import Actor, acting_user, audit, require

__all__ = ["HandsetView", "HandsetMessage", "SimulatorUnavailable", "list_handsets", "handset_inbox", "reply"]

MAX_REPLY_LENGTH = 1000
_MAX_HANDSETS = 500


class SimulatorUnavailable(GroupsmsError):
    def __init__(self) -> None:
        super().__init__("Phones are only available with the built-in simulator")


@dataclass(frozen=True)
class HandsetView:
    e164: str
    display: str
    contact_id: int
    contact_name: str
    which: str  # "primary" | "secondary"
    received: int  # texts from this location's business numbers
    sent: int  # texts it sent to them
    last_text: str  # the latest of those, either way ("" when none)
    last_at: float  # epoch seconds of the latest text, 0 when none


@dataclass(frozen=True)
class HandsetMessage:
    direction: str  # "received" (business number -> handset) | "sent" (handset -> business number)
    business_e164: str
    business_display: str
    text: str
    at: float  # epoch seconds


def _simulator():
    sim = runtime.simulator()
    if sim is None:
        raise SimulatorUnavailable()
    return sim


def _location_numbers(s, user: User) -> dict[str, BusinessNumber]:
    rows = s.exec(select(BusinessNumber).where(BusinessNumber.location_id == user.location_id))
    return {n.e164: n for n in rows}


def _visible_handsets(s, user: User) -> dict[str, tuple[Contact, str]]:
    found: dict[str, tuple[Contact, str]] = {}
    for contact in s.exec(scopes.contacts_for(user).order_by(Contact.name, Contact.id)):
        for which in ("primary", "secondary"):
            number = contact.phone(which)
            if number and number not in found:
                found[number] = (contact, which)
    return found


def _thread(sim, e164: str, business: dict[str, BusinessNumber]) -> list[HandsetMessage]:
    received = [
        HandsetMessage("received", m.from_e164, format_display(m.from_e164), m.text, m.received_at)
        for m in sim.inbox(e164)
        if m.from_e164 in business
    ]
    sent = [
        HandsetMessage("sent", m.to_e164, format_display(m.to_e164), m.text, m.sent_at)
        for m in sim.sent_from(e164)
        if m.to_e164 in business
    ]
    return sorted(received + sent, key=lambda m: m.at)


def list_handsets(actor: Actor | None) -> list[HandsetView]:
    """A handset per number of every contact the actor may see, the busiest (latest text) first."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "read")
        sim = _simulator()
        business = _location_numbers(s, user)
        handsets = _visible_handsets(s, user)
    views = []
    for e164, (contact, which) in list(handsets.items())[:_MAX_HANDSETS]:
        thread = _thread(sim, e164, business)
        last = thread[-1] if thread else None
        views.append(HandsetView(
            e164, format_display(e164), contact.id, contact.name, which,
            sum(m.direction == "received" for m in thread), sum(m.direction == "sent" for m in thread),
            last.text if last else "", last.at if last else 0.0,
        ))
    views.sort(key=lambda v: -v.last_at)  # stable: contacts by name among equals
    return views


def _clean_e164(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) > 40:
        raise ValidationError(f"{field.capitalize()} must be a phone number", field)
    try:
        return normalize(value)
    except PhoneError as exc:
        raise ValidationError(f"{field.capitalize()}: {exc}", field) from exc


def _visible_handset(s, user: User, value: Any) -> str:
    e164 = _clean_e164(value, "phone")
    if e164 not in _visible_handsets(s, user):
        raise NotFound("Phone")  # missing and not yours look the same (R14)
    return e164


def _clean_reply(text: Any) -> str:
    # Not clean_text: an SMS keeps its line breaks.
    if not isinstance(text, str):
        raise ValidationError("Text must be text", "text")
    body = text.strip()
    if not body:
        raise ValidationError("Type a reply first", "text")
    if len(body) > MAX_REPLY_LENGTH:
        raise ValidationError(f"A reply can be at most {MAX_REPLY_LENGTH} characters", "text")
    return body


def handset_inbox(actor: Actor | None, e164: Any) -> list[HandsetMessage]:
    """What one handset received from (and sent to) this location's business numbers, oldest first."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "read")
        sim = _simulator()
        number = _visible_handset(s, user, e164)
        business = _location_numbers(s, user)
    return _thread(sim, number, business)


def reply(actor: Actor | None, from_e164: Any, to_business_e164: Any, text: Any) -> None:
    """Text a business number from a contact's handset, through the signed inbound webhook."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "contact", "read")
        sim = _simulator()
        sender = _visible_handset(s, user, from_e164)
        to = _clean_e164(to_business_e164, "business number")
        if to not in _location_numbers(s, user):
            raise NotFound("Business number")
        body = _clean_reply(text)
        audit(s, user, "phone.reply_simulated", "contact", None, from_e164=sender, to_e164=to)
    # Outside the transaction: the simulator posts to this app, whose webhook writes to the database
    # (on SQLite a held write lock would make it wait for us while we wait for it).
    try:
        sim.post_inbound(sender, to, body)
    except Exception as exc:  # the simulator's WebhookError, or the app not answering
        raise GroupsmsError(f"The reply could not be delivered to the app: {exc}") from exc
