"""/: the signed-in user's group conversations (E7), the "needs routing" queue and the "Other texts"
list (E2), and the "Create a new message" → "Group Message" dialog (components/create_group.py).

Everything shown comes from the services (R11 scopes, R12 number access); this page only formats.

Live (E4): once the services listed the user's conversations, the tab links `live.LocationLive` to
its location; `groupsms.live` then calls `_on_location_change` on this state whenever a message
arrives, is sent or relayed, or a needs-routing item or other text appears, is assigned or is
dismissed in the location, and
the list is re-read through the services with this tab's own session (keeping the typed search).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

import reflex as rx

from groupsms.components import conversation_list as view
from groupsms.components.conversation_list import (
    GroupRow,
    RoutingRow,
    group_row,
    routing_row,
)
from groupsms.components.create_group import (
    CreateGroupState,
    clean_positive_id,
    create_group_dialog,
)
from groupsms.components.layout import app_shell
from groupsms.components.other_texts import (
    OtherTextRow,
    other_text_row,
    other_texts_section,
    routing_waiting_note,
)
from groupsms.errors import GroupsmsError, NotAuthenticated
from groupsms import live
from groupsms.pages import Page
from groupsms.pages.session import HOME_ROUTE, LOGIN_ROUTE, SessionState, signed_in
from groupsms.services import groups, messages

logger = logging.getLogger(__name__)

_MAX_SEARCH_LENGTH = 100
_TITLE_LOOKUP_LIMIT = 200
_LOAD_FAILED = "Your conversations could not be loaded. Please try again."


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
    # Replies on the user's numbers that only someone who sees all their groups may route: a count.
    routing_waiting: int = 0
    other_texts: list[OtherTextRow] = []
    other_error: str = ""
    other_notice: str = ""
    loaded: bool = False
    refreshing: bool = False

    @rx.event
    @signed_in(shell=True)
    async def load(self, actor):
        """On page load: the list, the routing queue and, for `/?regroup=<id>&without=<contact>`,
        the group dialog pre-selected without that contact (R10)."""
        self.routing_notice = self.other_notice = ""
        if not await self._refresh(actor):
            return rx.redirect(LOGIN_ROUTE, replace=True)
        await self._link_live(actor)
        params = self.router.url.query_parameters
        group_id, contact_id = _query_id(params, "regroup"), _query_id(params, "without")
        if group_id is not None and contact_id is not None:
            await self._open_regroup(actor, group_id, contact_id)
        return None

    @rx.event
    @signed_in
    async def refresh(self, actor):
        self.refreshing = True
        yield
        if not await self._refresh(actor):
            yield rx.redirect(LOGIN_ROUTE, replace=True)
            return
        self.refreshing = False
        await self._link_live(actor)

    @rx.event
    @signed_in
    async def search_groups(self, actor, value: Any):
        """The "Search conversations" box (by participant name or number)."""
        if not isinstance(value, str):
            return None
        self.search = value[:_MAX_SEARCH_LENGTH]
        if not await self._refresh(actor, routing=False):
            return rx.redirect(LOGIN_ROUTE, replace=True)
        return None

    @rx.event
    @signed_in
    async def assign(self, actor, form_data: Any):
        """E2: put a needs-routing message into the group picked for it."""
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
            return self._to_login()
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

    @rx.event
    @signed_in
    async def start_group_from_text(self, actor, message_id: Any):
        """E2 "Start a group" on an other text: the group dialog from its number, with the sender
        pre-selected when they are a contact the user may see."""
        mid = clean_positive_id(message_id)
        if mid is None or not any(r.message_id == str(mid) for r in self.other_texts):
            return None
        try:
            item = await asyncio.to_thread(messages.get_other_text, actor, mid)
        except NotAuthenticated:
            return self._to_login()
        except GroupsmsError as exc:
            self.other_error = str(exc)
            return None
        except Exception:
            logger.exception("opening a group from an other text failed")
            self.other_error = "The group dialog could not be opened. Please try again."
            return None
        self.other_error = ""
        keys, labels = [], {}
        if item.contact_id is not None and item.which:
            key = f"{item.contact_id}:{item.which}"
            keys, labels = [key], {key: f"{item.from_name} {item.from_display}"}
        dialog = await self.get_state(CreateGroupState)
        await dialog._open_with(actor, item.number_id, keys, labels,
                                number_refused="You cannot create groups from the number this text came to.")
        return None

    @rx.event
    @signed_in
    async def dismiss_text(self, actor, message_id: Any):
        """E2 "Dismiss" on an other text: off the list for everyone (the audit log keeps who)."""
        mid = clean_positive_id(message_id)
        row = next((r for r in self.other_texts if mid is not None and r.message_id == str(mid)), None)
        if row is None:
            return None
        try:
            await asyncio.to_thread(messages.dismiss_other_text, actor, mid)
        except NotAuthenticated:
            return self._to_login()
        except GroupsmsError as exc:
            self.other_error, self.other_notice = str(exc), ""
        except Exception:
            logger.exception("dismissing an other text failed")
            self.other_error, self.other_notice = "The text could not be dismissed. Please try again.", ""
        else:
            self.other_error, self.other_notice = "", f"Text from {row.sender} dismissed."
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
            self._assign(groups=[group_row(s, now) for s in summaries], load_error="")
        if routing:
            await self._refresh_routing(actor, now)
            await self._refresh_other_texts(actor, now)
        self._assign(loaded=True)
        return True

    def _assign(self, **values: Any) -> None:
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    async def _refresh_other_texts(self, actor: Any, now: datetime) -> None:
        try:
            items = await asyncio.to_thread(messages.list_other_texts, actor)
        except GroupsmsError as exc:
            self._assign(other_texts=[], other_error=str(exc))
            return
        except Exception:
            logger.exception("listing other texts failed")
            self._assign(other_texts=[], other_error="Other texts could not be loaded.")
            return
        self._assign(other_texts=[other_text_row(i, now) for i in items])

    async def _refresh_routing(self, actor: Any, now: datetime) -> None:
        try:
            items = await asyncio.to_thread(messages.list_needs_routing, actor)
            waiting = await asyncio.to_thread(messages.count_needs_routing_for_others, actor)
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
        self._assign(routing=[routing_row(i, titles, now) for i in items if i.candidate_group_ids],
                     routing_waiting=waiting)

    async def _link_live(self, actor: Any) -> None:
        """Only after the services listed this user's conversations: live updates for the list."""
        if self.load_error:
            return
        try:
            await live.link_location(self, actor.location_id)
        except Exception:
            logger.exception("live updates unavailable for the conversation list")

    async def _on_location_change(self, location_id: int) -> None:
        """Live (E4/E7): called by groupsms.live for this tab; re-reads through the services as its
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

    def _to_login(self):
        """Without a session (every `@signed_in` handler, or a service that no longer knows it):
        show nothing more and go to sign-in."""
        self._clear()
        return rx.redirect(LOGIN_ROUTE, replace=True)

    def _clear(self) -> None:
        self.groups, self.routing, self.other_texts = [], [], []
        self.search = self.load_error = self.routing_error = self.routing_notice = ""
        self.other_error = self.other_notice = ""
        self.routing_waiting = 0
        self.loaded = self.refreshing = False


# -- view (the pieces: components/conversation_list.py) ----------------------------------------------

S = ConversationsState


def conversations_page() -> rx.Component:
    return app_shell(
        rx.cond(
            S.loaded,
            rx.vstack(view.header(S), view.routing_section(S), routing_waiting_note(S), other_texts_section(S),
                      view.group_list(S), spacing="4", width="100%"),
            view.loading(),
        ),
        create_group_dialog(),
    )


live.register_location_view(ConversationsState)

PAGE = Page(HOME_ROUTE, conversations_page, "Conversations · groupsms", ConversationsState.load)
