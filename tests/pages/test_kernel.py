"""The handler kernel (`pages.session.signed_in`): what a page shows for what the services raise,
the busy flag around a body, the actor handed over by SessionGuard, and the session lookup that a
keystroke in the composer no longer pays for."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest
import reflex as rx
from reflex_base.event import Event

from groupsms import db
from groupsms.errors import GroupsmsError, NotAuthenticated
from groupsms.pages.contacts import ContactsState
from groupsms.pages.conversations import ConversationsState
from groupsms.pages.group_chat import GroupChatState
from groupsms.pages.handsets import HandsetsState
from groupsms.pages.numbers import NumbersState
from groupsms.pages.session import (
    BUSY_FIELD_MARK,
    CACHED_SESSION_MARK,
    ERROR_FIELD_MARK,
    LOGIN_ROUTE,
    UNEXPECTED,
    SessionGuard,
    SessionState,
)
from groupsms.services import contacts, groups, numbers, phones, sessions, users
from tests.services.conftest import PASSWORD, pick

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # rxconfig.py lives at the repository root
    sys.path.insert(0, str(ROOT))
import groupsms.groupsms  # noqa: E402,F401  (builds the app: registers every page and state)
from tests.pages.test_handlers import _handlers  # noqa: E402


def _page(cls: type[rx.State], email: str | None = "ada@acme.test") -> tuple[rx.State, str]:
    """The page state `cls` of a fresh tab, signed in as `email` (None: no session)."""
    token = sessions.sign_in(email, PASSWORD)[0] if email else ""
    root = rx.State(_reflex_internal_init=True)
    root.get_substate(SessionState.get_full_name().split(".")[1:]).session_token = token
    return root.get_substate(cls.get_full_name().split(".")[1:]), token


def _run(state: rx.State, name: str, *args) -> list:
    """Call handler `name` the way Reflex does; returns what it returned or yielded."""
    result = type(state).event_handlers[name].fn(state, *args)

    async def drain():
        if hasattr(result, "__aiter__"):
            return [u async for u in result]
        return [await result]

    return asyncio.run(drain())


def _redirects_to_login(updates: list) -> bool:
    flat = []
    for u in updates:
        flat.extend(u if isinstance(u, list) else [u])
    return any(getattr(e, "handler", None) and e.handler.fn.__qualname__ == "_redirect"
               and e.args and LOGIN_ROUTE in str(e.args) for e in flat if e is not None)


# -- what the page shows ------------------------------------------------------------------------------


def test_not_found_from_a_service_shows_the_pages_not_found_view(world):
    """A group of another location, asked for by a birch user: the conversation page's not-found
    view, and nothing of the group stays."""
    gid = groups.create_group(world.actors["ada"], world.numbers["main"], pick(world, "carla", "dan"))
    state, _ = _page(GroupChatState, "zed@birch.test")
    state.chat_id, state.phase, state.title = gid, "ready", "Carla Client"
    _run(state, "search_participants", "Carla")
    assert (state.phase, state.chat_id, state.title) == ("not_found", 0, "")


def test_not_found_on_a_page_without_a_not_found_view_goes_to_the_error_field(world):
    state, _ = _page(ContactsState)
    _run(state, "open_edit", 999_999)
    assert state.error == "Contact not found"
    assert state.editor_open is False


def test_a_refusal_goes_to_the_handlers_named_field(world, monkeypatch):
    def refuse(*_a, **_k):
        raise GroupsmsError("That label is taken")

    monkeypatch.setattr(numbers, "set_number_label", refuse)
    state, _ = _page(NumbersState)
    state.label_open, state.label_id = True, world.numbers["main"]
    _run(state, "save_label", {"label": "Front desk"})
    assert state.label_error == "That label is taken"
    assert state.label_open is True  # the dialog stays, with the reason
    assert state.error == ""


def test_an_unexpected_error_is_logged_with_its_traceback_and_shown_generically(world, monkeypatch, caplog):
    def crash(*_a, **_k):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(numbers, "set_number_label", crash)
    state, _ = _page(NumbersState)
    state.label_open, state.label_id = True, world.numbers["main"]
    with caplog.at_level(logging.ERROR, logger="groupsms.pages.session"):
        _run(state, "save_label", {"label": "Front desk"})
    assert state.label_error == UNEXPECTED
    assert "database on fire" not in state.label_error
    failed = [r for r in caplog.records if "save_label" in r.getMessage()]
    assert failed and failed[0].exc_info and failed[0].exc_info[0] is RuntimeError


def test_a_session_that_ends_mid_handler_resets_the_page_and_goes_to_sign_in(world, monkeypatch):
    state, _ = _page(ContactsState)
    _run(state, "load")
    assert state.rows and state.loaded

    def gone(*_a, **_k):
        raise NotAuthenticated()

    monkeypatch.setattr(contacts, "list_contacts", gone)
    updates = _run(state, "set_search", "Carla")
    assert _redirects_to_login(updates)
    assert (state.rows, state.loaded, state.search) == ([], False, "")


def test_the_busy_flag_is_up_while_the_body_runs_and_down_after_an_error(world, monkeypatch):
    seen = []

    def reply(*_a, **_k):
        seen.append(state.sending)
        raise GroupsmsError("The simulator is not running")

    monkeypatch.setattr(phones, "reply", reply)
    state, _ = _page(HandsetsState)
    state.selected = "+15125550111"
    _run(state, "send_reply", {"to": "+15125550100", "text": "hi"})
    assert seen == [True]
    assert state.sending is False
    assert state.reply_error == "The simulator is not running"


def test_the_busy_flag_is_down_after_an_unexpected_error(world, monkeypatch):
    def crash(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(groups, "list_groups", crash)
    state, _ = _page(ConversationsState)
    _run(state, "refresh")
    assert state.refreshing is False
    assert state.load_error == UNEXPECTED


def test_every_handlers_error_and_busy_fields_exist():
    for key, (cls, name) in _handlers().items():
        fn = cls.event_handlers[name].fn
        for mark in (ERROR_FIELD_MARK, BUSY_FIELD_MARK):
            field = getattr(fn, mark, None)
            assert field is None or field in cls.__fields__, f"{key}: {mark} names {field!r}, not a field"
        busy = getattr(fn, BUSY_FIELD_MARK, None)
        if busy is not None:
            assert cls.__fields__[busy].default_value() is False, f"{key}: {busy} is not a bool flag"


# Handlers whose session check may be a cached answer of the last few seconds: they must call no
# service and show nothing of the database. Adding one here needs that reason.
CACHED = {"GroupChatState.draft_changed"}


def test_only_handlers_that_touch_no_data_take_a_cached_session():
    cached = {key for key, (cls, name) in _handlers().items()
              if getattr(cls.event_handlers[name].fn, CACHED_SESSION_MARK, False)}
    assert cached == CACHED


# -- the actor, once per event ------------------------------------------------------------------------


def _event(state: rx.State, name: str, *args) -> tuple[object, list]:
    """One event as Reflex processes it: SessionGuard, then (unless it refused) the handler, in
    one task. Returns the guard's answer and the handler's updates."""
    root = state._get_root_state()

    async def process():
        refused = await SessionGuard().preprocess(
            app=None, state=root, event=Event(name=f"{type(state).get_full_name()}.{name}", payload={})
        )
        if refused is not None:
            return refused, []
        result = type(state).event_handlers[name].fn(state, *args)
        if hasattr(result, "__aiter__"):
            return None, [u async for u in result]
        return None, [await result]

    return asyncio.run(process())


@pytest.fixture
def lookups(monkeypatch) -> list[str]:
    """Every session lookup (`sessions.actor_for_token`), cached or not."""
    calls: list[str] = []
    real = sessions.actor_for_token

    def spy(token, **kwargs):
        calls.append(token)
        return real(token, **kwargs)

    monkeypatch.setattr(sessions, "actor_for_token", spy)
    return calls


def test_the_handler_takes_the_actor_the_guard_resolved(world, lookups):
    state, token = _page(GroupChatState, "bo@acme.test")
    refused, _ = _event(state, "draft_changed", "hello")
    assert refused is None
    assert lookups == [token]  # the guard's; the handler asked no more
    assert state.counter.startswith("5 characters")


def test_a_handler_called_without_the_guard_looks_the_session_up_itself(world, lookups):
    state, token = _page(GroupChatState, "bo@acme.test")
    _run(state, "draft_changed", "hello")
    assert lookups == [token]


def test_typing_in_the_composer_costs_no_statement_after_the_first_keystroke(world, statements):
    state, _ = _page(GroupChatState, "bo@acme.test")
    with statements.count() as first:
        _event(state, "draft_changed", "h")
    # The session and its user, once (and SQLite's BEGIN, counted as a statement).
    assert len(first) == (3 if db.engine().dialect.name == "sqlite" else 2), first
    text = "h"
    with statements.count() as log:
        for letter in "ello, see you at five":
            text += letter
            refused, _ = _event(state, "draft_changed", text)
            assert refused is None
    assert len(log) == 0, log
    assert state.counter.startswith(f"{len(text)} characters")


def test_only_a_handler_that_touches_no_data_takes_a_cached_session(world):
    """A session ended where this process cannot see it (another app worker; here: straight in
    the database): the composer's counter may go on for its few cached seconds, every handler
    that reads or writes data is refused at once."""
    from sqlmodel import delete

    from groupsms.models import AuthSession

    gid = groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan"))
    state, _ = _page(GroupChatState, "bo@acme.test")
    state.chat_id, state.phase = gid, "ready"
    assert _event(state, "draft_changed", "h")[0] is None
    with db.engine().begin() as conn:  # no ORM session: nothing in this process hears of it
        conn.execute(delete(AuthSession))
    assert _event(state, "draft_changed", "he")[0] is None
    assert _event(state, "search_participants", "Carla")[0] is not None
    assert _event(state, "toggle_panel")[0] is not None


def test_signing_out_refuses_the_next_keystroke_at_once(world):
    state, token = _page(GroupChatState, "bo@acme.test")
    assert _event(state, "draft_changed", "h")[0] is None  # the session is now cached
    sessions.sign_out(sessions.actor_for_token(token), token)
    refused, updates = _event(state, "draft_changed", "he")
    assert refused is not None and updates == []
    assert [e.name for e in refused.events] == ["_redirect"]


def test_deactivating_a_user_refuses_their_next_event_at_once(world):
    state, token = _page(GroupChatState, "bo@acme.test")
    assert _event(state, "draft_changed", "h")[0] is None
    users.set_user_active(world.actors["ada"], world.users["bo"], False)
    assert _event(state, "draft_changed", "he")[0] is not None
    assert sessions.actor_for_token(token) is None


def test_a_role_change_reaches_the_next_event_at_once(world):
    state, token = _page(GroupChatState, "bo@acme.test")
    assert sessions.actor_for_token(token).role == "user"  # cached now
    users.set_user_role(world.actors["ada"], world.users["bo"], "admin")
    assert sessions.actor_for_token(token).role == "admin"


def test_a_password_reset_refuses_the_next_event_at_once(world):
    state, token = _page(GroupChatState, "bo@acme.test")
    assert _event(state, "draft_changed", "h")[0] is None
    users.set_user_password(world.actors["ada"], world.users["bo"], "another-long-password")
    assert _event(state, "draft_changed", "he")[0] is not None


def test_an_expired_session_is_refused_at_once_though_it_was_cached(world):
    from datetime import timedelta

    from sqlmodel import select

    from groupsms.models import AuthSession, utcnow

    state, token = _page(GroupChatState, "bo@acme.test")
    assert _event(state, "draft_changed", "h")[0] is None
    with db.transaction() as s:
        for row in s.exec(select(AuthSession)):
            row.expires_at = utcnow() - timedelta(seconds=1)
            s.add(row)
    assert _event(state, "draft_changed", "he")[0] is not None


def test_the_handover_is_for_the_same_session_only(world, lookups):
    """A tab whose cookie changed between the guard and the handler (another user signed in) is
    looked up again, not given the guard's actor."""
    state, token = _page(GroupChatState, "bo@acme.test")
    other, _ = sessions.sign_in("ada@acme.test", PASSWORD)
    root = state._get_root_state()

    async def process():
        await SessionGuard().preprocess(
            app=None, state=root, event=Event(name=f"{GroupChatState.get_full_name()}.toggle_panel", payload={})
        )
        root.get_substate(SessionState.get_full_name().split(".")[1:]).session_token = other
        await GroupChatState.event_handlers["toggle_panel"].fn(state)

    asyncio.run(process())
    assert lookups == [token, other]
