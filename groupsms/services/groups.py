"""Group conversations: the picker, creation (R1–R3, R9, R11, R12, E2, E11), listing and reading."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, true
from sqlmodel import Session, select

from groupsms import db
from groupsms.access import policy, scopes
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
from groupsms.domain import intro as intros
from groupsms.domain.phones import format_display, is_us_ca
from groupsms.domain.search import LIST_FILTERS, filter_participants, text_terms
from groupsms.errors import DuplicateGroup, FieldError, NotFound, ValidationError
from groupsms.messaging import events, notify
from groupsms.messaging.optout import active_group_clause, active_opt_outs, lock_of, opted_out_notes
from groupsms.models import (
    AuditEvent,
    BusinessNumber,
    Contact,
    Group,
    GroupRead,
    Location,
    Message,
    OptOut,
    Participant,
    ProviderNumber,
    User,
    utcnow,
)
from groupsms.services._base import (
    Actor,
    acting_user,
    audit,
    clean_bool,
    clean_limit,
    clean_query,
    clean_text,
    participant_names,
    require,
)
from groupsms.services.messages import _queue_to_participants, _reachable

__all__ = [
    "NumberOption", "PickerOption", "PickerPage", "GroupPreview", "GroupSummary", "ParticipantView", "GroupDetail",
    "LockCause",
    "picker_numbers", "picker_contacts", "picker_page", "preview_group", "create_group",
    "list_groups", "get_group", "search_participants", "mark_read", "regroup_selection", "rename_group",
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
class PickerPage:
    """What the picker shows: the numbers of the first `shown` contacts of `total` that match."""

    options: tuple[PickerOption, ...]
    shown: int  # contacts listed
    total: int  # contacts the actor may see that match the search


@dataclass(frozen=True)
class GroupPreview:
    problems: tuple[FieldError, ...]
    # E2, naming the person: "Carla Client's number (512) 555-0111 is already in 2 active groups on this number…"
    overlaps: tuple[str, ...]
    duplicate_group_id: int | None  # E11
    intro_text: str = ""  # the intro these participants would get, in the location's wording
    intro_note: str = ""  # what it costs each: "1 SMS segment"


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
class LockCause:
    """One thing that locked the group (R10), as it happened: a participant's number texted an
    opt-out keyword (E1), or staff turned on Do not disturb for a participant's contact."""

    contact_id: int
    name: str  # the participant's name as the group shows it
    kind: str  # "opt_out" | "dnd"
    at: datetime | None  # when it opted out, or DND was turned on (None: not recorded)
    keyword: str = ""  # opt_out: what the number texted ("STOP")
    via: str = "text"  # opt_out: how it opted out
    by: str = ""  # dnd: who turned it on ("" when no audit event says)
    ended_at: datetime | None = None  # it opted back in (START), or DND was turned off
    still: bool = True  # still opted out / DND still on


@dataclass(frozen=True)
class GroupDetail:
    id: int
    title: str  # the group's name, else its participants' names
    number_id: int
    number_label: str
    number_display: str
    created_by: str
    created_at: datetime
    participants: tuple[ParticipantView, ...]
    locked_reason: str | None
    can_send: bool
    send_block_reason: str | None
    name: str = ""  # the group's own name ("" when it has none)
    people: str = ""  # its participants' names
    lock_causes: tuple[LockCause, ...] = ()  # what locked it, oldest first (empty when unlocked)
    # Locked, and every participant could join a new group again (nobody opted out, has DND or
    # was deleted): "Recreate with everyone" is offered.
    regroup_everyone: bool = False
    can_rename: bool = False  # the actor may rename it (the permission to create groups)
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
        return _picker_options(s, user, _picker_query(user, search), clean_limit(limit))


def picker_page(actor: Actor | None, search: Any = None, limit: Any = 50) -> PickerPage:
    """`picker_contacts` with how many contacts it shows of how many match ("100 of 240")."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        query = _picker_query(user, search)
        options = _picker_options(s, user, query, clean_limit(limit))
        shown = len({o.contact_id for o in options})
        total = shown
        if shown >= clean_limit(limit):
            total = s.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
        return PickerPage(tuple(options), shown, total)


def _picker_query(user: User, search: Any):
    query = scopes.contacts_for(user)
    text = clean_query(search)
    return query.where(contact_search_clause(text)) if text else query


def _picker_options(s: Session, user: User, query, limit: int) -> list[PickerOption]:
    options = []
    found = list(s.exec(query.order_by(Contact.name, Contact.id).limit(limit)))
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


def _whose_number(choice: rules.ParticipantChoice) -> str:
    """"Carla Client's number (512) 555-0111", "Carla Client's secondary number (512) 555-0121"."""
    which = "secondary number" if choice.which == "secondary" else "number"
    return f"{choice.name.strip() or 'A contact'}'s {which} {format_display(choice.e164 or '')}"


def _intro_names(contacts: list[tuple[Contact, str]]) -> list[str]:
    """The people an intro names: each contact once (one may join with both numbers), in order."""
    seen: dict[int, str] = {}
    for contact, _ in contacts:
        seen.setdefault(contact.id, contact.name)
    return list(seen.values())


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
    holder = {c.e164: c for c in reversed(choices) if c.e164}
    overlaps = tuple(
        f"{_whose_number(holder[e164])} is already in {len(ids)} active group{'s' if len(ids) > 1 else ''} "
        "on this number: replies from it will wait in Needs routing"
        for e164, ids in rules.overlap_warnings(e164s, existing).items()
    )
    location = s.get(Location, user.location_id)
    intro_text = intros.render(location.intro_text, _intro_names(contacts), location.name) if contacts else ""
    note = intros.segments_note(intro_text) if intro_text else ""
    return number, contacts, GroupPreview(problems, overlaps, duplicate, intro_text, note), location


def preview_group(actor: Actor | None, number_id: Any, participants: Any) -> GroupPreview:
    """What creating this group would say (problems, E2 warnings, E11 duplicate), writing nothing."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        return _evaluate(s, user, number_id, participants)[2]


GROUP_NAME_MAX = 120


def _clean_group_name(value: Any) -> str:
    """A group's optional name ("12 Maple Ridge closing"): one line, trimmed, at most 120
    characters; None or blank for none."""
    if isinstance(value, str) and any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in value):
        raise ValidationError("Group name must not contain control characters", "name")
    return clean_text(value, "group name", max_length=GROUP_NAME_MAX, required=False)


def create_group(
    actor: Actor | None, number_id: Any, participants: Any, allow_duplicate: Any = False,
    name: Any = None, intro: Any = None,
) -> int:
    """Create a group from a business number and 2–9 contact numbers, capturing names and numbers,
    with an optional name. `intro` says whether every participant gets the intro text (None: the
    location's setting); it is queued like a typed message, so opt-outs and DND hold for it too."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        allow_duplicate = clean_bool(allow_duplicate, "allow duplicate")
        name = _clean_group_name(name)
        send_intro = None if intro is None else clean_bool(intro, "intro")
        number, contacts, preview, location = _evaluate(s, user, number_id, participants)
        if preview.problems:
            raise ValidationError(preview.problems)
        if preview.duplicate_group_id is not None and not allow_duplicate:
            raise DuplicateGroup(preview.duplicate_group_id)
        send_intro = location.intro_enabled if send_intro is None else send_intro
        problem = intros.check_intro(preview.intro_text) if send_intro else None
        if problem:
            raise ValidationError(problem, "intro")
        group = Group(location_id=user.location_id, business_number_id=number.id, created_by_id=user.id, name=name)
        s.add(group)
        s.flush()
        added = []
        for position, (contact, which) in enumerate(contacts):
            added.append(Participant(
                group_id=group.id, contact_id=contact.id, which=which, name=contact.name,
                e164=contact.phone(which), position=position,
            ))
        s.add_all(added)
        s.flush()
        audit(
            s, user, "group.created", "group", group.id, number=number.e164,
            participants=[f"{c.id}:{w}" for c, w in contacts], name=name, intro=send_intro,
        )
        notify.publish(s, events.GroupCreated(group.location_id, group.id))
        if send_intro:
            _send_intro(s, user, group, added, preview.intro_text)
        return group.id


def _send_intro(s: Session, user: User, group: Group, participants: list[Participant], text: str) -> None:
    """The intro, stored in the conversation and queued to every participant through the outbox,
    as a typed message is (never to a number that opted out or a contact with DND)."""
    message = Message(
        location_id=group.location_id, group_id=group.id, business_number_id=group.business_number_id,
        direction="outbound", body=text, sender_user_id=user.id, kind="intro",
    )
    s.add(message)
    s.flush()
    sent = len(_queue_to_participants(s, message, participants))
    message.notice = f"Intro text sent to {sent} {'person' if sent == 1 else 'people'}"
    s.add(message)
    audit(s, user, "message.sent", "message", message.id, group=group.id, kind="intro", recipients=sent)
    notify.publish(s, events.MessageAdded(group.location_id, group.id, message.id))


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


def _participants(
    s: Session, group: Group
) -> tuple[list[tuple[Participant, Contact]], dict[str, OptOut], dict[str, OptOut]]:
    """The group's participants with their contacts, the active opt-outs of their numbers, and
    every opt-out registry row of their numbers (active or lifted by START): two statements
    however many participants."""
    rows = list(s.exec(
        select(Participant, Contact)
        .join(Contact, Contact.id == Participant.contact_id)
        .where(Participant.group_id == group.id)
        .order_by(Participant.position)
    ).all())
    wanted = sorted({p.e164 for p, _ in rows})
    registry = {row.e164: row for row in s.exec(select(OptOut).where(
        OptOut.location_id == group.location_id, OptOut.e164.in_(wanted)))} if wanted else {}
    return rows, {e164: row for e164, row in registry.items() if row.active}, registry


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


def _dnd_history(s: Session, group: Group, contact_ids: list[int]) -> dict[int, list[tuple[bool, datetime, str]]]:
    """Each contact's DND changes since the group was created, oldest first: (on, when, by whom),
    from the audit log (one statement)."""
    if not contact_ids:
        return {}
    rows = s.exec(
        select(AuditEvent, User.name)
        .join(User, User.id == AuditEvent.actor_user_id, isouter=True)
        .where(
            AuditEvent.location_id == group.location_id, AuditEvent.action == "contact.dnd_changed",
            AuditEvent.object_type == "contact", AuditEvent.object_id.in_(sorted(set(contact_ids))),
            AuditEvent.created_at >= group.created_at,
        )
        .order_by(AuditEvent.id)
    )
    history: dict[int, list[tuple[bool, datetime, str]]] = {}
    for event, by in rows:
        try:
            on = json.loads(event.detail).get("dnd")
        except (ValueError, AttributeError):
            continue
        if isinstance(on, bool):
            history.setdefault(event.object_id, []).append((on, event.created_at, by or ""))
    return history


def _lock_causes(
    s: Session, group: Group, rows: list[tuple[Participant, Contact]], registry: dict[str, OptOut]
) -> list[LockCause]:
    """What locked the group (R10), oldest first: opt-outs by text of its numbers since it was
    created (E1, also those lifted by START since), and DND on its contacts (now, or turned on
    since it was created and off again). Each person once per kind."""
    causes: list[LockCause] = []
    seen: set[tuple[int, str]] = set()
    for p, _ in rows:
        row = registry.get(p.e164)
        if row is None or not (row.active or row.opted_out_at >= group.created_at):
            continue
        if (p.contact_id, "opt_out") in seen:
            continue
        seen.add((p.contact_id, "opt_out"))
        causes.append(LockCause(
            p.contact_id, p.name, "opt_out", row.opted_out_at, keyword=row.keyword or "STOP", via=row.via,
            ended_at=None if row.active else row.opted_in_at, still=row.active,
        ))
    history = _dnd_history(s, group, [c.id for _, c in rows])
    for p, c in rows:
        if (c.id, "dnd") in seen:
            continue
        changes = history.get(c.id, [])
        turned_on = [i for i, (on, _, _) in enumerate(changes) if on]
        if not c.dnd_sms and not turned_on:
            continue
        seen.add((c.id, "dnd"))
        if turned_on:
            _, at, by = changes[turned_on[-1]]
            off = next((when for on, when, _ in changes[turned_on[-1] + 1:] if not on), None)
        else:  # DND came from a path that leaves no audit event (a load file)
            at, by, off = None, "", None
        causes.append(LockCause(c.id, p.name, "dnd", at, by=by, ended_at=None if c.dnd_sms else off,
                                still=c.dnd_sms))
    return sorted(causes, key=lambda cause: cause.at or group.created_at)


def _everyone_can_rejoin(rows: list[tuple[Participant, Contact]], opt_outs: dict[str, OptOut]) -> bool:
    """Nothing keeps any participant out of a new group now (R3): no DND, no active opt-out of the
    captured number, no deleted contact. (The group dialog still checks everything.)"""
    return bool(rows) and not any(
        c.dnd_sms or c.deleted_at is not None or p.e164 in opt_outs for p, c in rows
    )


def get_group(actor: Actor | None, group_id: Any) -> GroupDetail:
    """One conversation's header: its name, number, participants (R7, R8 tags, E1 notes), lock
    (R10) with what caused it, and whether the actor may send (R13) and rename it. A fixed number
    of statements however many participants (one more for a locked group: its DND history)."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        group = access_group(s, user, group_id)
        usable = usable_number(s, user, group.business_number_id)
        number = usable or s.get(BusinessNumber, group.business_number_id)
        creator = s.get(User, group.created_by_id) if group.created_by_id else None
        rows, opt_outs, registry = _participants(s, group)
        participants = _participant_views(rows, opt_outs)
        locked = lock_of(group, rows, opt_outs)
        block = send_block_reason(s, user, group, locked=locked, number=usable)
        people = rules.group_title([p.name for p in participants])
        return GroupDetail(
            group.id, group.name or people, number.id, number.label,
            format_display(number.e164), creator.name if creator else "",
            group.created_at, tuple(participants), locked, block is None, block,
            name=group.name, people=people, recipients=_reachable(s, group.location_id, [p for p, _ in rows]) if block is None else 0,
            lock_causes=tuple(_lock_causes(s, group, rows, registry)) if locked else (),
            regroup_everyone=bool(locked) and _everyone_can_rejoin(rows, opt_outs),
            can_rename=policy.ENFORCER.allowed(s, user.role, user.location_id, "group", "create"),
        )


def search_participants(actor: Actor | None, group_id: Any, search: Any) -> list[ParticipantView]:
    """R6: by name or by number, whatever the number's formatting."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "read")
        group = access_group(s, user, group_id)
        text = clean_query(search)
        rows, opt_outs, _ = _participants(s, group)
        return filter_participants(text, _participant_views(rows, opt_outs), key=lambda p: (p.name, p.e164))


def regroup_selection(
    actor: Actor | None, group_id: Any, without_contact_id: Any = None
) -> tuple[int, list[tuple[int, str]]]:
    """R10 "Create a new group without <name>": the group's number and its other participants,
    to pre-select in the group dialog (which still checks everything when creating). Without a
    contact ("Recreate with everyone"), every participant. The old group and its history stay."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        group = access_group(s, user, group_id)
        without = None if without_contact_id is None else clean_id(without_contact_id, "Participant")
        rows, opt_outs, _ = _participants(s, group)
        participants = _participant_views(rows, opt_outs)
        if without is not None and not any(p.contact_id == without for p in participants):
            raise NotFound("Participant")
        return group.business_number_id, [(p.contact_id, p.which) for p in participants
                                          if p.contact_id != without]


def rename_group(actor: Actor | None, group_id: Any, name: Any) -> str:
    """Name the group ("12 Maple Ridge closing"), trimmed, at most 120 characters; "" clears the
    name. Anyone who may see the group and create groups may. A name is not membership: the
    participants and the business number never change (R9). Audited with before and after;
    publishes `GroupRenamed` so open lists and pages show it. Returns the name stored."""
    with db.transaction() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        group = access_group(s, user, group_id)
        if not isinstance(name, str):
            raise ValidationError("Group name must be text (an empty text clears it)", "name")
        new = _clean_group_name(name)
        if new == group.name:
            return new
        before, group.name = group.name, new
        s.add(group)
        audit(s, user, "group.renamed", "group", group.id, before=before, after=new)
        notify.publish(s, events.GroupRenamed(group.location_id, group.id, new))
        return new
