"""The "Group Message" dialog: pick a business number (R12) and 2–9 contact numbers (R2, R3, R11),
see the E2 overlap and E11 duplicate warnings, then create the group.

The selection lives in this state as "contact_id:which" strings. A toggle from the browser is
accepted only for a key the picker offered and did not disable; the service checks everything
again when creating (the page holds no rules, only what the services answered).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import reflex as rx

from groupsms.components.group_picker import (
    Chosen,
    ContactChoice,
    NumberChoice,
    chip,
    contact_options,
    number_field,
    picker_notices,
)
from groupsms.domain.groups import MAX_PARTICIPANTS, MIN_PARTICIPANTS, WHICH_NUMBERS
from groupsms.errors import (
    DuplicateGroup,
    GroupsmsError,
    NotAuthenticated,
    ValidationError,
)
from groupsms.pages.session import LOGIN_ROUTE, SessionState, signed_in
from groupsms.services import groups

logger = logging.getLogger(__name__)

_MAX_SEARCH_LENGTH = 100
_MAX_KEY_LENGTH = 40
_MAX_ID_DIGITS = 12
_PICKER_LIMIT = 100
_FAILED = "Something went wrong. Please try again."


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
    """State of the group dialog (a substate of the session: every handler checks it again)."""

    open: bool = False
    loading: bool = False
    numbers: list[NumberChoice] = []
    number_id: str = ""
    search: str = ""
    options: list[ContactChoice] = []
    selected: list[str] = []
    chosen: list[Chosen] = []
    notice: str = ""
    errors: list[str] = []
    overlaps: list[str] = []
    duplicate_group_id: int = 0
    creating: bool = False

    # Labels of every key seen in this dialog, so selected numbers stay named while the search
    # hides them. Backend only.
    _labels: dict[str, str] = {}

    # -- opening and closing --------------------------------------------------------------------

    @rx.event
    @signed_in
    async def open_dialog(self, actor):
        """The "Group Message" menu item."""
        self._reset()
        self.open, self.loading = True, True
        yield
        await self._load_choices(actor)
        self.loading = False

    @rx.event
    @signed_in
    async def set_open(self, actor, value: Any):
        """The dialog's own open/close (Escape, overlay click, Cancel). Opening goes through
        `open_dialog`, so only closing is honoured here."""
        if value is False:
            self._reset()

    async def _open_with(self, actor: Any, number_id: int, keys: list[str], labels: dict[str, str], *,
                         number_refused: str = "You cannot create groups from the number of that group.") -> None:
        """Open pre-selected (the conversations page's regroup link, R10, and "Start a group" on
        an other text, E2)."""
        self._reset()
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

    def _to_login(self):
        """Without a session (every `@signed_in` handler): the dialog closes, emptied, and the
        browser goes to sign-in."""
        self._reset()
        return rx.redirect(LOGIN_ROUTE, replace=True)

    def _reset(self) -> None:
        self.open = self.loading = self.creating = False
        self.numbers, self.options, self.selected, self.chosen = [], [], [], []
        self.number_id = self.search = self.notice = ""
        self.errors, self.overlaps = [], []
        self.duplicate_group_id = 0
        self._labels = {}

    async def _load_choices(self, actor: Any) -> None:
        try:
            numbers = await asyncio.to_thread(groups.picker_numbers, actor)
        except GroupsmsError as exc:
            self.errors = [str(exc)]
            return
        except Exception:
            logger.exception("loading the picker numbers failed")
            self.errors = [_FAILED]
            return
        self.numbers = [
            NumberChoice(str(n.id), f"{n.label} · {n.display}" if n.label else n.display) for n in numbers
        ]
        if self.numbers and not self.number_id:
            self.number_id = self.numbers[0].id  # the default number comes first
        await self._load_options(actor)

    async def _load_options(self, actor: Any) -> None:
        try:
            options = await asyncio.to_thread(
                groups.picker_contacts, actor, search=self.search, limit=_PICKER_LIMIT
            )
        except GroupsmsError as exc:
            self.errors = [str(exc)]
            return
        except Exception:
            logger.exception("loading the picker contacts failed")
            self.errors = [_FAILED]
            return
        self.options = [
            ContactChoice(
                _key(o.contact_id, o.which), o.name, o.display,
                "" if o.which == "primary" else "Secondary", o.disabled_reason or "",
            )
            for o in options
        ]
        for o in self.options:
            self._labels[o.key] = f"{o.name} {o.display}"

    # -- choosing ---------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def choose_number(self, actor, value: Any):
        if not isinstance(value, str) or value not in {n.id for n in self.numbers}:
            self.notice = "Choose one of the numbers in the list."
            return None
        self.number_id = value
        self._clear_outcome()
        await self._preview(actor)
        return None

    @rx.event
    @signed_in
    async def search_contacts(self, actor, value: Any):
        if not isinstance(value, str):
            return None
        self.search = value[:_MAX_SEARCH_LENGTH]
        await self._load_options(actor)
        return None

    @rx.event
    @signed_in
    async def toggle(self, actor, key: Any, checked: Any):
        """A checkbox changed. Only an offered, enabled key is accepted."""
        if _parse_key(key) is None or not isinstance(checked, bool):
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
                    f"Uncheck someone before adding {option.name}."
                )
                return None
            self.selected = [*self.selected, key]
        self._sync_chosen()
        self._clear_outcome()
        await self._preview(actor)
        return None

    @rx.event
    @signed_in
    async def remove(self, actor, key: Any):
        """The "Remove …" button of a selected participant."""
        if not isinstance(key, str) or key not in self.selected:
            return None
        self.notice = ""
        self.selected = [k for k in self.selected if k != key]
        self._sync_chosen()
        self._clear_outcome()
        await self._preview(actor)
        return None

    def _sync_chosen(self) -> None:
        self.chosen = [Chosen(k, self._labels.get(k, "Contact")) for k in self.selected]

    def _clear_outcome(self) -> None:
        self.errors, self.overlaps = [], []
        self.duplicate_group_id = 0

    def _participants(self) -> list[tuple[int, str]]:
        return [pair for pair in (_parse_key(k) for k in self.selected) if pair is not None]

    async def _preview(self, actor: Any) -> None:
        """E2 overlaps and the E11 duplicate, before creating. Problems wait for "Create group"."""
        number_id = clean_positive_id(self.number_id)
        if number_id is None or not self.selected:
            self.overlaps, self.duplicate_group_id = [], 0
            return
        try:
            preview = await asyncio.to_thread(groups.preview_group, actor, number_id, self._participants())
        except GroupsmsError:
            return  # "Create group" reports it in full
        except Exception:
            logger.exception("previewing a group failed")
            return
        self.overlaps = list(preview.overlaps)
        self.duplicate_group_id = preview.duplicate_group_id or 0

    # -- creating ----------------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def create(self, actor):
        async for update in self._create(actor, allow_duplicate=False):
            yield update

    @rx.event
    @signed_in
    async def create_anyway(self, actor):
        """E11: the user saw the duplicate warning and wants a second group all the same."""
        async for update in self._create(actor, allow_duplicate=True):
            yield update

    async def _create(self, actor: Any, *, allow_duplicate: bool):
        if self.creating:
            return
        number_id = clean_positive_id(self.number_id)
        if number_id is None:
            self.errors = ["Choose the business number to text from."]
            return
        if len(self.selected) < MIN_PARTICIPANTS:
            self.errors = [f"Pick at least {MIN_PARTICIPANTS} contact numbers."]
            return
        self.creating, self.notice = True, ""
        yield
        try:
            group_id = await asyncio.to_thread(
                groups.create_group, actor, number_id, self._participants(), allow_duplicate
            )
        except NotAuthenticated:
            self._reset()
            yield rx.redirect(LOGIN_ROUTE, replace=True)
            return
        except DuplicateGroup as exc:
            self.errors, self.duplicate_group_id = [], exc.group_id
        except ValidationError as exc:
            self.errors = [e.message for e in exc.errors] or [str(exc)]
        except GroupsmsError as exc:
            self.errors = [str(exc)]
        except Exception:
            logger.exception("creating a group failed")
            self.errors = ["The group could not be created. Please try again."]
        else:
            self._reset()
            yield rx.redirect(f"/groups/{group_id}")
            return
        self.creating = False

    @rx.event
    @signed_in
    async def open_duplicate(self, actor):
        """E11 "Open that group"."""
        group_id = self.duplicate_group_id
        if not isinstance(group_id, int) or group_id <= 0:
            return None
        self._reset()
        return rx.redirect(f"/groups/{group_id}")


# -- the view (the picker: components/group_picker.py) ------------------------------------------

S = CreateGroupState


def create_group_dialog() -> rx.Component:
    count = S.selected.length()
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New group message"),
            rx.dialog.description(
                f"Text {MIN_PARTICIPANTS} to {MAX_PARTICIPANTS} contacts together from one business number.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                number_field(S),
                rx.hstack(
                    rx.text("Participants", class_name="field-label"),
                    rx.spacer(),
                    rx.text(
                        count.to_string() + f" of {MAX_PARTICIPANTS} selected",
                        size="2",
                        color_scheme=rx.cond(count < MIN_PARTICIPANTS, "gray", "teal"),
                        aria_live="polite",
                        class_name="conv-selected-count",
                    ),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    count > 0,
                    rx.flex(rx.foreach(S.chosen, lambda chosen: chip(chosen, S)), wrap="wrap", gap="2",
                            aria_label="Selected participants", role="group"),
                    rx.text(f"Pick at least {MIN_PARTICIPANTS}.", size="1", color_scheme="gray"),
                ),
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    placeholder="Search by name or number",
                    aria_label="Search contacts",
                    value=S.search,
                    on_change=S.search_contacts,
                    type="search",
                    width="100%",
                ),
                contact_options(S),
                picker_notices(S),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                    rx.button(
                        "Create group",
                        on_click=S.create,
                        disabled=(count < MIN_PARTICIPANTS) | (S.number_id == "") | S.creating,
                        loading=S.creating,
                        type="button",
                    ),
                    justify="end",
                    spacing="3",
                    width="100%",
                    class_name="conv-dialog-footer",
                ),
                spacing="3",
                width="100%",
                margin_top="0.75rem",
            ),
            max_width="36rem",
            class_name="conv-create-group-dialog",
        ),
        open=S.open,
        on_open_change=S.set_open,
    )
