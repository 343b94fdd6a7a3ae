"""Users & access lists the location's webhook events that gave up after their retries."""

from __future__ import annotations

import asyncio

from groupsms.messaging import inbound
from groupsms.pages.users import UsersState
from groupsms.services import sessions
from tests.pages.test_handlers import _call, _substate
from tests.services.conftest import PASSWORD


def _give_up(monkeypatch) -> None:
    monkeypatch.setenv("GROUPSMS_INBOUND_MAX_ATTEMPTS", "1")

    def broken(*_a, **_k):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(inbound, "_process_inbound", broken)
    event_id, _ = inbound.record_event("inbound", {"msisdn": "15125550111", "to": "15125550100",
                                                   "messageId": "in-page", "text": "hi"})
    inbound.process_event(event_id)


def _load_as(email: str) -> UsersState:
    token, _ = sessions.sign_in(email, PASSWORD)
    root = asyncio.run(_call(UsersState, "load", token, ()))
    return _substate(root, UsersState)


def test_admin_sees_failed_inbound_events_on_users_and_access(world, monkeypatch):
    _give_up(monkeypatch)
    state = _load_as("ada@acme.test")
    [row] = state.failed_events
    assert row.what == "SMS from +15125550111 to +15125550100 (gave up after 1 attempts)"
    assert "database hiccup" in row.error
    assert _load_as("zed@birch.test").failed_events == []  # another location's admin
    assert _load_as("bo@acme.test").failed_events == []  # not an admin
