"""The conversation's composer (E5, R4, R13): Enter sends, Shift+Enter is a new line, a counter of
what each recipient gets, and one message per compose however often it is submitted.

Pure layout and formatting: the page module (pages/group_chat.py) owns the state.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from groupsms.domain.encoding import smart_encode
from groupsms.domain.segments import MAX_SEGMENTS, check_message_text, count_segments

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


MAX_DRAFT = 2000  # longer than 10 UCS-2 segments can ever be: the service refuses it anyway


def send_problem(text: str, key: Any) -> str:
    """Why the page does not even ask the service to send this compose ("" when it may)."""
    if len(text) > MAX_DRAFT:
        return f"Message is too long (max {MAX_SEGMENTS} segments)"
    problem = check_message_text(text.strip())
    if problem:
        return problem
    if not isinstance(key, str) or not key:  # a form without its compose key: never guess one
        return "This page is out of date. Please reload it to send."
    return ""


def counter_text(text: str) -> tuple[str, str]:
    """The composer's counter and, when the text cannot be sent, why (E5's hard limit).

    It counts what each recipient gets: the smart-encoded text (a typed send has no name prefix).
    """
    if len(text) > MAX_DRAFT:
        return f"{len(text)} characters", f"Message is too long (max {MAX_SEGMENTS} segments)"
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


def cost_text(text: str, recipients: int) -> str:
    """What sending this text costs: "4 segments × 9 people ≈ 36 SMS" ("" for an empty box).

    `recipients` is the group view's count of people a send reaches (opted-out and DND numbers
    left out, as the send counts them); the segments are what each of them gets (`counter_text`)."""
    if not text.strip() or len(text) > MAX_DRAFT or recipients <= 0:
        return ""
    segments = count_segments(smart_encode(text)).segments
    parts = f"{segments} segment" + ("" if segments == 1 else "s")
    people = f"{recipients} " + ("person" if recipients == 1 else "people")
    return f"{parts} × {people} ≈ {segments * recipients} SMS"



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
    cost: Any = "",
) -> rx.Component:
    """E5: Enter sends, Shift+Enter is a new line; characters, segments and encoding as you type,
    and what the message costs (segments × people). When the user may not send (R13, a role
    without "Send messages", a lock) the box is disabled and says why."""
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
                aria_describedby=rx.cond(can_send, "composer-counter composer-cost", "composer-blocked"),
                aria_disabled=rx.cond(can_send, "false", "true"),
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
                aria_describedby=rx.cond(can_send, "", "composer-blocked"),
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
            rx.text(cost, id="composer-cost", size="1", color_scheme="gray", aria_live="polite",
                    class_name="composer-cost"),
            rx.spacer(),
            rx.text("Enter to send · Shift+Enter for a new line", size="1", color_scheme="gray",
                    class_name="composer-hint"),
            width="100%",
            align="center",
            wrap="wrap",
        )),
        rx.cond(problem != "", rx.text(problem, size="1", color_scheme="red", role="alert")),
        rx.cond(send_error != "", rx.text(send_error, size="1", color_scheme="red", role="alert")),
        on_submit=on_submit,
        reset_on_submit=False,
        id=COMPOSER_FORM_ID,
        aria_label="Send a message",
        class_name="composer",
    )
