"""The store-wide session check (`SessionGuard`), called the way Reflex calls middleware.

No browser here: a page never sends most of these events, but any client can (Reflex accepts an
event for every public handler of every state), so the guard is exercised directly.
"""

from __future__ import annotations

import asyncio

import pytest
import reflex as rx
from reflex_base.event import Event

from groupsms.pages.conversations import ConversationsState
from groupsms.pages.login import LoginState
from groupsms.pages.session import SessionGuard, SessionState


class _FakeTree:
    """Stands in for the locked state tree: only `get_state(SessionState)` is used."""

    def __init__(self, actor: object | None) -> None:
        self.session = _FakeSession(actor)

    async def get_state(self, state_cls: type) -> _FakeSession:
        assert state_cls is SessionState
        return self.session


class _FakeSession:
    def __init__(self, actor: object | None) -> None:
        self.actor = actor
        self.lookups = 0

    async def _actor(self, *, cached: bool = False) -> object | None:
        self.lookups += 1
        return self.actor

    def _token(self) -> str:
        return "a-session-token"


def _preprocess(event_name: str, actor: object | None = None):
    tree = _FakeTree(actor)
    update = asyncio.run(
        SessionGuard().preprocess(app=None, state=tree, event=Event(name=event_name, payload={}))
    )
    return update, tree.session.lookups


def _redirects_to_login(update) -> bool:
    return (
        update is not None
        and not update.delta
        and [(e.name, e.payload.get("path")) for e in update.events] == [("_redirect", "/login")]
    )


def _event(state_cls: type, handler: str) -> str:
    return f"{state_cls.get_full_name()}.{handler}"


@pytest.mark.parametrize(
    "event_name",
    [
        _event(ConversationsState, "load"),
        _event(ConversationsState, "sign_out"),
        _event(ConversationsState, "setvar"),
        _event(SessionState, "setvar"),
        _event(LoginState, "setvar"),
    ],
)
def test_events_for_our_states_without_a_session_are_refused(event_name):
    update, lookups = _preprocess(event_name, actor=None)

    assert _redirects_to_login(update)
    assert lookups == 1


def test_events_with_a_session_go_through():
    update, lookups = _preprocess(_event(ConversationsState, "load"), actor=object())

    assert update is None
    assert lookups == 1


@pytest.mark.parametrize("handler", ["sign_in", "load"])
def test_the_sign_in_page_works_signed_out(handler):
    update, lookups = _preprocess(_event(LoginState, handler), actor=None)

    assert update is None
    assert lookups == 0


@pytest.mark.parametrize(
    "handler", ["hydrate_and_load", "set_is_hydrated", "hydrate"]
)
def test_reflex_own_events_work_signed_out(handler):
    update, _ = _preprocess(f"{rx.State.get_full_name()}.{handler}", actor=None)

    assert update is None


@pytest.mark.parametrize(
    "event_name",
    [
        "reflex___state____state.no_such_state.load",
        "not_a_state.load",
        "",
    ],
)
def test_events_for_unknown_states_are_refused(event_name):
    update, _ = _preprocess(event_name, actor=None)

    assert _redirects_to_login(update)
