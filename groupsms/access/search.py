"""SQL search and filter clauses, added by callers to what the scopes return (R6, E7, E9): never
used alone, so they never widen what a user may see."""

from __future__ import annotations

from sqlalchemy import Integer, func, literal_column, or_, select, true
from sqlalchemy import text as sql_text

from groupsms.domain.phones import digits
from groupsms.domain.search import fts5_query, pg_tsquery
from groupsms.models import Contact, Group, GroupRead, Message, Participant, User


def contact_search_clause(query: str):
    """Name contains the text, or either number contains its digits (format-insensitive)."""
    clauses = [Contact.name.icontains(query, autoescape=True)]
    wanted = digits(query)
    if len(wanted) >= 3:
        clauses += [Contact.primary_phone.contains(wanted), Contact.secondary_phone.contains(wanted)]
        if wanted.startswith("1") and len(wanted) == 11:
            clauses += [Contact.primary_phone.contains(wanted[1:]), Contact.secondary_phone.contains(wanted[1:])]
    return or_(*clauses)


def unread_clause(user: User):
    """The group has an inbound message newer than the last one the user saw in it (E7)."""
    marker = (
        select(func.coalesce(func.max(GroupRead.last_read_message_id), 0))
        .where(GroupRead.group_id == Group.id, GroupRead.user_id == user.id)
        .scalar_subquery()
    )
    return (
        select(Message.id)
        .where(Message.group_id == Group.id, Message.direction == "inbound", Message.id > marker)
        .exists()
    )


def list_filter_clause(user: User, which: str):
    """The conversation list's filters: "unread", "mine" (created by the user), "locked", "all"."""
    if which == "unread":
        return unread_clause(user)
    if which == "mine":
        return Group.created_by_id == user.id
    if which == "locked":
        return Group.locked_reason.is_not(None)
    return true()


def message_text_clause(dialect: str, terms: list[str]):
    """The message's body holds every word (as a prefix): FTS5's `message_fts` on SQLite, the
    GIN-indexed `to_tsvector('simple', body)` on PostgreSQL. The terms come from
    `domain.search.text_terms` (letters and digits only) and go in as bound parameters."""
    if dialect == "postgresql":
        vector = func.to_tsvector(literal_column("'simple'"), Message.body)
        return vector.op("@@")(func.to_tsquery(literal_column("'simple'"), pg_tsquery(terms)))
    fts = sql_text("SELECT rowid FROM message_fts WHERE message_fts MATCH :q").bindparams(q=fts5_query(terms))
    return Message.id.in_(fts.columns(rowid=Integer))


def group_search_clause(dialect: str, query: str, terms: list[str]):
    """A group found by its name, a participant's captured name, a contact's name or number, or
    the text of one of its messages (E7)."""
    people = (
        select(Participant.group_id).join(Contact, Contact.id == Participant.contact_id)
        .where(or_(Participant.name.icontains(query, autoescape=True), contact_search_clause(query)))
    )
    clauses = [Group.name.icontains(query, autoescape=True), Group.id.in_(people)]
    if terms:
        clauses.append(Group.id.in_(
            select(Message.group_id).where(Message.group_id.is_not(None), message_text_clause(dialect, terms))
        ))
    return or_(*clauses)
