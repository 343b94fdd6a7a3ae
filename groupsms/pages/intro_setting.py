"""The state of the "Group intro text" card (its view: components/intro_setting.py, shown to admins
on the Numbers page): whether new groups send the intro text, its wording, and a live preview.

The preview is computed here as the admin types (a pure function of the wording); the service
checks the wording again when it is saved.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from groupsms.domain import intro
from groupsms.pages.session import SessionState, signed_in
from groupsms.services import location_settings
from groupsms.services.location_settings import IntroSetting

_MAX_TYPED = intro.MAX_TEMPLATE_LENGTH * 2  # what we keep of a box's value (the service refuses more)


class IntroSettingState(SessionState):
    loaded: bool = False
    enabled: bool = True
    text: str = ""  # the wording in the box (the built-in one when the location has none)
    business: str = ""
    preview: str = ""
    segments: str = ""
    problem: str = ""  # what is wrong with the wording typed, as the admin types
    error: str = ""
    notice: str = ""
    saving: bool = False

    @rx.event
    @signed_in
    async def load(self, actor):
        self._reset_fields("error", "notice", "problem")
        found = await self._attempt(location_settings.get_intro, actor)
        if found.ok:
            self._show(found.value)
        else:
            self.error = found.error
        return None

    def _show(self, setting: IntroSetting) -> None:
        self.enabled, self.text, self.business = setting.enabled, setting.template, setting.business
        self.preview, self.segments, self.problem = setting.preview, setting.segments, ""
        self.loaded = True

    def _preview_typed(self) -> None:
        self.problem = intro.check_template(self.text) or ""
        if not self.problem:
            self.preview = intro.render(self.text, intro.SAMPLE_NAMES, self.business)
            self.segments = intro.segments_note(self.preview)

    @rx.event
    @signed_in
    async def edit_text(self, actor, value: Any):
        """The wording box changed: preview it (and say what is wrong) as the admin types."""
        if not isinstance(value, str) or not self.loaded:
            return None
        self.text, self.notice = value[:_MAX_TYPED], ""
        self._preview_typed()
        return None

    @rx.event
    @signed_in
    async def use_default(self, actor):
        """"Use the built-in wording": put it in the box (saved with "Save")."""
        if not self.loaded:
            return None
        self.text, self.notice = intro.DEFAULT_TEMPLATE, ""
        self._preview_typed()
        return None

    @rx.event
    @signed_in
    async def set_enabled(self, actor, value: Any):
        if isinstance(value, bool) and self.loaded:
            self.enabled, self.notice = value, ""

    @rx.event
    @signed_in(busy="saving")
    async def save(self, actor):
        if not self.loaded:
            return None
        self.error = self.notice = ""
        setting = await self._call(location_settings.set_intro, actor, bool(self.enabled), self.text)
        self._show(setting)
        self.notice = ("Intro text saved: new groups send it" if setting.enabled
                       else "Saved: new groups send no intro text unless the person creating one asks")
        return None
