"""Shared pieces of the admin pages (contacts, numbers, users, simulated handsets): labelled fields,
notices, empty and loading states, and checks of what the browser sent. Handlers call services
through the kernel in pages/session.py (`signed_in`, `_call`, `_attempt`).

Controls are plain labelled elements (`<label for>`), so screen readers and browser tests find every
one by its name. Selects are native `<select>`s: keyboard friendly everywhere and submitted with the
form as they are.
"""

from __future__ import annotations

from typing import Any

import reflex as rx


# -- checking what the browser sent -------------------------------------------------------------


def form_text(form_data: Any, key: str, max_length: int) -> str | None:
    """A text field of a submitted form, or None when missing, not text or too long."""
    if not isinstance(form_data, dict):
        return None
    value = form_data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > max_length:
        return None
    return value


def browser_id(value: Any) -> int | None:
    """An id the browser sent (int or digit string), or None. Services check access themselves."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, int) and 0 < value < 2**31:
        return value
    return None


def browser_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# -- layout pieces ------------------------------------------------------------------------------


def page_header(title: str, description: str, *actions: rx.Component) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="6", as_="h1"),
            rx.text(description, size="2", color_scheme="gray"),
            spacing="1",
        ),
        rx.spacer(),
        rx.hstack(*actions, spacing="2", wrap="wrap"),
        direction={"initial": "column", "sm": "row"},
        gap="3",
        align={"initial": "start", "sm": "center"},
        width="100%",
    )


def field(label: str, control_id: str, control: rx.Component, hint: str | None = None) -> rx.Component:
    parts = [rx.el.label(label, html_for=control_id, class_name="field-label"), control]
    if hint:
        parts.append(rx.text(hint, size="1", color_scheme="gray", id=f"{control_id}-hint"))
    return rx.vstack(*parts, spacing="1", width="100%")


def text_field(label: str, control_id: str, name: str, hint: str | None = None, *, error: Any = None,
               **props: Any) -> rx.Component:
    """A labelled input. `error` (a Var, "" when fine) shows under the input, marks it invalid and
    is read with it (aria-describedby), so a form error is never only in a banner."""
    if error is None:
        if hint:
            props.setdefault("aria_describedby", f"{control_id}-hint")
        return field(label, control_id, rx.input(id=control_id, name=name, width="100%", **props), hint)
    hint_id = f" {control_id}-hint" if hint else ""
    props.setdefault("aria_describedby", rx.cond(error != "", f"{control_id}-error{hint_id}", hint_id.strip()))
    control = rx.input(id=control_id, name=name, width="100%", aria_invalid=rx.cond(error != "", "true", "false"),
                       box_shadow=rx.cond(error != "", "inset 0 0 0 1px var(--red-9)", ""), **props)
    return rx.vstack(field(label, control_id, control, hint), field_error(control_id, error),
                     spacing="1", width="100%")


def field_error(control_id: str, error: Any) -> rx.Component:
    """The error of one field, under it (the field's aria-describedby names `<id>-error`)."""
    return rx.cond(
        error != "",
        rx.text(rx.icon("circle_alert", size=14), error, id=f"{control_id}-error", size="1", color_scheme="red",
                class_name="field-error", display="flex", align_items="center", gap="0.25rem"),
    )


def focus_js(control_id: str) -> str:
    """Script that moves focus to a control once the browser has drawn the state that shows it."""
    return (f"requestAnimationFrame(() => requestAnimationFrame(() => "
            f"document.getElementById({control_id!r})?.focus()))")


def native_select(control_id: str, name: str, options: Any, **props: Any) -> rx.Component:
    """A `<select>`; `options` are components (`option(...)`, or an `rx.foreach` of them)."""
    return rx.el.select(*options, id=control_id, name=name, class_name="native-select", **props)


def option(label: Any, value: Any) -> rx.Component:
    return rx.el.option(label, value=value)


def error_notice(message: rx.Var) -> rx.Component:
    """An error callout, announced to screen readers, shown while `message` is not empty."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
    )


def done_notice(message: rx.Var) -> rx.Component:
    """A short confirmation ("Contact saved"), announced politely."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="circle_check", color_scheme="green", role="status", width="100%"),
    )


def empty_state(icon: str, title: str, text: Any, *extra: rx.Component, page_level: bool = False) -> rx.Component:
    """A centered empty, not found or error state; `page_level` when it is all the page shows."""
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=40 if page_level else 36, color=rx.color("gray", 8)),
            rx.heading(title, size="5" if page_level else "4", as_="h1" if page_level else "h2"),
            rx.text(text, color_scheme="gray", size="2", text_align="center"),
            *extra,
            align="center",
            spacing="3" if page_level else "2",
            max_width="28rem",
        ),
        padding="4rem 1rem" if page_level else "2.5rem 1rem",
        width="100%",
    )


def loading(what: str) -> rx.Component:
    return rx.center(
        rx.hstack(rx.spinner(size="3"), rx.text(f"Loading {what}…", color_scheme="gray"), align="center"),
        padding="3rem 1rem",
        width="100%",
        role="status",
    )


def dialog(title: str, description: str, is_open: rx.Var, on_open_change: Any, *body: rx.Component,
           max_width: str = "30rem") -> rx.Component:
    """A modal dialog (focus trapped, Escape closes, title and description announced)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(description, size="2", color_scheme="gray", margin_bottom="1rem"),
            *body,
            max_width=max_width,
        ),
        open=is_open,
        on_open_change=on_open_change,
    )


def dialog_buttons(submit_label: str, on_cancel: Any, *, color_scheme: str = "accent") -> rx.Component:
    submit = rx.button(submit_label, type="submit") if color_scheme == "accent" else rx.button(
        submit_label, type="submit", color_scheme=color_scheme
    )
    return rx.hstack(
        rx.button("Cancel", type="button", variant="soft", color_scheme="gray", on_click=on_cancel),
        submit,
        justify="end",
        spacing="3",
        width="100%",
        margin_top="1rem",
    )
