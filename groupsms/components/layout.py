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

# The content's id, for the "Skip to content" link.
MAIN_ID = "main-content"


def _is_current(route: str) -> rx.Var:
    # Empty until the page is connected (prerendered HTML, a slow network): then nothing is current.
    path = (rx.State.router.url.path | "").to(str)
    if route == "/":
        # A conversation (/groups/<id>) belongs to "Conversations".
        return (path == "/") | path.startswith("/groups")
    return path.startswith(route)


def _visible_to(who: str, component: rx.Component) -> rx.Component:
    from groupsms.pages.session import SessionState

    if who == "admin":
        return rx.cond(SessionState.is_admin, component)
    if who == "simulator":
        return rx.cond(SessionState.simulator_mode, component)
    return component


def _nav_link(label: str, route: str, icon: str) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16, aria_hidden="true"), rx.text(label, size="2"), spacing="2", align="center"),
        href=route,
        underline="none",
        class_name="nav-link",
        aria_current=rx.cond(_is_current(route), "page", None),
    )


def _nav() -> rx.Component:
    """The navigation of wide screens: one bar of links under the top bar (hidden on phones)."""
    links = [_visible_to(who, _nav_link(label, route, icon)) for label, route, icon, who in NAV]
    return rx.el.nav(
        rx.el.div(*links, class_name="shell-nav-links"),
        aria_label="Main",
        class_name="shell-nav",
        padding="0.5rem 1rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        background_color=rx.color("gray", 1),
    )


def _menu() -> rx.Component:
    """The navigation of phones: a "Menu" button in the top bar opening every page (and the account)."""
    items = [
        _visible_to(who, rx.menu.item(
            rx.hstack(rx.icon(icon, size=16, aria_hidden="true"), label, spacing="2", align="center"),
            on_select=rx.redirect(route),
        ))
        for label, route, icon, who in NAV
    ]
    return rx.box(
        rx.menu.root(
            rx.menu.trigger(
                rx.button(rx.icon("menu", size=18, aria_hidden="true"), "Menu", variant="soft", color_scheme="gray"),
            ),
            rx.menu.content(
                *items,
                rx.menu.separator(),
                rx.menu.item(
                    rx.hstack(rx.icon("circle-user", size=16, aria_hidden="true"), "Account", spacing="2", align="center"),
                    on_select=rx.redirect("/account"),
                ),
                aria_label="Pages",
                align="end",
            ),
            # Not modal: a modal menu sets aria-hidden on the page behind it while its buttons stay
            # focusable (axe: aria-hidden-focus). Escape and a click outside still close it.
            modal=False,
        ),
        class_name="shell-menu",
    )


def _pending_skeleton() -> rx.Component:
    """What stands in the content until the page knows who is signed in and has its data."""
    return rx.vstack(
        rx.skeleton(height="2rem", width="min(14rem, 60%)"),
        rx.skeleton(height="1rem", width="min(22rem, 90%)"),
        rx.skeleton(height="2.5rem", width="100%", margin_top="0.5rem"),
        *[rx.skeleton(height="4rem", width="100%") for _ in range(4)],
        rx.el.span("Loading…", class_name="visually-hidden", role="status"),
        class_name="shell-skeleton",
        spacing="3",
        width="100%",
        aria_busy="true",
    )


def app_shell(*children: rx.Component, max_width: str = "56rem") -> rx.Component:
    """The signed-in layout: a skip link, a top bar (brand, user, "Sign out"; "Menu" on phones),
    the navigation, then the content, with a skeleton in its place until the page has loaded."""
    from groupsms.pages.session import SessionState

    # Every page's load handler fills the shell's user fields (`signed_in(shell=True)`): until
    # then (a slow connection, the page not yet connected) the skeleton shows, not an empty page.
    pending = SessionState.user_name == ""
    return rx.box(
        rx.el.a("Skip to content", href=f"#{MAIN_ID}", class_name="shell-skip-link"),
        rx.el.header(
            rx.hstack(
                brand(),
                rx.spacer(),
                # The user's own account page: change password.
                rx.cond(
                    pending,
                    rx.skeleton(height="1.25rem", width="6rem", class_name="shell-header-account"),
                    rx.link(SessionState.user_name, href="/account", size="2", color_scheme="gray",
                            class_name="user-name shell-header-account",
                            aria_label="Account of " + SessionState.user_name),
                ),
                _menu(),
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
        rx.el.main(
            *children,
            _pending_skeleton(),
            id=MAIN_ID,
            tab_index=-1,
            class_name=rx.cond(pending, "shell-main shell-pending", "shell-main"),
            padding="1rem",
            max_width=max_width,
            margin_x="auto",
        ),
        min_height="100vh",
    )
