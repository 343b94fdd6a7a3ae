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


def app_shell(*children: rx.Component, user_name: rx.Var, on_sign_out) -> rx.Component:
    """The signed-in layout: a top bar with the user's name and "Sign out", then the content."""
    return rx.box(
        rx.el.header(
            rx.hstack(
                brand(),
                rx.spacer(),
                rx.text(user_name, size="2", color_scheme="gray", class_name="user-name"),
                rx.button("Sign out", variant="soft", color_scheme="gray", on_click=on_sign_out),
                align="center",
                spacing="3",
                width="100%",
            ),
            padding="0.75rem 1rem",
            border_bottom=f"1px solid {rx.color('gray', 5)}",
            background_color=rx.color("gray", 1),
        ),
        rx.el.main(*children, padding="1rem", max_width="56rem", margin_x="auto"),
        min_height="100vh",
    )
