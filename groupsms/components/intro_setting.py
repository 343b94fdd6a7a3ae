"""The "Group intro text" card (admins, on the Numbers page): whether new groups text every
participant an intro, its wording with the {names} and {business} placeholders, and a preview as it
goes out. Its state is `pages.intro_setting.IntroSettingState`."""

from __future__ import annotations

import reflex as rx

from groupsms.components import forms
from groupsms.domain import intro
from groupsms.pages.intro_setting import IntroSettingState


def intro_setting_card() -> rx.Component:
    s = IntroSettingState
    return rx.el.section(
        rx.vstack(
            rx.heading("Group intro text", size="4", as_="h2", id="intro-setting-title"),
            rx.text(
                "When a group is created, every participant gets this text, so they know who is in the "
                "group, that replies go to everyone and how to opt out. Whoever creates a group can "
                "turn it off for that group.",
                size="2", color_scheme="gray",
            ),
            rx.cond(
                s.loaded,
                rx.vstack(
                    rx.text(
                        rx.flex(
                            rx.switch(checked=s.enabled, on_change=s.set_enabled, id="intro-enabled"),
                            "Send the intro text to new groups",
                            gap="2", align="center",
                        ),
                        as_="label", size="2", weight="medium",
                    ),
                    rx.el.label("Intro text", html_for="intro-text", class_name="field-label"),
                    rx.text_area(
                        id="intro-text",
                        value=s.text,
                        on_change=s.edit_text,
                        rows="3",
                        max_length=intro.MAX_TEMPLATE_LENGTH,
                        aria_describedby="intro-text-hint",
                        width="100%",
                    ),
                    rx.text(
                        "{names} becomes the participants' first names (\"Carla, Marcus and Priya\"), "
                        "{business} becomes " + s.business + ". It must say how to opt out (STOP).",
                        id="intro-text-hint", size="1", color_scheme="gray",
                    ),
                    rx.cond(
                        s.problem != "",
                        rx.callout(s.problem, icon="triangle_alert", color_scheme="red", role="alert",
                                   size="1", width="100%"),
                        rx.vstack(
                            rx.text("Preview", size="1", weight="medium", color_scheme="gray"),
                            rx.box(rx.text(s.preview, size="2", class_name="conv-intro-text"), role="note",
                                   aria_label="Intro text preview", width="100%"),
                            rx.text(s.segments + " to each participant", size="1", color_scheme="gray"),
                            spacing="1",
                            width="100%",
                            padding="0.5rem 0.75rem",
                            border_radius="var(--radius-3)",
                            background="var(--gray-a2)",
                            border="1px solid var(--gray-a5)",
                        ),
                    ),
                    forms.error_notice(s.error),
                    forms.done_notice(s.notice),
                    rx.hstack(
                        rx.button("Use the built-in wording", variant="soft", color_scheme="gray", type="button",
                                  on_click=s.use_default),
                        rx.button("Save intro text", type="button", on_click=s.save, loading=s.saving,
                                  disabled=s.problem != ""),
                        spacing="2", wrap="wrap", justify="end", width="100%",
                    ),
                    spacing="2",
                    width="100%",
                ),
                rx.cond(s.error != "", forms.error_notice(s.error), forms.loading("the intro text")),
            ),
            spacing="2",
            width="100%",
        ),
        aria_labelledby="intro-setting-title",
        class_name="admin-item",
        on_mount=s.load,
        width="100%",
    )
