"""/: the signed-in user's group conversations (E7), the "needs routing" queue and the "Other texts"
list (E2), and the "Create a new message" → "Group Message" dialog (pages/create_group.py, its view
components/create_group.py).

Everything shown comes from the services (R11 scopes, R12 number access); this page only formats.

Live (E4): once the services listed the user's conversations, the tab links `live.LocationLive` to
its location; `groupsms.live` then calls `_on_location_change` on this state whenever a message
arrives, is sent or relayed, or a needs-routing item or other text appears, is assigned or is
dismissed in the location, and
the list is re-read through the services with this tab's own session (keeping the typed search).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

import reflex as rx

from groupsms.components import conversation_list as view
from groupsms.components.conversation_list import (
    GroupRow,
    group_row,
)
from groupsms.components.routing import RoutingRow, routing_row, routing_section
from groupsms.components.create_group import create_group_dialog
from groupsms.components.inbox_signals import BASE_TITLE, live_signal
from groupsms.components.layout import app_shell
from groupsms.components.other_texts import (
    OtherTextRow,
    other_text_row,
    other_texts_section,
    routing_waiting_note,
)
from groupsms.errors import NotAuthenticated
from groupsms import live
from groupsms.access import scopes
from groupsms.pages import Page
from groupsms.pages.create_group import CreateGroupState, clean_positive_id
from groupsms.pages.session import HOME_ROUTE, SessionState, signed_in
from groupsms.domain.search import LIST_FILTERS
from groupsms.services import groups, inbox, messages

logger = logging.getLogger(__name__)

_MAX_SEARCH_LENGTH = 100


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
    # The routing the user asked for and the question the dialog shows (E2: nothing is routed
    # before they confirm it); "" when no dialog is open.
    routing_confirm_message: str = ""
    routing_confirm_group: str = ""
    routing_confirm_text: str = ""
    routing_busy: bool = False
    # Replies on the user's numbers that only someone who sees all their groups may route: a count.
    routing_waiting: int = 0
    other_texts: list[OtherTextRow] = []
    other_error: str = ""
    other_notice: str = ""
    loaded: bool = False
    refreshing: bool = False
    # The filter chosen above the list ("all", "unread", "mine", "locked") and the filters' counts.
    list_filter: str = "all"
    count_all: int = 0
    count_unread: int = 0
    count_mine: int = 0
    count_locked: int = 0
    # An assigned-only user (R11): the empty and no-match states say what they see.
    assigned_only: bool = False
    # The new replies the last live update brought (JSON for the browser's notifications).
    replies_json: str = "[]"
    # Backend only: the newest message id this tab has looked at for new replies.
    _replies_after: int = -1

    @rx.event
    @signed_in(shell=True, error="load_error")
    async def load(self, actor):
        """On page load: the list, the routing queue and, for `/?regroup=<id>&without=<contact>`,
        the group dialog pre-selected without that contact (R10); `/?regroup=<id>` (or an empty
        `without`) pre-selects everyone ("Recreate with everyone")."""
        self.routing_notice = self.other_notice = ""
        self._replies_after = -1
        self._assign(replies_json="[]")
        await self._refresh(actor)
        await self._look_for_replies(actor)
        await self._link_live(actor)
        params = self.router.url.query_parameters
        group_id, contact_id = _query_id(params, "regroup"), _query_id(params, "without")
        everyone = (params.get("without") if hasattr(params, "get") else None) in (None, "")
        if group_id is not None and (contact_id is not None or everyone):
            await self._open_regroup(actor, group_id, contact_id)
        return None

    @rx.event
    @signed_in(error="load_error", busy="refreshing")
    async def refresh(self, actor):
        yield
        await self._refresh(actor)
        await self._link_live(actor)

    @rx.event
    @signed_in(error="load_error")
    async def set_filter(self, actor, value: Any):
        """The filters above the list: All, Unread, Created by me, Locked (with the search)."""
        if not isinstance(value, str) or value not in LIST_FILTERS:
            return None
        self._assign(list_filter=value)
        await self._refresh(actor, routing=False)
        return None

    @rx.event
    @signed_in(error="load_error")
    async def search_groups(self, actor, value: Any):
        """The "Search conversations" box: group names, participants' names and numbers, message text."""
        if not isinstance(value, str):
            return None
        self.search = value[:_MAX_SEARCH_LENGTH]
        await self._refresh(actor, routing=False)
        return None

    def _routing_choice(self, message_id: Any, group_id: Any):
        """(the item, the candidate) this tab shows for these ids, else (item or None, None)."""
        item = next((r for r in self.routing if isinstance(message_id, str) and r.message_id == message_id), None)
        choice = next((c for c in item.candidates if c.id == group_id), None) if item and isinstance(group_id, str) else None
        return item, choice

    @rx.event
    @signed_in(error="routing_error")
    async def ask_assign(self, actor, form_data: Any):
        """E2 "Assign…" on a waiting reply: with a group chosen, the dialog asks to confirm, naming
        who will get the reply. Nothing is routed yet."""
        if not isinstance(form_data, dict):
            return None
        item, choice = self._routing_choice(form_data.get("message_id"), form_data.get("group_id"))
        if item is None:
            return None
        if choice is None:
            self._assign(routing_notice="", routing_error=f"Choose the group the message from {item.sender} belongs to.")
            return None
        self._assign(routing_error="", routing_notice="", routing_confirm_message=item.message_id,
                     routing_confirm_group=choice.id, routing_confirm_text=choice.question)
        return None

    @rx.event
    @signed_in(error="routing_error")
    async def cancel_assign(self, actor):
        """The dialog's "Cancel": nothing is routed."""
        self._reset_fields("routing_confirm_message", "routing_confirm_group", "routing_confirm_text",
                           "routing_error")
        return None

    @rx.event
    @signed_in(error="routing_error")
    async def close_assign(self, actor, open_: Any = False):
        """The dialog closed another way (Escape): as "Cancel"."""
        if open_ is not True:
            self._reset_fields("routing_confirm_message", "routing_confirm_group", "routing_confirm_text",
                               "routing_error")
        return None

    @rx.event
    @signed_in(error="routing_error", busy="routing_busy")
    async def assign(self, actor):
        """E2: the dialog's "Relay reply": the confirmed message goes into the confirmed group. If
        what the dialog said no longer holds (the list changed meanwhile), it asks again instead."""
        item, choice = self._routing_choice(self.routing_confirm_message, self.routing_confirm_group)
        if item is None or choice is None:
            asked = self.routing_confirm_message != ""
            self._reset_fields("routing_confirm_message", "routing_confirm_group", "routing_confirm_text")
            if asked:
                self.routing_error = "This reply is no longer waiting for a group."
            return None
        if choice.question != self.routing_confirm_text:
            self._assign(routing_confirm_text=choice.question,
                         routing_error="The group changed since you chose it: check who gets the reply.")
            return None
        done = await self._attempt(messages.assign_inbound, actor, int(item.message_id), int(choice.id))
        self._reset_fields("routing_confirm_message", "routing_confirm_group", "routing_confirm_text")
        self._assign(routing_error=done.error,
                     routing_notice=f"Message from {item.sender} moved to {choice.title}." if done.ok else "")
        await self._refresh(actor)
        return None

    @rx.event
    @signed_in(error="other_error")
    async def start_group_from_text(self, actor, message_id: Any):
        """E2 "Start a group" on an other text: the group dialog from its number, with the sender
        pre-selected when they are a contact the user may see."""
        mid = clean_positive_id(message_id)
        if mid is None or not any(r.message_id == str(mid) for r in self.other_texts):
            return None
        item = await self._call(messages.get_other_text, actor, mid)
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
    @signed_in(error="other_error")
    async def dismiss_text(self, actor, message_id: Any):
        """E2 "Dismiss" on an other text: off the list for everyone (the audit log keeps who)."""
        mid = clean_positive_id(message_id)
        row = next((r for r in self.other_texts if mid is not None and r.message_id == str(mid)), None)
        if row is None:
            return None
        done = await self._attempt(messages.dismiss_other_text, actor, mid)
        self._assign(other_error=done.error, other_notice=f"Text from {row.sender} dismissed." if done.ok else "")
        await self._refresh(actor)
        return None

    async def _refresh(self, actor: Any, *, routing: bool = True) -> None:
        """Reload the list (and the routing queue and other texts), assigning only what changed.
        Each part shows its own refusal; a session that ended raises `NotAuthenticated`."""
        now = datetime.now(timezone.utc)
        found = await self._attempt(self._list_view, actor)
        if found.ok:
            rows, counts = found.value
            self._assign(groups=[group_row(s, actor.clock, now) for s in rows], load_error="",
                         count_all=counts.all, count_unread=counts.unread, count_mine=counts.mine,
                         count_locked=counts.locked,
                         assigned_only=not scopes.has_full_data_access(actor))
        else:
            self._assign(groups=[], load_error=found.error)
        if routing:
            await self._refresh_routing(actor, now)
            await self._refresh_other_texts(actor, now)
        self._assign(loaded=True)

    async def _list_view(self, actor: Any) -> tuple[list, Any]:
        rows = await self._call(groups.list_groups, actor, search=self.search, filter=self.list_filter)
        return rows, await self._call(inbox.conversation_counts, actor)

    async def _look_for_replies(self, actor: Any) -> None:
        """The replies that arrived since this tab last looked, in groups its user may see: on the
        hidden signal for the browser to notify (only while the tab is in the background)."""
        after = None if self._replies_after < 0 else self._replies_after
        found = await self._attempt(inbox.new_replies, actor, after)
        if not found.ok:
            return
        self._replies_after = found.value.newest_id
        if found.value.items:
            self._assign(replies_json=json.dumps([
                {"id": r.message_id, "title": r.title, "body": f"{r.sender}: {r.body}",
                 "href": f"/groups/{r.group_id}"}
                for r in found.value.items
            ]))

    async def _refresh_other_texts(self, actor: Any, now: datetime) -> None:
        found = await self._attempt(messages.list_other_texts, actor)
        self._assign(other_texts=[other_text_row(i, actor.clock, now) for i in found.value] if found.ok else [])
        if not found.ok:
            self._assign(other_error=found.error)

    async def _routing_view(self, actor: Any) -> tuple[list, int]:
        items = await self._call(messages.list_needs_routing, actor)  # each names its candidates
        waiting = await self._call(messages.count_needs_routing_for_others, actor)
        return items, waiting

    async def _refresh_routing(self, actor: Any, now: datetime) -> None:
        found = await self._attempt(self._routing_view, actor)
        if not found.ok:
            self._assign(routing=[], routing_error=found.error)
            return
        items, waiting = found.value
        self._assign(routing=[routing_row(i, actor.clock, now) for i in items if i.candidate_group_ids],
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
        try:
            if actor is None:
                raise NotAuthenticated()
            if actor.location_id == location_id:
                await self._refresh(actor)
                await self._look_for_replies(actor)
        except NotAuthenticated:  # signed out elsewhere, or the session expired: show nothing more
            self._reset_fields()
        except Exception as exc:  # the same mapping as a handler's
            self._failed("live refresh of the conversation list", exc, "load_error")

    async def _open_regroup(self, actor: Any, group_id: int, contact_id: int | None) -> None:
        """R10 "Create a new group without <name>": the dialog with the others pre-selected
        (everyone without a contact); a stale or foreign link shows just the list."""
        found = await self._attempt(self._regroup_selection, actor, group_id, contact_id)
        if found.ok:
            number_id, keys, labels = found.value
            dialog = await self.get_state(CreateGroupState)
            await dialog._open_with(actor, number_id, keys, labels)

    async def _regroup_selection(self, actor: Any, group_id: int, contact_id: int | None):
        number_id, pairs = await self._call(groups.regroup_selection, actor, group_id, contact_id)
        detail = await self._call(groups.get_group, actor, group_id)
        labels = {f"{p.contact_id}:{p.which}": f"{p.name} {p.display}" for p in detail.participants}
        return number_id, [f"{c}:{w}" for c, w in pairs], labels


# -- view (the pieces: components/conversation_list.py) ----------------------------------------------

S = ConversationsState


def conversations_page() -> rx.Component:
    return app_shell(
        rx.cond(
            S.loaded,
            rx.vstack(live_signal(S.count_unread, S.replies_json), view.header(S, CreateGroupState), routing_section(S), routing_waiting_note(S),
                      other_texts_section(S), view.group_list(S), spacing="4", width="100%"),
            view.loading(),
        ),
        create_group_dialog(CreateGroupState),
    )


live.register_location_view(ConversationsState)

PAGE = Page(HOME_ROUTE, conversations_page, BASE_TITLE, ConversationsState.load)
