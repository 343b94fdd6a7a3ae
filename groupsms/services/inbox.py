"""The conversation list's reading rules (E7): its filters, its search of group names and message
text (`services.groups.list_groups` with the clauses of `access.search`), the filters' counts, and
the replies that arrived since a tab last looked (browser notifications). Every count and reply is
inside the actor's visibility scope (R11).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func
from sqlmodel import select

from groupsms import db
from groupsms.access import scopes
from groupsms.access.fetch import MAX_ID
from groupsms.access.search import unread_clause
from groupsms.domain import groups as rules
from groupsms.domain.attribution import short_labels
from groupsms.errors import ValidationError
from groupsms.models import Group, Message, Participant
from groupsms.services._base import Actor, acting_user, clean_limit, require

__all__ = ["ConversationCounts", "NewReply", "NewReplies", "conversation_counts", "new_replies"]

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
