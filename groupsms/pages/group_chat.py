"""/groups/[group_id]: one group conversation (R4–R10, R13, E3–E5).

Every handler goes through the `signed_in` kernel (the session, worker threads, what a refusal
shows) and asks the services, which check access (R11, R14): the group id comes from the URL once, is validated, and is then only read from the
state; message ids from the browser must be ones this tab shows. Live updates (E4) come through
`groupsms.live`, which calls `_on_group_change` on this state for every tab linked to the group.

Every time it shows is read in the viewer's zone and clock (`actor.clock`).
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from groupsms.components import chat, chat_panels, composer, forms
from groupsms.components.chat import Bubble, DeliveryRow
from groupsms.components.chat_panels import ParticipantRow, RegroupLink
from groupsms.components.layout import app_shell
from groupsms.errors import NotAuthenticated, NotFound
from groupsms import live
from groupsms.access import scopes
from groupsms.pages import Page
from groupsms.pages.session import LOGIN_ROUTE, SessionState, signed_in
from groupsms.services import groups, messages
from groupsms.services.groups import GROUP_NAME_MAX, GroupDetail
from groupsms.services.messages import MessageView

logger = logging.getLogger(__name__)

ROUTE = "/groups/[group_id]"
PAGE_SIZE = 30  # messages per page (list_messages' default)
MAX_SHOWN = 300  # earlier pages a user loaded stay, up to this many messages
MAX_SEARCH = 100
_ROUTE_ID = re.compile(r"^/groups/(\d{1,12})/?$")


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
    phase: str = "loading"  # loading | ready | not_found | signed_out
    load_error: str = ""  # shown instead of the conversation when loading it failed
    # Who is looking sees only groups of contacts assigned to them: "not found" says that rule.
    assigned_only: bool = False
    # the group
    title: str = ""  # its name, else its participants' names
    group_name: str = ""
    people: str = ""  # its participants' names (under the name)
    people_text: str = ""  # "9 people"
    people_count: int = 0
    people_open: bool = False  # on a phone: the participants panel, opened from the header
    contact_name: str = ""
    number_text: str = ""
    created_text: str = ""
    participants: list[ParticipantRow] = []
    matches: list[ParticipantRow] = []
    participant_query: str = ""
    panel_open: bool = False
    locked_reason: str = ""
    lock_lines: list[str] = []  # R10: what locked it and what happened since
    lock_note: str = ""
    regroup_links: list[RegroupLink] = []
    can_send: bool = False
    send_block_reason: str = ""
    # renaming
    can_rename: bool = False
    rename_open: bool = False
    rename_error: str = ""
    rename_key: int = 0  # a new form (with the current name) each time the dialog opens
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
    recipients: int = 0  # who a send reaches now (from the group view): the composer's cost line
    cost: str = ""  # "4 segments × 9 people ≈ 36 SMS"
    sending: bool = False
    send_error: str = ""
    # This compose's single-use key: the form sends it with the text, the service sends once per
    # key; a new one after each message that went out.
    compose_key: str = ""

    # -- helpers ---------------------------------------------------------------------------------

    def _reset_view(self, phase: str = "loading") -> None:
        self._reset_fields(keep=("phase", "assigned_only", "rename_key"))
        self._assign(phase=phase)

    def _apply_detail(self, detail: GroupDetail, actor) -> None:
        rows = [chat_panels.participant_row(p) for p in detail.participants]
        label = (detail.number_label or "").strip()
        when = actor.clock.date(detail.created_at)
        if self.participant_query:  # keep the search's result, with fresh names and tags
            wanted = {m.id for m in self.matches}
            matches = [r for r in rows if r.id in wanted]
        else:
            matches = rows
        self._assign(
            title=detail.title,
            group_name=detail.name,
            people=detail.people,
            people_text=chat_panels.people_text(detail),
            people_count=len({p.contact_id for p in detail.participants}),
            can_rename=bool(detail.can_rename),
            contact_name=rows[0].name if rows else detail.title,
            number_text=f"{label} · {detail.number_display}" if label else detail.number_display,
            created_text=f"Created by {detail.created_by} on {when}" if detail.created_by else f"Created {when}",
            participants=rows,
            matches=matches,
            locked_reason=detail.locked_reason or "",
            lock_lines=chat_panels.lock_lines(detail, actor.clock),
            lock_note=chat_panels.lock_note(detail) if detail.locked_reason else "",
            regroup_links=chat_panels.regroup_links(detail),
            can_send=bool(detail.can_send),
            send_block_reason=detail.send_block_reason or "",
            recipients=detail.recipients,
        )

    def _bubbles(self, actor, page: list[MessageView]) -> list[Bubble]:
        """Messages as this viewer reads them (their clock, "your message")."""
        now = datetime.now(UTC)
        locked = bool(self.locked_reason)
        return [chat.bubble(m, locked, now, actor.clock, viewer=actor.name, people=self.people_count) for m in page]

    def _show_latest(self, actor, latest: list[MessageView], *, replace: bool) -> bool:
        """Merge the latest page into what is shown; True when it holds a message not shown before."""
        fresh = self._bubbles(actor, latest)
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
        self._assign(bubbles=chat.with_day_breaks(shown))
        return any(b.id not in known for b in fresh)

    def _to_login(self):
        """Without a session (every `@signed_in` handler): show nothing more and go to sign-in. A
        send refused this way still releases the composer (a no-op for every other handler)."""
        self._reset_view()
        return [rx.redirect(LOGIN_ROUTE, replace=True), rx.call_script(composer.send_done_js())]

    def _not_found(self, exc: NotFound | None = None, error: str | None = None) -> None:
        self._reset_view("not_found")

    async def _mark_read(self, actor) -> None:
        await self._attempt(groups.mark_read, actor, self.chat_id)  # a refusal is not worth showing

    async def _refresh_view(self, actor) -> None:
        """Re-read the group and its latest page (live updates and after a send)."""
        detail, latest = await self._call(_view, actor, self.chat_id)
        self._apply_detail(detail, actor)
        if self._show_latest(actor, latest, replace=False):
            await self._mark_read(actor)
        if self.open_message_id:
            await self._load_deliveries(actor, self.open_message_id)

    # -- loading ---------------------------------------------------------------------------------

    @rx.event
    @signed_in(shell=True, error="load_error")
    async def load(self, actor):
        self._reset_view()
        self._assign(assigned_only=not scopes.has_full_data_access(actor))
        group_id = _route_group_id(self.router.url.path)
        if group_id is None:
            return self._not_found()
        detail, latest = await self._call(_view, actor, group_id)
        self.chat_id = detail.id
        self._apply_detail(detail, actor)
        self._show_latest(actor, latest, replace=True)
        self.compose_key = _new_compose_key()
        self.phase = "ready"
        try:  # only now: the services let this user read the group
            await live.link(self, detail.id)
        except Exception:
            logger.exception("live updates unavailable for group %s", detail.id)
        if latest:
            await self._mark_read(actor)
        return chat.scroll_to_newest()

    @rx.event
    @signed_in(error=None)
    async def leave(self, actor):
        """The page was left: stop refreshing this tab for the group."""
        self.chat_id = 0

    async def _on_group_change(self, group_id: int) -> None:
        """Live (E4): called by groupsms.live for this tab; re-reads through the services as its user."""
        if self.phase != "ready" or self.chat_id != group_id:
            return
        actor = await self._actor()
        try:
            if actor is None:
                raise NotAuthenticated()
            await self._refresh_view(actor)
        except NotAuthenticated:  # signed out elsewhere, or the session expired: show nothing more
            self._reset_view("signed_out")
        except Exception as exc:  # the same mapping as a handler's; a refresh shows no error
            self._failed(f"live refresh of group {group_id}", exc, None)

    @rx.event
    @signed_in(error="earlier_error", busy="loading_earlier")
    async def load_earlier(self, actor):
        if self.phase != "ready" or not self.bubbles:
            return
        self.earlier_error = ""
        yield
        page = await self._call(messages.list_messages, actor, self.chat_id, self.bubbles[0].id, PAGE_SIZE)
        known = {b.id for b in self.bubbles}
        older = self._bubbles(actor, [m for m in page if m.id not in known])
        self.bubbles = chat.with_day_breaks(older + self.bubbles)
        self.has_earlier = len(page) >= PAGE_SIZE and len(self.bubbles) < MAX_SHOWN

    # -- participants ----------------------------------------------------------------------------

    @rx.event
    @signed_in(error=None)
    async def search_participants(self, actor, value: Any):
        if self.phase != "ready":
            return None
        query = value.strip()[:MAX_SEARCH] if isinstance(value, str) else ""
        self.participant_query = query
        if not query:
            self.matches = self.participants
            return None
        found = await self._call(groups.search_participants, actor, self.chat_id, query)
        if self.participant_query == query:  # a later keystroke may have answered first
            self.matches = [chat_panels.participant_row(p) for p in found]
        return None

    @rx.event
    @signed_in(error=None)
    async def toggle_panel(self, actor):
        self.panel_open = not self.panel_open
        return None

    @rx.event
    @signed_in(error=None)
    async def toggle_people(self, actor):
        """The header's "9 people" on a phone: show or hide the participants panel."""
        self.people_open = not self.people_open
        return None

    # -- the group's name ------------------------------------------------------------------------

    @rx.event
    @signed_in(error=None)
    async def open_rename(self, actor):
        if self.phase != "ready" or not self.can_rename:
            return None
        self._assign(rename_error="", rename_key=self.rename_key + 1, rename_open=True)
        return None

    @rx.event
    @signed_in(error=None)
    async def close_rename(self, actor, is_open: Any = False):
        self._close_dialog("rename_open", is_open)

    @rx.event
    @signed_in(error="rename_error")
    async def save_name(self, actor, form_data: Any):
        """Rename the group ("" clears the name); the services check who may (and never touch who is
        in the group, R9)."""
        if self.phase != "ready":
            return None
        name = forms.form_text(form_data, "name", GROUP_NAME_MAX * 4)
        if name is None:
            self.rename_error = f"Group name must be text of at most {GROUP_NAME_MAX} characters"
            return None
        self.rename_error = ""
        await self._call(groups.rename_group, actor, self.chat_id, name)
        self.rename_open = False
        await self._attempt(self._refresh_view, actor)  # renamed; else the live refresh shows it
        return None

    # -- delivery details (E3) -------------------------------------------------------------------

    async def _load_deliveries(self, actor, message_id: int) -> None:
        rows = await self._call(messages.message_deliveries, actor, message_id)
        self._assign(
            deliveries=[chat.delivery_row(d) for d in rows],
            deliveries_error="" if rows else "No delivery was attempted for this message.",
        )

    @rx.event
    @signed_in(error="deliveries_error")
    async def toggle_deliveries(self, actor, message_id: Any):
        if isinstance(message_id, bool) or not isinstance(message_id, int):
            return None
        if self.open_message_id == message_id:
            self._reset_fields("open_message_id", "deliveries", "deliveries_error")
            return None
        if not any(b.id == message_id for b in self.bubbles):
            return None  # only messages this tab shows
        self._reset_fields("deliveries", "deliveries_error")
        self.open_message_id = message_id
        await self._load_deliveries(actor, message_id)
        return None

    # -- the composer (E5, R4, R13) --------------------------------------------------------------

    @rx.event
    @signed_in(error=None, cached_session=True)
    async def draft_changed(self, actor, value: Any):
        """Every keystroke in the box: the counter, from the text alone (no service, nothing of the
        database), so its session check may be a cached answer of the last few seconds."""
        text = value if isinstance(value, str) else ""
        counter, problem = composer.counter_text(text)
        self._assign(counter=counter, draft_problem=problem, cost=composer.cost_text(text, self.recipients))
        if self.send_error and text:
            self.send_error = ""

    @rx.event
    @signed_in(error="send_error", busy="sending")
    async def send(self, actor, form_data: Any):
        """Send the composed text once: the form carries the compose key, so a doubled or retried
        event returns the message already sent. Every path ends by releasing the composer (without
        a session through `_to_login`)."""
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
        self.send_error = ""
        self.counter, self.draft_problem, self.cost = composer.EMPTY_COUNTER, "", ""
        yield
        # Not sent (or, unexpected, unknown: the key stays, a resend is safe): the text goes back.
        sent = await self._attempt(messages.send_message, actor, self.chat_id, text, key)
        if isinstance(sent.exc, NotFound):
            self._not_found()
            return
        if not sent.ok:
            self.send_error = sent.error
            self.counter, self.draft_problem = composer.counter_text(text)
            self.cost = composer.cost_text(text, self.recipients)
            yield text
            return
        if key == self.compose_key:
            self.compose_key = _new_compose_key()
        self.sending = False
        shown = await self._attempt(self._refresh_view, actor)  # sent; else the live refresh shows it
        if shown.ok:
            yield chat.scroll_to_newest()


live.register_view(GroupChatState)


# -- the page --------------------------------------------------------------------------------------


def page() -> rx.Component:
    S = GroupChatState
    return app_shell(
        rx.el.div(
            rx.cond(
                S.load_error != "",
                chat.load_error_message(S.load_error),
                rx.match(
                    S.phase,
                    ("ready", chat_panels.conversation(S)),
                    ("not_found", chat.not_found_message(S.assigned_only)),
                    ("signed_out", chat.signed_out_message(LOGIN_ROUTE)),
                    chat.loading_message(),
                ),
            ),
            on_unmount=S.leave,
        ),
        max_width="76rem",
    )


PAGE = Page(ROUTE, page, "Conversation · groupsms", GroupChatState.load)
