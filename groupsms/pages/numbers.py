"""/numbers: Numbers."""

from __future__ import annotations

import reflex as rx

from groupsms.components.layout import app_shell
from groupsms.pages import Page
from groupsms.pages.session import LOGIN_ROUTE, SessionState


class NumbersState(SessionState):
    @rx.event
    async def load(self):
        if await self._signed_in() is None:
            return rx.redirect(LOGIN_ROUTE, replace=True)
        return None


def page() -> rx.Component:
    return app_shell(rx.heading("Numbers", size="6", as_="h1"), rx.text("Numbers are being built."))


PAGE = Page("/numbers", page, "Numbers · groupsms", NumbersState.load)
