"""What the conversation list tells the browser itself: the unread count in the tab's title and,
for a person who opted in with "Notify me", a browser notification for each new reply that a live
update brings while the tab is in the background.

The page state puts the figures on one hidden element (`SIGNAL_ID`: `data-unread`, `data-title`,
`data-replies`); a small script, installed when the element mounts, watches its attributes. The
replies on it are only those the services returned for this tab's own user (groups they may see),
so the script never decides who may read what. The opt-in is remembered in this browser
(localStorage), and needs the browser's permission (`Notification.requestPermission`).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

SIGNAL_ID = "conv-live-signal"
TOGGLE_ID = "conv-notify-toggle"
STATUS_ID = "conv-notify-status"
STORAGE_KEY = "groupsms.notify"
BASE_TITLE = "Conversations · groupsms"

SIGNAL_JS = f"""
(() => {{
  const el = document.getElementById("{SIGNAL_ID}");
  if (!el || el.__groupsmsSignal) return;
  el.__groupsmsSignal = true;
  const supported = () => "Notification" in window;
  const permission = () => supported() ? Notification.permission : "denied";
  const enabled = () => supported() && localStorage.getItem("{STORAGE_KEY}") === "on" && permission() === "granted";
  const paint = () => {{
    const button = document.getElementById("{TOGGLE_ID}");
    const status = document.getElementById("{STATUS_ID}");
    const on = enabled();
    if (button) {{ button.setAttribute("aria-pressed", on ? "true" : "false"); button.dataset.on = on ? "on" : "off"; }}
    if (!status) return;
    if (!supported()) status.textContent = "This browser cannot show notifications.";
    else if (permission() === "denied") status.textContent = "Notifications are blocked for this site in the browser's settings.";
    else status.textContent = on ? "Notifying you of new replies while this tab is in the background." : "";
  }};
  const title = () => {{
    const count = parseInt(el.dataset.unread || "0", 10) || 0;
    document.title = (count > 0 ? "(" + count + ") " : "") + (el.dataset.title || "{BASE_TITLE}");
  }};
  const seen = new Set();
  const replies = () => {{ try {{ return JSON.parse(el.dataset.replies || "[]"); }} catch (e) {{ return []; }} }};
  const notify = () => {{
    for (const reply of replies()) {{
      if (seen.has(reply.id)) continue;
      seen.add(reply.id);
      if (!document.hidden || !enabled()) continue;
      try {{
        const note = new Notification(reply.title, {{ body: reply.body, tag: "groupsms-reply-" + reply.id }});
        note.onclick = () => {{ window.focus(); window.location.assign(reply.href); }};
      }} catch (e) {{ /* the browser refused (e.g. a mobile browser without page notifications) */ }}
    }}
  }};
  for (const reply of replies()) seen.add(reply.id);  // what the page showed before this script
  if (!window.__groupsmsNotifyToggle) {{
    window.__groupsmsNotifyToggle = true;
    document.addEventListener("click", (event) => {{
      const button = event.target.closest && event.target.closest("#{TOGGLE_ID}");
      if (!button) return;
      const repaint = window.__groupsmsNotifyPaint || (() => {{}});
      if (enabled()) {{ localStorage.setItem("{STORAGE_KEY}", "off"); repaint(); return; }}
      if (!supported()) {{ repaint(); return; }}
      Promise.resolve(Notification.requestPermission()).then((answer) => {{
        localStorage.setItem("{STORAGE_KEY}", answer === "granted" ? "on" : "off");
        repaint();
      }});
    }});
  }}
  window.__groupsmsNotifyPaint = paint;
  new MutationObserver(() => {{ title(); notify(); }}).observe(el, {{ attributes: true }});
  title();
  paint();
}})()
"""


def notify_toggle() -> rx.Component:
    """The "Notify me" switch (its pressed state is this browser's, painted by `SIGNAL_JS`)."""
    return rx.hstack(
        rx.button(
            rx.icon("bell", size=16, aria_hidden="true"),
            rx.el.span("Notify me", class_name="conv-hide-narrow"),
            id=TOGGLE_ID,
            type="button",
            aria_pressed="false",
            aria_label="Notify me",
            aria_describedby=STATUS_ID,
            title="Notify me of new replies while this tab is in the background",
            variant="soft",
            color_scheme="gray",
            size="2",
            # Pressed: the theme's accent (the button's own accent is gray).
            style={"&[aria-pressed='true']": {"background": "var(--teal-9)", "color": "var(--teal-contrast, white)"}},
        ),
        align="center",
        spacing="2",
    )


def notify_status() -> rx.Component:
    return rx.text("", id=STATUS_ID, role="status", size="1", color_scheme="gray")


def live_signal(unread: Any, replies_json: Any) -> rx.Component:
    """The hidden element the script watches: the unread count and the new replies (JSON)."""
    return rx.el.div(
        id=SIGNAL_ID,
        hidden=True,
        custom_attrs={"data-unread": unread, "data-title": BASE_TITLE, "data-replies": replies_json},
        on_mount=rx.call_script(SIGNAL_JS),
    )
