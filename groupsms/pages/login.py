"""/login: the sign-in form."""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx

from groupsms.components.layout import centered_card
from groupsms.errors import AuthError
from groupsms.pages import Page
from groupsms.pages.session import HOME_ROUTE, LOGIN_ROUTE, SessionState, public
from groupsms.services import sessions

logger = logging.getLogger(__name__)

_MAX_EMAIL_LENGTH = 254
_MAX_PASSWORD_LENGTH = 1024


class LoginState(SessionState):
    error: str = ""

    @rx.event
    @public
    async def load(self):
        """Send a signed-in visitor home; drop a cookie whose session is gone."""
        self.error = ""
        if await self._actor() is not None:
            return rx.redirect(HOME_ROUTE, replace=True)
        if self.session_token:
            return self._forget_session()
        return None

    @rx.event
    @public
    async def sign_in(self, form_data: Any):
        email, password = _credentials(form_data)
        if not email or not password:
            self.error = "Enter your email and password."
            return None
        try:
            # The hash runs on the sign-in pool, never on the event loop; throttled per client too.
            token, _actor = await sessions.sign_in_async(email, password, self._client_address())
        except AuthError as exc:
            self.error = str(exc)
            return None
        except Exception:
            logger.exception("sign-in failed")
            self.error = "Signing in is not possible right now. Please try again."
            return None
        self.error = ""
        self.session_token = token
        return rx.redirect(HOME_ROUTE, replace=True)


    def _client_address(self) -> str | None:
        """The browser's address as Reflex saw it: behind a proxy, set REFLEX_TRUSTED_PROXY_HOPS so
        that it comes from X-Forwarded-For (otherwise every visitor is the proxy)."""
        ip = self.router.session.client_ip
        return ip if isinstance(ip, str) and ip else None


def _credentials(form_data: Any) -> tuple[str, str]:
    """Email and password from the submitted form; empty strings for anything malformed."""
    if not isinstance(form_data, dict):
        return "", ""
    email, password = form_data.get("email"), form_data.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        return "", ""
    email = email.strip()
    if len(email) > _MAX_EMAIL_LENGTH or len(password) > _MAX_PASSWORD_LENGTH:
        return "", ""
    return email, password


def _field(label: str, **input_props: Any) -> rx.Component:
    field_id = input_props["id"]
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.input(size="3", width="100%", **input_props),
        spacing="1",
        width="100%",
    )


def login_page() -> rx.Component:
    return centered_card(
        rx.form(
            rx.vstack(
                rx.heading("Sign in", size="6", as_="h1"),
                rx.text("Group SMS for your CRM", color_scheme="gray", size="2"),
                _field(
                    "Email",
                    id="email",
                    name="email",
                    type="email",
                    auto_complete="username",
                    required=True,
                ),
                _field(
                    "Password",
                    id="password",
                    name="password",
                    type="password",
                    auto_complete="current-password",
                    required=True,
                ),
                rx.cond(
                    LoginState.error != "",
                    rx.callout(
                        LoginState.error,
                        icon="triangle_alert",
                        color_scheme="red",
                        role="alert",
                        width="100%",
                    ),
                ),
                # Disabled until the page is connected: a native submit of the prerendered form
                # would put the password in the URL.
                rx.button(
                    "Sign in",
                    type="submit",
                    size="3",
                    width="100%",
                    disabled=~rx.State.is_hydrated,
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=LoginState.sign_in,
            reset_on_submit=False,
            width="100%",
        ),
    )


PAGE = Page(LOGIN_ROUTE, login_page, "Sign in · groupsms", LoginState.load)
