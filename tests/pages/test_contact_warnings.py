"""The contacts page says so when a saved or imported contact shares a number with another
contact of the location, naming the other only to users who may see it (R11)."""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path

import reflex as rx

from groupsms.pages.contacts import ContactsState
from groupsms.pages.session import SessionState
from groupsms.services import sessions
from tests.services.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
import groupsms.groupsms  # noqa: E402,F401  (builds the app: registers every page and state)


def _page(email: str) -> tuple[rx.State, ContactsState]:
    token, _ = sessions.sign_in(email, PASSWORD)
    root = rx.State(_reflex_internal_init=True)
    root.get_substate(SessionState.get_full_name().split(".")[1:]).session_token = token
    return root, root.get_substate(ContactsState.get_full_name().split(".")[1:])


def _run(state: ContactsState, name: str, *args) -> None:
    result = ContactsState.event_handlers[name].fn(state, *args)
    if inspect.isawaitable(result):
        asyncio.run(result)


def test_saving_a_contact_with_another_contacts_number_shows_a_warning(world):
    _, page = _page("bo@acme.test")
    _run(page, "load")
    _run(page, "open_new")
    _run(page, "save_contact", {"name": "Carla Twin", "primary_phone": "512-555-0111", "secondary_phone": "",
                                "assigned_user": str(world.users["bo"])})
    assert page.notice == "Carla Twin saved" and page.editor_open is False
    assert page.warnings == [
        "(512) 555-0111 is also the number of Carla Client: replies from it may need routing by hand."]
    _run(page, "open_new")  # the next action starts clean
    assert page.warnings == []


def test_editing_to_a_number_only_a_hidden_contact_has_warns_without_naming_it(world):
    _, page = _page("bo@acme.test")
    _run(page, "load")
    _run(page, "open_edit", world.contacts["dan"])
    _run(page, "save_contact", {"name": "Dan Buyer", "primary_phone": "+15125550115", "secondary_phone": "",
                                "assigned_user": str(world.users["bo"])})
    assert page.warnings == [
        "(512) 555-0115 is also the number of another contact you cannot see: replies from it may need routing by hand."]


def test_import_lists_rows_that_share_a_number(world):
    _, page = _page("ada@acme.test")
    _run(page, "load")
    _run(page, "open_import")
    _run(page, "import_csv", {"csv": "name,primary_phone,secondary_phone\nNew Person,+17375550198,\n"
                                       "Gus at Work,+17375550197,+15125550115\n"})
    assert page.import_warnings == [
        "Row 3: (512) 555-0115 is also the number of Gus Inspector: replies from it may need routing by hand."]
    assert "share a number" in page.import_summary
