"""Pieces of the group conversation page, the messages: bubbles, day dividers, delivery details,
the message log. (The participants, details panel, locked banner and composer:
components/chat_panels.py.)

Every time shown is read in the viewer's zone and clock (`Actor.clock`): the bubble's time, its
full date in the tooltip, the day dividers ("Today", "Yesterday", a weekday, a date).

Pure layout: every function takes the state's vars and event handlers it shows (`message_log` takes
the page's state class), so the page module owns all state and the components stay reusable.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import reflex as rx

from groupsms.components import forms
from groupsms.domain.clock import Clock
from groupsms.services.messages import DeliveryView, MessageView

MESSAGES_ID = "chat-messages"

# The conversation opens at the newest message and stays there while messages arrive, unless the
# reader scrolled up; scrolling up to the top loads the page before (the button stays for keyboards).
LOAD_EARLIER_ID = "load-earlier"
CHAT_SCROLL_JS = f"""
(() => {{
  const list = document.getElementById("{MESSAGES_ID}");
  if (!list || list.__groupsmsScroll) return;
  list.__groupsmsScroll = true;
  let pinned = true, last = 0, userAt = 0;
  const toBottom = () => {{ list.scrollTop = list.scrollHeight; }};
  // Only the reader's own scrolling counts: re-renders also move scrollTop (the browser clamps it).
  const mark = () => {{ userAt = Date.now(); }};
  for (const type of ["wheel", "touchmove", "keydown", "pointerdown"]) {{
    list.addEventListener(type, mark, {{passive: true}});
  }}
  list.addEventListener("scroll", () => {{
    const up = list.scrollTop < last;
    last = list.scrollTop;
    if (Date.now() - userAt > 1000) return;
    pinned = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    if (!up || list.scrollTop > 120) return;
    const more = document.getElementById("{LOAD_EARLIER_ID}");
    if (more && !more.disabled) more.click();
  }});
  const stick = () => {{ if (pinned) toBottom(); }};
  new MutationObserver(stick).observe(list, {{childList: true, subtree: true}});
  if (list.firstElementChild) new ResizeObserver(stick).observe(list.firstElementChild);  // late layout
  toBottom();
}})()
"""

# Show the newest message: scroll the list itself, never the window (on a phone the window keeps
# the header and the composer on the first screen).
SCROLL_TO_NEWEST_JS = f"""
(() => {{ const list = document.getElementById("{MESSAGES_ID}"); if (list) list.scrollTop = list.scrollHeight; }})()
"""


def scroll_to_newest() -> Any:
    return rx.call_script(SCROLL_TO_NEWEST_JS)


STATUS_TONES = {
    "queued": "gray",
    "sent": "blue",
    "delivered": "green",
    "failed": "red",
    "partial": "amber",
    "unconfirmed": "amber",
}

STATUS_LABELS = {"queued": "Queued", "sent": "Sent", "delivered": "Delivered", "failed": "Failed",
                 "partial": "Partly failed", "unconfirmed": "Unconfirmed"}

# -- what the page shows, already formatted (the page state holds these) ---------------------------


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
    notice: str  # why it was not relayed (too long, held), from the services
    aria: str
    day: str = ""  # the day divider's words ("Today", "Monday", "Dec 1")
    day_key: str = ""  # the local date, to tell where a day starts
    day_break: bool = False  # the first message of its day in the list: a divider goes above it
    intro: bool = False  # the intro text sent at creation: shown as a system line, not a typed message


@dataclasses.dataclass
class DeliveryRow:
    participant: str
    display: str
    status_label: str
    tone: str
    error: str
    label: str


def excerpt(body: str, limit: int = 40) -> str:
    """The start of a message's first line, to tell its bubble apart from others."""
    line = " ".join((body.strip().splitlines() or [""])[0].split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def delivery_name(m: MessageView, stamp: str, label: str, *, viewer: str, people: int) -> str:
    """The delivery button's own accessible name: its status, then whose message, when, to how
    many people and how it starts ("Delivery status: Delivered. Details for your message of
    2:46 PM to 3 people, “See you at 5”"). Relays go to everyone but the person who wrote."""
    if m.direction == "outbound":
        if getattr(m, "kind", "text") == "intro":
            whose = "the intro text"
        else:
            whose = "your message" if viewer and m.sender == viewer else f"{m.sender}'s message"
        count = people
    else:
        whose, count = f"the relay of {m.sender}'s reply", max(people - 1, 0)
    to = f"{count} {'person' if count == 1 else 'people'}"
    quoted = excerpt(m.body)
    return f"Delivery status: {label}. Details for {whose} of {stamp} to {to}" + (f", “{quoted}”" if quoted else "")


def bubble(
    m: MessageView, locked: bool, now: datetime, clock: Clock, *, viewer: str = "", people: int = 0
) -> Bubble:
    """One message as the viewer reads it: times in their zone and clock (`clock`); `viewer` is
    their name ("your message"), `people` how many people the group has."""
    outbound = m.direction == "outbound"
    label = STATUS_LABELS.get(m.status, "") if (outbound or m.relayed) else ""
    note = "Not relayed: the group is locked" if (not outbound and not m.relayed and locked) else ""
    stamp = clock.stamp(m.created_at, now)
    return Bubble(
        id=m.id, outbound=outbound, body=m.body, sender=m.sender, time=clock.time(m.created_at),
        timestamp=clock.full(m.created_at),
        status=m.status, status_label=label,
        status_aria=delivery_name(m, stamp, label, viewer=viewer, people=people) if label else "",
        relayed=m.relayed, not_relayed_note=note, notice=getattr(m, "notice", "") or "",
        aria=(f"Intro text sent by {m.sender} at {stamp}" if getattr(m, "kind", "text") == "intro"
              else f"{'Message' if outbound else 'Reply'} from {m.sender} at {stamp}"),
        intro=getattr(m, "kind", "text") == "intro",
        day=clock.day(m.created_at, now), day_key=clock.local(m.created_at).date().isoformat(),
    )


def with_day_breaks(bubbles: list[Bubble]) -> list[Bubble]:
    """Mark the first bubble of each day, so a divider goes above it, and number delivery buttons
    whose names would repeat (the same text sent twice in a minute): after any merge of pages."""
    out, previous, used = [], None, {}
    for b in bubbles:
        changes: dict[str, Any] = {}
        if (b.day_key != previous) != b.day_break:
            changes["day_break"] = b.day_key != previous
        previous = b.day_key
        if b.status_aria:
            base = b.status_aria.rsplit(" (", 1)[0] if b.status_aria.endswith(")") else b.status_aria
            used[base] = used.get(base, 0) + 1
            name = base if used[base] == 1 else f"{base} ({used[base]})"
            if name != b.status_aria:
                changes["status_aria"] = name
        out.append(dataclasses.replace(b, **changes) if changes else b)
    return out


def delivery_row(d: DeliveryView) -> DeliveryRow:
    label = STATUS_LABELS.get(d.status, d.status.capitalize())
    error = d.error or ""
    if d.parts and d.parts not in error:  # a long SMS only partly accepted: "2 of 3 parts accepted"
        error = f"{d.parts}; {error}" if error else d.parts
    return DeliveryRow(
        d.participant, d.display, label, STATUS_TONES.get(d.status, "gray"), error,
        f"{d.participant}, {d.display}: {label}" + (f" ({error})" if error else ""),
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
    row = rx.el.div(
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
                rx.cond(
                    bubble.notice != "",
                    rx.el.span(rx.icon("info", size=12), bubble.notice, class_name="relay-note message-notice",
                               role="note"),
                ),
                status_button,
                class_name="chat-bubble-foot",
            ),
            rx.cond(is_open, delivery_list(deliveries, deliveries_error)),
            class_name="chat-bubble",
        ),
        class_name=rx.cond(bubble.intro, "chat-bubble-row system",
                           rx.cond(bubble.outbound, "chat-bubble-row outbound", "chat-bubble-row inbound")),
        role="article",
        aria_label=bubble.aria,
        data_message_id=bubble.id,
    )
    return rx.fragment(rx.cond(bubble.day_break, day_divider(bubble.day)), row)


def day_divider(day: Any) -> rx.Component:
    """"Today", "Yesterday", a weekday or a date, above the first message of that day."""
    return rx.el.div(
        rx.el.span(day, class_name="day-divider-label"),
        class_name="day-divider",
        role="separator",
        aria_label=day,
    )


def state_message(icon: str, title: str, text: str, *extra: rx.Component) -> rx.Component:
    """The chat page's empty, not found and error states."""
    return forms.empty_state(icon, title, text, *extra, page_level=True)


def message_log(s: Any) -> rx.Component:
    """The scrolling list of bubbles, with "Load earlier messages" on top."""
    return rx.el.div(
        rx.el.div(
            rx.cond(
                s.has_earlier,
                rx.center(
                    rx.button(
                        rx.cond(s.loading_earlier, rx.spinner(size="1"), rx.icon("history", size=14)),
                        "Load earlier messages",
                        variant="soft",
                        color_scheme="gray",
                        size="1",
                        on_click=s.load_earlier,
                        disabled=s.loading_earlier,
                        id=LOAD_EARLIER_ID,
                    ),
                    padding_y="0.5rem",
                ),
                rx.cond(
                    s.bubbles.length() > 0,
                    rx.center(rx.text("Start of the conversation", size="1", color_scheme="gray"), padding_y="0.5rem"),
                ),
            ),
            rx.cond(s.earlier_error != "", rx.text(s.earlier_error, size="1", color_scheme="red", role="alert")),
            rx.cond(
                s.bubbles.length() > 0,
                rx.foreach(
                    s.bubbles,
                    lambda b: message_bubble(b, s.open_message_id, s.toggle_deliveries, s.deliveries,
                                                  s.deliveries_error),
                ),
                rx.cond(
                    s.can_send,
                    state_message(
                        "message-circle", "No messages yet",
                        "Say hello: your message goes to every participant as a text from the group's number.",
                    ),
                    state_message("message-circle", "No messages yet", "Nothing was sent in this group."),
                ),
            ),
            rx.el.div(id=MESSAGES_ID + "-end"),
            class_name="message-stack",
        ),
        id=MESSAGES_ID,
        on_mount=rx.call_script(CHAT_SCROLL_JS),
        role="log",
        aria_label="Messages",
        aria_live="polite",
        class_name="message-scroller",
    )


ASSIGNED_ONLY_NOT_FOUND = (
    "You see groups made only of contacts assigned to you. This group has someone who isn't "
    "assigned to you, or it doesn't exist."
)
NOT_FOUND = "This conversation does not exist, or you don't have access to it."


def not_found_message(assigned_only: Any = False) -> rx.Component:
    """R11, R14: a missing and a forbidden group read the same; a user who sees only their assigned
    contacts is told the rule that hides groups from them."""
    return state_message(
        "search-x", "Conversation not found",
        rx.cond(assigned_only, ASSIGNED_ONLY_NOT_FOUND, NOT_FOUND),
        rx.link("Back to conversations", href="/"),
    )


def signed_out_message(login_route: str) -> rx.Component:
    return state_message(
        "log-out", "You are signed out", "Sign in again to see this conversation.",
        rx.link("Sign in", href=login_route),
    )


def load_error_message(error: Any) -> rx.Component:
    return state_message(
        "triangle-alert", "Something went wrong", "", rx.callout(
            error, icon="triangle_alert", color_scheme="red", role="alert"),
    )


def loading_message() -> rx.Component:
    return rx.center(rx.spinner(size="3"), rx.text("Loading conversation…", size="2", color_scheme="gray"),
                     padding="4rem", gap="0.75rem", role="status", aria_label="Loading conversation")
