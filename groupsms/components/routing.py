"""The "Needs routing" section of the conversation list (E2): each waiting reply with its candidate
groups (name, participants, last messages), none chosen for the user, and a dialog that says who
the reply will be relayed to before it is routed.

Pure layout and formatting: the page (pages/conversations.py) owns the state; the functions that
show its vars take the state class (`s`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import reflex as rx

from groupsms.domain.clock import Clock
from groupsms.services.messages import RoutingCandidate, RoutingItem

ROUTING_DIALOG_ID = "routing-confirm"


@dataclasses.dataclass
class RecentRow:
    sender: str
    body: str
    when: str
    when_full: str


@dataclasses.dataclass
class CandidateRow:
    id: str
    title: str
    people: str  # "Carla Client, Dan Buyer, Erin Seller"
    recent: list[RecentRow]
    # What the dialog asks before routing here: "Relay Carla's reply to Dan Buyer and Erin Seller in '…'?"
    question: str


@dataclasses.dataclass
class RoutingRow:
    message_id: str
    sender: str
    number: str
    body: str
    when: str
    when_full: str
    candidates: list[CandidateRow]


# -- formatting ------------------------------------------------------------------------------------

def people_list(names: tuple[str, ...] | list[str]) -> str:
    """"Dan", "Dan and Erin", "Dan, Erin and Fay"."""
    names = [n for n in names if n]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def routing_question(candidate: RoutingCandidate) -> str:
    """What routing the reply to this group does, as a question to confirm."""
    possessive = f"{candidate.sender}'" if candidate.sender.endswith("s") else f"{candidate.sender}'s"
    if not candidate.recipients:
        return f"Move {possessive} reply to '{candidate.title}'? Nobody else in it will get an SMS."
    return f"Relay {possessive} reply to {people_list(candidate.recipients)} in '{candidate.title}'?"


def candidate_row(candidate: RoutingCandidate, clock: Clock, now: datetime) -> CandidateRow:
    return CandidateRow(
        id=str(candidate.group_id),
        title=candidate.title,
        people=", ".join(candidate.participants),
        recent=[RecentRow(m.sender, m.body, clock.stamp(m.at, now), clock.full(m.at)) for m in candidate.recent],
        question=routing_question(candidate),
    )


def routing_row(item: RoutingItem, clock: Clock, now: datetime) -> RoutingRow:
    return RoutingRow(
        message_id=str(item.message_id),
        sender=f"{item.from_name} · {item.from_display}" if item.from_name else item.from_display,
        number=item.number_display,
        body=item.body,
        when=clock.ago(item.received_at, now),
        when_full=clock.full(item.received_at),
        candidates=[candidate_row(c, clock, now) for c in item.candidates],
    )


# -- view ------------------------------------------------------------------------------------------

def _recent(row: RecentRow) -> rx.Component:
    return rx.el.li(
        rx.text(
            rx.el.strong(row.sender + ": "), row.body, " ",
            rx.el.time(row.when, title=row.when_full, class_name="conv-when"),
            size="1",
        ),
    )


def _candidate(c: CandidateRow) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="radio", name="group_id", value=c.id, aria_label=c.title,
                    style={"marginTop": "0.2rem", "flexShrink": "0"}),
        rx.vstack(
            rx.text(c.title, weight="bold", size="2"),
            rx.text("Participants: " + c.people, size="1", color_scheme="gray"),
            rx.cond(
                c.recent.length() > 0,
                rx.el.ul(rx.foreach(c.recent, _recent), aria_label="Last messages in " + c.title,
                         style={"listStyle": "none", "margin": 0, "padding": 0}),
                rx.text("No messages yet", size="1", color_scheme="gray"),
            ),
            spacing="1",
            min_width="0",
        ),
        class_name="conv-route-choice",
        style={"display": "flex", "gap": "0.5rem", "alignItems": "flex-start", "padding": "0.5rem",
               "border": f"1px solid {rx.color('gray', 6)}", "borderRadius": "var(--radius-2)",
               "cursor": "pointer", "overflowWrap": "anywhere"},
    )


def _lists():
    # The shared pieces of inbox sections; conversation_list re-exports this module, so import late.
    from groupsms.components import conversation_list

    return conversation_list


def _routing_item(row: RoutingRow, s: Any) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            *_lists().inbox_text(row),
            rx.form(
                rx.el.input(type="hidden", name="message_id", value=row.message_id),
                rx.el.fieldset(
                    rx.el.legend("Which group is this reply for?", style={"fontSize": "var(--font-size-2)",
                                                                         "marginBottom": "0.25rem"}),
                    rx.foreach(row.candidates, _candidate),
                    aria_label="Group for the message from " + row.sender,
                    style={"display": "grid", "gap": "0.5rem", "border": 0, "padding": 0, "margin": 0,
                           "minWidth": 0},
                ),
                rx.button("Assign…", type="submit", size="2", margin_top="0.5rem",
                          aria_label="Assign the message from " + row.sender),
                on_submit=s.ask_assign,
                reset_on_submit=False,
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        class_name="conv-routing-item",
        aria_label="Message from " + row.sender,
    )


def confirm_dialog(s: Any) -> rx.Component:
    """Routing relays the reply by SMS: it happens only once the user read who gets it."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Relay this reply?"),
            rx.alert_dialog.description(s.routing_confirm_text, id=ROUTING_DIALOG_ID + "-text"),
            rx.cond(s.routing_error != "", rx.callout(s.routing_error, icon="triangle_alert", color_scheme="red",
                                                      role="alert", size="1", margin_top="0.75rem")),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 on_click=s.cancel_assign)),
                rx.button("Relay reply", on_click=s.assign, loading=s.routing_busy),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
            max_width="32rem",
        ),
        open=s.routing_confirm_text != "",
        on_open_change=s.close_assign,
    )


def routing_section(s: Any) -> rx.Component:
    return rx.fragment(
        _lists().inbox_section(
            s.routing, title="Needs routing", icon="split", color="amber",
            explanation="These replies came from someone who is in more than one group on the same number. "
                        "Choose the group each one belongs to; you'll see who gets it before it is relayed.",
            item=lambda row: _routing_item(row, s), error=rx.cond(s.routing_confirm_text == "", s.routing_error, ""),
            notice=s.routing_notice,
        ),
        confirm_dialog(s),
    )
