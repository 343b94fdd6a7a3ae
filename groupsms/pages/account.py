"""/account: the signed-in user's own account (every role): who they are, how they read times
(time zone and clock, "Automatic" follows the browser), and a new password.

Changing the password needs the current one; the user's other sessions end, this browser stays
signed in (`services.users.change_own_password`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import reflex as rx

from groupsms.components import forms
from groupsms.components.forms import form_text
from groupsms.components.layout import app_shell
from groupsms.domain.clock import Clock, zone_names
from groupsms.pages import Page
from groupsms.pages.session import SessionState, signed_in
from groupsms.security import MIN_PASSWORD_LENGTH
from groupsms.services import users

ACCOUNT_ROUTE = "/account"
_MAX_PASSWORD = 1024


CLOCK_LABELS = {"": "Automatic", "12h": "12-hour (2:46 PM)", "24h": "24-hour (14:46)"}


class AccountState(SessionState):
    loaded: bool = False
    email: str = ""
    error: str = ""
    notice: str = ""
    time_zone: str = ""  # the profile's ("" = the browser's)
    clock: str = ""
    browser_zone: str = ""
    automatic_label: str = "Automatic"
    shown_as: str = ""  # "Dec 2, 2026, 8:14 AM CST": how times read now
    prefs_error: str = ""
    prefs_notice: str = ""
    prefs_version: int = 0  # remounts the form after a save, so it shows what was stored

    @rx.event
    @signed_in(shell=True)
    async def load(self, actor):
        self.email, self.error, self.notice = actor.email, "", ""
        self.prefs_error = self.prefs_notice = ""
        await self._load_preferences(actor)
        self.loaded = True
        return None

    async def _load_preferences(self, actor, clock: Clock | None = None) -> None:
        prefs = await self._call(users.get_my_preferences, actor, self._token())
        self.time_zone, self.clock, self.browser_zone = prefs.time_zone, prefs.clock, prefs.browser_zone
        self.automatic_label = (f"Automatic (browser: {prefs.browser_zone})" if prefs.browser_zone
                                else "Automatic (your browser did not say; UTC)")
        self.shown_as = (clock or actor.clock).full(datetime.now(UTC))
        self.prefs_version += 1

    @rx.event
    @signed_in(error="prefs_error")
    async def save_preferences(self, actor, form_data):
        zone = form_text(form_data, "time_zone", 64)
        clock = form_text(form_data, "clock", 8)
        self.prefs_error = self.prefs_notice = ""
        if zone is None or clock is None:
            self.prefs_error = "Pick the time zone and the clock again."
            return None
        await self._call(users.set_my_preferences, actor, zone.strip(), clock.strip())
        # The next event's actor carries the new clock; show it on this page at once.
        profile = await self._call(users.get_my_preferences, actor, self._token())
        now_clock = Clock.resolve(profile.time_zone, profile.clock, profile.browser_zone, profile.browser_locale)
        await self._load_preferences(actor, now_clock)
        self.prefs_notice = "Saved. Times now read like " + self.shown_as + "."
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


_ZONE_OPTIONS = [forms.option(z.replace("_", " "), z) for z in ["UTC", *zone_names()]]


def _preferences(s) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Time zone and clock", size="4", as_="h2"),
            rx.text("Times now read like " + s.shown_as + ".", size="2", color_scheme="gray"),
            forms.field("Time zone", "time-zone", forms.native_select(
                "time-zone", "time_zone", [forms.option(s.automatic_label, ""), *_ZONE_OPTIONS],
                default_value=s.time_zone)),
            forms.field("Clock", "clock", forms.native_select(
                "clock", "clock", [forms.option(label, value) for value, label in CLOCK_LABELS.items()],
                default_value=s.clock), hint="Automatic follows your browser's language settings"),
            forms.error_notice(s.prefs_error),
            forms.done_notice(s.prefs_notice),
            rx.button("Save time settings", type="submit"),
            spacing="3", width="100%", max_width="28rem",
        ),
        on_submit=s.save_preferences,
        reset_on_submit=False,
        key=s.prefs_version.to_string(),
    )


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
            rx.cond(s.loaded, rx.vstack(_preferences(s), rx.divider(), form, spacing="5", width="100%"),
                    forms.loading("your account")),
            spacing="4", width="100%",
        ),
    )


PAGE = Page(ACCOUNT_ROUTE, page, "Account · groupsms", AccountState.load)
