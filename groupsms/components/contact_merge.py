"""/contacts: the dialog that merges a duplicate into the contact to keep, and the "Possible
duplicates" hint. Pure layout: the functions take the page's state class (`s`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from groupsms.components import forms


@dataclasses.dataclass
class MergeField:
    field: str  # services.contacts.MERGE_FIELDS
    label: str
    keep_value: str  # as shown ("" when empty)
    other_value: str


@dataclasses.dataclass
class DuplicateHint:
    keep_id: int
    other_id: int
    text: str  # "Carla Mendes and Carla M. share (512) 555-0111"


def _contact_select(s: Any, control_id: str, name: str, value: Any, on_change: Any) -> rx.Component:
    return forms.native_select(
        control_id, name,
        [forms.option("Choose a contact", ""),
         rx.foreach(s.rows, lambda r: forms.option(r.name + " · " + r.primary, r.id.to_string()))],
        value=value, on_change=on_change,
    )


def _field_choice(f: MergeField) -> rx.Component:
    control_id = "merge-" + f.field
    return rx.vstack(
        rx.el.label(f.label, html_for=control_id, class_name="field-label"),
        rx.el.select(
            forms.option("Automatic", "auto"),
            forms.option("Keep: " + rx.cond(f.keep_value != "", f.keep_value, "(empty)"), "keep"),
            forms.option("Duplicate: " + rx.cond(f.other_value != "", f.other_value, "(empty)"), "other"),
            id=control_id, name="choice_" + f.field, class_name="native-select", default_value="auto",
        ),
        spacing="1", width="100%",
    )


def merge_dialog(s: Any) -> rx.Component:
    return forms.dialog(
        "Merge duplicate contacts",
        "The duplicate is removed. The contact you keep takes its numbers where its own are empty "
        "(Automatic) or the values you pick, its assignment and its DND. Groups keep the names and numbers they "
        "captured; the duplicate's participants now belong to the kept contact.",
        s.merge_open,
        s.close_merge,
        rx.form(
            rx.vstack(
                forms.field("Contact to keep", "merge-keep",
                            _contact_select(s, "merge-keep", "keep", s.merge_keep, s.set_merge_keep)),
                forms.field("Duplicate to remove", "merge-other",
                            _contact_select(s, "merge-other", "other", s.merge_other, s.set_merge_other)),
                rx.cond(s.merge_fields.length() > 0,
                        rx.vstack(rx.foreach(s.merge_fields, _field_choice), spacing="3", width="100%")),
                forms.error_notice(s.merge_error),
                forms.dialog_buttons("Merge contacts", s.close_merge(False)),
                spacing="3",
                width="100%",
            ),
            on_submit=s.merge,
            reset_on_submit=False,
            key=s.merge_keep + "-" + s.merge_other,
        ),
        max_width="34rem",
    )


def duplicate_hints(s: Any) -> rx.Component:
    return rx.cond(
        s.duplicates.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("copy")),
            rx.vstack(
                rx.callout.text("Possible duplicates", weight="bold"),
                rx.el.ul(
                    rx.foreach(s.duplicates, lambda d: rx.el.li(
                        rx.hstack(
                            rx.text(d.text, size="2"),
                            rx.button("Merge…", size="1", variant="soft", type="button",
                                      aria_label="Merge " + d.text,
                                      on_click=s.open_merge(d.keep_id, d.other_id)),
                            align="center", spacing="2", wrap="wrap",
                        ),
                    )),
                    style={"padding_left": "1.25rem", "display": "flex", "flex_direction": "column",
                           "gap": "0.25rem"},
                ),
                spacing="1", width="100%",
            ),
            color_scheme="blue", width="100%", aria_label="Possible duplicates", role="region",
        ),
    )
