"""The API tokens section: create (shown once), list with last use, revoke. Pure layout: takes the
state class (pages/integrations_state.py)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from groupsms.components import forms
from groupsms.services.api_tokens import SCOPES


def _checkbox(name: str, label: str, hint: str) -> rx.Component:
    control_id = f"check-{name.replace(':', '-').replace('.', '-')}"
    return rx.hstack(
        rx.el.input(type="checkbox", id=control_id, name=name, aria_describedby=f"{control_id}-hint"),
        rx.el.label(rx.code(label), html_for=control_id),
        rx.text(hint, size="1", color_scheme="gray", id=f"{control_id}-hint"),
        spacing="2", align="center",
    )


def _create_form(s: Any) -> rx.Component:
    return rx.form(
        rx.vstack(
            forms.text_field("Token name", "token-name", "token_name", "What it is for, e.g. CRM sync",
                             max_length=100, required=True),
            forms.field("Acts as", "token-user", forms.native_select(
                "token-user", "token_user", [rx.foreach(s.user_choices, lambda u: forms.option(u.label, u.id))])),
            rx.el.fieldset(
                rx.el.legend("Scopes (none: everything the user may do)", class_name="field-label"),
                *[_checkbox(f"scope_{name}", name, hint) for name, hint in SCOPES.items()],
            ),
            rx.button("Create token", type="submit"),
            spacing="3", align="start", width="100%",
        ),
        on_submit=s.create_token,
        reset_on_submit=True,
    )


def _new_token(s: Any) -> rx.Component:
    return rx.cond(
        s.new_token != "",
        rx.callout(
            rx.vstack(
                rx.text("Copy the token ", rx.text.strong(s.new_token_name), " now: it is not shown again."),
                rx.code(s.new_token, aria_label="New API token", id="new-api-token", word_break="break-all"),
                rx.button("Done", size="1", variant="soft", on_click=s.dismiss_token),
                spacing="2", align="start",
            ),
            icon="key-round", color_scheme="green", role="status", width="100%",
        ),
    )


def _row(t: Any, s: Any) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.text(rx.text.strong(t.name), " · ", rx.code(t.prefix)),
                rx.text("Acts as ", t.user, " · scopes: ", t.scopes, size="1", color_scheme="gray"),
                rx.text("Created ", t.created, " · last used ", t.last_used, size="1", color_scheme="gray"),
                spacing="0",
            ),
            rx.spacer(),
            rx.button("Revoke", size="1", color_scheme="red", variant="soft", aria_label="Revoke " + t.name,
                      on_click=s.revoke_token(t.id)),
            align="center", width="100%",
        ),
        aria_label=t.name, class_name="list-row",
    )


def api_tokens_section(s: Any) -> rx.Component:
    return rx.vstack(
        rx.heading("API tokens", size="4", as_="h2"),
        rx.text("A token acts as its user, with that user's access, through the REST API at /api/v1 "
                "(documentation at /api/v1/docs).", size="2", color_scheme="gray"),
        forms.error_notice(s.token_error),
        forms.done_notice(s.token_notice),
        _new_token(s),
        _create_form(s),
        rx.cond(
            s.tokens.length() > 0,
            rx.el.ul(rx.foreach(s.tokens, lambda t: _row(t, s)), aria_label="API tokens", class_name="plain-list",
                     width="100%"),
            rx.text("No tokens yet.", size="2", color_scheme="gray"),
        ),
        spacing="3", width="100%",
    )
