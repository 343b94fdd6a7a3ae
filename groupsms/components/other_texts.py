"""The "Other texts" list of the conversations page (E2): texts from numbers in no group, with
"Start a group" and "Dismiss". Rows come already formatted from the services' `OtherText`.

Pure layout: the functions that show the page's vars take its state class (`s`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import reflex as rx

from groupsms.components.conversation_list import inbox_section, inbox_text
from groupsms.domain.clock import Clock
from groupsms.services.messages import OtherText


@dataclasses.dataclass
class OtherTextRow:
    message_id: str
    sender: str
    number: str
    body: str
    when: str
    when_full: str


def other_text_row(item: OtherText, clock: Clock, now: datetime) -> OtherTextRow:
    """One row, its times in the viewer's zone and clock."""
    label = (item.number_label or "").strip()
    return OtherTextRow(
        message_id=str(item.message_id),
        sender=f"{item.from_name} · {item.from_display}" if item.from_name else item.from_display,
        number=f"{label} · {item.number_display}" if label else item.number_display,
        body=item.body,
        when=clock.ago(item.received_at, now),
        when_full=clock.full(item.received_at),
    )


def _item(row: OtherTextRow, s: Any) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            *inbox_text(row),
            rx.hstack(
                rx.button(
                    rx.icon("users", size=14), "Start a group", size="1",
                    on_click=s.start_group_from_text(row.message_id),
                    aria_label="Start a group with " + row.sender,
                ),
                rx.button(
                    "Dismiss", size="1", variant="soft", color_scheme="gray",
                    on_click=s.dismiss_text(row.message_id),
                    aria_label="Dismiss the text from " + row.sender,
                ),
                spacing="2",
            ),
            spacing="2",
            width="100%",
        ),
        class_name="conv-routing-item",
        border_color=rx.color("gray", 5),
        aria_label="Text from " + row.sender,
    )


def other_texts_section(s: Any) -> rx.Component:
    return inbox_section(
        s.other_texts, title="Other texts", icon="inbox", color="gray",
        explanation="Texts from numbers that are in no group on the number they came to. "
                    "Start a group with the sender, or dismiss the text.",
        item=lambda row: _item(row, s), error=s.other_error, notice=s.other_notice,
        border_color=rx.cond(s.other_texts.length() > 0, rx.color("gray", 6), "transparent"),
        background=rx.cond(s.other_texts.length() > 0, rx.color("gray", 2), "none"),
    )


def routing_waiting_note(s: Any) -> rx.Component:
    """For users who may not read some waiting replies: how many wait, nothing else (R11)."""
    return rx.cond(
        s.routing_waiting > 0,
        rx.callout(
            rx.cond(
                s.routing_waiting == 1,
                "A reply waits for an admin to choose its group.",
                s.routing_waiting.to_string() + " replies wait for an admin to choose their group.",
            ),
            icon="info", color_scheme="gray", size="1", width="100%", role="status",
        ),
    )
