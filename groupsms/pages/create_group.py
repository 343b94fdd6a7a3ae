"""The state of the "Group Message" dialog (its view: components/create_group.py): an optional
group name, a business number (R12) and 2–9 contact numbers (R2, R3, R11), the E2 overlap and E11
duplicate warnings, whether to send the intro text (the location's setting by default, shown as it
will go out), then create the group. It opens on the conversations page (`/`), from the menu, from a
regroup link (R10) and from "Start a group" on an other text (E2).

The selection lives in this state as "contact_id:which" strings. A toggle from the browser is
accepted only for a key the picker offered and did not disable; the service checks everything
again when creating (the page holds no rules, only what the services answered).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from groupsms.components.group_picker import NOTICES_ID, Chosen, ContactChoice, NumberChoice
from groupsms.domain.groups import MAX_PARTICIPANTS, MIN_PARTICIPANTS, WHICH_NUMBERS
from groupsms.errors import DuplicateGroup, ValidationError
from groupsms.pages.session import SessionState, signed_in
from groupsms.services import groups, location_settings
from groupsms.services.groups import GROUP_NAME_MAX

_MAX_SEARCH_LENGTH = 100
_MAX_KEY_LENGTH = 40
_MAX_ID_DIGITS = 12
_PICKER_LIMIT = 100
_MAX_SELECTION_EVENT = 200  # more keys than the picker could ever show: not from our checkbox group

# The dialog's warnings sit next to the selection; when one appears, it is scrolled into view
# (only as far as needed), so it is never left under the footer or above the fold.
_SHOW_NOTICES_JS = (
    f'document.getElementById("{NOTICES_ID}")?.scrollIntoView({{block: "nearest", behavior: "instant"}})'
)


def picker_count_text(shown: int, total: int, search: str) -> str:
    """"100 of 240 contacts shown — search to find the rest", "3 contacts match", "12 contacts"."""
    if total > shown:
        return f"{shown} of {total} contacts shown — search to find the rest"
    noun = "contact" if total == 1 else "contacts"
    if search:
        return f"{total} {noun} match{'es' if total == 1 else ''}"
    return f"{total} {noun}"


def _key(contact_id: int, which: str) -> str:
    return f"{contact_id}:{which}"


def _parse_key(value: Any) -> tuple[int, str] | None:
    """(contact_id, which) from a "12:primary" string, or None for anything else."""
    if not isinstance(value, str) or len(value) > _MAX_KEY_LENGTH:
        return None
    contact_id, sep, which = value.partition(":")
    if not sep or not contact_id.isdigit() or len(contact_id) > _MAX_ID_DIGITS or which not in WHICH_NUMBERS:
        return None
    return int(contact_id), which


def clean_positive_id(value: Any) -> int | None:
    """A positive id from a browser value (int or digit string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit() and len(value) <= _MAX_ID_DIGITS:
        value = int(value)
    if isinstance(value, int) and 0 < value < 10**_MAX_ID_DIGITS:
        return value
    return None


class CreateGroupState(SessionState):
    """State of the group dialog (a substate of the session: every handler checks it again).
    Refusals go to `errors`; `_labels` (backend only) names every key seen in this dialog, so
    selected numbers stay named while the search hides them."""

    open: bool = False
    loading: bool = False
    numbers: list[NumberChoice] = []
    number_id: str = ""
    search: str = ""
    options: list[ContactChoice] = []
    selected: list[str] = []
    chosen: list[Chosen] = []
    picker_count: str = ""  # "100 of 240 contacts shown — search to find the rest"
    group_name: str = ""
    send_intro: bool = True  # starts as the location's setting
    intro_text: str = ""  # the intro these participants would get, as it goes out
    intro_note: str = ""  # "1 SMS segment"
    notice: str = ""
    errors: list[str] = []
    overlaps: list[str] = []
    duplicate_group_id: int = 0
    creating: bool = False
    _labels: dict[str, str] = {}

    # -- opening and closing --------------------------------------------------------------------

    @rx.event
    @signed_in(error="errors", busy="loading")
    async def open_dialog(self, actor):
        """The "Group Message" menu item."""
        self._reset_fields(keep=("loading",))
        self.open = True
        yield
        await self._load_choices(actor)

    @rx.event
    @signed_in(error="errors")
    async def set_open(self, actor, value: Any):
        """The dialog's own open/close (Escape, overlay click, Cancel). Opening goes through
        `open_dialog`, so only closing is honoured here."""
        if value is False:
            self._reset_fields()

    async def _open_with(self, actor: Any, number_id: int, keys: list[str], labels: dict[str, str], *,
                         number_refused: str = "You cannot create groups from the number of that group.") -> None:
        """Open pre-selected (the conversations page's regroup link, R10, and "Start a group" on
        an other text, E2)."""
        self._reset_fields()
        self.open = True
        await self._load_choices(actor)
        offered = {n.id for n in self.numbers}
        if str(number_id) in offered:
            self.number_id = str(number_id)
        else:
            self.errors = [number_refused]
        self._labels.update(labels)
        self.selected = keys[:MAX_PARTICIPANTS]
        self._sync_chosen()
        await self._preview(actor)

    async def _load_choices(self, actor: Any) -> None:
        setting = await self._attempt(location_settings.get_intro, actor)
        self.send_intro = setting.value.enabled if setting.ok else False
        found = await self._attempt(groups.picker_numbers, actor)
        if not found.ok:
            self.errors = [found.error]
            return
        self.numbers = [
            NumberChoice(str(n.id), f"{n.label} · {n.display}" if n.label else n.display) for n in found.value
        ]
        if self.numbers and not self.number_id:
            self.number_id = self.numbers[0].id  # the default number comes first
        await self._load_options(actor)

    async def _load_options(self, actor: Any) -> None:
        found = await self._attempt(groups.picker_page, actor, search=self.search, limit=_PICKER_LIMIT)
        if not found.ok:
            self.errors = [found.error]
            return
        self.options = [
            ContactChoice(
                _key(o.contact_id, o.which), o.name, o.display,
                "" if o.which == "primary" else "Secondary", o.disabled_reason or "",
            )
            for o in found.value.options
        ]
        self.picker_count = picker_count_text(found.value.shown, found.value.total, self.search.strip())
        for o in self.options:
            self._labels[o.key] = f"{o.name} {o.display}"

    # -- choosing ---------------------------------------------------------------------------------

    @rx.event
    @signed_in(error="errors")
    async def choose_number(self, actor, value: Any):
        if not isinstance(value, str) or value not in {n.id for n in self.numbers}:
            self.notice = "Choose one of the numbers in the list."
            return None
        self.number_id = value
        self._clear_outcome()
        await self._preview(actor)
        return self._show_notices()

    @rx.event
    @signed_in(error="errors")
    async def search_contacts(self, actor, value: Any):
        if not isinstance(value, str):
            return None
        self.search = value[:_MAX_SEARCH_LENGTH]
        await self._load_options(actor)
        return None

    @rx.event
    @signed_in(error="errors")
    async def set_name(self, actor, value: Any):
        """The "Group name" box (optional; the service trims and checks it again)."""
        if isinstance(value, str):
            self.group_name = value[:GROUP_NAME_MAX * 2]

    @rx.event
    @signed_in(error="errors")
    async def set_send_intro(self, actor, value: Any):
        """The "Send intro text" checkbox."""
        if isinstance(value, bool):
            self.send_intro = value

    @rx.event
    @signed_in(error="errors")
    async def set_selection(self, actor, values: Any):
        """The picker's checkbox group changed: it sends every checked key, one box differs from
        the selection (a click or Space). Only an offered, enabled key is accepted."""
        if not isinstance(values, list) or len(values) > _MAX_SELECTION_EVENT:
            return None
        if not all(isinstance(v, str) for v in values):
            return None
        wanted, current = set(values), set(self.selected)
        changed = [v for v in values if v not in current] + [k for k in self.selected if k not in wanted]
        if len(changed) != 1:
            return None
        return await self._toggle(actor, changed[0], changed[0] in wanted)

    async def _toggle(self, actor: Any, key: str, checked: bool):
        if _parse_key(key) is None:
            return None
        option = next((o for o in self.options if o.key == key), None)
        if option is None or option.reason:
            return None
        self.notice = ""
        if not checked:
            self.selected = [k for k in self.selected if k != key]
        elif key not in self.selected:
            if len(self.selected) >= MAX_PARTICIPANTS:
                self.notice = (
                    f"A group can have at most {MAX_PARTICIPANTS} participants. "
                    f"Uncheck someone before adding {option.name} {option.display}."
                )
                return rx.call_script(_SHOW_NOTICES_JS)
            self.selected = [*self.selected, key]
        return await self._selection_changed(actor)

    @rx.event
    @signed_in(error="errors")
    async def remove(self, actor, key: Any):
        """The "Remove …" button of a selected participant."""
        if not isinstance(key, str) or key not in self.selected:
            return None
        self.notice = ""
        self.selected = [k for k in self.selected if k != key]
        return await self._selection_changed(actor)

    async def _selection_changed(self, actor: Any):
        """Preview the new selection; a warning it brings is scrolled into view."""
        self._sync_chosen()
        self._clear_outcome()
        await self._preview(actor)
        return self._show_notices()

    def _show_notices(self):
        if self.notice or self.errors or self.overlaps or self.duplicate_group_id:
            return rx.call_script(_SHOW_NOTICES_JS)
        return None

    def _sync_chosen(self) -> None:
        self.chosen = [Chosen(k, self._labels.get(k, "Contact")) for k in self.selected]

    def _clear_outcome(self) -> None:
        self._reset_fields("errors", "overlaps", "duplicate_group_id")

    def _participants(self) -> list[tuple[int, str]]:
        return [pair for pair in (_parse_key(k) for k in self.selected) if pair is not None]

    async def _preview(self, actor: Any) -> None:
        """E2 overlaps and the E11 duplicate, before creating. Problems wait for "Create group"."""
        number_id = clean_positive_id(self.number_id)
        if number_id is None or not self.selected:
            self.overlaps, self.duplicate_group_id, self.intro_text, self.intro_note = [], 0, "", ""
            return
        found = await self._attempt(groups.preview_group, actor, number_id, self._participants())
        if found.ok:
            self.overlaps = list(found.value.overlaps)
            self.duplicate_group_id = found.value.duplicate_group_id or 0
            self.intro_text, self.intro_note = found.value.intro_text, found.value.intro_note

    # -- creating ----------------------------------------------------------------------------------

    @rx.event
    @signed_in(error="errors", busy="creating")
    async def create(self, actor):
        async for update in self._create(actor, allow_duplicate=False):
            yield update

    @rx.event
    @signed_in(error="errors", busy="creating")
    async def create_anyway(self, actor):
        """E11: the user saw the duplicate warning and wants a second group all the same."""
        async for update in self._create(actor, allow_duplicate=True):
            yield update

    async def _create(self, actor: Any, *, allow_duplicate: bool):
        number_id = clean_positive_id(self.number_id)
        if number_id is None:
            self.errors = ["Choose the business number to text from."]
            yield rx.call_script(_SHOW_NOTICES_JS)
            return
        if len(self.selected) < MIN_PARTICIPANTS:
            self.errors = [f"Pick at least {MIN_PARTICIPANTS} contact numbers."]
            yield rx.call_script(_SHOW_NOTICES_JS)
            return
        self.notice = ""
        yield
        try:
            group_id = await self._call(
                groups.create_group, actor, number_id, self._participants(), allow_duplicate,
                name=self.group_name, intro=bool(self.send_intro),
            )
        except DuplicateGroup as exc:  # E11: offer to open it
            self.errors, self.duplicate_group_id = [], exc.group_id
            yield rx.call_script(_SHOW_NOTICES_JS)
            return
        except ValidationError as exc:  # every problem, one line each
            self.errors = [e.message for e in exc.errors] or [str(exc)]
            yield rx.call_script(_SHOW_NOTICES_JS)
            return
        self._reset_fields()
        yield rx.redirect(f"/groups/{group_id}")

    @rx.event
    @signed_in(error="errors")
    async def open_duplicate(self, actor):
        """E11 "Open that group"."""
        group_id = self.duplicate_group_id
        if not isinstance(group_id, int) or group_id <= 0:
            return None
        self._reset_fields()
        return rx.redirect(f"/groups/{group_id}")
