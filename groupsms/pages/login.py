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
_MAX_BROWSER_FIELD = 100  # the service validates and caps what it keeps

# Fills the hidden fields with the browser's IANA zone and its locale carrying the hour cycle
# ("en-US-u-hc-h12"): times are shown that way until the profile sets its own.
BROWSER_CLOCK_JS = """(() => { try {
  const put = (id, v) => { const el = document.getElementById(id); if (el) el.value = v || ""; };
  put("browser_zone", Intl.DateTimeFormat().resolvedOptions().timeZone);
  const lang = navigator.language || "";
  const hc = lang ? new Intl.DateTimeFormat(lang, {hour: "numeric"}).resolvedOptions().hourCycle : "";
  put("browser_locale", lang && hc && !lang.includes("-u-") ? lang + "-u-hc-" + hc : lang);
  const email = document.getElementById("email");
  if (email && (!document.activeElement || document.activeElement === document.body)) email.focus();
} catch (e) {} })()"""


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
            zone, locale = _browser_fields(form_data)
            token, _actor = await sessions.sign_in_async(email, password, self._client_address(), zone, locale)
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


def _browser_fields(form_data: Any) -> tuple[str, str]:
    """The browser's zone and locale from the hidden fields ("" when missing or not text)."""
    values = []
    for key in ("browser_zone", "browser_locale"):
        value = form_data.get(key) if isinstance(form_data, dict) else None
        values.append(value[:_MAX_BROWSER_FIELD] if isinstance(value, str) else "")
    return values[0], values[1]


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
                    auto_focus=True,
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
                rx.el.input(type="hidden", id="browser_zone", name="browser_zone", default_value=""),
                rx.el.input(type="hidden", id="browser_locale", name="browser_locale", default_value=""),
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
            on_mount=rx.call_script(BROWSER_CLOCK_JS),
            reset_on_submit=False,
            width="100%",
        ),
    )


PAGE = Page(LOGIN_ROUTE, login_page, "Sign in · groupsms", LoginState.load)
