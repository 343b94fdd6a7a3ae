"""The picker of the "Group Message" dialog (components/create_group.py): the from-number field,
the selected-participant chips, the contact-number checkboxes, and the dialog's warnings.

Pure layout: the functions take the dialog's state class (`s`); the state lives in
pages/create_group.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx


# The dialog's warnings (the state scrolls them into view when one appears).
NOTICES_ID = "group-dialog-notices"


@dataclasses.dataclass
class NumberChoice:
    id: str
    text: str


@dataclasses.dataclass
class ContactChoice:
    """One checkbox: a contact's primary or secondary number."""

    key: str  # "contact_id:which"
    name: str
    display: str
    which: str  # "" for a primary number, "Secondary" otherwise
    reason: str  # why it cannot be picked (R3), "" when it can


@dataclasses.dataclass
class Chosen:
    key: str
    label: str


# -- the view ------------------------------------------------------------------------------------

def number_field(s: Any) -> rx.Component:
    return rx.vstack(
        rx.el.label("From number", html_for="group-from-number", class_name="field-label"),
        rx.cond(
            s.numbers.length() > 0,
            rx.el.select(
                rx.foreach(s.numbers, lambda n: rx.el.option(n.text, value=n.id)),
                id="group-from-number",
                value=s.number_id,
                on_change=s.choose_number,
                class_name="conv-native-select",
            ),
            rx.cond(
                s.loading,
                rx.skeleton(height="2.25rem", width="100%"),
                rx.text("You have no business number you can create groups from.", size="2", color_scheme="red"),
            ),
        ),
        spacing="1",
        width="100%",
    )


def chip(chosen: Chosen, s: Any) -> rx.Component:
    return rx.badge(
        chosen.label,
        rx.el.button(
            rx.icon("x", size=12),
            on_click=s.remove(chosen.key),
            aria_label="Remove " + chosen.label,
            type="button",
            class_name="conv-chip-remove",
        ),
        variant="surface",
        radius="full",
        size="2",
        class_name="conv-chip",
    )


def _option(option: ContactChoice) -> rx.Component:
    """One contact number: a checkbox of the picker's checkbox group, labelled with the name, the
    number and, when it cannot be picked, why (R3)."""
    disabled = option.reason != ""
    return rx.el.li(
        rx.checkbox_group.item(
            rx.el.span(
                rx.el.span(option.name, class_name="conv-option-name"),
                rx.el.span(
                    option.display,
                    rx.cond(option.which != "", rx.el.span(" · " + option.which)),
                    class_name="conv-option-number",
                ),
                class_name="conv-option-text",
            ),
            rx.cond(disabled, rx.el.span(option.reason, class_name="conv-option-reason")),
            value=option.key,
            disabled=disabled,
            class_name=rx.cond(disabled, "conv-option conv-option-disabled", "conv-option"),
            display="flex",
            align_items="center",
            gap="0.75rem",
            width="100%",
        ),
    )


def contact_options(s: Any) -> rx.Component:
    """The picker: one tab stop (a Radix checkbox group with roving focus): Up/Down (or
    Left/Right) move between the numbers that can be picked, Space checks or unchecks one, Tab
    leaves the list. Above it, how many contacts it shows of how many."""
    return rx.vstack(
        rx.cond(
            s.loading | (s.picker_count == ""),
            rx.fragment(),
            rx.text(s.picker_count, size="1", color_scheme="gray", aria_live="polite",
                    class_name="conv-picker-count"),
        ),
        rx.box(
            rx.cond(
                s.loading,
                rx.vstack(*[rx.skeleton(height="2.5rem", width="100%") for _ in range(4)], spacing="2",
                          padding="0.5rem"),
                rx.cond(
                    s.options.length() > 0,
                    rx.checkbox_group.root(
                        rx.el.ul(rx.foreach(s.options, _option), class_name="conv-option-list",
                                 aria_label="Contact numbers"),
                        value=s.selected,
                        on_value_change=s.set_selection,
                        orientation="vertical",
                        size="2",
                        display="block",
                    ),
                    rx.text(
                        rx.cond(s.search != "", "No contacts match your search.", "You have no contacts to add yet."),
                        size="2", color_scheme="gray", padding="1rem", text_align="center",
                    ),
                ),
            ),
            class_name="conv-option-scroll",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def picker_notices(s: Any, notices_id: str) -> rx.Component:
    """The dialog's warnings, next to the selection (the state scrolls them into view when one
    appears): the participant limit, the E11 duplicate (first: it offers what to do), E2 overlaps naming the
    person, refusals."""
    return rx.vstack(
        rx.cond(
            s.notice != "",
            rx.callout(s.notice, icon="info", color_scheme="amber", role="alert", size="1", width="100%"),
        ),
        rx.cond(
            s.duplicate_group_id > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("copy")),
                rx.vstack(
                    rx.callout.text("A group with exactly these participants already exists on this number."),
                    rx.hstack(
                        rx.button("Open that group", size="1", on_click=s.open_duplicate, type="button"),
                        rx.button(
                            "Create anyway", size="1", variant="soft", on_click=s.create_anyway,
                            type="button", loading=s.creating,
                        ),
                        spacing="2",
                        wrap="wrap",
                    ),
                    spacing="2",
                ),
                color_scheme="blue",
                size="1",
                role="status",
                width="100%",
            ),
        ),
        rx.cond(
            s.overlaps.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("triangle_alert")),
                rx.vstack(rx.foreach(s.overlaps, lambda text: rx.callout.text(text)), spacing="1"),
                color_scheme="amber",
                size="1",
                width="100%",
            ),
        ),
        rx.cond(
            s.errors.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("circle_alert")),
                rx.vstack(rx.foreach(s.errors, lambda e: rx.callout.text(e)), spacing="1"),
                color_scheme="red",
                role="alert",
                size="1",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
        id=notices_id,
        scroll_margin="1rem",
    )
