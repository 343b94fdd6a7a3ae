"""Page shells shared by the pages."""

from __future__ import annotations

import reflex as rx

APP_NAME = "groupsms"


def brand() -> rx.Component:
    return rx.hstack(
        rx.icon("messages-square", size=22, color=rx.color("accent", 10)),
        rx.text(APP_NAME, weight="bold", size="4"),
        align="center",
        spacing="2",
    )


def centered_card(*children: rx.Component) -> rx.Component:
    """A narrow card in the middle of the screen (sign-in)."""
    return rx.center(
        rx.vstack(
            brand(),
            rx.card(*children, size="3", width="100%"),
            spacing="4",
            align="center",
            width="100%",
            max_width="24rem",
        ),
        min_height="100vh",
        padding="1rem",
        background_color=rx.color("gray", 2),
    )


NAV = (
    # (label, route, icon, who sees it: "all" | "admin" | "simulator")
    ("Conversations", "/", "messages-square", "all"),
    ("Contacts", "/contacts", "contact", "all"),
    ("Numbers", "/numbers", "phone", "all"),
    ("Users & access", "/users", "shield", "admin"),
    ("Phones", "/phones", "smartphone", "simulator"),
)


def _nav_link(label: str, route: str, icon: str) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), spacing="2", align="center"),
        href=route,
        underline="none",
        class_name="nav-link",
    )


def _nav() -> rx.Component:
    from groupsms.pages.session import SessionState

    links = []
    for label, route, icon, who in NAV:
        link = _nav_link(label, route, icon)
        if who == "admin":
            link = rx.cond(SessionState.is_admin, link)
        elif who == "simulator":
            link = rx.cond(SessionState.simulator_mode, link)
        links.append(link)
    return rx.el.nav(
        rx.hstack(*links, spacing="4", wrap="wrap", align="center"),
        aria_label="Main",
        padding="0.5rem 1rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        background_color=rx.color("gray", 1),
    )


def app_shell(*children: rx.Component, max_width: str = "56rem") -> rx.Component:
    """The signed-in layout: a top bar (brand, user, "Sign out"), the navigation, then the content."""
    from groupsms.pages.session import SessionState

    return rx.box(
        rx.el.header(
            rx.hstack(
                brand(),
                rx.spacer(),
                # The user's own account page: change password.
                rx.link(SessionState.user_name, href="/account", size="2", color_scheme="gray",
                        class_name="user-name", aria_label="Account of " + SessionState.user_name),
                rx.button("Sign out", variant="soft", color_scheme="gray", on_click=SessionState.sign_out),
                align="center",
                spacing="3",
                width="100%",
            ),
            padding="0.75rem 1rem",
            border_bottom=f"1px solid {rx.color('gray', 5)}",
            background_color=rx.color("gray", 1),
        ),
        _nav(),
        rx.el.main(*children, padding="1rem", max_width=max_width, margin_x="auto"),
        min_height="100vh",
    )
