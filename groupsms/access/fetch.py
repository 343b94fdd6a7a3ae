"""Fetch one object inside the actor's reach. Missing and forbidden raise the same NotFound (R14)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from groupsms.access import scopes
from groupsms.errors import NotFound
from groupsms.models import BusinessNumber, Contact, Group, Message, User

MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns; anything larger cannot exist


def clean_id(value: Any, what: str) -> int:
    """Ids come from browsers and command lines: anything but a positive int is simply not found."""
    if isinstance(value, bool):
        raise NotFound(what)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise NotFound(what)
    return value


def access_group(session: Session, user: User, group_id: Any) -> Group:
    gid = clean_id(group_id, "Group")
    group = session.exec(scopes.groups_for(user).where(Group.id == gid)).first()
    if group is None:
        raise NotFound("Group")
    return group


def access_message(session: Session, user: User, message_id: Any, *, for_update: bool = False) -> Message:
    """A message of a group the user may see (R11, R14). Texts in no group (waiting for routing,
    "Other texts") have their own rules in `services.messages` and are not found here."""
    mid = clean_id(message_id, "Message")
    query = (
        select(Message).join(Group, Group.id == Message.group_id)
        .where(Message.id == mid, scopes.group_visibility_clause(user))
    )
    message = session.exec(query.with_for_update(of=Message) if for_update else query).first()
    if message is None:
        raise NotFound("Message")
    return message


def access_contact(
    session: Session, user: User, contact_id: Any, *, include_deleted: bool = False
) -> Contact:
    cid = clean_id(contact_id, "Contact")
    query = scopes.contacts_for(user, include_deleted=include_deleted).where(Contact.id == cid)
    contact = session.exec(query).first()
    if contact is None:
        raise NotFound("Contact")
    return contact


def access_number(session: Session, user: User, number_id: Any) -> BusinessNumber:
    """A number the user may use (R12)."""
    nid = clean_id(number_id, "Number")
    number = session.exec(scopes.numbers_for(user).where(BusinessNumber.id == nid)).first()
    if number is None:
        raise NotFound("Number")
    return number


def _in_location(session: Session, user: User, model: type, value: Any, what: str):
    row = session.get(model, clean_id(value, what))
    if row is None or row.location_id != user.location_id:
        raise NotFound(what)
    return row


def location_number(session: Session, user: User, number_id: Any) -> BusinessNumber:
    """Any number of the user's location (for managing numbers, not for sending)."""
    return _in_location(session, user, BusinessNumber, number_id, "Number")


def location_user(session: Session, user: User, user_id: Any) -> User:
    """A user of the same location."""
    return _in_location(session, user, User, user_id, "User")


def can_use_number(session: Session, user: User, number_id: int) -> bool:
    query = scopes.numbers_for(user).where(BusinessNumber.id == number_id)
    return session.exec(select(query.exists())).one()


def usable_number(session: Session, user: User, number_id: int) -> BusinessNumber | None:
    """The number when the user may use it (R12), else None (e.g. a group's number, which the
    user may see the group of without being allowed to send from it)."""
    return session.exec(scopes.numbers_for(user).where(BusinessNumber.id == number_id)).first()
