"""The simulated-handsets page, at /phones ("Phones" in the navigation): the handsets the built-in
Vonage simulator keeps for the contact numbers you can see (E10), with the texts each received,
and a box to reply as that person. Not the business numbers (those are /numbers). The reply goes through the simulator's signed inbound webhook,
so it is routed, stored and relayed exactly like a real SMS.

Only with the built-in simulator (no VONAGE_API_KEY); otherwise the page says so.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import reflex as rx

from groupsms.components import forms
from groupsms.components.forms import form_text
from groupsms.components.layout import app_shell
from groupsms.domain.clock import Clock
from groupsms.domain.phones import format_display
from groupsms.pages import Page
from groupsms.pages.session import SessionState, signed_in
from groupsms.services import numbers, phones
from groupsms.services.phones import HandsetMessage, HandsetView

_MAX_PHONE = 40
NOT_AVAILABLE = "Phones are only available with the built-in simulator"


@dataclasses.dataclass
class HandsetRow:
    e164: str
    display: str
    name: str
    which: str  # "Primary" / "Secondary"
    summary: str  # "2 received · 1 sent" or "No texts yet"
    last_text: str
    when: str


@dataclasses.dataclass
class TextRow:
    sent: bool  # sent by the handset (a reply) rather than received
    business: str
    text: str
    when: str


@dataclasses.dataclass
class BusinessOption:
    e164: str
    label: str


def _when(epoch: float, clock: Clock) -> str:
    """The viewer's local time of a simulator timestamp ("2:46 PM", "Yesterday, 2:46 PM")."""
    if not epoch:
        return ""
    return clock.stamp(datetime.fromtimestamp(epoch, UTC))


def _handset(h: HandsetView, clock: Clock) -> HandsetRow:
    if h.received or h.sent:
        summary = f"{h.received} received · {h.sent} sent"
    else:
        summary = "No texts yet"
    return HandsetRow(h.e164, h.display, h.contact_name, h.which.capitalize(), summary, h.last_text,
                      _when(h.last_at, clock))


def _text(m: HandsetMessage, clock: Clock) -> TextRow:
    return TextRow(m.direction == "sent", m.business_display, m.text, _when(m.at, clock))


class HandsetsState(SessionState):
    """The simulated-handsets page: one row per simulated contact handset, the open one's texts."""

    available: bool = False
    loaded: bool = False
    load_error: str = ""
    handsets: list[HandsetRow] = []
    selected: str = ""  # e164 of the open handset
    selected_name: str = ""
    selected_display: str = ""
    texts: list[TextRow] = []
    business_numbers: list[BusinessOption] = []
    reply_to: str = ""  # the business number preselected for the reply
    reply_error: str = ""
    notice: str = ""
    sending: bool = False

    @rx.event
    @signed_in(shell=True, error="load_error")
    async def load(self, actor):
        self.notice = self.reply_error = ""
        return await self._refresh(actor)

    async def _refresh(self, actor):
        found = await self._attempt(phones.list_handsets, actor)
        self.loaded = True
        if not found.ok:
            self.available = found.error != NOT_AVAILABLE
            self.handsets, self.texts = [], []
            self.load_error = found.error if self.available else ""
            return None
        self.available, self.load_error = True, ""
        self.handsets = [_handset(h, actor.clock) for h in found.value]
        owned = await self._attempt(numbers.list_numbers, actor)
        mine = [BusinessOption(n.e164, f"{n.label} · {n.display}") for n in owned.value] if owned.ok else []
        self.business_numbers = mine
        if self.selected and all(h.e164 != self.selected for h in self.handsets):
            self.selected = ""
        if not self.selected and self.handsets:
            self.selected = self.handsets[0].e164
        return await self._load_thread(actor)

    async def _load_thread(self, actor):
        self.texts = []
        row = next((h for h in self.handsets if h.e164 == self.selected), None)
        if row is None:
            self.selected_name = self.selected_display = ""
            return None
        self.selected_name, self.selected_display = row.name, row.display
        thread = await self._attempt(phones.handset_inbox, actor, row.e164)
        if not thread.ok:
            self.reply_error = thread.error
            return None
        self.texts = [_text(m, actor.clock) for m in thread.value]
        # Reply to the number that last texted this phone, else the first one the actor may use.
        known = {o.e164 for o in self.business_numbers}
        extra = [m.business_e164 for m in thread.value if m.business_e164 not in known]
        for e164 in dict.fromkeys(extra):
            self.business_numbers.append(BusinessOption(e164, format_display(e164)))
        last_received = [m.business_e164 for m in thread.value if m.direction == "received"]
        self.reply_to = last_received[-1] if last_received else (
            self.business_numbers[0].e164 if self.business_numbers else "")
        return None

    @rx.event
    @signed_in(error="load_error")
    async def refresh(self, actor):
        self.notice = self.reply_error = ""
        return await self._refresh(actor)

    @rx.event
    @signed_in(error="reply_error")
    async def open_handset(self, actor, e164):
        if not isinstance(e164, str) or all(h.e164 != e164 for h in self.handsets):
            self.reply_error = "Phone not found"
            return None
        self.selected, self.notice, self.reply_error = e164, "", ""
        return await self._load_thread(actor)

    @rx.event
    @signed_in(error="reply_error")
    async def set_reply_to(self, actor, value):
        if isinstance(value, str) and any(o.e164 == value for o in self.business_numbers):
            self.reply_to = value
        return None

    @rx.event
    @signed_in(error="reply_error", busy="sending")
    async def send_reply(self, actor, form_data):
        to = form_text(form_data, "to", _MAX_PHONE)
        text = form_text(form_data, "text", phones.MAX_REPLY_LENGTH + 100)
        if to is None or text is None:
            self.reply_error = f"A reply can be at most {phones.MAX_REPLY_LENGTH} characters."
            return
        if not self.selected:
            self.reply_error = "Pick a phone first."
            return
        self.reply_error, self.notice = "", ""
        yield
        await self._call(phones.reply, actor, self.selected, to, text)
        self.notice = f"Sent as {self.selected_name} to {format_display(to)}"
        # The thread shows the reply at once (the handset records it before the webhook answers).
        yield await self._refresh(actor)


# -- components ---------------------------------------------------------------------------------


def _handset_item(row: HandsetRow) -> rx.Component:
    s = HandsetsState
    selected = s.selected == row.e164
    return rx.el.li(
        rx.el.button(
            rx.hstack(
                rx.icon("smartphone", size=18, color=rx.color("accent", 10)),
                rx.vstack(
                    rx.hstack(rx.text(row.name, weight="medium", size="2"),
                              rx.text(row.display, size="1", color_scheme="gray"), spacing="2", wrap="wrap"),
                    rx.text(row.summary, size="1", color_scheme="gray"),
                    spacing="0", align="start", min_width="0",
                ),
                spacing="2", align="center", width="100%",
            ),
            type="button",
            on_click=s.open_handset(row.e164),
            aria_pressed=rx.cond(selected, "true", "false"),
            aria_label=row.name + " " + row.display,
            class_name=rx.cond(selected, "handset-button selected", "handset-button"),
        ),
        aria_label=row.name + " " + row.display,
    )


def _bubble(row: TextRow) -> rx.Component:
    return rx.el.li(
        rx.box(
            rx.text(row.text, size="2", white_space="pre-wrap"),
            rx.text(rx.cond(row.sent, "Sent to ", "From ") + row.business + " · " + row.when,
                    size="1", class_name="bubble-meta"),
            class_name=rx.cond(row.sent, "bubble sent", "bubble received"),
        ),
        class_name=rx.cond(row.sent, "bubble-row sent", "bubble-row"),
    )


def _phone() -> rx.Component:
    s = HandsetsState
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("smartphone", size=20),
                rx.vstack(
                    rx.heading(s.selected_name + "'s phone", size="4", as_="h2"),
                    rx.text(s.selected_display, size="2", color_scheme="gray"),
                    spacing="0",
                ),
                align="center", spacing="2",
            ),
            rx.cond(
                s.texts.length() > 0,
                rx.el.ul(rx.foreach(s.texts, _bubble), aria_label="Texts", class_name="phone-thread"),
                rx.text("This phone has not received or sent a text yet.", size="2", color_scheme="gray",
                        padding_y="1rem"),
            ),
            rx.form(
                rx.vstack(
                    forms.field("Reply to", "reply-to", forms.native_select(
                        "reply-to", "to",
                        [rx.foreach(s.business_numbers, lambda o: forms.option(o.label, o.e164))],
                        value=s.reply_to, on_change=HandsetsState.set_reply_to,
                    )),
                    forms.field("Reply as " + s.selected_name, "reply-text",
                                rx.text_area(id="reply-text", name="text", rows="3", width="100%",
                                             max_length=phones.MAX_REPLY_LENGTH, required=True,
                                             placeholder="Type a reply…")),
                    forms.error_notice(s.reply_error),
                    forms.done_notice(s.notice),
                    rx.hstack(
                        rx.button(rx.icon("send", size=14), "Send reply", type="submit", loading=s.sending),
                        justify="end", width="100%",
                    ),
                    spacing="3", width="100%",
                ),
                on_submit=s.send_reply,
                reset_on_submit=True,
                width="100%",
            ),
            spacing="4", width="100%",
        ),
        width="100%",
    )


def _available() -> rx.Component:
    s = HandsetsState
    return rx.cond(
        s.handsets.length() > 0,
        rx.grid(
            rx.box(
                rx.el.ul(rx.foreach(s.handsets, _handset_item), aria_label="Handsets", class_name="handset-list"),
                class_name="handset-column",
            ),
            rx.cond(s.selected != "", _phone()),
            columns={"initial": "1", "md": "18rem 1fr"},
            gap="4",
            width="100%",
        ),
        forms.empty_state("smartphone", "No phones to show", "Contacts you can see appear here with their numbers."),
    )


def page() -> rx.Component:
    s = HandsetsState
    return app_shell(
        rx.vstack(
            forms.page_header(
                "Phones",
                "Simulated phones of your contacts: what they received, and replies as they would text back.",
                rx.cond(s.available, rx.button(rx.icon("refresh-cw", size=14), "Refresh", variant="soft",
                                                on_click=s.refresh)),
            ),
            forms.error_notice(s.load_error),
            rx.cond(
                s.loaded,
                rx.cond(
                    s.available,
                    _available(),
                    rx.callout(NOT_AVAILABLE + ". This app sends real SMS through Vonage, so there are no "
                               "simulated phones to show.", icon="info", color_scheme="gray", role="note",
                               width="100%"),
                ),
                forms.loading("phones"),
            ),
            spacing="4", width="100%",
        ),
        max_width="64rem",
    )


PAGE = Page("/phones", page, "Phones · groupsms", HandsetsState.load)
