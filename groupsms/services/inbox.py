"""The conversation list's reading rules (E7): its filters, its search of group names and message
text, the filters' counts, and the replies that arrived since a tab last looked (notifications).

`services.groups.list_groups` lists the groups with these clauses; every clause here is added to
the actor's visibility scope (R11), never used alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, case, func, literal_column, or_, true
from sqlalchemy import text as sql_text
from sqlmodel import Session, select

from groupsms import db
from groupsms.access import scopes
from groupsms.access.fetch import MAX_ID
from groupsms.access.search import contact_search_clause
from groupsms.domain import groups as rules
from groupsms.domain.attribution import short_labels
from groupsms.domain.search import fts5_query, pg_tsquery
from groupsms.errors import ValidationError
from groupsms.models import Contact, Group, GroupRead, Message, Participant, User
from groupsms.services._base import Actor, acting_user, clean_limit, require

__all__ = ["LIST_FILTERS", "ConversationCounts", "NewReply", "NewReplies", "conversation_counts", "new_replies"]

LIST_FILTERS = ("all", "unread", "mine", "locked")


def clean_filter(value: Any) -> str:
    if value is None or value == "":
        return "all"
    if not isinstance(value, str) or value not in LIST_FILTERS:
        raise ValidationError("Filter must be one of: " + ", ".join(LIST_FILTERS), "filter")
    return value


def unread_clause(user: User):
    """The group has an inbound message newer than the last one the user saw in it."""
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


def filter_clause(user: User, which: str):
    if which == "unread":
        return unread_clause(user)
    if which == "mine":
        return Group.created_by_id == user.id
    if which == "locked":
        return Group.locked_reason.is_not(None)
    return true()


def _text_match_clause(s: Session, terms: list[str]):
    """Message ids whose body holds every word (as a prefix): FTS5 on SQLite, the GIN-indexed
    `to_tsvector('simple', body)` on PostgreSQL."""
    if s.get_bind().dialect.name == "postgresql":
        vector = func.to_tsvector(literal_column("'simple'"), Message.body)
        return vector.op("@@")(func.to_tsquery(literal_column("'simple'"), pg_tsquery(terms)))
    fts = sql_text("SELECT rowid FROM message_fts WHERE message_fts MATCH :q").bindparams(q=fts5_query(terms))
    return Message.id.in_(fts.columns(rowid=Integer))


def search_clause(s: Session, text_query: str, terms: list[str]):
    """A group found by its name, a participant's name or number, or the text of a message."""
    people = (
        select(Participant.group_id).join(Contact, Contact.id == Participant.contact_id)
        .where(or_(Participant.name.icontains(text_query, autoescape=True), contact_search_clause(text_query)))
    )
    clauses = [Group.name.icontains(text_query, autoescape=True), Group.id.in_(people)]
    if terms:
        clauses.append(Group.id.in_(
            select(Message.group_id).where(Message.group_id.is_not(None), _text_match_clause(s, terms))
        ))
    return or_(*clauses)


def matching_messages(s: Session, group_ids: list[int], terms: list[str]) -> dict[int, str]:
    """The newest message of each group whose text matched the search (the row's snippet)."""
    if not group_ids or not terms:
        return {}
    newest = (
        select(func.max(Message.id))
        .where(Message.group_id.in_(group_ids), _text_match_clause(s, terms))
        .group_by(Message.group_id)
    )
    rows = s.exec(select(Message.group_id, Message.body).where(Message.id.in_(newest)))
    return {gid: body[:120] for gid, body in rows}


@dataclass(frozen=True)
class ConversationCounts:
    """How many of the groups the actor may see are unread, created by them, locked (the filters)."""

    all: int
    unread: int
    mine: int
    locked: int


def conversation_counts(actor: Actor | None) -> ConversationCounts:
    """The filters' counts over every group the actor may see (R11): one statement."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        as_int = lambda clause: func.coalesce(func.sum(case((clause, 1), else_=0)), 0)  # noqa: E731
        row = s.exec(
            select(func.count(Group.id), as_int(unread_clause(user)),
                   as_int(Group.created_by_id == user.id), as_int(Group.locked_reason.is_not(None)))
            .where(scopes.group_visibility_clause(user))
        ).one()
        return ConversationCounts(*(int(v or 0) for v in row))


@dataclass(frozen=True)
class NewReply:
    """An inbound message that arrived in a group the actor may see (for a browser notification)."""

    message_id: int
    group_id: int
    title: str  # the group's name, else its participants
    sender: str  # the participant's short label ("Carla")
    body: str


@dataclass(frozen=True)
class NewReplies:
    items: tuple[NewReply, ...]
    newest_id: int  # give it back as `after` next time


def _clean_after(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise ValidationError("After must be a message id (a whole number from 0)", "after")
    return value


def new_replies(actor: Actor | None, after: Any = None, limit: Any = 5) -> NewReplies:
    """Inbound messages newer than message id `after` in groups the actor may see (R11), oldest
    first, at most `limit`. Without `after`: none, and the id to start from."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        visible = (
            select(Message.id, Message.group_id, Message.sender_participant_id, Message.body)
            .join(Group, Group.id == Message.group_id)
            .where(scopes.group_visibility_clause(user), Message.direction == "inbound")
        )
        if after is None:
            newest = s.exec(select(func.max(Message.id)).where(Message.location_id == user.location_id)).one()
            return NewReplies((), int(newest or 0))
        start = _clean_after(after)
        rows = s.exec(visible.where(Message.id > start).order_by(Message.id).limit(clean_limit(limit))).all()
        if not rows:
            return NewReplies((), start)
        ids = sorted({gid for _, gid, _, _ in rows})
        groups_by_id = {g.id: g for g in s.exec(select(Group).where(Group.id.in_(ids)))}
        people: dict[int, dict[int, str]] = {}
        for pid, gid, pname in s.exec(select(Participant.id, Participant.group_id, Participant.name)
                                      .where(Participant.group_id.in_(ids))):
            people.setdefault(gid, {})[pid] = pname
        items = []
        for mid, gid, pid, body in rows:
            names = people.get(gid, {})
            labels = short_labels(names)
            group = groups_by_id[gid]
            title = group.name or rules.group_title([names[k] for k in sorted(names)])
            items.append(NewReply(mid, gid, title, labels.get(pid, "Someone"), body[:200]))
        return NewReplies(tuple(items), max(mid for mid, *_ in rows))
