"""Pieces of the group conversation page: participants, bubbles, delivery details, the composer.

Pure layout: every function takes the state's vars and event handlers it shows, so the page module
owns all state and the components stay reusable and easy to read.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import reflex as rx

from groupsms.domain.segments import MAX_SEGMENTS, check_message_text, count_segments
from groupsms.services.groups import ParticipantView
from groupsms.services.messages import DeliveryView, MessageView

COMPOSER_ID = "chat-composer"
MESSAGES_ID = "chat-messages"

# Enter sends, Shift+Enter (and Enter while an IME composes) inserts a new line (E5). Reflex has no
# conditional preventDefault, so one capture listener per document does it and submits the form
# the composer sits in; the form's own submit handler then runs, exactly like the Send button.
ENTER_TO_SEND_JS = f"""
(() => {{
  if (window.__groupsmsEnterToSend) return;
  window.__groupsmsEnterToSend = true;
  document.addEventListener("keydown", (e) => {{
    const box = e.target;
    if (!box || box.id !== "{COMPOSER_ID}") return;
    if (e.key !== "Enter" || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    if (box.form && !box.disabled) box.form.requestSubmit();
  }}, true);
}})()
"""

# Older messages load when the reader scrolls near the top (the button stays for keyboards).
LOAD_EARLIER_ID = "load-earlier"
LOAD_ON_SCROLL_JS = f"""
(() => {{
  if (window.__groupsmsLoadOnScroll) return;
  window.__groupsmsLoadOnScroll = true;
  let last = 0;
  document.addEventListener("scroll", (e) => {{
    const list = e.target;
    if (!list || list.id !== "{MESSAGES_ID}") return;
    const up = list.scrollTop < last;  // only the reader scrolling up, not the jump to the newest
    last = list.scrollTop;
    if (!up || list.scrollTop > 120) return;
    const more = document.getElementById("{LOAD_EARLIER_ID}");
    if (more && !more.disabled) more.click();
  }}, true);
}})()
"""

STATUS_TONES = {
    "queued": "gray",
    "sent": "blue",
    "delivered": "green",
    "failed": "red",
    "partial": "amber",
}

STATUS_LABELS = {"queued": "Queued", "sent": "Sent", "delivered": "Delivered", "failed": "Failed",
                 "partial": "Partly failed"}

# -- what the page shows, already formatted (the page state holds these) ---------------------------


@dataclasses.dataclass
class ParticipantRow:
    id: int
    contact_id: int
    name: str
    display: str
    tag: str
    initials: str
    label: str


@dataclasses.dataclass
class RegroupLink:
    label: str
    href: str


@dataclasses.dataclass
class Bubble:
    id: int
    outbound: bool
    body: str
    sender: str
    time: str
    timestamp: str
    status: str
    status_label: str
    status_aria: str
    relayed: bool
    not_relayed_note: str
    aria: str


@dataclasses.dataclass
class DeliveryRow:
    participant: str
    display: str
    status_label: str
    tone: str
    error: str
    label: str


def initials(name: str) -> str:
    parts = [p for p in name.split() if p[:1].isalnum()]
    return "".join(p[0] for p in parts[:2]).upper() or "#"


def participant_row(p: ParticipantView) -> ParticipantRow:
    tag = p.tag or ""
    label = f"{p.name}, {p.display}" + (f", {tag}" if tag else "")
    return ParticipantRow(p.id, p.contact_id, p.name, p.display, tag, initials(p.name), label)


def when(moment: datetime, now: datetime) -> str:
    # Stored times are naive UTC (models.utcnow).
    if moment.date() == now.date():
        return moment.strftime("%H:%M")
    if moment.year == now.year:
        return moment.strftime("%b %d, %H:%M").replace(" 0", " ")
    return moment.strftime("%b %d %Y, %H:%M").replace(" 0", " ")


def bubble(m: MessageView, locked: bool, now: datetime) -> Bubble:
    outbound = m.direction == "outbound"
    label = STATUS_LABELS.get(m.status, "") if (outbound or m.relayed) else ""
    note = "Not relayed: the group is locked" if (not outbound and not m.relayed and locked) else ""
    time = when(m.created_at, now)
    return Bubble(
        id=m.id, outbound=outbound, body=m.body, sender=m.sender, time=time,
        timestamp=m.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        status=m.status, status_label=label,
        status_aria=f"Delivery status: {label}. Show each participant's status" if label else "",
        relayed=m.relayed, not_relayed_note=note,
        aria=f"{'Message' if outbound else 'Reply'} from {m.sender} at {time}",
    )


def delivery_row(d: DeliveryView) -> DeliveryRow:
    label = STATUS_LABELS.get(d.status, d.status.capitalize())
    return DeliveryRow(
        d.participant, d.display, label, STATUS_TONES.get(d.status, "gray"), d.error or "",
        f"{d.participant}, {d.display}: {label}" + (f" ({d.error})" if d.error else ""),
    )


def counter_text(text: str) -> tuple[str, str]:
    """The composer's counter and, when the text cannot be sent, why (E5's hard limit)."""
    info = count_segments(text)
    chars = f"{info.characters} character" + ("" if info.characters == 1 else "s")
    segments = f"{info.segments} segment" + ("" if info.segments == 1 else "s")
    counter = f"{chars} · {segments} · {info.encoding} ({info.per_segment}/segment)"
    problem = ""
    if info.segments > MAX_SEGMENTS:
        problem = check_message_text(text) or ""
    return counter, problem


EMPTY_COUNTER = counter_text("")[0]




def tag_badge(tag: Any) -> rx.Component:
    """R8: "Updated" (the contact's number changed) or "Deleted" (the contact was deleted)."""
    return rx.cond(
        tag != "",
        rx.badge(
            tag,
            color_scheme=rx.cond(tag == "Deleted", "red", "amber"),
            variant="soft",
            size="1",
            class_name="participant-tag",
        ),
    )


def participant_chip(row: Any) -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=row.initials, size="2", radius="full", variant="soft"),
        rx.vstack(
            rx.hstack(
                rx.text(row.name, size="2", weight="medium", class_name="participant-name"),
                tag_badge(row.tag),
                spacing="1",
                align="center",
                wrap="wrap",
            ),
            rx.text(row.display, size="1", color_scheme="gray", class_name="participant-number"),
            spacing="0",
            min_width="0",
        ),
        spacing="2",
        align="center",
        class_name="participant-chip",
        role="listitem",
        aria_label=row.label,
    )


def participants_panel(matches: Any, count_text: Any, on_search: Any, no_match: Any) -> rx.Component:
    """Top panel: every participant, filtered by the "Search participants" box (R6)."""
    return rx.el.section(
        rx.hstack(
            rx.heading("Participants", size="2", as_="h2", class_name="panel-title"),
            rx.text(count_text, size="1", color_scheme="gray"),
            rx.spacer(),
            rx.el.div(
                rx.input(
                    rx.input.slot(rx.icon("search", size=14)),
                    placeholder="Search by name or number",
                    aria_label="Search participants",
                    type="search",
                    on_change=on_search.debounce(200),
                    max_length=100,
                    size="2",
                    width="100%",
                ),
                class_name="participant-search",
            ),
            align="center",
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            no_match,
            rx.text("No participant matches your search.", size="2", color_scheme="gray", padding_y="0.5rem"),
            rx.el.div(
                rx.foreach(matches, participant_chip),
                role="list",
                aria_label="Participants",
                class_name="participant-list",
            ),
        ),
        aria_label="Participants",
        class_name="chat-panel participants-panel",
    )


def details_panel(
    contact_name: Any, open_: Any, on_toggle: Any, participants: Any, number_text: Any, created_text: Any
) -> rx.Component:
    """Right panel (R7): the contact's name with a chevron that expands to all participants."""
    return rx.el.aside(
        rx.hstack(
            rx.vstack(
                rx.text("Contact", size="1", color_scheme="gray"),
                rx.heading(contact_name, size="3", as_="h2", class_name="details-name"),
                spacing="0",
                min_width="0",
            ),
            rx.spacer(),
            rx.icon_button(
                rx.cond(open_, rx.icon("chevron-up", size=18), rx.icon("chevron-down", size=18)),
                aria_label="Show participants",
                aria_expanded=rx.cond(open_, "true", "false"),
                aria_controls="all-participants",
                variant="soft",
                color_scheme="gray",
                on_click=on_toggle,
            ),
            align="center",
            width="100%",
        ),
        rx.cond(
            open_,
            rx.el.div(
                rx.foreach(participants, participant_chip),
                id="all-participants",
                role="list",
                aria_label="All participants",
                class_name="details-list",
            ),
        ),
        rx.el.div(
            rx.separator(size="4", margin_y="0.75rem"),
            rx.vstack(
                rx.text("Sends from", size="1", color_scheme="gray"),
                rx.text(number_text, size="2"),
                rx.text(created_text, size="1", color_scheme="gray"),
                spacing="1",
            ),
            class_name="details-extra",
        ),
        aria_label="Conversation details",
        class_name="chat-panel details-panel",
        data_open=rx.cond(open_, "true", "false"),
    )


def locked_banner(reason: Any, regroup_links: Any) -> rx.Component:
    """R10: why nobody can send, and the way out."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("lock", size=16)),
        rx.vstack(
            rx.callout.text(rx.text.strong("This group is locked. "), reason, "."),
            rx.callout.text(
                "Nothing can be sent or relayed here; replies are still saved.", size="1"
            ),
            rx.hstack(
                rx.foreach(
                    regroup_links,
                    lambda link: rx.button(
                        rx.icon("users", size=14),
                        link.label,
                        size="2",
                        variant="solid",
                        color_scheme="red",
                        class_name="regroup-button",
                        on_click=rx.redirect(link.href),
                    ),
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
        ),
        color_scheme="red",
        role="alert",
        class_name="locked-banner",
    )


def delivery_list(deliveries: Any, error: Any) -> rx.Component:
    return rx.el.div(
        rx.cond(
            error != "",
            rx.text(error, size="1", color_scheme="red", role="alert"),
            rx.el.ul(
                rx.foreach(
                    deliveries,
                    lambda d: rx.el.li(
                        rx.hstack(
                            rx.vstack(
                                rx.text(d.participant, size="1", weight="medium"),
                                rx.text(d.display, size="1", color_scheme="gray"),
                                spacing="0",
                            ),
                            rx.spacer(),
                            rx.badge(d.status_label, color_scheme=d.tone, variant="soft", size="1"),
                            spacing="2",
                            align="center",
                            width="100%",
                        ),
                        rx.cond(d.error != "", rx.text(d.error, size="1", color_scheme="red")),
                        aria_label=d.label,
                    ),
                ),
                aria_label="Delivery per participant",
                class_name="delivery-list",
            ),
        ),
        class_name="delivery-details",
    )


def message_bubble(
    bubble: Any, open_id: Any, on_status: Any, deliveries: Any, deliveries_error: Any
) -> rx.Component:
    is_open = bubble.id == open_id
    status_button = rx.cond(
        bubble.status_label != "",
        rx.el.button(
            rx.el.span(class_name="status-dot", aria_hidden="true"),
            bubble.status_label,
            rx.cond(is_open, rx.icon("chevron-up", size=12), rx.icon("chevron-down", size=12)),
            type="button",
            class_name="status-button",
            data_status=bubble.status,
            aria_expanded=rx.cond(is_open, "true", "false"),
            aria_label=bubble.status_aria,
            title="Show each participant's delivery status",
            on_click=on_status(bubble.id),
        ),
    )
    return rx.el.div(
        rx.el.div(
            rx.el.div(
                rx.text(bubble.sender, size="1", weight="medium", class_name="chat-bubble-sender"),
                rx.el.span(bubble.time, title=bubble.timestamp, class_name="chat-bubble-time"),
                class_name="chat-bubble-meta",
            ),
            rx.el.div(bubble.body, class_name="chat-bubble-body"),
            rx.el.div(
                rx.cond(
                    bubble.relayed,
                    rx.el.span(rx.icon("repeat", size=12), "Relayed to the group", class_name="relay-note"),
                ),
                rx.cond(
                    bubble.not_relayed_note != "",
                    rx.el.span(bubble.not_relayed_note, class_name="relay-note"),
                ),
                status_button,
                class_name="chat-bubble-foot",
            ),
            rx.cond(is_open, delivery_list(deliveries, deliveries_error)),
            class_name="chat-bubble",
        ),
        class_name=rx.cond(bubble.outbound, "chat-bubble-row outbound", "chat-bubble-row inbound"),
        role="article",
        aria_label=bubble.aria,
        data_message_id=bubble.id,
    )


def composer(
    *,
    on_submit: Any,
    on_draft: Any,
    counter: Any,
    problem: Any,
    can_send: Any,
    block_reason: Any,
    sending: Any,
    send_error: Any,
    show_block: Any = True,
) -> rx.Component:
    """E5: Enter sends, Shift+Enter is a new line; characters, segments and encoding as you type."""
    return rx.form(
        rx.cond(
            ~can_send,
            # Shown unless the locked banner already says it; always the Message box's description.
            rx.callout(
                block_reason, icon="ban", color_scheme="gray", size="1", id="composer-blocked",
                class_name=rx.cond(show_block, "send-blocked", "send-blocked chat-sr-only"),
            ),
        ),
        rx.el.div(
            rx.text_area(
                id=COMPOSER_ID,
                name="message",
                placeholder=rx.cond(can_send, "Type a message to the group…", "Sending is not available"),
                aria_label="Message",
                aria_describedby=rx.cond(can_send, "composer-counter", "composer-blocked"),
                disabled=~can_send,
                on_change=on_draft.debounce(150),
                on_mount=rx.call_script(ENTER_TO_SEND_JS),
                rows="2",
                resize="vertical",
                size="3",
                class_name="composer-box",
            ),
            rx.button(
                rx.cond(sending, rx.spinner(size="2"), rx.icon("send-horizontal", size=16)),
                "Send",
                type="submit",
                size="3",
                disabled=~can_send | sending | (problem != ""),
                class_name="send-button",
            ),
            class_name="composer-row",
        ),
        rx.cond(can_send, rx.hstack(
            rx.text(
                counter,
                id="composer-counter",
                size="1",
                color_scheme=rx.cond(problem != "", "red", "gray"),
                aria_live="polite",
            ),
            rx.spacer(),
            rx.text("Enter to send · Shift+Enter for a new line", size="1", color_scheme="gray",
                    class_name="composer-hint"),
            width="100%",
            align="center",
        )),
        rx.cond(problem != "", rx.text(problem, size="1", color_scheme="red", role="alert")),
        rx.cond(send_error != "", rx.text(send_error, size="1", color_scheme="red", role="alert")),
        on_submit=on_submit,
        reset_on_submit=False,
        aria_label="Send a message",
        class_name="composer",
    )


def state_message(icon: str, title: str, text: str, *extra: rx.Component) -> rx.Component:
    """A centered empty / not found / error state."""
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=40, color=rx.color("gray", 8)),
            rx.heading(title, size="5", as_="h1"),
            rx.text(text, color_scheme="gray", size="2", text_align="center"),
            *extra,
            align="center",
            spacing="3",
            max_width="28rem",
        ),
        padding="4rem 1rem",
        width="100%",
    )
