"""Sign-ins that wait for their password hash stall nobody else.

The hash is blocked on purpose (an Event-gated verifier stands for a slow argon2 under a flood):
while a dozen sign-ins wait, a signed-in page handler runs and a signed webhook is stored. Before,
the hash ran inside a transaction (on SQLite: the write lock) on the thread pool every handler
shares, so both waited for the hashes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import reflex as rx
from sqlalchemy import func
from sqlmodel import select

from groupsms import db
from groupsms.messaging.signatures import sign_params
from groupsms.models import AuthSession, InboundEvent
from groupsms.pages.contacts import ContactsState
from groupsms.pages.login import LoginState
from groupsms.pages.session import SessionState
from groupsms.services import sessions
from tests.pages.test_handlers import _call, _substate
from tests.services.conftest import PASSWORD, WEBHOOK_SECRET, webhooks  # noqa: F401  (fixture)

WAITING_SIGN_INS = 12  # more than the shared thread pool has threads on this machine
# Generous: only reached when something is stalled (the test then fails instead of hanging).
STALLED = 20.0


def _inbound() -> dict:
    params = {"msisdn": "15125550111", "to": "15125550100", "messageId": "m-during-flood", "text": "hello",
              "type": "text", "timestamp": str(int(time.time())), "nonce": "n-flood"}
    return {**params, "sig": sign_params(params, WEBHOOK_SECRET, "sha256")}


def _stored_events() -> int:
    with db.transaction() as s:
        return s.exec(select(func.count()).select_from(InboundEvent)).one()


def test_webhooks_and_pages_served_while_sign_ins_wait(world, webhooks, monkeypatch):  # noqa: F811
    gate, started = threading.Event(), threading.Semaphore(0)
    def blocked_verifier(stored, password):
        started.release()
        gate.wait(timeout=60)
        return stored is not None and password == PASSWORD  # the real argon2 would only be slower

    ada_token, _ = sessions.sign_in("ada@acme.test", PASSWORD)  # signed in before the flood
    monkeypatch.setattr(sessions, "verify_password", blocked_verifier)
    own_thread = ThreadPoolExecutor(1)  # the webhook client must not queue behind anything we test

    async def scenario():
        flood = [
            asyncio.create_task(_call(LoginState, "sign_in", "",
                                      ({"email": f"flood{i}@acme.test", "password": "wrong-password"},)))
            for i in range(WAITING_SIGN_INS)
        ]
        flood.append(asyncio.create_task(_call(LoginState, "sign_in", "",
                                               ({"email": "bo@acme.test", "password": PASSWORD},))))
        # Wait until hashing has begun: the verifiers now hold their threads.
        assert await asyncio.to_thread(started.acquire, timeout=STALLED)
        try:
            root = rx.State(_reflex_internal_init=True)
            _substate(root, SessionState).session_token = ada_token
            await asyncio.wait_for(_call(ContactsState, "load", ada_token, (), root), STALLED)
            page = _substate(root, ContactsState)
            assert page.loaded and any(r.name == "Carla Client" for r in page.rows)

            loop = asyncio.get_running_loop()
            response = await asyncio.wait_for(
                loop.run_in_executor(own_thread, lambda: httpx.post(f"{webhooks}/webhooks/vonage/inbound",
                                                                    data=_inbound(), timeout=STALLED)),
                STALLED,
            )
            assert response.status_code == 200
            assert _stored_events() == 1
            assert not any(task.done() for task in flood)  # the sign-ins really were still waiting
        finally:
            gate.set()
        roots = await asyncio.wait_for(asyncio.gather(*flood), STALLED)
        bo_login = _substate(roots[-1], LoginState)
        assert bo_login.error == "" and bo_login.session_token  # the waiting sign-in went through
        assert all(_substate(r, LoginState).error == "Wrong email or password" for r in roots[:-1])

    try:
        asyncio.run(scenario())
    finally:
        gate.set()
        own_thread.shutdown(wait=False)
    with db.transaction() as s:
        assert s.exec(select(func.count()).select_from(AuthSession)).one() == 2  # Ada's and Bo's
