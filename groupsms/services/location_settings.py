"""Settings of the whole location: the group intro text (on or off, and its wording).

Reading them is for everyone who may create groups (the group dialog shows the intro it will send);
changing them is for those who manage the location's business numbers (admins by default), since
the intro is what those numbers text every new participant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from groupsms import db
from groupsms.domain import intro
from groupsms.errors import ValidationError
from groupsms.models import Location
from groupsms.services._base import Actor, acting_user, audit, clean_bool, require

__all__ = ["IntroSetting", "get_intro", "set_intro"]


@dataclass(frozen=True)
class IntroSetting:
    enabled: bool  # the group dialog's "Send intro text" starts checked
    text: str  # the location's own wording; "" for the built-in one
    template: str  # the wording in use (the location's, else the built-in one)
    business: str  # what {business} stands for: the location's name
    preview: str  # the template filled with sample names, as it goes out
    segments: str  # "1 SMS segment"


def _setting(location: Location) -> IntroSetting:
    preview = intro.render(location.intro_text, intro.SAMPLE_NAMES, location.name)
    return IntroSetting(
        location.intro_enabled, location.intro_text, intro.template_in_use(location.intro_text),
        location.name, preview, intro.segments_note(preview),
    )


def get_intro(actor: Actor | None) -> IntroSetting:
    """The location's intro setting, with a preview of the text."""
    with db.read() as s:
        user = acting_user(s, actor)
        require(s, user, "group", "create")
        return _setting(s.get(Location, user.location_id))


def _clean_template(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("Intro text must be text", "intro_text")
    text = value.strip()
    problem = intro.check_template(text)
    if problem:
        raise ValidationError(problem, "intro_text")
    return "" if text == intro.DEFAULT_TEMPLATE else text


def set_intro(actor: Actor | None, enabled: Any, text: Any = None) -> IntroSetting:
    """Turn the intro on or off for new groups and set its wording ("" or None: the built-in one).
    A wording without "STOP" is refused: every participant must learn how to opt out."""
    with db.transaction() as s:
        admin = acting_user(s, actor)
        require(s, admin, "number", "manage")
        enabled = clean_bool(enabled, "intro enabled")
        text = _clean_template(text)
        location = s.get(Location, admin.location_id, with_for_update=True)
        changed = {}
        if location.intro_enabled != enabled:
            changed["enabled"] = {"old": location.intro_enabled, "new": enabled}
        if location.intro_text != text:
            changed["text"] = {"old": location.intro_text, "new": text}
        if changed:
            location.intro_enabled, location.intro_text = enabled, text
            s.add(location)
            audit(s, admin, "location.intro_changed", "location", location.id, **changed)
        return _setting(location)
