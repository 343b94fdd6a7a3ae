"""Pieces of the group conversation page around the messages: the header (name, participants,
rename), participants, the details panel, and the locked banner (R10). The messages themselves:
components/chat.py; the composer (E5): components/composer.py.

On a phone the header is compact ("9 people" opens the participants panel), the composer stays at
the bottom of the screen and the details panel goes below the conversation (assets/group_page.css).

Pure layout: every function takes the state's vars and event handlers it shows (`conversation`
takes the page's state class), so the page module owns all state.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import reflex as rx

from groupsms.components import chat, forms
from groupsms.components.composer import composer
from groupsms.domain.clock import Clock
from groupsms.services.groups import GROUP_NAME_MAX, GroupDetail, LockCause, ParticipantView

# -- what the page shows, already formatted (the page state holds these) ---------------------------


@dataclasses.dataclass
class ParticipantRow:
    id: int
    contact_id: int
    name: str
    display: str
    tag: str
    initials: str
    label: str


@dataclasses.dataclass
class RegroupLink:
    label: str
    href: str


def initials(name: str) -> str:
    parts = [p for p in name.split() if p[:1].isalnum()]
    return "".join(p[0] for p in parts[:2]).upper() or "#"


def participant_row(p: ParticipantView) -> ParticipantRow:
    tag = p.tag or ""
    label = f"{p.name}, {p.display}" + (f", {tag}" if tag else "")
    return ParticipantRow(p.id, p.contact_id, p.name, p.display, tag, initials(p.name), label)


def people_text(detail: GroupDetail) -> str:
    """"3 people", or "3 people, 4 numbers" when someone is in with both numbers."""
    people = len({p.contact_id for p in detail.participants})
    text = f"{people} {'person' if people == 1 else 'people'}"
    numbers = len(detail.participants)
    return text if numbers == people else f"{text}, {numbers} numbers"


def regroup_links(detail: GroupDetail) -> list[RegroupLink]:
    """R10: "Create a new group without <name>" for everyone who locked the group, whatever
    happened since (it never disappears), and "Recreate with everyone" once nobody is kept out
    any more (they opted back in, DND was turned off). The old group and its history stay."""
    if not detail.locked_reason:
        return []
    causing = [(c.contact_id, c.name) for c in detail.lock_causes]
    if not causing:  # a lock whose cause left no trace: the participants who are kept out now
        causing = [(p.contact_id, p.name) for p in detail.participants if p.dnd]
    links, seen = [], set()
    if detail.regroup_everyone:
        links.append(RegroupLink("Recreate with everyone", f"/?regroup={detail.id}"))
    for contact_id, name in causing:
        if contact_id in seen:
            continue
        seen.add(contact_id)
        links.append(RegroupLink(f"Create a new group without {name}", f"/?regroup={detail.id}&without={contact_id}"))
    return links


def _moment(clock: Clock, at: datetime, now: datetime | None) -> str:
    """"Dec 1, 2:46 PM" in the viewer's zone and clock."""
    return f"{clock.date(at, now)}, {clock.time(at)}"


def lock_line(cause: LockCause, clock: Clock, now: datetime | None = None) -> str:
    """What happened, in order: "Tom Becker opted out by texting STOP · Dec 1, 2:46 PM, and opted
    back in · Dec 2, 9:10 AM", "Ada Admin turned on Do not disturb for Tom Becker · Dec 1, 2:46 PM"."""
    if cause.kind == "opt_out":
        how = f"opted out by texting {cause.keyword}" if cause.via == "text" else "opted out"
        line = f"{cause.name} {how}" + (f" · {_moment(clock, cause.at, now)}" if cause.at else "")
        if not cause.still:
            line += ", and opted back in" + (f" · {_moment(clock, cause.ended_at, now)}" if cause.ended_at else "")
        return line
    if cause.at is None:
        return f"Do not disturb is on for {cause.name}" if cause.still else f"Do not disturb was on for {cause.name}"
    who = cause.by or "Someone"
    line = f"{who} turned on Do not disturb for {cause.name} · {_moment(clock, cause.at, now)}"
    if not cause.still:
        line += ", and it was turned off" + (f" · {_moment(clock, cause.ended_at, now)}" if cause.ended_at else "")
    return line


def lock_lines(detail: GroupDetail, clock: Clock, now: datetime | None = None) -> list[str]:
    """The banner's sentences, one per cause; the stored reason when no cause is known."""
    if not detail.locked_reason:
        return []
    lines = [lock_line(c, clock, now) + "." for c in detail.lock_causes]
    return lines or [detail.locked_reason.rstrip(".") + "."]


def lock_note(detail: GroupDetail) -> str:
    """The banner's last words: a lock is for good (R10), even once the cause is gone."""
    if detail.lock_causes and not any(c.still for c in detail.lock_causes):
        return "This group stays locked: nothing can be sent or relayed here; replies are still saved."
    return "Nothing can be sent or relayed here; replies are still saved."


# -- layout ----------------------------------------------------------------------------------------


def tag_badge(tag: Any) -> rx.Component:
    """R8: "Updated" (the contact's number changed) or "Deleted" (the contact was deleted)."""
    return rx.cond(
        tag != "",
        rx.badge(
            tag,
            color_scheme=rx.cond(tag == "Deleted", "red", "amber"),
            variant="soft",
            size="1",
            class_name="participant-tag",
        ),
    )


def participant_chip(row: Any) -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=row.initials, size="2", radius="full", variant="soft"),
        rx.vstack(
            rx.hstack(
                rx.text(row.name, size="2", weight="medium", class_name="participant-name", title=row.name),
                tag_badge(row.tag),
                spacing="1",
                align="center",
                wrap="wrap",
            ),
            rx.text(row.display, size="1", color_scheme="gray", class_name="participant-number"),
            spacing="0",
            min_width="0",
        ),
        spacing="2",
        align="center",
        class_name="participant-chip",
        role="listitem",
        aria_label=row.label,
    )


def participants_panel(
    matches: Any, count_text: Any, on_search: Any, no_match: Any, open_: Any = True
) -> rx.Component:
    """Top panel: every participant, filtered by the "Search participants" box (R6). Always shown
    on a wide screen; on a phone only once "N people" in the header opened it (`open_`)."""
    return rx.el.section(
        rx.hstack(
            rx.heading("Participants", size="2", as_="h2", class_name="panel-title"),
            rx.text(count_text, size="1", color_scheme="gray"),
            rx.spacer(),
            rx.el.div(
                rx.input(
                    rx.input.slot(rx.icon("search", size=14)),
                    placeholder="Search by name or number",
                    aria_label="Search participants",
                    type="search",
                    on_change=on_search.debounce(200),
                    max_length=100,
                    size="2",
                    width="100%",
                ),
                class_name="participant-search",
            ),
            align="center",
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            no_match,
            rx.text("No participant matches your search.", size="2", color_scheme="gray", padding_y="0.5rem"),
            rx.el.div(
                rx.foreach(matches, participant_chip),
                role="list",
                aria_label="Participants",
                class_name="participant-list",
            ),
        ),
        aria_label="Participants",
        id="participants-panel",
        class_name="chat-panel participants-panel",
        data_open=rx.cond(open_, "true", "false"),
    )


def details_panel(
    contact_name: Any, open_: Any, on_toggle: Any, participants: Any, number_text: Any, created_text: Any
) -> rx.Component:
    """Right panel (R7): the contact's name with a chevron that expands to all participants."""
    return rx.el.aside(
        rx.hstack(
            rx.vstack(
                rx.text("Contact", size="1", color_scheme="gray"),
                rx.heading(contact_name, size="3", as_="h2", class_name="details-name"),
                spacing="0",
                min_width="0",
            ),
            rx.spacer(),
            rx.icon_button(
                rx.cond(open_, rx.icon("chevron-up", size=18), rx.icon("chevron-down", size=18)),
                aria_label="Show participants",
                aria_expanded=rx.cond(open_, "true", "false"),
                aria_controls="all-participants",
                variant="soft",
                color_scheme="gray",
                on_click=on_toggle,
            ),
            align="center",
            width="100%",
        ),
        rx.cond(
            open_,
            rx.el.div(
                rx.foreach(participants, participant_chip),
                id="all-participants",
                role="list",
                aria_label="All participants",
                class_name="details-list",
            ),
        ),
        rx.el.div(
            rx.separator(size="4", margin_y="0.75rem"),
            rx.vstack(
                rx.text("Sends from", size="1", color_scheme="gray"),
                rx.text(number_text, size="2"),
                rx.text(created_text, size="1", color_scheme="gray"),
                spacing="1",
            ),
            class_name="details-extra",
        ),
        aria_label="Conversation details",
        class_name="chat-panel details-panel",
        data_open=rx.cond(open_, "true", "false"),
    )


def locked_banner(lines: Any, note: Any, regroup_links: Any) -> rx.Component:
    """R10: what locked the group, what happened since, and the ways out."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("lock", size=16)),
        rx.vstack(
            rx.callout.text(rx.text.strong("This group is locked.")),
            rx.foreach(lines, lambda line: rx.callout.text(line, class_name="lock-line")),
            rx.callout.text(note, size="1"),
            rx.hstack(
                rx.foreach(
                    regroup_links,
                    lambda link: rx.button(
                        rx.icon("users", size=14),
                        link.label,
                        size="2",
                        variant=rx.cond(link.label == "Recreate with everyone", "solid", "soft"),
                        color_scheme="red",
                        class_name="regroup-button",
                        on_click=rx.redirect(link.href),
                    ),
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
        ),
        color_scheme="red",
        role="alert",
        class_name="locked-banner",
    )


def rename_dialog(s: Any) -> rx.Component:
    """A group's optional name; who is in the group never changes (R9)."""
    return forms.dialog(
        "Rename group",
        "The name shows in the conversation list and above the participants. Leave it empty to show "
        "the participants' names. Who is in the group and its number never change.",
        s.rename_open,
        s.close_rename,
        rx.form(
            rx.vstack(
                forms.text_field("Group name", "group-name", "name", max_length=GROUP_NAME_MAX,
                                 placeholder="12 Maple Ridge closing", default_value=s.group_name,
                                 error=s.rename_error),
                forms.dialog_buttons("Save", s.close_rename(False)),
                spacing="3", width="100%",
            ),
            on_submit=s.save_name,
            reset_on_submit=False,
            key=s.rename_key,
        ),
    )


def header(s: Any) -> rx.Component:
    """The group's name with its participants below it (or just the participants), the number,
    and on a phone "9 people" opening the participants panel."""
    return rx.el.header(
        rx.link(rx.icon("arrow-left", size=16), "Conversations", href="/", class_name="back-link",
                underline="none"),
        rx.el.div(
            rx.el.div(
                rx.heading(s.title, size="5", as_="h1", class_name="chat-title", title=s.title),
                rx.cond(
                    s.group_name != "",
                    rx.text(s.people, size="2", color_scheme="gray", class_name="chat-people", title=s.people),
                ),
                class_name="chat-title-block",
            ),
            rx.cond(s.locked_reason != "", rx.badge(rx.icon("lock", size=12), "Locked", color_scheme="red")),
            rx.cond(
                s.can_rename,
                rx.icon_button(rx.icon("pencil", size=14), aria_label="Rename group", title="Rename group",
                               variant="ghost", color_scheme="gray", size="2", on_click=s.open_rename),
            ),
            class_name="chat-title-row",
        ),
        rx.el.div(
            rx.text(s.number_text, size="2", color_scheme="gray", class_name="chat-number", title=s.number_text),
            rx.el.button(
                s.people_text,
                rx.cond(s.people_open, rx.icon("chevron-down", size=14), rx.icon("chevron-right", size=14)),
                type="button",
                class_name="people-toggle",
                aria_expanded=rx.cond(s.people_open, "true", "false"),
                aria_controls="participants-panel",
                on_click=s.toggle_people,
            ),
            class_name="chat-subline",
        ),
        class_name="chat-header",
    )


def conversation(s: Any) -> rx.Component:
    """The ready page: header, participants, messages, composer and the details panel."""
    return rx.el.div(
        header(s),
        participants_panel(
            s.matches, s.people_text, s.search_participants,
            (s.participant_query != "") & (s.matches.length() == 0), s.people_open,
        ),
        rx.el.div(
            rx.el.div(
                rx.cond(s.locked_reason != "", locked_banner(s.lock_lines, s.lock_note, s.regroup_links)),
                chat.message_log(s),
                composer(
                    on_submit=s.send, on_draft=s.draft_changed, counter=s.counter, problem=s.draft_problem,
                    can_send=s.can_send, block_reason=s.send_block_reason, sending=s.sending,
                    send_error=s.send_error, compose_key=s.compose_key, show_block=s.locked_reason == "",
                    cost=s.cost,
                ),
                class_name="chat-main",
            ),
            details_panel(s.contact_name, s.panel_open, s.toggle_panel, s.participants, s.number_text,
                               s.created_text),
            class_name="chat-body",
        ),
        rename_dialog(s),
        class_name="chat-page",
    )
