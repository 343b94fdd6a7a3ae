"""R9 enforced below the services: once a group exists, its business number and participants
cannot change. Any flush that tries raises, whichever code path asked for it."""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from groupsms.models import Group, Participant


class ImmutableMembership(RuntimeError):
    pass


_NEW_GROUPS = "groupsms_new_group_ids"


@event.listens_for(Session, "after_flush")
def _remember_new_groups(session: Session, _context) -> None:  # noqa: ANN001
    """Participants may be added only in the transaction that creates their group."""
    created = session.info.setdefault(_NEW_GROUPS, set())
    created.update(obj.id for obj in session.new if isinstance(obj, Group))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_new_groups(session: Session) -> None:
    session.info.pop(_NEW_GROUPS, None)


@event.listens_for(Session, "before_flush")
def _refuse_membership_changes(session: Session, _context, _instances) -> None:  # noqa: ANN001
    created = session.info.get(_NEW_GROUPS, set())
    new_groups = [obj for obj in session.new if isinstance(obj, Group)]
    for obj in session.new:
        if isinstance(obj, Participant) and obj.group_id not in created and not any(
            obj.group_id is None or obj.group_id == g.id for g in new_groups
        ):
            raise ImmutableMembership("Participants can only be added when the group is created")
    for obj in session.dirty:
        if isinstance(obj, Participant) and session.is_modified(obj, include_collections=False):
            if _merge_move(session, obj):
                continue
            raise ImmutableMembership("Group participants cannot be changed after creation")
        if isinstance(obj, Group) and inspect(obj).attrs.business_number_id.history.has_changes():
            raise ImmutableMembership("A group's business number cannot be changed after creation")
    for obj in session.deleted:
        if isinstance(obj, Participant):
            raise ImmutableMembership("Group participants cannot be removed")


# While a contact merge flushes: {removed contact id: kept contact id}. The removed contact's
# participants then point at the kept contact; their captured name and number never change (R8).
CONTACT_MERGE = "groupsms_contact_merge"


def _merge_move(session: Session, obj: Participant) -> bool:
    moves = session.info.get(CONTACT_MERGE) or {}
    state = inspect(obj)
    changed = {a.key for a in state.attrs if a.history.has_changes()}
    moved = state.attrs.contact_id.history
    return (bool(moves) and changed <= {"contact_id", "which"} and len(moved.deleted) == 1
            and len(moved.added) == 1 and moves.get(moved.deleted[0]) == moved.added[0])


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_membership_changes(state) -> None:  # noqa: ANN001
    """The same rule for ORM bulk UPDATE/DELETE statements, which never reach before_flush."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_arguments.get("mapper")
    entity = mapper.class_ if mapper is not None else None
    table = getattr(state.statement, "table", None)  # also catches statements on the bare Table
    if entity is None and table is not None:
        entity = {Participant.__table__: Participant, Group.__table__: Group}.get(table)
    if entity is Participant:
        raise ImmutableMembership("Group participants cannot be changed after creation")
    if entity is Group and state.is_delete:
        raise ImmutableMembership("Groups cannot be deleted")
    if entity is Group:
        values = getattr(state.statement, "_values", None) or {}
        names = {getattr(k, "key", k) for k in values}
        if "business_number_id" in names:
            raise ImmutableMembership("A group's business number cannot be changed after creation")
