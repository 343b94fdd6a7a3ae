"""Users & access: webhook events that could not be processed after their retries (an SMS or a
receipt the app holds but could not file). Shown only when there are some."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from groupsms.domain.clock import UTC_CLOCK, Clock
from groupsms.messaging.inbound_failures import FailedEvent


@dataclasses.dataclass
class FailedEventRow:
    when: str
    what: str
    error: str


def failed_event_row(e: FailedEvent, clock: Clock = UTC_CLOCK) -> FailedEventRow:
    return FailedEventRow(clock.full(e.received_at),
                          f"{e.summary} (gave up after {e.attempts} attempts)", e.error)


def failed_events_section(s: Any) -> rx.Component:
    return rx.cond(
        s.failed_events.length() > 0,
        rx.vstack(
            rx.heading("Texts and receipts that could not be processed", size="5", as_="h2"),
            rx.text("They are kept as received; tell whoever runs the app, who can list them with "
                    "`groupsms inbound failed`.", size="2", color_scheme="gray"),
            rx.box(
                rx.el.table(
                    rx.el.caption("Texts and receipts that could not be processed", class_name="visually-hidden"),
                    rx.el.thead(rx.el.tr(*(rx.el.th(h, scope="col") for h in ("Received", "What", "Error")))),
                    rx.el.tbody(rx.foreach(s.failed_events, lambda r: rx.el.tr(
                        rx.el.td(r.when), rx.el.td(r.what), rx.el.td(r.error),
                    ))),
                    class_name="perm-table audit-table",
                ),
                width="100%", overflow="auto", max_height="20rem", tab_index=0,
                aria_label="Texts and receipts that could not be processed, scrollable",
            ),
            rx.divider(margin_y="0.5rem"),
            spacing="3", width="100%",
        ),
    )
