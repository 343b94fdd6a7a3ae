"""The conversation list (/): its rows, already formatted, and the pieces that show them.

Pure layout: the functions that show the page's vars take its state class (`s`), so this module
never imports the page (which imports it).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import reflex as rx

from groupsms.components import forms
from groupsms.components.inbox_signals import notify_status, notify_toggle
from groupsms.domain.clock import Clock
from groupsms.services.groups import GroupSummary

# The "Needs routing" section lives in components/routing.py.
from groupsms.components.routing import RoutingRow, routing_row, routing_section  # noqa: E402,F401


@dataclasses.dataclass
class GroupRow:
    """What the list shows of one group (already formatted: the page holds no rules)."""

    id: int
    href: str
    title: str  # the group's name, else its participants
    people: str  # its participants, under a named group's title ("" when they are the title)
    initials: str
    number: str
    participants: str
    locked_reason: str
    preview: str
    when: str
    when_full: str
    unread: int
    matched: bool  # the preview is a message that matched the search


@dataclasses.dataclass
class GroupChoice:
    id: str
    title: str


# -- formatting ------------------------------------------------------------------------------------

def _initials(title: str, named: bool = False) -> str:
    """Two letters for the avatar: of the first two people, or of a name's first two words."""
    parts = title.split() if named else title.split(", ")
    letters = [p.strip()[:1].upper() for p in parts if p.strip() and p.strip()[:1].isalnum()][:2]
    return "".join(letters) or "#"


def group_row(summary: GroupSummary, clock: Clock, now: datetime | None = None) -> GroupRow:
    """One row, its times in the viewer's zone and clock."""
    label = (summary.number_label or "").strip()
    number = f"{label} · {summary.number_display}" if label else summary.number_display
    count = summary.participant_count
    named = bool(summary.name)
    return GroupRow(
        id=summary.id,
        href=f"/groups/{summary.id}",
        title=summary.title,
        people=summary.people if named else "",
        initials=_initials(summary.title, named),
        number=number,
        participants=f"{count} participant" + ("" if count == 1 else "s"),
        locked_reason=summary.locked_reason or "",
        preview=summary.last_message_preview or "",
        when=clock.ago(summary.last_activity_at, now) if summary.last_activity_at else "",
        when_full=clock.full(summary.last_activity_at) if summary.last_activity_at else "",
        unread=max(0, int(summary.unread_count or 0)),
        matched=bool(summary.matched_message),
    )


# -- view ------------------------------------------------------------------------------------------

def _new_message_menu(dialog: Any) -> rx.Component:
    return rx.dropdown_menu.root(
        rx.dropdown_menu.trigger(
            rx.button(
                rx.icon("square-pen", size=16),
                rx.el.span("New message", class_name="conv-hide-narrow"),
                rx.icon("chevron-down", size=14),
                aria_label="Create a new message",
                size="2",
            ),
        ),
        rx.dropdown_menu.content(
            rx.dropdown_menu.item(
                rx.hstack(rx.icon("users", size=16), rx.text("Group Message"), spacing="2", align="center"),
                on_select=dialog.open_dialog,
            ),
            align="end",
        ),
        # Not modal: a modal menu sets aria-hidden on the page behind it while its buttons stay
        # focusable (axe: aria-hidden-focus). Escape and a click outside still close it.
        modal=False,
    )


# The filters: (value, label, the state's count var).
FILTERS = (("all", "All", "count_all"), ("unread", "Unread", "count_unread"),
           ("mine", "Created by me", "count_mine"), ("locked", "Locked", "count_locked"))


def _filter_chip(s: Any, value: str, label: str, count: Any) -> rx.Component:
    chosen = s.list_filter == value
    return rx.button(
        label,
        rx.badge(count, variant="surface", radius="full", size="1"),
        on_click=s.set_filter(value),
        variant=rx.cond(chosen, "solid", "outline"),
        aria_pressed=rx.cond(chosen, "true", "false"),
        radius="full",
        size="1",
        type="button",
    )


def filters(s: Any) -> rx.Component:
    """All / Unread / Created by me / Locked, with counts; combined with the search."""
    return rx.hstack(
        *[_filter_chip(s, value, label, getattr(s, count)) for value, label, count in FILTERS],
        role="group",
        aria_label="Filter conversations",
        spacing="2",
        wrap="wrap",
        width="100%",
    )


def header(s: Any, dialog: Any) -> rx.Component:
    """The page heading, the search box, the filters, "Notify me" and the "Create a new message"
    menu opening `dialog` (the group dialog's state)."""
    return rx.vstack(
        rx.hstack(
            rx.heading("Conversations", size={"initial": "5", "xs": "6"}, as_="h1", white_space="nowrap"),
            rx.spacer(),
            notify_toggle(),
            rx.icon_button(
                rx.icon("refresh-cw", size=16),
                variant="soft",
                color_scheme="gray",
                aria_label="Refresh conversations",
                title="Refresh",
                on_click=s.refresh,
                loading=s.refreshing,
            ),
            _new_message_menu(dialog),
            align="center",
            spacing="2",
            width="100%",
        ),
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search names, numbers, texts",
            aria_label="Search conversations",
            value=s.search,
            on_change=s.search_groups,
            type="search",
            size="3",
            width="100%",
        ),
        filters(s),
        notify_status(),
        spacing="3",
        width="100%",
    )


def inbox_text(row: Any) -> tuple[rx.Component, rx.Component]:
    """Who sent a waiting text, to which number and when, then the text (Needs routing, Other texts)."""
    return (
        rx.hstack(
            rx.text(row.sender, weight="bold", size="2"),
            rx.text("to " + row.number, size="2", color_scheme="gray"),
            rx.spacer(),
            rx.el.time(row.when, title=row.when_full, class_name="conv-when"),
            align="center",
            wrap="wrap",
            width="100%",
            spacing="2",
        ),
        rx.text(row.body, size="2", class_name="conv-routing-body"),
    )


def inbox_section(
    items: Any, *, title: str, icon: str, color: str, explanation: str, item: Any,
    error: Any, notice: Any, **style: Any,
) -> rx.Component:
    """A titled list of texts waiting for someone (Needs routing, Other texts) with its error and
    success notices; the section stays (as a thin line) while a notice shows after the last item."""
    return rx.cond(
        (items.length() > 0) | (notice != "") | (error != ""),
        rx.el.section(
            rx.cond(
                items.length() > 0,
                rx.vstack(
                    rx.hstack(
                        rx.icon(icon, size=18, color=rx.color(color, 11)),
                        rx.heading(title, size="3", as_="h2"),
                        rx.badge(items.length(), color_scheme=color, radius="full"),
                        align="center",
                        spacing="2",
                    ),
                    rx.text(explanation, size="2", color_scheme="gray"),
                    rx.el.ul(rx.foreach(items, item), class_name="conv-routing-list", aria_label=title),
                    spacing="2",
                    width="100%",
                ),
            ),
            rx.cond(
                error != "",
                rx.callout(error, icon="triangle_alert", color_scheme="red", role="alert",
                           size="1", width="100%", margin_top="0.5rem"),
            ),
            rx.cond(
                notice != "",
                rx.callout(notice, icon="check", color_scheme="green", role="status",
                           size="1", width="100%", margin_top="0.5rem"),
            ),
            class_name=rx.cond(items.length() > 0, "conv-routing-section",
                               "conv-routing-section conv-routing-done"),
            aria_label=title,
            **style,
        ),
    )


def _group_item(row: GroupRow) -> rx.Component:
    has_unread = row.unread > 0
    return rx.el.li(
        rx.el.a(
            rx.box(row.initials, class_name="conv-avatar", aria_hidden="true"),
            rx.box(
                rx.hstack(
                    rx.heading(row.title, size="3", as_="h2", class_name="conv-group-title",
                               weight=rx.cond(has_unread, "bold", "medium")),
                    rx.el.time(row.when, title=row.when_full, class_name="conv-when"),
                    align="baseline",
                    justify="between",
                    spacing="2",
                    width="100%",
                ),
                rx.cond(
                    row.people != "",
                    rx.text(row.people, size="1", color_scheme="gray", class_name="conv-group-people"),
                ),
                rx.hstack(
                    rx.text(
                        rx.cond(row.matched, rx.icon("search", size=12, margin_right="0.25rem",
                                                     display="inline", aria_hidden="true")),
                        rx.cond(row.preview != "", row.preview, "No messages yet"),
                        size="2",
                        color_scheme="gray",
                        class_name=rx.cond(has_unread, "preview conv-preview-unread", "preview"),
                    ),
                    rx.cond(
                        has_unread,
                        rx.el.span(
                            row.unread,
                            rx.el.span(" unread", class_name="conv-sr-only"),
                            class_name="conv-unread-badge",
                        ),
                    ),
                    align="center",
                    justify="between",
                    spacing="2",
                    width="100%",
                ),
                rx.hstack(
                    rx.badge(rx.icon("phone", size=11), row.number, variant="soft", size="1"),
                    rx.text(row.participants, size="1", color_scheme="gray"),
                    rx.cond(
                        row.locked_reason != "",
                        rx.badge(rx.icon("lock", size=11), "Locked", color_scheme="red", size="1",
                                 title=row.locked_reason),
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                class_name="conv-group-main",
            ),
            href=row.href,
            class_name="conv-group-link",
        ),
        aria_label=row.title,
        class_name=rx.cond(has_unread, "conv-group-item conv-group-item-unread", "conv-group-item"),
    )


ASSIGNED_ONLY_RULE = "You see groups made only of contacts assigned to you."


def _empty_state(s: Any) -> rx.Component:
    """Nothing to list: for the chosen filter, and for an assigned-only user the rule (R11)."""
    create = "Create a group from “Create a new message” → “Group Message”."
    return rx.match(
        s.list_filter,
        ("unread", forms.empty_state("mail-check", "No unread conversations",
                                     "Conversations with replies you haven't opened show up here.")),
        ("mine", forms.empty_state("user-pen", "No conversations created by you",
                                   "Groups you create show up here. " + create)),
        ("locked", forms.empty_state("lock-open", "No locked conversations",
                                     "A group locks when a participant turns on Do Not Disturb or texts STOP.")),
        rx.cond(
            s.assigned_only,
            forms.empty_state(
                "messages-square", "No group conversations yet",
                ASSIGNED_ONLY_RULE + " " + create + " Groups you or others create with only your "
                "contacts show up here; a group that includes anyone else's contact does not.",
            ),
            forms.empty_state(
                "messages-square", "No group conversations yet",
                create + " Every group of your location shows up here.",
            ),
        ),
    )


def _no_match(s: Any) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("search-x", size=32, color=rx.color("gray", 8)),
            rx.text("No conversations match “", s.search, "”.", size="2", color_scheme="gray",
                    weight="medium"),
            rx.text("Search looks at group names, participants' names and numbers, and message text.",
                    size="2", color_scheme="gray", text_align="center"),
            rx.cond(
                s.assigned_only,
                rx.text(ASSIGNED_ONLY_RULE + " A group that includes anyone else's contact is not searched.",
                        size="2", color_scheme="gray", text_align="center"),
            ),
            rx.cond(
                s.list_filter != "all",
                rx.button("Search all conversations", on_click=s.set_filter("all"), variant="soft", size="1"),
            ),
            align="center",
            spacing="2",
            max_width="30rem",
        ),
        padding="2rem 1rem",
        width="100%",
        role="status",
    )


def loading() -> rx.Component:
    # No heading until the session is checked and the list loaded: the heading means "ready".
    return rx.vstack(
        rx.hstack(
            rx.skeleton(height="2rem", width="12rem"),
            rx.spacer(),
            rx.skeleton(height="2rem", width="8rem"),
            width="100%",
        ),
        rx.skeleton(height="2.5rem", width="100%"),
        *[rx.skeleton(height="4.5rem", width="100%") for _ in range(4)],
        rx.el.span("Loading conversations…", class_name="conv-sr-only", role="status"),
        spacing="3",
        width="100%",
        aria_busy="true",
    )


def group_list(s: Any) -> rx.Component:
    return rx.cond(
        s.load_error != "",
        rx.callout(s.load_error, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
        rx.cond(
            s.groups.length() > 0,
            rx.el.ul(
                rx.foreach(s.groups, _group_item),
                role="list",
                aria_label="Group conversations",
                class_name="conv-group-list",
            ),
            rx.cond(s.search != "", _no_match(s), _empty_state(s)),
        ),
    )
