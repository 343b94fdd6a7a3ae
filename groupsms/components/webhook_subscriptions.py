"""The outbound webhooks section: subscribe a URL to events (its signing secret shown once), each
subscription's recent deliveries with their status, resend one. Pure layout: takes the state class
(pages/integrations_state.py)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from groupsms.components import forms
from groupsms.components.api_tokens import _checkbox
from groupsms.services.webhook_subscriptions import EVENT_TYPES


def _create_form(s: Any) -> rx.Component:
    return rx.form(
        rx.vstack(
            forms.text_field("Webhook URL", "hook-url", "hook_url", "https, reachable on the internet",
                             max_length=2000, required=True, placeholder="https://crm.example.com/hooks/groupsms"),
            rx.el.fieldset(
                rx.el.legend("Events", class_name="field-label"),
                *[_checkbox(f"event_{name}", name, hint) for name, hint in EVENT_TYPES.items()],
            ),
            rx.button("Subscribe", type="submit"),
            spacing="3", align="start", width="100%",
        ),
        on_submit=s.create_subscription,
        reset_on_submit=True,
    )


def _new_secret(s: Any) -> rx.Component:
    return rx.cond(
        s.new_secret != "",
        rx.callout(
            rx.vstack(
                rx.text("Events are signed with this secret (Groupsms-Signature header). Copy it now."),
                rx.code(s.new_secret, aria_label="Signing secret", word_break="break-all"),
                rx.button("Done", size="1", variant="soft", on_click=s.dismiss_secret),
                spacing="2", align="start",
            ),
            icon="key-round", color_scheme="green", role="status", width="100%",
        ),
    )


def _subscription(r: Any, s: Any) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(rx.text(rx.text.strong(r.url)), rx.text(r.events, size="1", color_scheme="gray"), spacing="0"),
            rx.spacer(),
            rx.button("Deliveries", size="1", variant="soft", aria_label="Deliveries to " + r.url,
                      on_click=s.show_deliveries(r.id)),
            rx.button("Unsubscribe", size="1", variant="soft", color_scheme="red", aria_label="Unsubscribe " + r.url,
                      on_click=s.delete_subscription(r.id)),
            align="center", width="100%", wrap="wrap",
        ),
        aria_label=r.url, class_name="list-row",
    )


def _delivery(d: Any, s: Any) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.text(rx.code(d.event)),
                rx.text(d.status, " · ", d.attempts, " attempts · ", d.answer, " · ", d.created, size="1",
                        color_scheme="gray"),
                spacing="0",
            ),
            rx.spacer(),
            rx.button("Resend", size="1", variant="soft", aria_label="Resend " + d.event, on_click=s.resend(d.id)),
            align="center", width="100%",
        ),
        class_name="list-row",
    )


def webhook_subscriptions_section(s: Any) -> rx.Component:
    return rx.vstack(
        rx.heading("Outbound webhooks", size="4", as_="h2"),
        rx.text("Signed events for your CRM, retried for 24 hours until it answers 2xx.", size="2",
                color_scheme="gray"),
        forms.error_notice(s.hook_error),
        forms.done_notice(s.hook_notice),
        _new_secret(s),
        _create_form(s),
        rx.cond(
            s.subscriptions.length() > 0,
            rx.el.ul(rx.foreach(s.subscriptions, lambda r: _subscription(r, s)), aria_label="Webhook subscriptions",
                     class_name="plain-list", width="100%"),
            rx.text("No subscriptions yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            s.deliveries_for != 0,
            rx.vstack(
                rx.heading("Recent deliveries to ", s.deliveries_url, size="3", as_="h3"),
                rx.cond(
                    s.deliveries.length() > 0,
                    rx.el.ul(rx.foreach(s.deliveries, lambda d: _delivery(d, s)), aria_label="Recent deliveries",
                             class_name="plain-list", width="100%"),
                    rx.text("Nothing sent yet.", size="2", color_scheme="gray"),
                ),
                spacing="2", width="100%",
            ),
        ),
        spacing="3", width="100%",
    )
