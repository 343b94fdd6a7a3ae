"""/: the signed-in user's group conversations."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime

import reflex as rx

from groupsms.components.layout import app_shell
from groupsms.errors import GroupsmsError, NotAuthenticated
from groupsms.pages import Page
from groupsms.pages.session import HOME_ROUTE, LOGIN_ROUTE, SessionState
from groupsms.services import groups
from groupsms.services.groups import GroupSummary

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class GroupRow:
    """What the list shows of one group (already formatted: the page holds no rules)."""

    id: int
    title: str
    number: str
    participants: str
    locked_reason: str
    preview: str
    last_activity: str


def _row(summary: GroupSummary) -> GroupRow:
    label = (summary.number_label or "").strip()
    number = f"{label} · {summary.number_display}" if label else summary.number_display
    count = summary.participant_count
    return GroupRow(
        id=summary.id,
        title=summary.title,
        number=number,
        participants=f"{count} participant" + ("" if count == 1 else "s"),
        locked_reason=summary.locked_reason or "",
        preview=summary.last_message_preview or "",
        last_activity=_when(summary.last_activity_at),
    )


def _when(moment: datetime | None) -> str:
    # Stored times are naive UTC (models.utcnow); local time zones come with the full UI.
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


class ConversationsState(SessionState):
    groups: list[GroupRow] = []
    load_error: str = ""
    loaded: bool = False

    @rx.event
    async def load(self):
        actor = await self._signed_in()
        if actor is None:
            self._clear()
            return rx.redirect(LOGIN_ROUTE, replace=True)
        try:
            summaries = await asyncio.to_thread(groups.list_groups, actor)
        except NotAuthenticated:
            self._clear()
            return rx.redirect(LOGIN_ROUTE, replace=True)
        except GroupsmsError as exc:
            self.groups, self.load_error = [], str(exc)
        except Exception:
            logger.exception("listing groups failed")
            self.groups = []
            self.load_error = "Your conversations could not be loaded. Please reload the page."
        else:
            self.groups = [_row(s) for s in summaries]
            self.load_error = ""
        self.loaded = True
        return None

    def _clear(self) -> None:
        self.groups = []
        self.load_error = ""
        self.loaded = False


def _group_card(row: GroupRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(row.title, size="3", as_="h2"),
                rx.spacer(),
                rx.text(row.last_activity, size="1", color_scheme="gray"),
                align="center",
                width="100%",
            ),
            rx.hstack(
                rx.badge(row.number, variant="soft"),
                rx.text(row.participants, size="2", color_scheme="gray"),
                rx.cond(
                    row.locked_reason != "",
                    rx.badge(rx.icon("lock", size=12), row.locked_reason, color_scheme="red"),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                row.preview != "",
                rx.text(row.preview, size="2", trim="both", class_name="preview"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        role="listitem",
        aria_label=row.title,
    )


def _empty_state() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("messages-square", size=40, color=rx.color("gray", 8)),
            rx.heading("No group conversations yet", size="4", as_="h2"),
            rx.text(
                "Groups you create, or that include contacts you can see, show up here.",
                color_scheme="gray",
                size="2",
                text_align="center",
            ),
            align="center",
            spacing="2",
        ),
        padding="3rem 1rem",
        width="100%",
    )


def conversations_page() -> rx.Component:
    return app_shell(
        rx.cond(
            ConversationsState.loaded,
            rx.vstack(
                rx.heading("Conversations", size="6", as_="h1"),
                rx.cond(
                    ConversationsState.load_error != "",
                    rx.callout(
                        ConversationsState.load_error,
                        icon="triangle_alert",
                        color_scheme="red",
                        role="alert",
                        width="100%",
                    ),
                    rx.cond(
                        ConversationsState.groups.length() > 0,
                        rx.vstack(
                            rx.foreach(ConversationsState.groups, _group_card),
                            role="list",
                            aria_label="Group conversations",
                            spacing="3",
                            width="100%",
                        ),
                        _empty_state(),
                    ),
                ),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="3rem"),
        ),
    )


PAGE = Page(HOME_ROUTE, conversations_page, "Conversations · groupsms", ConversationsState.load)
