"""Group conversations: the picker, creation (R1–R3, R9, R11, R12, E2, E11), listing and reading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, true
from sqlmodel import Session, select

from groupsms import db
from groupsms.access import scopes
from groupsms.access.fetch import (
    access_contact,
    access_group,
    access_number,
    clean_id,
    usable_number,
)
from groupsms.access.search import contact_search_clause, group_search_clause, list_filter_clause, message_text_clause
from groupsms.access.sending import send_block_reason
from groupsms.domain import groups as rules
from groupsms.domain.phones import format_display, is_us_ca
from groupsms.domain.search import LIST_FILTERS, filter_participants, text_terms
from groupsms.errors import DuplicateGroup, FieldError, NotFound, ValidationError
from groupsms.messaging import events, notify
from groupsms.messaging.optout import active_group_clause, active_opt_outs, lock_of, opted_out_notes
from groupsms.models import (
    BusinessNumber,
    Contact,
    Group,
    GroupRead,
    Message,
    OptOut,
    Participant,
    ProviderNumber,
    User,
    utcnow,
)
from groupsms.services.messages import _reachable
from groupsms.services._base import (
    Actor,
    acting_user,
    audit,
    clean_bool,
    clean_limit,
    clean_query,
    participant_names,
    require,
)

__all__ = [
    "NumberOption", "PickerOption", "GroupPreview", "GroupSummary", "ParticipantView", "GroupDetail",
    "picker_numbers", "picker_contacts", "preview_group", "create_group",
    "list_groups", "get_group", "search_participants", "mark_read", "regroup_selection",
]


@dataclass(frozen=True)
class NumberOption:
    id: int
    e164: str
    display: str
    label: str
    is_default: bool


@dataclass(frozen=True)
class PickerOption:
    """One checkbox of the picker: a contact's primary or secondary number (R3 reason if disabled)."""

    contact_id: int
    which: str
    name: str
    e164: str
    display: str
    disabled_reason: str | None


@dataclass(frozen=True)
class GroupPreview:
    problems: tuple[FieldError, ...]
    overlaps: tuple[str, ...]  # E2: "(512) 555-0111 is already in 2 active groups on this number"
    duplicate_group_id: int | None  # E11


@dataclass(frozen=True)
class GroupSummary:
    id: int
    title: str
    number_label: str
    number_display: str
    participant_count: int
    locked_reason: str | None
    last_message_preview: str
    last_activity_at: datetime
    unread_count: int = 0  # inbound messages since the actor last opened the group (E7)
    name: str = ""  # the group's own name ("" when it has none: the title is its participants)
    people: str = ""  # its participants' names
    created_by_me: bool = False
    matched_message: bool = False  # the preview is the newest message that matched the search


@dataclass(frozen=True)
class ParticipantView:
    id: int
    contact_id: int
    name: str
    e164: str
    display: str
    which: str
    tag: str | None  # R8: "Updated" | "Deleted"
    # The contact has DND now, or this number opted out by text (R10, E1: the group is locked because of them).
    dnd: bool = False
    opted_out: str = ""  # E1: "Opted out by text on <date>"


@dataclass(frozen=True)
class GroupDetail:
    id: int
    title: str
    number_id: int
    number_label: str
    number_display: str
    created_by: str
    created_at: datetime
    participants: tuple[ParticipantView, ...]
    locked_reason: str | None
    can_send: bool
    send_block_reason: str | None
    # Who a message sent now reaches (R4, E1): the participants less numbers that opted out or
    # that a contact with DND holds, as `send_message` counts them; 0 when the actor may not send.
    recipients: int = 0


# -- the facts about a contact's numbers that decide whether they may join a group (R3, E1) -------

@dataclass(frozen=True)
class _NumberFacts:
    opted_out: dict[str, str]  # E1: "Opted out by text on <date>" per number in the registry
    business: frozenset[str]  # numbers the install texts from: never a participant


def _number_facts(s: Session, location_id: int, contacts: list[Contact]) -> _NumberFacts:
    e164s = {e for c in contacts for e in (c.primary_phone, c.secondary_phone) if e}
    if not e164s:
        return _NumberFacts({}, frozenset())
    # Any location's, and any the provider account owns: a relay to one would text ourselves.
    business = set(s.exec(select(BusinessNumber.e164).where(BusinessNumber.e164.in_(e164s))).all())
    business |= set(s.exec(select(ProviderNumber.e164).where(ProviderNumber.e164.in_(e164s))).all())
    return _NumberFacts(opted_out_notes(s, location_id, e164s), frozenset(business))


def _participant_choice(contact: Contact, which: str, facts: _NumberFacts) -> rules.ParticipantChoice:
    e164 = contact.phone(which)
    return rules.ParticipantChoice(
        contact_id=contact.id, which=which, name=contact.name, e164=e164,
        dnd=contact.dnd_sms, deleted=contact.deleted_at is not None,
        opted_out=facts.opted_out.get(e164), business_number=e164 in facts.business,
    )


# -- the picker ------------------------------------------------------------------------------------

def picker_numbers(actor: Actor | None) -> list[NumberOption]:
    """Numbers the actor may create groups from: theirs by R12, never a non-US/CA one (R1)."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        rows = s.exec(
            scopes.numbers_for(user)
            .where(BusinessNumber.sms_capable)
            .order_by(BusinessNumber.is_default.desc(), BusinessNumber.label)
        )
        return [
            NumberOption(n.id, n.e164, format_display(n.e164), n.label, n.is_default)
            for n in rows if is_us_ca(n.e164)
        ]


def picker_contacts(actor: Actor | None, search: Any = None, limit: Any = 50) -> list[PickerOption]:
    """Every number of every contact the actor may see (R11); ineligible ones carry the reason (R3)."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        query = scopes.contacts_for(user)
        text = clean_query(search)
        if text:
            query = query.where(contact_search_clause(text))
        options = []
        found = list(s.exec(query.order_by(Contact.name, Contact.id).limit(clean_limit(limit))))
        facts = _number_facts(s, user.location_id, found)
        for contact in found:
            for which in rules.WHICH_NUMBERS:
                e164 = contact.phone(which)
                if e164:
                    options.append(PickerOption(
                        contact.id, which, contact.name, e164, format_display(e164),
                        rules.ineligibility_reason(_participant_choice(contact, which, facts)),
                    ))
        return options


# -- creation -------------------------------------------------------------------------------------

def _clean_participants(value: Any) -> list[tuple[Any, str]]:
    """Accepts [(contact_id, which)], [{"contact_id":…, "which":…}] or ["12:primary"]."""
    if not isinstance(value, (list, tuple)):
        raise ValidationError("Participants must be a list", "participants")
    if len(value) > 50:
        raise ValidationError(f"A group can have at most {rules.MAX_PARTICIPANTS} participants", "participants")
    pairs = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            contact_id, _, which = item.partition(":")
            which = which or "primary"
        elif isinstance(item, dict):
            contact_id, which = item.get("contact_id"), item.get("which", "primary")
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            contact_id, which = item
        else:
            raise ValidationError(f"Participant {i + 1} is not a (contact, number) pair", f"participants[{i}]")
        if which not in rules.WHICH_NUMBERS:
            raise ValidationError(f"Participant {i + 1}: number must be primary or secondary", f"participants[{i}]")
        pairs.append((contact_id, which))
    return pairs


def _active_groups_on(s: Session, user: User, number_id: int, *, visible_only: bool) -> dict[int, list[str]]:
    """Active groups on the number and their numbers; E11 offers only groups the user can open."""
    visible = scopes.group_visibility_clause(user) if visible_only else true()
    rows = s.exec(
        select(Participant.group_id, Participant.e164)
        .join(Group, Group.id == Participant.group_id)
        .where(Group.business_number_id == number_id, active_group_clause(), visible)
    )
    found: dict[int, list[str]] = {}
    for group_id, e164 in rows:
        found.setdefault(group_id, []).append(e164)
    return found


def _evaluate(s: Session, user: User, number_id: Any, participants: Any):
    number = access_number(s, user, number_id)  # R12 (and R14): NotFound if not usable
    contacts = [(access_contact(s, user, cid), which) for cid, which in _clean_participants(participants)]
    facts = _number_facts(s, user.location_id, [c for c, _ in contacts])
    choices = [_participant_choice(c, which, facts) for c, which in contacts]
    facts = rules.BusinessNumberFacts(number.e164, number.location_id == user.location_id, number.sms_capable)
    problems = tuple(FieldError(p.field, p.message, p.rule) for p in rules.check_group(facts, choices))
    e164s = [c.e164 for c in choices if c.e164]
    existing = _active_groups_on(s, user, number.id, visible_only=False)
    duplicate = rules.find_duplicate(e164s, _active_groups_on(s, user, number.id, visible_only=True))
    overlaps = tuple(
        f"{format_display(e164)} is already in {len(ids)} active group{'s' if len(ids) > 1 else ''} "
        "on this number: its replies will wait in Needs routing"
        for e164, ids in rules.overlap_warnings(e164s, existing).items()
    )
    return number, contacts, GroupPreview(problems, overlaps, duplicate)


def preview_group(actor: Actor | None, number_id: Any, participants: Any) -> GroupPreview:
    """What creating this group would say (problems, E2 warnings, E11 duplicate), writing nothing."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        return _evaluate(s, user, number_id, participants)[2]


def create_group(
    actor: Actor | None, number_id: Any, participants: Any, allow_duplicate: Any = False
) -> int:
    """Create a group from a business number and 2–9 contact numbers, capturing names and numbers."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        allow_duplicate = clean_bool(allow_duplicate, "allow duplicate")
        number, contacts, preview = _evaluate(s, user, number_id, participants)
        if preview.problems:
            raise ValidationError(preview.problems)
        if preview.duplicate_group_id is not None and not allow_duplicate:
            raise DuplicateGroup(preview.duplicate_group_id)
        group = Group(location_id=user.location_id, business_number_id=number.id, created_by_id=user.id)
        s.add(group)
        s.flush()
        for position, (contact, which) in enumerate(contacts):
            s.add(Participant(
                group_id=group.id, contact_id=contact.id, which=which, name=contact.name,
                e164=contact.phone(which), position=position,
            ))
        audit(
            s, user, "group.created", "group", group.id, number=number.e164,
            participants=[f"{c.id}:{w}" for c, w in contacts],
        )
        notify.publish(s, events.GroupCreated(group.location_id, group.id))
        return group.id


# -- reading --------------------------------------------------------------------------------------

def _clean_filter(value: Any) -> str:
    if value is None or value == "":
        return "all"
    if not isinstance(value, str) or value not in LIST_FILTERS:
        raise ValidationError("Filter must be one of: " + ", ".join(LIST_FILTERS), "filter")
    return value


def _matching_messages(s: Session, group_ids: list[int], terms: list[str]) -> dict[int, str]:
    """The newest message of each group whose text matched the search (the row's snippet)."""
    if not group_ids or not terms:
        return {}
    newest = (
        select(func.max(Message.id))
        .where(Message.group_id.in_(group_ids), message_text_clause(s.get_bind().dialect.name, terms))
        .group_by(Message.group_id)
    )
    rows = s.exec(select(Message.group_id, Message.body).where(Message.id.in_(newest)))
    return {gid: body[:120] for gid, body in rows}


def list_groups(
    actor: Actor | None, search: Any = None, limit: Any = 50, filter: Any = None
) -> list[GroupSummary]:
    """The groups the actor may see (R11), most recent activity first. Search finds a group by its
    name, a participant's name or number, or a word of a message (E7); `filter` is "all",
    "unread", "mine" (created by the actor) or "locked". A fixed number of statements however
    many groups are listed."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        which = _clean_filter(filter)
        query = (
            select(Group, BusinessNumber)
            .join(BusinessNumber, BusinessNumber.id == Group.business_number_id)
            .where(scopes.group_visibility_clause(user), list_filter_clause(user, which))
        )
        text_query = clean_query(search)
        terms = text_terms(text_query) if text_query else []
        if text_query:
            query = query.where(group_search_clause(s.get_bind().dialect.name, text_query, terms))
        rows = s.exec(query.order_by(Group.last_activity_at.desc(), Group.id.desc()).limit(clean_limit(limit))).all()
        ids = [g.id for g, _ in rows]
        names = participant_names(s, ids)
        latest = _latest_messages(s, ids)
        matched = _matching_messages(s, ids, terms)
        unread = _unread_counts(s, user, ids)
        summaries = []
        for g, number in rows:
            people = rules.group_title(names.get(g.id, []))
            summaries.append(GroupSummary(
                g.id, g.name or people, number.label, format_display(number.e164),
                len(names.get(g.id, [])), g.locked_reason, matched.get(g.id, latest.get(g.id, "")),
                g.last_activity_at, unread.get(g.id, 0), name=g.name, people=people,
                created_by_me=g.created_by_id == user.id, matched_message=g.id in matched,
            ))
        return summaries


def _unread_counts(s: Session, user: User, group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = s.exec(
        select(Message.group_id, func.count(Message.id))
        .join(GroupRead, and_(GroupRead.group_id == Message.group_id, GroupRead.user_id == user.id), isouter=True)
        .where(
            Message.group_id.in_(group_ids), Message.direction == "inbound",
            Message.id > func.coalesce(GroupRead.last_read_message_id, 0),
        )
        .group_by(Message.group_id)
    )
    return dict(rows.all())


def mark_read(actor: Actor | None, group_id: Any) -> None:
    """The actor has seen everything in the group so far (clears its unread count).

    Publishes nothing: unread counts are the actor's own, and the page that marks them shows the
    new count itself; nobody else's page changes."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        group = access_group(s, user, group_id)
        newest = s.exec(select(func.max(Message.id)).where(Message.group_id == group.id)).one() or 0
        marker = s.get(GroupRead, (user.id, group.id))
        if marker is None:
            marker = GroupRead(user_id=user.id, group_id=group.id)
        if marker.last_read_message_id < newest:
            marker.last_read_message_id = newest
            marker.updated_at = utcnow()
            s.add(marker)


def _latest_messages(s: Session, group_ids: list[int]) -> dict[int, str]:
    """The newest message body of each group (ids grow with time)."""
    if not group_ids:
        return {}
    newest = select(func.max(Message.id)).where(Message.group_id.in_(group_ids)).group_by(Message.group_id)
    rows = s.exec(select(Message.group_id, Message.body).where(Message.id.in_(newest)))
    return {gid: body[:120] for gid, body in rows}


def _participants(s: Session, group: Group) -> tuple[list[tuple[Participant, Contact]], dict[str, OptOut]]:
    """The group's participants with their contacts, and the active opt-outs of their numbers:
    two statements however many participants."""
    rows = list(s.exec(
        select(Participant, Contact)
        .join(Contact, Contact.id == Participant.contact_id)
        .where(Participant.group_id == group.id)
        .order_by(Participant.position)
    ).all())
    return rows, active_opt_outs(s, group.location_id, [p.e164 for p, _ in rows])


def _participant_views(rows: list[tuple[Participant, Contact]], opt_outs: dict[str, OptOut]) -> list[ParticipantView]:
    notes = {e164: rules.opted_out_text(row.opted_out_at) for e164, row in opt_outs.items()}
    return [
        ParticipantView(
            p.id, p.contact_id, p.name, p.e164, format_display(p.e164), p.which,
            rules.participant_tag(p.e164, c.phone(p.which), c.deleted_at is not None),
            c.dnd_sms or p.e164 in notes, notes.get(p.e164, ""),
        )
        for p, c in rows
    ]


def get_group(actor: Actor | None, group_id: Any) -> GroupDetail:
    """One conversation's header: its number, participants (R7, R8 tags, E1 notes), lock (R10) and
    whether the actor may send (R13). A fixed number of statements however many participants."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        group = access_group(s, user, group_id)
        usable = usable_number(s, user, group.business_number_id)
        number = usable or s.get(BusinessNumber, group.business_number_id)
        creator = s.get(User, group.created_by_id) if group.created_by_id else None
        rows, opt_outs = _participants(s, group)
        participants = _participant_views(rows, opt_outs)
        locked = lock_of(group, rows, opt_outs)
        block = send_block_reason(s, user, group, locked=locked, number=usable)
        return GroupDetail(
            group.id, rules.group_title([p.name for p in participants]), number.id, number.label,
            format_display(number.e164), creator.name if creator else "",
            group.created_at, tuple(participants), locked, block is None, block,
            recipients=_reachable(s, group.location_id, [p for p, _ in rows]) if block is None else 0,
        )


def search_participants(actor: Actor | None, group_id: Any, search: Any) -> list[ParticipantView]:
    """R6: by name or by number, whatever the number's formatting."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        group = access_group(s, user, group_id)
        text = clean_query(search)
        return filter_participants(text, _participant_views(*_participants(s, group)), key=lambda p: (p.name, p.e164))


def regroup_selection(actor: Actor | None, group_id: Any, without_contact_id: Any) -> tuple[int, list[tuple[int, str]]]:
    """R10 "Create a new group without <name>": the group's number and its other participants,
    to pre-select in the group dialog (which still checks everything when creating)."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        group = access_group(s, user, group_id)
        without = clean_id(without_contact_id, "Participant")
        participants = _participant_views(*_participants(s, group))
        if not any(p.contact_id == without for p in participants):
            raise NotFound("Participant")
        return group.business_number_id, [(p.contact_id, p.which) for p in participants
                                          if p.contact_id != without]
