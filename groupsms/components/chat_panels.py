"""Pieces of the group conversation page around the messages: participants, the details panel,
and the locked banner (R10). The messages themselves: components/chat.py; the composer (E5):
components/composer.py.

Pure layout: every function takes the state's vars and event handlers it shows (`conversation`
takes the page's state class), so the page module owns all state.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from groupsms.components import chat
from groupsms.components.composer import composer
from groupsms.services.groups import GroupDetail, ParticipantView

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


def regroup_links(detail: GroupDetail) -> list[RegroupLink]:
    """R10: one "Create a new group without <name>" per participant whose contact has DND."""
    if not detail.locked_reason:
        return []
    links, seen = [], set()
    for p in detail.participants:
        if p.contact_id in seen or not p.dnd:
            continue
        seen.add(p.contact_id)
        links.append(RegroupLink(
            f"Create a new group without {p.name}", f"/?regroup={detail.id}&without={p.contact_id}"
        ))
    return links


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
                rx.text(row.name, size="2", weight="medium", class_name="participant-name"),
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


def participants_panel(matches: Any, count_text: Any, on_search: Any, no_match: Any) -> rx.Component:
    """Top panel: every participant, filtered by the "Search participants" box (R6)."""
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
        class_name="chat-panel participants-panel",
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


def locked_banner(reason: Any, regroup_links: Any) -> rx.Component:
    """R10: why nobody can send, and the way out."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("lock", size=16)),
        rx.vstack(
            rx.callout.text(rx.text.strong("This group is locked. "), reason, "."),
            rx.callout.text(
                "Nothing can be sent or relayed here; replies are still saved.", size="1"
            ),
            rx.hstack(
                rx.foreach(
                    regroup_links,
                    lambda link: rx.button(
                        rx.icon("users", size=14),
                        link.label,
                        size="2",
                        variant="solid",
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


def conversation(s: Any) -> rx.Component:
    """The ready page: header, participants, messages, composer and the details panel."""
    return rx.el.div(
        rx.el.header(
            rx.link(rx.icon("arrow-left", size=16), "Conversations", href="/", class_name="back-link",
                    underline="none"),
            rx.hstack(
                rx.heading(s.title, size="5", as_="h1", class_name="chat-title"),
                rx.cond(s.locked_reason != "", rx.badge(rx.icon("lock", size=12), "Locked", color_scheme="red")),
                align="center",
                spacing="2",
                min_width="0",
            ),
            rx.text(s.number_text, size="2", color_scheme="gray"),
            class_name="chat-header",
        ),
        participants_panel(
            s.matches, s.participants.length().to_string() + " people", s.search_participants,
            (s.participant_query != "") & (s.matches.length() == 0),
        ),
        rx.el.div(
            rx.el.div(
                rx.cond(s.locked_reason != "", locked_banner(s.locked_reason, s.regroup_links)),
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
        class_name="chat-page",
    )
