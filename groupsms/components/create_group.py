"""The "Group Message" dialog's view: the business number, the participants picked so far, the
contact search, the picker (components/group_picker.py), its notices and the "Create group" button.
Its state and handlers are `pages.create_group.CreateGroupState`."""

from __future__ import annotations

from typing import Any

import reflex as rx

from groupsms.components.group_picker import chip, contact_options, number_field, picker_notices
from groupsms.domain.groups import MAX_PARTICIPANTS, MIN_PARTICIPANTS


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
                picker_notices(S),
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
