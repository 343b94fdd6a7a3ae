"""/settings/integrations: API tokens and outbound webhook subscriptions (admins)."""

from __future__ import annotations

import reflex as rx

from groupsms.components import forms
from groupsms.components.api_tokens import api_tokens_section
from groupsms.components.layout import app_shell
from groupsms.components.webhook_subscriptions import webhook_subscriptions_section
from groupsms.pages import Page
from groupsms.pages.integrations_state import IntegrationsState


def integrations_section() -> rx.Component:
    """Both sections, for any admin page ("Users & access" shows it); loads itself when shown."""
    s = IntegrationsState
    return rx.vstack(
        rx.cond(
            s.allowed,
            rx.vstack(api_tokens_section(s), rx.divider(), webhook_subscriptions_section(s), spacing="5", width="100%"),
            rx.cond(s.loaded, rx.callout("Only admins can manage API tokens and webhooks.", icon="shield-alert",
                                         color_scheme="amber", role="alert", width="100%")),
        ),
        on_mount=s.load,
        spacing="4", width="100%",
    )


def page() -> rx.Component:
    return app_shell(
        forms.page_header("Integrations", "API tokens and outbound webhooks for your CRM."),
        integrations_section(),
        max_width="64rem",
    )


PAGE = Page("/settings/integrations", page, "Integrations · groupsms")
