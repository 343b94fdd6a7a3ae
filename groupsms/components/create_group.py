"""The "Group Message" dialog's view: an optional group name, the business number, the participants
picked so far with the dialog's warnings right below them, the contact search, the picker
(components/group_picker.py), the intro text the participants will get, and the "Create group"
button. Its state and handlers are `pages.create_group.CreateGroupState`."""

from __future__ import annotations

from typing import Any

import reflex as rx

from groupsms.components.group_picker import NOTICES_ID, chip, contact_options, number_field, picker_notices
from groupsms.domain.groups import MAX_PARTICIPANTS, MIN_PARTICIPANTS

NAME_MAX = 120  # services.groups.GROUP_NAME_MAX (checked there)


def _name_field(S: Any) -> rx.Component:
    return rx.vstack(
        rx.el.label("Group name (optional)", html_for="group-name", class_name="field-label"),
        rx.input(
            id="group-name",
            value=S.group_name,
            on_change=S.set_name,
            placeholder="12 Maple Ridge closing",
            max_length=NAME_MAX,
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def _intro_section(S: Any) -> rx.Component:
    """"Send intro text" (the location's setting by default) and the text as it will go out."""
    return rx.vstack(
        rx.checkbox("Send intro text", checked=S.send_intro, on_change=S.set_send_intro, size="2",
                    id="group-send-intro"),
        rx.cond(
            S.send_intro,
            rx.cond(
                S.intro_text != "",
                rx.vstack(
                    rx.box(rx.text(S.intro_text, size="2", class_name="conv-intro-text"), role="note",
                           aria_label="Intro text", width="100%"),
                    rx.text("Each participant gets it by SMS when the group is created · " + S.intro_note,
                            size="1", color_scheme="gray"),
                    spacing="1",
                    width="100%",
                    padding="0.5rem 0.75rem",
                    border_radius="var(--radius-3)",
                    background="var(--gray-a2)",
                    border="1px solid var(--gray-a5)",
                ),
                rx.text("Pick participants to see the intro text they will get.", size="1", color_scheme="gray"),
            ),
            rx.text("Participants get no intro text: the first message they get is yours.", size="1",
                    color_scheme="gray"),
        ),
        spacing="2",
        width="100%",
    )


def create_group_dialog(S: Any) -> rx.Component:
    """The dialog for `S`, the dialog's state (`pages.create_group.CreateGroupState`)."""
    count = S.selected.length()
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New group message"),
            rx.dialog.description(
                f"Text {MIN_PARTICIPANTS} to {MAX_PARTICIPANTS} contacts together from one business number.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                _name_field(S),
                number_field(S),
                rx.hstack(
                    rx.text("Participants", class_name="field-label"),
                    rx.spacer(),
                    rx.text(
                        count.to_string() + f" of {MAX_PARTICIPANTS} selected",
                        size="2",
                        color_scheme=rx.cond(count < MIN_PARTICIPANTS, "gray", "teal"),
                        aria_live="polite",
                        class_name="conv-selected-count",
                    ),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    count > 0,
                    rx.flex(rx.foreach(S.chosen, lambda chosen: chip(chosen, S)), wrap="wrap", gap="2",
                            aria_label="Selected participants", role="group"),
                    rx.text(f"Pick at least {MIN_PARTICIPANTS}.", size="1", color_scheme="gray"),
                ),
                picker_notices(S, NOTICES_ID),
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    placeholder="Search by name or number",
                    aria_label="Search contacts",
                    value=S.search,
                    on_change=S.search_contacts,
                    type="search",
                    width="100%",
                ),
                contact_options(S),
                _intro_section(S),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                    rx.button(
                        "Create group",
                        on_click=S.create,
                        disabled=(count < MIN_PARTICIPANTS) | (S.number_id == "") | S.creating,
                        loading=S.creating,
                        type="button",
                    ),
                    justify="end",
                    spacing="3",
                    width="100%",
                    class_name="conv-dialog-footer",
                ),
                spacing="3",
                width="100%",
                margin_top="0.75rem",
            ),
            max_width="36rem",
            class_name="conv-create-group-dialog",
        ),
        open=S.open,
        on_open_change=S.set_open,
    )
