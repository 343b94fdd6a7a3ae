"""R9 enforced below the services: once a group exists, its business number and participants
cannot change. Any flush that tries raises, whichever code path asked for it."""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from groupsms.models import Group, Participant


class ImmutableMembership(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_membership_changes(session: Session, _context, _instances) -> None:  # noqa: ANN001
    for obj in session.dirty:
        if isinstance(obj, Participant) and session.is_modified(obj, include_collections=False):
            raise ImmutableMembership("Group participants cannot be changed after creation")
        if isinstance(obj, Group) and inspect(obj).attrs.business_number_id.history.has_changes():
            raise ImmutableMembership("A group's business number cannot be changed after creation")
    for obj in session.deleted:
        if isinstance(obj, Participant):
            raise ImmutableMembership("Group participants cannot be removed")
