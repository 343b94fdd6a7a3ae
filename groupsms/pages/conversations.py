"""/: the signed-in user's group conversations (E7), the "needs routing" queue (E2) and the
"Create a new message" → "Group Message" dialog (components/create_group.py).

Everything shown comes from the services (R11 scopes, R12 number access); this page only formats.

Live (E4): once the services listed the user's conversations, the tab links `live.LocationLive` to
its location; `pages.live` then calls `_on_location_change` on this state whenever a message
arrives, is sent or relayed, or a needs-routing item appears or is assigned in the location, and
the list is re-read through the services with this tab's own session (keeping the typed search).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import reflex as rx

from groupsms.components.create_group import CreateGroupState, clean_positive_id, create_group_dialog
from groupsms.components.layout import app_shell
from groupsms.errors import GroupsmsError, NotAuthenticated
from groupsms.pages import Page, live
from groupsms.pages.session import HOME_ROUTE, LOGIN_ROUTE, SessionState
from groupsms.services import groups, messages
from groupsms.services.groups import GroupSummary
from groupsms.services.messages import RoutingItem

logger = logging.getLogger(__name__)

_MAX_SEARCH_LENGTH = 100
_TITLE_LOOKUP_LIMIT = 200
_LOAD_FAILED = "Your conversations could not be loaded. Please try again."


@dataclasses.dataclass
class GroupRow:
    """What the list shows of one group (already formatted: the page holds no rules)."""

    id: int
    href: str
    title: str
    initials: str
    number: str
    participants: str
    locked_reason: str
    preview: str
    when: str
    when_full: str
    unread: int


@dataclasses.dataclass
class GroupChoice:
    id: str
    title: str


@dataclasses.dataclass
class RoutingRow:
    message_id: str
    sender: str
    number: str
    body: str
    when: str
    when_full: str
    candidates: list[GroupChoice]


# -- formatting ------------------------------------------------------------------------------------

def _utc(moment: datetime) -> datetime:
    # Stored times are naive UTC (models.utcnow).
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def relative_time(moment: datetime | None, now: datetime | None = None) -> str:
    """"Just now", "5 min ago", "3 h ago", "Yesterday", "Monday", "Mar 5", "Mar 5, 2025" (UTC)."""
    if moment is None:
        return ""
    moment = _utc(moment)
    now = _utc(now) if now else datetime.now(timezone.utc)
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "Just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if moment.date() == now.date():
        return f"{int(seconds // 3600)} h ago"
    if moment.date() == (now - timedelta(days=1)).date():
        return "Yesterday"
    if seconds < 7 * 86400:
        return moment.strftime("%A")
    if moment.year == now.year:
        return f"{moment.strftime('%b')} {moment.day}"
    return f"{moment.strftime('%b')} {moment.day}, {moment.year}"


def _full_time(moment: datetime | None) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _initials(title: str) -> str:
    names = [n for n in title.split(", ") if n][:2]
    return "".join(n.strip()[:1].upper() for n in names) or "#"


def _row(summary: GroupSummary, now: datetime) -> GroupRow:
    label = (summary.number_label or "").strip()
    number = f"{label} · {summary.number_display}" if label else summary.number_display
    count = summary.participant_count
    return GroupRow(
        id=summary.id,
        href=f"/groups/{summary.id}",
        title=summary.title,
        initials=_initials(summary.title),
        number=number,
        participants=f"{count} participant" + ("" if count == 1 else "s"),
        locked_reason=summary.locked_reason or "",
        preview=summary.last_message_preview or "",
        when=relative_time(summary.last_activity_at, now),
        when_full=_full_time(summary.last_activity_at),
        unread=max(0, int(summary.unread_count or 0)),
    )


def _routing_row(item: RoutingItem, titles: dict[int, str], now: datetime) -> RoutingRow:
    return RoutingRow(
        message_id=str(item.message_id),
        sender=f"{item.from_name} · {item.from_display}" if item.from_name else item.from_display,
        number=item.number_display,
        body=item.body,
        when=relative_time(item.received_at, now),
        when_full=_full_time(item.received_at),
        candidates=[GroupChoice(str(g), titles.get(g, f"Group {g}")) for g in item.candidate_group_ids],
    )


def _query_id(params: Any, name: str) -> int | None:
    value = params.get(name) if hasattr(params, "get") else None
    return clean_positive_id(value) if isinstance(value, str) else None


# -- state -----------------------------------------------------------------------------------------

class ConversationsState(SessionState):
    groups: list[GroupRow] = []
    routing: list[RoutingRow] = []
    search: str = ""
    load_error: str = ""
    routing_error: str = ""
    routing_notice: str = ""
    loaded: bool = False
    refreshing: bool = False

    @rx.event
    async def load(self):
        """On page load: the list, the routing queue and, for `/?regroup=<id>&without=<contact>`,
        the group dialog pre-selected without that contact (R10)."""
        actor = await self._signed_in()
        if actor is None:
            self._clear()
            return rx.redirect(LOGIN_ROUTE, replace=True)
        self.routing_notice = ""
        if not await self._refresh(actor):
            return rx.redirect(LOGIN_ROUTE, replace=True)
        await self._link_live(actor)
        params = self.router.url.query_parameters
        group_id, contact_id = _query_id(params, "regroup"), _query_id(params, "without")
        if group_id is not None and contact_id is not None:
            await self._open_regroup(actor, group_id, contact_id)
        return None

    @rx.event
    async def refresh(self):
        actor = await self._actor()
        if actor is None:
            self._clear()
            yield rx.redirect(LOGIN_ROUTE, replace=True)
            return
        self.refreshing = True
        yield
        if not await self._refresh(actor):
            yield rx.redirect(LOGIN_ROUTE, replace=True)
            return
        self.refreshing = False
        await self._link_live(actor)

    @rx.event
    async def search_groups(self, value: Any):
        """The "Search conversations" box (by participant name or number)."""
        actor = await self._actor()
        if actor is None:
            self._clear()
            return rx.redirect(LOGIN_ROUTE, replace=True)
        if not isinstance(value, str):
            return None
        self.search = value[:_MAX_SEARCH_LENGTH]
        if not await self._refresh(actor, routing=False):
            return rx.redirect(LOGIN_ROUTE, replace=True)
        return None

    @rx.event
    async def assign(self, form_data: Any):
        """E2: put a needs-routing message into the group picked for it."""
        actor = await self._actor()
        if actor is None:
            self._clear()
            return rx.redirect(LOGIN_ROUTE, replace=True)
        if not isinstance(form_data, dict):
            return None
        message_id, group_id = form_data.get("message_id"), form_data.get("group_id")
        item = next((r for r in self.routing if isinstance(message_id, str) and r.message_id == message_id), None)
        if item is None or not isinstance(group_id, str):
            return None
        choice = next((c for c in item.candidates if c.id == group_id), None)
        if choice is None:
            self.routing_error = "Choose one of the groups offered for this message."
            return None
        try:
            await asyncio.to_thread(messages.assign_inbound, actor, int(message_id), int(group_id))
        except NotAuthenticated:
            self._clear()
            return rx.redirect(LOGIN_ROUTE, replace=True)
        except GroupsmsError as exc:
            self.routing_error = str(exc)
        except Exception:
            logger.exception("assigning an inbound message failed")
            self.routing_error = "The message could not be assigned. Please try again."
        else:
            self.routing_error = ""
            self.routing_notice = f"Message from {item.sender} moved to {choice.title}."
        if not await self._refresh(actor):
            return rx.redirect(LOGIN_ROUTE, replace=True)
        return None

    async def _refresh(self, actor: Any, *, routing: bool = True) -> bool:
        """Reload the list (and the routing queue); False when the session is gone.

        Assigns only what changed: Reflex sends every assigned var, and live refreshes are often."""
        now = datetime.now(timezone.utc)
        try:
            summaries = await asyncio.to_thread(groups.list_groups, actor, search=self.search)
        except NotAuthenticated:
            self._clear()
            return False
        except GroupsmsError as exc:
            self._assign(groups=[], load_error=str(exc))
        except Exception:
            logger.exception("listing groups failed")
            self._assign(groups=[], load_error=_LOAD_FAILED)
        else:
            self._assign(groups=[_row(s, now) for s in summaries], load_error="")
        if routing:
            await self._refresh_routing(actor, now)
        self._assign(loaded=True)
        return True

    def _assign(self, **values: Any) -> None:
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    async def _refresh_routing(self, actor: Any, now: datetime) -> None:
        try:
            items = await asyncio.to_thread(messages.list_needs_routing, actor)
            titles: dict[int, str] = {}
            if items:
                everything = await asyncio.to_thread(groups.list_groups, actor, limit=_TITLE_LOOKUP_LIMIT)
                titles = {g.id: g.title for g in everything}
        except GroupsmsError as exc:
            self._assign(routing=[], routing_error=str(exc))
            return
        except Exception:
            logger.exception("listing needs-routing messages failed")
            self._assign(routing=[], routing_error="Messages waiting for a group could not be loaded.")
            return
        self._assign(routing=[_routing_row(i, titles, now) for i in items if i.candidate_group_ids])

    async def _link_live(self, actor: Any) -> None:
        """Only after the services listed this user's conversations: live updates for the list."""
        if self.load_error:
            return
        try:
            await live.link_location(self, actor.location_id)
        except Exception:
            logger.exception("live updates unavailable for the conversation list")

    async def _on_location_change(self, location_id: int) -> None:
        """Live (E4/E7): called by pages.live for this tab; re-reads through the services as its
        user, with the search the user typed."""
        path = self.router.url.path
        if not self.loaded or not isinstance(path, str) or path.rstrip("/") != HOME_ROUTE.rstrip("/"):
            return  # the tab shows another page now (it links again when it comes back)
        actor = await self._actor()
        if actor is None:  # signed out elsewhere, or the session expired: show nothing more
            self._clear()
            return
        if actor.location_id != location_id:
            return
        await self._refresh(actor)

    async def _open_regroup(self, actor: Any, group_id: int, contact_id: int) -> None:
        """R10 "Create a new group without <name>": the dialog with the others pre-selected."""
        try:
            number_id, pairs = await asyncio.to_thread(groups.regroup_selection, actor, group_id, contact_id)
            detail = await asyncio.to_thread(groups.get_group, actor, group_id)
        except GroupsmsError:
            return  # a stale or foreign link: just the list
        except Exception:
            logger.exception("pre-selecting a regroup failed")
            return
        labels = {f"{p.contact_id}:{p.which}": f"{p.name} {p.display}" for p in detail.participants}
        dialog = await self.get_state(CreateGroupState)
        await dialog._open_with(actor, number_id, [f"{c}:{w}" for c, w in pairs], labels)

    def _clear(self) -> None:
        self.groups, self.routing = [], []
        self.search = self.load_error = self.routing_error = self.routing_notice = ""
        self.loaded = self.refreshing = False


# -- view ------------------------------------------------------------------------------------------

S = ConversationsState


def _new_message_menu() -> rx.Component:
    return rx.dropdown_menu.root(
        rx.dropdown_menu.trigger(
            rx.button(
                rx.icon("square-pen", size=16),
                rx.el.span("New message", class_name="conv-hide-narrow"),
                rx.icon("chevron-down", size=14),
                aria_label="Create a new message",
                size="2",
            ),
        ),
        rx.dropdown_menu.content(
            rx.dropdown_menu.item(
                rx.hstack(rx.icon("users", size=16), rx.text("Group Message"), spacing="2", align="center"),
                on_select=CreateGroupState.open_dialog,
            ),
            align="end",
        ),
    )


def _header() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Conversations", size="6", as_="h1"),
            rx.spacer(),
            rx.icon_button(
                rx.icon("refresh-cw", size=16),
                variant="soft",
                color_scheme="gray",
                aria_label="Refresh conversations",
                title="Refresh",
                on_click=S.refresh,
                loading=S.refreshing,
            ),
            _new_message_menu(),
            align="center",
            spacing="2",
            width="100%",
        ),
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search by name or number",
            aria_label="Search conversations",
            value=S.search,
            on_change=S.search_groups,
            type="search",
            size="3",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _routing_item(row: RoutingRow) -> rx.Component:
    select_id = "route-" + row.message_id
    return rx.el.li(
        rx.vstack(
            rx.hstack(
                rx.text(row.sender, weight="bold", size="2"),
                rx.text("to " + row.number, size="2", color_scheme="gray"),
                rx.spacer(),
                rx.el.time(row.when, title=row.when_full, class_name="conv-when"),
                align="center",
                wrap="wrap",
                width="100%",
                spacing="2",
            ),
            rx.text(row.body, size="2", class_name="conv-routing-body"),
            rx.form(
                rx.hstack(
                    rx.el.input(type="hidden", name="message_id", value=row.message_id),
                    rx.el.label("Group", html_for=select_id, class_name="conv-sr-only"),
                    rx.el.select(
                        rx.foreach(row.candidates, lambda c: rx.el.option(c.title, value=c.id)),
                        id=select_id,
                        name="group_id",
                        aria_label="Group for the message from " + row.sender,
                        class_name="conv-native-select",
                    ),
                    rx.button("Assign", type="submit", size="2"),
                    spacing="2",
                    align="center",
                    width="100%",
                    class_name="conv-routing-form",
                ),
                on_submit=S.assign,
                reset_on_submit=False,
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        class_name="conv-routing-item",
        aria_label="Message from " + row.sender,
    )


def _routing_section() -> rx.Component:
    return rx.cond(
        (S.routing.length() > 0) | (S.routing_notice != "") | (S.routing_error != ""),
        rx.el.section(
            rx.cond(
                S.routing.length() > 0,
                rx.vstack(
                    rx.hstack(
                        rx.icon("split", size=18, color=rx.color("amber", 11)),
                        rx.heading("Needs routing", size="3", as_="h2"),
                        rx.badge(S.routing.length(), color_scheme="amber", radius="full"),
                        align="center",
                        spacing="2",
                    ),
                    rx.text(
                        "These replies came from someone who is in more than one group on the same number. "
                        "Choose the group each one belongs to; it is then relayed to that group.",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.el.ul(rx.foreach(S.routing, _routing_item), class_name="conv-routing-list",
                             aria_label="Needs routing"),
                    spacing="2",
                    width="100%",
                ),
            ),
            rx.cond(
                S.routing_error != "",
                rx.callout(S.routing_error, icon="triangle_alert", color_scheme="red", role="alert",
                           size="1", width="100%", margin_top="0.5rem"),
            ),
            rx.cond(
                S.routing_notice != "",
                rx.callout(S.routing_notice, icon="check", color_scheme="green", role="status",
                           size="1", width="100%", margin_top="0.5rem"),
            ),
            class_name=rx.cond(S.routing.length() > 0, "conv-routing-section", "conv-routing-section conv-routing-done"),
            aria_label="Needs routing",
        ),
    )


def _group_item(row: GroupRow) -> rx.Component:
    has_unread = row.unread > 0
    return rx.el.li(
        rx.el.a(
            rx.box(row.initials, class_name="conv-avatar", aria_hidden="true"),
            rx.box(
                rx.hstack(
                    rx.heading(row.title, size="3", as_="h2", class_name="conv-group-title",
                               weight=rx.cond(has_unread, "bold", "medium")),
                    rx.el.time(row.when, title=row.when_full, class_name="conv-when"),
                    align="baseline",
                    justify="between",
                    spacing="2",
                    width="100%",
                ),
                rx.hstack(
                    rx.text(
                        rx.cond(row.preview != "", row.preview, "No messages yet"),
                        size="2",
                        color_scheme="gray",
                        class_name=rx.cond(has_unread, "preview conv-preview-unread", "preview"),
                    ),
                    rx.cond(
                        has_unread,
                        rx.el.span(
                            row.unread,
                            rx.el.span(" unread", class_name="conv-sr-only"),
                            class_name="conv-unread-badge",
                        ),
                    ),
                    align="center",
                    justify="between",
                    spacing="2",
                    width="100%",
                ),
                rx.hstack(
                    rx.badge(rx.icon("phone", size=11), row.number, variant="soft", size="1"),
                    rx.text(row.participants, size="1", color_scheme="gray"),
                    rx.cond(
                        row.locked_reason != "",
                        rx.badge(rx.icon("lock", size=11), "Locked", color_scheme="red", size="1",
                                 title=row.locked_reason),
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                class_name="conv-group-main",
            ),
            href=row.href,
            class_name="conv-group-link",
        ),
        aria_label=row.title,
        class_name=rx.cond(has_unread, "conv-group-item conv-group-item-unread", "conv-group-item"),
    )


def _empty_state() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("messages-square", size=40, color=rx.color("gray", 8)),
            rx.heading("No group conversations yet", size="4", as_="h2"),
            rx.text(
                "Create a group from “Create a new message” → “Group Message”. Groups you create, "
                "or that include contacts you can see, show up here.",
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


def _no_match() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("search-x", size=32, color=rx.color("gray", 8)),
            rx.text("No conversations match “", S.search, "”.", size="2", color_scheme="gray"),
            align="center",
            spacing="2",
        ),
        padding="2rem 1rem",
        width="100%",
        role="status",
    )


def _loading() -> rx.Component:
    # No heading until the session is checked and the list loaded: the heading means "ready".
    return rx.vstack(
        rx.hstack(
            rx.skeleton(height="2rem", width="12rem"),
            rx.spacer(),
            rx.skeleton(height="2rem", width="8rem"),
            width="100%",
        ),
        rx.skeleton(height="2.5rem", width="100%"),
        *[rx.skeleton(height="4.5rem", width="100%") for _ in range(4)],
        rx.el.span("Loading conversations…", class_name="conv-sr-only", role="status"),
        spacing="3",
        width="100%",
        aria_busy="true",
    )


def _list() -> rx.Component:
    return rx.cond(
        S.load_error != "",
        rx.callout(S.load_error, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
        rx.cond(
            S.groups.length() > 0,
            rx.el.ul(
                rx.foreach(S.groups, _group_item),
                role="list",
                aria_label="Group conversations",
                class_name="conv-group-list",
            ),
            rx.cond(S.search != "", _no_match(), _empty_state()),
        ),
    )


def conversations_page() -> rx.Component:
    return app_shell(
        rx.cond(
            S.loaded,
            rx.vstack(_header(), _routing_section(), _list(), spacing="4", width="100%"),
            _loading(),
        ),
        create_group_dialog(),
    )


live.register_location_view(ConversationsState)

PAGE = Page(HOME_ROUTE, conversations_page, "Conversations · groupsms", ConversationsState.load)
