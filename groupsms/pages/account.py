"""/account: the signed-in user's own account (every role): who they are, and a new password.

Changing the password needs the current one; the user's other sessions end, this browser stays
signed in (`services.users.change_own_password`).
"""

from __future__ import annotations

import reflex as rx

from groupsms.components import forms
from groupsms.components.forms import form_text
from groupsms.components.layout import app_shell
from groupsms.pages import Page
from groupsms.pages.session import SessionState, signed_in
from groupsms.security import MIN_PASSWORD_LENGTH
from groupsms.services import users

ACCOUNT_ROUTE = "/account"
_MAX_PASSWORD = 1024


class AccountState(SessionState):
    loaded: bool = False
    email: str = ""
    error: str = ""
    notice: str = ""

    @rx.event
    @signed_in(shell=True)
    async def load(self, actor):
        self.email, self.error, self.notice = actor.email, "", ""
        self.loaded = True
        return None

    @rx.event
    @signed_in
    async def change_password(self, actor, form_data):
        current = form_text(form_data, "current_password", _MAX_PASSWORD)
        new = form_text(form_data, "new_password", _MAX_PASSWORD)
        again = form_text(form_data, "new_password_again", _MAX_PASSWORD)
        self.error = self.notice = ""
        if None in (current, new, again):
            self.error = "Those passwords are too long or not text."
            return None
        if new != again:
            self.error = "The new password and its repetition differ."
            return None
        await self._call(users.change_own_password, actor, current, new, self._token())
        self.notice = "Password changed. Your other sessions were signed out."
        return None


def page() -> rx.Component:
    s = AccountState
    form = rx.form(
        rx.vstack(
            rx.heading("Change password", size="4", as_="h2"),
            forms.text_field("Current password", "current-password", "current_password", type="password",
                             required=True, auto_complete="current-password"),
            forms.text_field("New password", "new-password", "new_password", type="password", required=True,
                             auto_complete="new-password", hint=f"At least {MIN_PASSWORD_LENGTH} characters"),
            forms.text_field("New password again", "new-password-again", "new_password_again", type="password",
                             required=True, auto_complete="new-password"),
            forms.error_notice(s.error),
            forms.done_notice(s.notice),
            rx.button("Change password", type="submit"),
            spacing="3", width="100%", max_width="28rem",
        ),
        on_submit=s.change_password,
        reset_on_submit=True,
    )
    return app_shell(
        rx.vstack(
            forms.page_header("Account", "You are signed in as " + s.email + "."),
            rx.cond(s.loaded, form, forms.loading("your account")),
            spacing="4", width="100%",
        ),
    )


PAGE = Page(ACCOUNT_ROUTE, page, "Account · groupsms", AccountState.load)
