"""Dialogs return the keyboard focus to the control that opened them, on every page.

The app opens its dialogs from page state (`rx.dialog.root(open=..., on_open_change=...)`), not
through a Radix `Trigger`, and Radix hands the focus back only to its Trigger: on Escape, Cancel
or a click on the overlay the focus would fall to the page body. `assets/focus_return.js`, loaded
once in the document head (`HEAD_COMPONENTS`, registered by `groupsms.groupsms`), remembers the
last control focused while no dialog is open and focuses it again when the last dialog closes and
nothing else took the focus. Every dialog built with `rx.dialog` or `rx.alert_dialog` gets this
without any change of its own.
"""

from __future__ import annotations

import reflex as rx

FOCUS_RETURN_SCRIPT = "/focus_return.js"


def focus_return_script() -> rx.Component:
    # A plain <script src> in the prerendered head: the app's own origin, so the page's
    # Content-Security-Policy (`script-src 'self'`) allows it without a hash.
    return rx.el.script(src=FOCUS_RETURN_SCRIPT, defer=True)


HEAD_COMPONENTS = [focus_return_script()]
