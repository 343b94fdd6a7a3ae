"""SQL scopes for the data-dependent access rules (R11, R12, R14).

Each returns a SELECT limited to what `user` may see inside their own location; callers add their
own filters. Admins and users with full data access see the whole location.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, false, not_, or_, true
from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from groupsms.models import (
    BusinessNumber,
    Contact,
    Group,
    NumberAssignment,
    Participant,
    User,
)

if TYPE_CHECKING:
    from groupsms.services._base import Actor


def has_full_data_access(user: User | Actor) -> bool:
    """R11: admins and users with full data access see every group of the location."""
    return user.role == "admin" or user.data_access == "all"


def number_access_clause(user: User):
    """R12: admins use every number; users the default, their own and the unassigned ones."""
    in_location = BusinessNumber.location_id == user.location_id
    if user.role == "admin":
        return in_location
    assigned_to_user = exists().where(
        NumberAssignment.number_id == BusinessNumber.id, NumberAssignment.user_id == user.id
    )
    assigned_to_anyone = exists().where(NumberAssignment.number_id == BusinessNumber.id)
    return and_(
        in_location,
        or_(BusinessNumber.is_default, assigned_to_user, not_(assigned_to_anyone)),
    )


def numbers_for(user: User) -> SelectOfScalar[BusinessNumber]:
    return select(BusinessNumber).where(number_access_clause(user))


def contacts_for(user: User, *, include_deleted: bool = False) -> SelectOfScalar[Contact]:
    """R11: assigned-only users see the contacts assigned to them."""
    query = select(Contact).where(Contact.location_id == user.location_id)
    if not include_deleted:
        query = query.where(Contact.deleted_at.is_(None))
    if not has_full_data_access(user):
        query = query.where(Contact.assigned_user_id == user.id)
    return query


def group_visibility_clause(user: User):
    """R11: an assigned-only user sees a group only if every participant's contact is theirs."""
    in_location = Group.location_id == user.location_id
    if has_full_data_access(user):
        return in_location
    someone_elses = (
        select(Participant.id)
        .join(Contact, Contact.id == Participant.contact_id)
        .where(
            Participant.group_id == Group.id,
            or_(Contact.assigned_user_id.is_(None), Contact.assigned_user_id != user.id),
        )
        .exists()
    )
    return and_(in_location, not_(someone_elses))


def groups_for(user: User) -> SelectOfScalar[Group]:
    return select(Group).where(group_visibility_clause(user))


def sender_visible_clause(user: User, e164_column):
    """The phone number in `e164_column` is held by a contact the user may see (R11). Users with
    full data access see every sender, held by a contact or not."""
    if has_full_data_access(user):
        return true()
    visible = contacts_for(user).where(
        or_(Contact.primary_phone == e164_column, Contact.secondary_phone == e164_column)
    )
    return visible.exists()


def sender_in_hidden_group_clause(user: User, number_column, e164_column):
    """Some group on the business number in `number_column` holds the phone number in
    `e164_column` and is one the user may not see (R11): a text from that number may be about it."""
    if has_full_data_access(user):
        return false()
    return (
        select(Group.id)
        .join(Participant, Participant.group_id == Group.id)
        .where(Group.business_number_id == number_column, Participant.e164 == e164_column,
               not_(group_visibility_clause(user)))
        .exists()
    )
