"""Pieces of the group conversation page around the messages: participants, the details panel,
the locked banner (R10) and the composer (E5). The messages themselves: components/chat.py.

Pure layout: every function takes the state's vars and event handlers it shows (`conversation`
takes the page's state class), so the page module owns all state.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import reflex as rx

from groupsms.components import chat
from groupsms.domain.encoding import smart_encode
from groupsms.domain.segments import MAX_SEGMENTS, check_message_text, count_segments
from groupsms.services.groups import GroupDetail, ParticipantView

COMPOSER_ID = "chat-composer"
COMPOSER_FORM_ID = "chat-composer-form"
COMPOSE_KEY_NAME = "compose_key"
# A send the server never answered (a lost connection) stops holding the composer after this long.
_SEND_HOLD_MS = 20_000

# Enter sends, Shift+Enter (and Enter while an IME composes) inserts a new line (E5). Reflex has no
# conditional preventDefault, so one capture listener per document does it and submits the form
# the composer sits in; the form's own submit handler then runs, exactly like the Send button.
#
# One compose sends once: from the first submit until the server answers (`send_done_js`) every
# further submit (a double click, a second Enter) is dropped before Reflex sees it, and the box
# is cleared at once, after Reflex has read the form. The form also carries the compose's
# single-use key, so even a submit that got through, or a retried event, is sent only once.
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
  document.addEventListener("submit", (e) => {{
    const form = e.target;
    if (!form || form.id !== "{COMPOSER_FORM_ID}") return;
    const since = Number(form.dataset.sendingSince || 0);
    if (since && Date.now() - since < {_SEND_HOLD_MS}) {{
      e.preventDefault();
      e.stopPropagation();
      return;
    }}
    form.dataset.sendingSince = String(Date.now());
    form.setAttribute("aria-busy", "true");
  }}, true);
  document.addEventListener("submit", (e) => {{
    const form = e.target;
    if (!form || form.id !== "{COMPOSER_FORM_ID}") return;
    const box = document.getElementById("{COMPOSER_ID}");
    if (box) box.value = "";
  }});
  window.__groupsmsSendDone = (restore) => {{
    const form = document.getElementById("{COMPOSER_FORM_ID}");
    if (!form) return;
    delete form.dataset.sendingSince;
    form.removeAttribute("aria-busy");
    const box = document.getElementById("{COMPOSER_ID}");
    if (box && restore && !box.value) box.value = restore;  // not sent: the text comes back
  }};
}})()
"""


def send_done_js(restore: str = "") -> str:
    """The server answered a send: the composer takes submits again (and gets back a text that
    was not sent)."""
    return f"window.__groupsmsSendDone && window.__groupsmsSendDone({json.dumps(restore)})"


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


def initials(name: str) -> str:
    parts = [p for p in name.split() if p[:1].isalnum()]
    return "".join(p[0] for p in parts[:2]).upper() or "#"


def participant_row(p: ParticipantView) -> ParticipantRow:
    tag = p.tag or ""
    label = f"{p.name}, {p.display}" + (f", {tag}" if tag else "")
    return ParticipantRow(p.id, p.contact_id, p.name, p.display, tag, initials(p.name), label)


def regroup_links(detail: GroupDetail) -> list[RegroupLink]:
    """R10: one "Create a new group without <name>" per participant whose contact has DND."""
    if not detail.locked_reason:
        return []
    links, seen = [], set()
    for p in detail.participants:
        if p.contact_id in seen or not p.dnd:
            continue
        seen.add(p.contact_id)
        links.append(RegroupLink(
            f"Create a new group without {p.name}", f"/?regroup={detail.id}&without={p.contact_id}"
        ))
    return links


def counter_text(text: str) -> tuple[str, str]:
    """The composer's counter and, when the text cannot be sent, why (E5's hard limit).

    It counts what each recipient gets: the smart-encoded text (a typed send has no name prefix).
    """
    sent = smart_encode(text)
    info = count_segments(sent)
    chars = f"{info.characters} character" + ("" if info.characters == 1 else "s")
    segments = f"{info.segments} segment" + ("" if info.segments == 1 else "s")
    counter = f"{chars} · {segments} · {info.encoding} ({info.per_segment}/segment)"
    if sent != text:
        counter += " · punctuation sent as plain GSM-7"
    problem = ""
    if info.segments > MAX_SEGMENTS:
        problem = check_message_text(text) or ""
    return counter, problem


EMPTY_COUNTER = counter_text("")[0]


# -- layout ----------------------------------------------------------------------------------------


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
    compose_key: Any = "",
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
        rx.el.input(type="hidden", name=COMPOSE_KEY_NAME, value=compose_key),
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
        id=COMPOSER_FORM_ID,
        aria_label="Send a message",
        class_name="composer",
    )


def conversation(s: Any) -> rx.Component:
    """The ready page: header, participants, messages, composer and the details panel."""
    return rx.el.div(
        rx.el.header(
            rx.link(rx.icon("arrow-left", size=16), "Conversations", href="/", class_name="back-link",
                    underline="none"),
            rx.hstack(
                rx.heading(s.title, size="5", as_="h1", class_name="chat-title"),
                rx.cond(s.locked_reason != "", rx.badge(rx.icon("lock", size=12), "Locked", color_scheme="red")),
                align="center",
                spacing="2",
                min_width="0",
            ),
            rx.text(s.number_text, size="2", color_scheme="gray"),
            class_name="chat-header",
        ),
        participants_panel(
            s.matches, s.participants.length().to_string() + " people", s.search_participants,
            (s.participant_query != "") & (s.matches.length() == 0),
        ),
        rx.el.div(
            rx.el.div(
                rx.cond(s.locked_reason != "", locked_banner(s.locked_reason, s.regroup_links)),
                chat.message_log(s),
                composer(
                    on_submit=s.send, on_draft=s.draft_changed, counter=s.counter, problem=s.draft_problem,
                    can_send=s.can_send, block_reason=s.send_block_reason, sending=s.sending,
                    send_error=s.send_error, compose_key=s.compose_key, show_block=s.locked_reason == "",
                ),
                class_name="chat-main",
            ),
            details_panel(s.contact_name, s.panel_open, s.toggle_panel, s.participants, s.number_text,
                               s.created_text),
            class_name="chat-body",
        ),
        class_name="chat-page",
    )
