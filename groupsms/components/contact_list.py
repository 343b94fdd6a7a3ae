"""/contacts: the page's layout (list, search, notices, dialogs). Pure layout: it takes the page's
state class (`s`), so it never imports the page."""

from __future__ import annotations

from typing import Any

import reflex as rx

from groupsms.components import forms
from groupsms.components.contact_dialogs import (
    confirm_dialog,
    contact_editor,
    contact_item,
    import_dialog,
    shared_number_warnings,
)
from groupsms.components.contact_merge import duplicate_hints, merge_dialog
from groupsms.components.layout import app_shell


def _list(s: Any, page_size: int) -> rx.Component:
    return rx.cond(
        s.rows.length() > 0,
        rx.vstack(
            rx.el.ul(rx.foreach(s.rows, lambda row: contact_item(row, s)), aria_label="Contacts",
                     class_name="admin-list"),
            rx.cond(s.rows.length() >= page_size,
                    rx.text("Showing the first " + str(page_size) + " contacts: search to find the others.",
                            size="2", color_scheme="gray")),
            spacing="2", width="100%",
        ),
        rx.cond(
            s.search != "",
            forms.empty_state("search-x", "No contacts match", "Try a name or part of a number."),
            forms.empty_state("contact", "No contacts yet", "Create one, or import them from a CSV file."),
        ),
    )


def contacts_page(s: Any, *, page_size: int, max_search: int) -> rx.Component:
    """The whole /contacts page for its state class `s`."""
    return app_shell(
        rx.vstack(
            forms.page_header(
                "Contacts",
                "The people you text. DND contacts can't join groups, and turning DND on locks their groups.",
                rx.button(rx.icon("file-up", size=16), "Import CSV", variant="soft", on_click=s.open_import),
                rx.button(rx.icon("merge", size=16), "Merge duplicates", variant="soft", on_click=s.open_merge),
                rx.button(rx.icon("plus", size=16), "New contact", on_click=s.open_new),
            ),
            forms.field(
                "Search contacts", "contacts-search",
                rx.input(id="contacts-search", type="search", placeholder="Name or number, any format",
                         value=s.search, on_change=s.set_search, debounce_timeout=300, width="100%",
                         max_length=max_search),
            ),
            forms.done_notice(s.notice),
            shared_number_warnings(s.warnings, "Shared number"),
            forms.error_notice(s.error),
            forms.error_notice(s.load_error),
            duplicate_hints(s),
            rx.cond(s.loaded, _list(s, page_size), forms.loading("contacts")),
            spacing="4",
            width="100%",
        ),
        contact_editor(s),
        confirm_dialog(s),
        import_dialog(s),
        merge_dialog(s),
    )
