"""/groups/[group_id]: one group conversation (R4–R10, R13, E3–E5).

Every handler resolves the actor from the session again and asks the services, which check access
(R11, R14): the group id comes from the URL once, is validated, and is then only read from the
state; message ids from the browser must be ones this tab shows. Live updates (E4) come through
`groupsms.live`, which calls `_on_group_change` on this state for every tab linked to the group.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from groupsms.components import chat, chat_panels, composer
from groupsms.components.chat import Bubble, DeliveryRow
from groupsms.components.chat_panels import ParticipantRow, RegroupLink
from groupsms.components.layout import app_shell
from groupsms.errors import GroupsmsError, NotAuthenticated, NotFound
from groupsms import live
from groupsms.pages import Page
from groupsms.pages.session import LOGIN_ROUTE, SessionState, signed_in
from groupsms.services import groups, messages
from groupsms.services.groups import GroupDetail
from groupsms.services.messages import MessageView

logger = logging.getLogger(__name__)

ROUTE = "/groups/[group_id]"
PAGE_SIZE = 30  # messages per page (list_messages' default)
MAX_SHOWN = 300  # earlier pages a user loaded stay, up to this many messages
MAX_SEARCH = 100
_ROUTE_ID = re.compile(r"^/groups/(\d{1,12})/?$")
_GENERIC_ERROR = "Something went wrong. Please try again."


def _route_group_id(path: Any) -> int | None:
    match = _ROUTE_ID.match(path if isinstance(path, str) else "")
    return int(match.group(1)) if match else None


def _new_compose_key() -> str:
    return secrets.token_urlsafe(24)  # 32 URL-safe characters


def _view(actor, group_id: int) -> tuple[GroupDetail, list[MessageView]]:
    """The group and its latest page, for one user (in a worker thread)."""
    return groups.get_group(actor, group_id), messages.list_messages(actor, group_id, None, PAGE_SIZE)


class GroupChatState(SessionState):
    chat_id: int = 0
    phase: str = "loading"  # loading | ready | not_found | error | signed_out
    load_error: str = ""
    # the group
    title: str = ""
    contact_name: str = ""
    number_text: str = ""
    created_text: str = ""
    participants: list[ParticipantRow] = []
    matches: list[ParticipantRow] = []
    participant_query: str = ""
    panel_open: bool = False
    locked_reason: str = ""
    regroup_links: list[RegroupLink] = []
    can_send: bool = False
    send_block_reason: str = ""
    # the messages
    bubbles: list[Bubble] = []
    has_earlier: bool = False
    loading_earlier: bool = False
    earlier_error: str = ""
    open_message_id: int = 0
    deliveries: list[DeliveryRow] = []
    deliveries_error: str = ""
    # the composer
    counter: str = composer.EMPTY_COUNTER
    draft_problem: str = ""
    sending: bool = False
    send_error: str = ""
    # This compose's single-use key: the form sends it with the text, the service sends once per
    # key; a new one after each message that went out.
    compose_key: str = ""

    # -- helpers ---------------------------------------------------------------------------------

    def _reset_view(self, phase: str = "loading") -> None:
        self.chat_id, self.phase, self.load_error = 0, phase, ""
        self.title = self.contact_name = self.number_text = self.created_text = ""
        self.participants, self.matches, self.participant_query = [], [], ""
        self.panel_open = False
        self.locked_reason, self.regroup_links = "", []
        self.can_send, self.send_block_reason = False, ""
        self.bubbles, self.has_earlier, self.loading_earlier, self.earlier_error = [], False, False, ""
        self.open_message_id, self.deliveries, self.deliveries_error = 0, [], ""
        self.counter, self.draft_problem, self.sending, self.send_error = composer.EMPTY_COUNTER, "", False, ""
        self.compose_key = ""

    def _set(self, **values: Any) -> None:
        """Assign only what changed: Reflex sends every assigned var, and live refreshes are often."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _apply_detail(self, detail: GroupDetail) -> None:
        rows = [chat_panels.participant_row(p) for p in detail.participants]
        label = (detail.number_label or "").strip()
        when = detail.created_at.strftime("%b %d, %Y").replace(" 0", " ")
        if self.participant_query:  # keep the search's result, with fresh names and tags
            wanted = {m.id for m in self.matches}
            matches = [r for r in rows if r.id in wanted]
        else:
            matches = rows
        self._set(
            title=detail.title,
            contact_name=rows[0].name if rows else detail.title,
            number_text=f"{label} · {detail.number_display}" if label else detail.number_display,
            created_text=f"Created by {detail.created_by} on {when}" if detail.created_by else f"Created {when}",
            participants=rows,
            matches=matches,
            locked_reason=detail.locked_reason or "",
            regroup_links=chat_panels.regroup_links(detail),
            can_send=bool(detail.can_send),
            send_block_reason=detail.send_block_reason or "",
        )

    def _show_latest(self, latest: list[MessageView], *, replace: bool) -> bool:
        """Merge the latest page into what is shown; True when it holds a message not shown before."""
        now = datetime.now(UTC).replace(tzinfo=None)
        locked = bool(self.locked_reason)
        fresh = [chat.bubble(m, locked, now) for m in latest]
        known = {b.id for b in self.bubbles}
        if replace or not self.bubbles or not fresh:
            shown = fresh
            if replace or not known:
                self.has_earlier = len(latest) >= PAGE_SIZE
        else:
            shown = [b for b in self.bubbles if b.id < fresh[0].id] + fresh
        if len(shown) > MAX_SHOWN:
            shown = shown[-MAX_SHOWN:]
            self.has_earlier = True
        self._set(bubbles=shown)
        return any(b.id not in known for b in fresh)

    def _to_login(self):
        """Without a session (every `@signed_in` handler): show nothing more and go to sign-in. A
        send refused this way still releases the composer (a no-op for every other handler)."""
        self._reset_view()
        return [rx.redirect(LOGIN_ROUTE, replace=True), rx.call_script(composer.send_done_js())]

    async def _mark_read(self, actor) -> None:
        try:
            await asyncio.to_thread(groups.mark_read, actor, self.chat_id)
        except GroupsmsError:
            pass  # an unread count is not worth an error on screen
        except Exception:
            logger.exception("mark_read failed")

    def _not_found(self) -> None:
        self._reset_view("not_found")

    # -- loading ---------------------------------------------------------------------------------

    @rx.event
    @signed_in(shell=True)
    async def load(self, actor):
        self._reset_view()
        group_id = _route_group_id(self.router.url.path)
        if group_id is None:
            self._not_found()
            return None
        try:
            detail, latest = await asyncio.to_thread(_view, actor, group_id)
        except NotAuthenticated:
            self._reset_view()
            return rx.redirect(LOGIN_ROUTE, replace=True)
        except NotFound:
            self._not_found()
            return None
        except GroupsmsError as exc:
            self._reset_view("error")
            self.load_error = str(exc)
            return None
        except Exception:
            logger.exception("loading group %s failed", group_id)
            self._reset_view("error")
            self.load_error = "This conversation could not be loaded. Please reload the page."
            return None
        self.chat_id = detail.id
        self._apply_detail(detail)
        self._show_latest(latest, replace=True)
        self.compose_key = _new_compose_key()
        self.phase = "ready"
        try:  # only now: the services let this user read the group
            await live.link(self, detail.id)
        except Exception:
            logger.exception("live updates unavailable for group %s", detail.id)
        if latest:
            await self._mark_read(actor)
        return rx.scroll_to(chat.MESSAGES_ID + "-end")

    @rx.event
    @signed_in
    async def leave(self, actor):
        """The page was left: stop refreshing this tab for the group."""
        self.chat_id = 0

    async def _on_group_change(self, group_id: int) -> None:
        """Live (E4): called by groupsms.live for this tab; re-reads through the services as its user."""
        if self.phase != "ready" or self.chat_id != group_id:
            return
        actor = await self._actor()
        if actor is None:  # signed out elsewhere, or the session expired: show nothing more
            self._reset_view("signed_out")
            return
        try:
            detail, latest = await asyncio.to_thread(_view, actor, group_id)
        except NotFound:
            self._not_found()
            return
        except GroupsmsError:
            return
        except Exception:
            logger.exception("live refresh of group %s failed", group_id)
            return
        self._apply_detail(detail)
        if self._show_latest(latest, replace=False):
            await self._mark_read(actor)
        if self.open_message_id:
            await self._load_deliveries(actor, self.open_message_id)

    @rx.event
    @signed_in
    async def load_earlier(self, actor):
        if self.phase != "ready" or not self.bubbles or self.loading_earlier:
            return
        self.loading_earlier, self.earlier_error = True, ""
        yield
        try:
            page = await asyncio.to_thread(
                messages.list_messages, actor, self.chat_id, self.bubbles[0].id, PAGE_SIZE
            )
        except NotFound:
            self._not_found()
            return
        except GroupsmsError as exc:
            self.earlier_error = str(exc)
        except Exception:
            logger.exception("loading earlier messages failed")
            self.earlier_error = _GENERIC_ERROR
        else:
            now = datetime.now(UTC).replace(tzinfo=None)
            locked = bool(self.locked_reason)
            known = {b.id for b in self.bubbles}
            older = [chat.bubble(m, locked, now) for m in page if m.id not in known]
            self.bubbles = older + self.bubbles
            self.has_earlier = len(page) >= PAGE_SIZE and len(self.bubbles) < MAX_SHOWN
        self.loading_earlier = False

    # -- participants ----------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def search_participants(self, actor, value: Any):
        if self.phase != "ready":
            return None
        query = value.strip()[:MAX_SEARCH] if isinstance(value, str) else ""
        self.participant_query = query
        if not query:
            self.matches = self.participants
            return None
        try:
            found = await asyncio.to_thread(groups.search_participants, actor, self.chat_id, query)
        except NotFound:
            self._not_found()
            return None
        except GroupsmsError:
            found = []
        except Exception:
            logger.exception("participant search failed")
            found = []
        if self.participant_query == query:  # a later keystroke may have answered first
            self.matches = [chat_panels.participant_row(p) for p in found]
        return None

    @rx.event
    @signed_in
    async def toggle_panel(self, actor):
        self.panel_open = not self.panel_open
        return None

    # -- delivery details (E3) -------------------------------------------------------------------

    async def _load_deliveries(self, actor, message_id: int) -> None:
        try:
            rows = await asyncio.to_thread(messages.message_deliveries, actor, message_id)
        except GroupsmsError as exc:
            self.deliveries, self.deliveries_error = [], str(exc)
        except Exception:
            logger.exception("delivery details failed")
            self.deliveries, self.deliveries_error = [], _GENERIC_ERROR
        else:
            self._set(
                deliveries=[chat.delivery_row(d) for d in rows],
                deliveries_error="" if rows else "No delivery was attempted for this message.",
            )

    @rx.event
    @signed_in
    async def toggle_deliveries(self, actor, message_id: Any):
        if isinstance(message_id, bool) or not isinstance(message_id, int):
            return None
        if self.open_message_id == message_id:
            self.open_message_id, self.deliveries, self.deliveries_error = 0, [], ""
            return None
        if not any(b.id == message_id for b in self.bubbles):
            return None  # only messages this tab shows
        self.open_message_id, self.deliveries, self.deliveries_error = message_id, [], ""
        await self._load_deliveries(actor, message_id)
        return None

    # -- the composer (E5, R4, R13) --------------------------------------------------------------

    @rx.event
    @signed_in
    async def draft_changed(self, actor, value: Any):
        text = value if isinstance(value, str) else ""
        self.counter, self.draft_problem = composer.counter_text(text)
        if self.send_error and text:
            self.send_error = ""

    @rx.event
    @signed_in
    async def send(self, actor, form_data: Any):
        """Send the composed text once: the form carries the compose key, so a doubled or retried
        event returns the message already sent. Every path ends by releasing the composer."""
        restore = ""
        async for update in self._send(actor, form_data):
            if isinstance(update, str):  # the text was not sent: give it back to the box
                restore = update
            else:
                yield update
        yield rx.call_script(composer.send_done_js(restore))

    async def _send(self, actor, form_data: Any):
        if self.phase != "ready" or not isinstance(form_data, dict):
            return
        text, key = form_data.get("message"), form_data.get(composer.COMPOSE_KEY_NAME)
        if not isinstance(text, str) or not text.strip():
            return  # Enter in an empty box does nothing
        problem = composer.send_problem(text, key)
        if problem:
            self.send_error = problem
            yield text
            return
        self.sending, self.send_error = True, ""
        self.counter, self.draft_problem = composer.EMPTY_COUNTER, ""
        yield
        try:
            await asyncio.to_thread(messages.send_message, actor, self.chat_id, text, key)
        except NotFound:
            self._not_found()
            return
        except Exception as exc:  # not sent (or, unexpected, unknown: the key stays, a resend is safe)
            if not isinstance(exc, GroupsmsError):
                logger.exception("sending in group %s failed", self.chat_id)
            self.sending, self.send_error = False, (
                str(exc) if isinstance(exc, GroupsmsError) else "The message could not be sent. Please try again.")
            self.counter, self.draft_problem = composer.counter_text(text)
            yield text
            return
        if key == self.compose_key:
            self.compose_key = _new_compose_key()
        self.sending = False
        try:
            detail, latest = await asyncio.to_thread(_view, actor, self.chat_id)
        except GroupsmsError:
            return  # sent; the live refresh shows it
        except Exception:
            logger.exception("refreshing group %s after a send failed", self.chat_id)
            return
        self._apply_detail(detail)
        self._show_latest(latest, replace=False)
        yield rx.scroll_to(chat.MESSAGES_ID + "-end")


live.register_view(GroupChatState)


# -- the page --------------------------------------------------------------------------------------


def page() -> rx.Component:
    S = GroupChatState
    return app_shell(
        rx.el.div(
            rx.match(
                S.phase,
                ("ready", chat_panels.conversation(S)),
                ("not_found", chat.not_found_message()),
                ("signed_out", chat.signed_out_message(LOGIN_ROUTE)),
                ("error", chat.load_error_message(S.load_error)),
                chat.loading_message(),
            ),
            on_unmount=S.leave,
        ),
        max_width="76rem",
    )


PAGE = Page(ROUTE, page, "Conversation · groupsms", GroupChatState.load)
