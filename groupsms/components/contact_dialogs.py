"""/contacts: a contact's row in the list, and the dialogs (edit, confirm, CSV import).

Pure layout: the functions that show the page's vars take its state class (`s`), so this module
never imports the page (which imports it).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from groupsms.components import forms
from groupsms.services import imports
from groupsms.services.contacts import ContactView

MAX_NAME = 200
MAX_PHONE = 40
_NOT_US_CA = "Not a US/Canada number"


@dataclasses.dataclass
class ContactRow:
    id: int
    name: str
    primary: str  # formatted for display
    primary_e164: str
    secondary: str
    secondary_e164: str
    dnd: bool
    assigned_id: str  # "" when unassigned (select values are strings)
    assigned_name: str
    warning: str
    opted_out: str = ""  # E1: "Opted out by text on <date>" (per number when it has two)


@dataclasses.dataclass
class UserOption:
    id: str
    name: str


def contact_row(c: ContactView, names: dict[int, str]) -> ContactRow:
    return ContactRow(
        id=c.id, name=c.name, primary=c.primary_display, primary_e164=c.primary_phone or "",
        secondary=c.secondary_display, secondary_e164=c.secondary_phone or "", dnd=c.dnd,
        assigned_id=str(c.assigned_user_id) if c.assigned_user_id else "",
        assigned_name=names.get(c.assigned_user_id, "") if c.assigned_user_id else "",
        warning="" if c.primary_is_us_ca else _NOT_US_CA, opted_out=_opted_out(c),
    )


def _opted_out(c: ContactView) -> str:
    if not c.secondary_opted_out:
        return c.primary_opted_out
    notes = [f"{c.primary_display}: {c.primary_opted_out}"] if c.primary_opted_out else []
    return "; ".join([*notes, f"{c.secondary_display}: {c.secondary_opted_out}"])


def shared_number_warnings(warnings: Any, label: str) -> rx.Component:
    """Saved, but another contact holds the same number: said, not refused."""
    return rx.cond(
        warnings.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle_alert")),
            rx.el.ul(rx.foreach(warnings, lambda w: rx.el.li(w)), class_name="import-errors"),
            color_scheme="amber", role="status", width="100%", aria_label=label,
        ),
    )


def import_summary_text(report: imports.ImportReport) -> str:
    parts = [f"{report.created + report.updated} imported ({report.created} new, {report.updated} updated)"]
    if report.unchanged:
        parts.append(f"{report.unchanged} already up to date")
    parts.append(f"{report.skipped} row{'' if report.skipped == 1 else 's'} skipped")
    text = ", ".join(parts)
    if report.ignored_columns:
        text += f". Ignored columns: {', '.join(report.ignored_columns)}"
    if report.warnings:
        text += ". Some rows share a number with another contact (see below)"
    return text


# -- components ---------------------------------------------------------------------------------


def contact_item(row: ContactRow, s: Any) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.vstack(
                rx.heading(row.name, size="3", as_="h2"),
                rx.hstack(
                    rx.text(row.primary, size="2"),
                    rx.cond(row.secondary != "", rx.text("· ", row.secondary, size="2", color_scheme="gray")),
                    spacing="1", wrap="wrap",
                ),
                rx.hstack(
                    rx.cond(row.dnd, rx.badge(rx.icon("bell-off", size=12), "DND", color_scheme="red")),
                    rx.cond(row.opted_out != "", rx.badge(rx.icon("ban", size=12), row.opted_out, color_scheme="red")),
                    rx.cond(row.warning != "", rx.badge(row.warning, color_scheme="amber")),
                    rx.cond(
                        row.assigned_name != "",
                        rx.badge(rx.icon("user", size=12), row.assigned_name, variant="soft"),
                        rx.badge("Unassigned", variant="soft", color_scheme="gray"),
                    ),
                    spacing="2", wrap="wrap",
                ),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.hstack(
                rx.hstack(
                    rx.switch(
                        id=f"dnd-{row.id}",
                        checked=row.dnd,
                        on_change=lambda value: s.set_dnd(row.id, value),
                        aria_label=f"DND for {row.name}",
                        color_scheme="red",
                    ),
                    rx.el.label("DND", html_for=f"dnd-{row.id}", class_name="field-label"),
                    align="center", spacing="1",
                ),
                rx.button(rx.icon("pencil", size=14), "Edit", variant="soft", size="2",
                          aria_label=f"Edit {row.name}", on_click=s.open_edit(row.id)),
                rx.button(rx.icon("trash-2", size=14), "Delete", variant="soft", color_scheme="red", size="2",
                          aria_label=f"Delete {row.name}", on_click=s.ask_delete(row.id)),
                spacing="3", align="center", wrap="wrap",
            ),
            direction={"initial": "column", "sm": "row"},
            gap="3",
            align={"initial": "start", "sm": "center"},
            width="100%",
        ),
        aria_label=row.name,
        class_name="admin-item",
    )


def contact_editor(s: Any) -> rx.Component:
    return forms.dialog(
        rx.cond(s.editor_id == 0, "New contact", "Edit contact"),
        "US/Canada numbers in any format; other countries with their + code.",
        s.editor_open,
        s.close_editor,
        rx.form(
            rx.vstack(
                # No `required`: the browser's own bubble would stop the form before the service
                # names every missing field under it.
                forms.text_field("Name", "contact-name", "name", default_value=s.editor_name,
                                 max_length=MAX_NAME, auto_complete="off", error=s.name_error),
                forms.text_field("Primary phone", "contact-primary", "primary_phone", type="tel",
                                 default_value=s.editor_primary, max_length=MAX_PHONE, error=s.primary_error,
                                 hint="The number texts go to"),
                forms.text_field("Secondary phone", "contact-secondary", "secondary_phone", type="tel",
                                 default_value=s.editor_secondary, max_length=MAX_PHONE,
                                 hint="Optional", error=s.secondary_error),
                forms.field(
                    "Assigned to", "contact-assigned",
                    forms.native_select(
                        "contact-assigned", "assigned_user",
                        [forms.option("Unassigned", ""),
                         rx.foreach(s.assignees, lambda u: forms.option(u.name, u.id))],
                        default_value=s.editor_assigned,
                        aria_invalid=rx.cond(s.assigned_error != "", "true", "false"),
                        aria_describedby=rx.cond(s.assigned_error != "", "contact-assigned-error", ""),
                    ),
                ),
                forms.field_error("contact-assigned", s.assigned_error),
                rx.cond(
                    s.editor_id == 0,
                    # Wrapped by its label (no id: the form must not submit it; the state holds it).
                    rx.el.label(
                        rx.switch(checked=s.editor_dnd, on_change=s.set_editor_dnd, color_scheme="red"),
                        "DND (do not text)",
                        class_name="field-label switch-label",
                    ),
                ),
                forms.error_notice(s.editor_error),
                forms.dialog_buttons(rx.cond(s.editor_id == 0, "Create contact", "Save contact"),
                                     s.close_editor(False)),
                spacing="3",
                width="100%",
            ),
            on_submit=s.save_contact,
            reset_on_submit=False,
            # A new key per opening remounts the fields with that contact's values.
            key=s.editor_id.to_string() + s.editor_name,
        ),
    )


def confirm_dialog(s: Any) -> rx.Component:
    is_delete = s.confirm_kind == "delete"
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(rx.cond(is_delete, "Delete " + s.confirm_name + "?",
                                          "Turn on DND for " + s.confirm_name + "?")),
            rx.alert_dialog.description(
                rx.cond(
                    is_delete,
                    "Groups with this contact keep texting the number they captured and show a Deleted tag.",
                    "Every group with this contact is locked for good: no more messages are sent in it. "
                    "You can start a new group without them.",
                ),
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(rx.cond(is_delete, "Delete contact", "Turn on DND"), color_scheme="red",
                              on_click=s.confirm),
                ),
                justify="end", spacing="3", margin_top="1rem",
            ),
            max_width="28rem",
        ),
        open=s.confirm_open,
        on_open_change=s.cancel_confirm,
    )


_SAMPLE = "name,primary_phone,secondary_phone,dnd,assigned_to\nRae Renter,(512) 555-0141,,no,bo@acme.test"


def import_dialog(s: Any) -> rx.Component:
    return forms.dialog(
        "Import contacts from CSV",
        "Paste the file's text. Columns: name, primary_phone, secondary_phone, dnd, assigned_to (an "
        "email), external_id (your CRM's id). " + imports.MATCH_RULE + "; rows with errors are skipped. Preview shows what each row "
        "will do before anything is saved.",
        s.import_open,
        s.close_import,
        rx.form(
            rx.vstack(
                forms.field(
                    "CSV", "import-csv",
                    rx.text_area(id="import-csv", name="csv", rows="8", width="100%", placeholder=_SAMPLE,
                                 class_name="mono", spell_check=False),
                    hint="At most 1 MB or 5000 rows. Empty cells leave existing values unchanged.",
                ),
                forms.error_notice(s.import_error),
                rx.cond(
                    s.preview_summary != "",
                    rx.vstack(
                        rx.callout(s.preview_summary, icon="list_checks", color_scheme="blue", role="status",
                                   width="100%", aria_label="Import preview"),
                        rx.el.ul(rx.foreach(s.preview_rows, lambda r: rx.el.li(r)), aria_label="Preview rows",
                                 style={"padding_left": "1.25rem", "font_size": "var(--font-size-2)",
                                        "max_height": "16rem", "overflow_y": "auto", "width": "100%"}),
                        spacing="2", width="100%",
                    ),
                ),
                rx.cond(
                    s.import_summary != "",
                    rx.callout(s.import_summary, icon="info",
                               color_scheme=rx.cond(s.import_errors.length() > 0, "amber", "green"),
                               role="status", width="100%"),
                ),
                rx.cond(
                    s.import_errors.length() > 0,
                    rx.el.ul(rx.foreach(s.import_errors, lambda e: rx.el.li(e)), aria_label="Import errors",
                             class_name="import-errors"),
                ),
                shared_number_warnings(s.import_warnings, "Import warnings"),
                rx.hstack(
                    rx.button("Close", type="button", variant="soft", color_scheme="gray",
                              on_click=s.close_import(False)),
                    rx.button(rx.icon("list_checks", size=14), "Preview", type="button", variant="soft",
                              on_click=rx.call_script("document.getElementById('import-csv').value",
                                                      callback=s.preview_csv)),
                    rx.button(rx.icon("upload", size=14), "Import", type="submit"),
                    justify="end", spacing="3", width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=s.import_csv,
            reset_on_submit=False,
        ),
        max_width="40rem",
    )
