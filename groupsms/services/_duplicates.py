"""Warnings when a contact is saved with a number another contact of the location already holds.

Duplicate CRM records are common, so this is a warning, never a refusal. It matters because a
reply from a number held by two contacts in two active groups cannot be routed by itself (E2). The
other contact is named only when the user may see it (R11); otherwise the warning says that one
exists, which the user needs to know and which reveals nothing else about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from groupsms.access import scopes
from groupsms.domain.phones import format_display
from groupsms.models import Contact, User


def shared_number_warnings(s: Session, user: User, saved: Iterable[Contact]) -> dict[int, list[str]]:
    """Contact id → one warning per number of it that another (not deleted) contact also holds."""
    saved = [c for c in saved if c.id is not None]
    numbers = {n for c in saved for n in (c.primary_phone, c.secondary_phone) if n}
    if not numbers:
        return {}
    holders = s.exec(
        select(Contact).where(
            Contact.location_id == user.location_id, Contact.deleted_at.is_(None),
            or_(Contact.primary_phone.in_(numbers), Contact.secondary_phone.in_(numbers)),
        ).order_by(Contact.name, Contact.id)
    ).all()
    visible = set(s.exec(
        select(Contact.id).where(scopes.contacts_for(user).whereclause, Contact.id.in_([h.id for h in holders]))
    ).all()) if holders else set()
    out: dict[int, list[str]] = {}
    for contact in saved:
        for number in dict.fromkeys(n for n in (contact.primary_phone, contact.secondary_phone) if n):
            others = [h for h in holders if h.id != contact.id and number in (h.primary_phone, h.secondary_phone)]
            if not others:
                continue
            names = [h.name for h in others if h.id in visible]
            hidden = len(others) - len(names)
            if hidden:
                names.append("another contact you cannot see" if hidden == 1 else f"{hidden} contacts you cannot see")
            who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            out.setdefault(contact.id, []).append(
                f"{format_display(number)} is also the number of {who}: "
                "replies from it may need routing by hand."
            )
    return out


def _normalised_name(name: str) -> str:
    """"  carla  MENDES " and "Carla Mendes" are one name; so is "Mendes, Carla"."""
    words = name.replace(",", " ").replace(".", " ").lower().split()
    return " ".join(sorted(words))


def possible_duplicates(views, limit: int = 20) -> list[tuple[int, int, str]]:
    """Pairs of listed contacts that look like one person: (older id, newer id, why), for the
    contacts page's "Possible duplicates" hint. Pure: it looks only at the contacts the user was
    shown (ContactView-like objects with id, name, primary/secondary phone and display)."""
    alive = sorted((v for v in views if not v.deleted), key=lambda v: v.id)
    seen: dict[tuple[str, str], Any] = {}
    pairs: dict[tuple[int, int], str] = {}
    for v in alive:
        keys = [("number", n) for n in (v.primary_phone, v.secondary_phone) if n]
        if _normalised_name(v.name):
            keys.append(("name", _normalised_name(v.name)))
        for key in keys:
            first = seen.setdefault(key, v)
            if first.id == v.id or (first.id, v.id) in pairs:
                continue
            if key[0] == "number":
                why = f"{first.name} and {v.name} share {format_display(key[1])}"
            else:
                why = f"{first.name} and {v.name} have the same name"
            pairs[(first.id, v.id)] = why
            if len(pairs) >= limit:
                return [(a, b, w) for (a, b), w in pairs.items()]
    return [(a, b, w) for (a, b), w in pairs.items()]
