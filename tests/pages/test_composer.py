"""The conversation page's Send handler, driven as the browser drives it: one compose sends one
message however often its submit arrives, and a text that was not sent comes back to the box."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import reflex as rx
from sqlmodel import func, select

from groupsms import db
from groupsms.components import composer
from groupsms.models import Delivery, Message
from groupsms.pages.group_chat import GroupChatState
from groupsms.pages.session import SessionState
from groupsms.services import contacts, groups, sessions
from tests.services.conftest import PASSWORD, pick

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # rxconfig.py lives at the repository root
    sys.path.insert(0, str(ROOT))
import groupsms.groupsms  # noqa: E402,F401  (builds the app: registers every page and state)


def _count(model, *where) -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def _chat(world, email: str = "bo@acme.test") -> tuple[GroupChatState, int]:
    """A ready conversation page for a signed-in user, as `load` leaves it."""
    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan", "erin"))
    token, _ = sessions.sign_in(email, PASSWORD)
    root = rx.State(_reflex_internal_init=True)
    root.get_substate(SessionState.get_full_name().split(".")[1:]).session_token = token
    state = root.get_substate(GroupChatState.get_full_name().split(".")[1:])
    state.chat_id, state.phase, state.can_send = gid, "ready", True
    state.compose_key = "first-compose-key-0123456789"
    return state, gid


def _send(state: GroupChatState, form: dict) -> list:
    async def run():
        return [u async for u in GroupChatState.event_handlers["send"].fn(state, form)]

    return asyncio.run(run())


@pytest.fixture
def released(monkeypatch) -> list[str]:
    """The text each answered send gave back to the box ("" when none)."""
    calls: list[str] = []
    real = composer.send_done_js

    def record(restore: str = "") -> str:
        calls.append(restore)
        return real(restore)

    monkeypatch.setattr(composer, "send_done_js", record)
    return calls


def test_double_submit_of_one_compose_texts_each_participant_once(world, released):
    state, gid = _chat(world)
    form = {"message": "Open house at 5", composer.COMPOSE_KEY_NAME: state.compose_key}
    _send(state, form)
    assert released == [""]  # the composer is released when the server answers, nothing given back
    assert state.compose_key != form[composer.COMPOSE_KEY_NAME]  # the next compose gets a new key
    _send(state, form)  # the second click's event carries the first compose's key
    assert _count(Message, Message.group_id == gid) == 1
    assert _count(Delivery) == 3
    assert state.send_error == "" and not state.sending
    _send(state, {"message": "And bring the keys", composer.COMPOSE_KEY_NAME: state.compose_key})
    assert _count(Message, Message.group_id == gid) == 2


def test_send_without_a_compose_key_is_refused_and_the_text_kept(world, released):
    state, gid = _chat(world)
    _send(state, {"message": "Open house at 5"})
    assert _count(Message) == 0
    assert state.send_error == "This page is out of date. Please reload it to send."
    assert released == ["Open house at 5"]  # given back to the box


def test_refused_send_gives_the_text_back_and_keeps_the_key(world, released):
    state, gid = _chat(world)
    contacts.set_contact_dnd(world.actors["ada"], world.contacts["dan"], True)
    key = state.compose_key
    _send(state, {"message": "See you “soon”", composer.COMPOSE_KEY_NAME: key})
    assert _count(Message) == 0
    assert "DND" in state.send_error and not state.sending
    assert state.compose_key == key
    assert released == ["See you “soon”"]
    assert state.counter.startswith("14 characters · 1 segment · GSM-7")


def test_counter_shows_what_each_recipient_gets_after_smart_encoding(world):
    state, _ = _chat(world)

    async def draft(text):
        await GroupChatState.event_handlers["draft_changed"].fn(state, text)

    asyncio.run(draft("It’s “done” — see you…"))
    assert state.counter == "24 characters · 1 segment · GSM-7 (160/segment) · punctuation sent as plain GSM-7"
    asyncio.run(draft("Thanks 🙏 “all”"))
    assert state.counter.startswith("14 characters · 1 segment · UCS-2")
