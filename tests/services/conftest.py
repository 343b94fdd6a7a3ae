"""A small world for service tests, built straight into the database (not through the services).

Location "acme": admin Ada, full-access user Dana, assigned-only user Bo; numbers main (default,
assigned to Ada), dana_line (assigned to Dana), spare (unassigned), toronto (CA, unassigned);
contacts assigned to Bo (carla, dan, erin, fay), to Dana (gus), unassigned (hal), DND (ivy, Bo's),
UK mobile (jon, Bo's). Location "birch": admin Zed, number and contact of their own.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import pytest
import uvicorn
from sqlmodel import Session
from starlette.applications import Starlette

from groupsms.messaging import events, notify
from groupsms.models import BusinessNumber, Contact, Location, NumberAssignment, User
from groupsms.security import hash_password
from groupsms.services import Actor

PASSWORD = "correct-horse-battery"
_HASH = hash_password(PASSWORD)  # hashing is slow by design: do it once


@dataclass
class World:
    actors: dict[str, Actor] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    locations: dict[str, int] = field(default_factory=dict)


NUMBERS = {
    "acme": [
        ("main", "+15125550100", "Main office", True, ["ada"]),
        ("dana_line", "+15125550101", "Dana's line", False, ["dana"]),
        ("spare", "+15125550102", "Spare", False, []),
        ("toronto", "+14165550100", "Toronto office", False, []),
    ],
    "birch": [("birch_main", "+17375550100", "Birch main", True, [])],
}
USERS = {
    "acme": [
        ("ada", "ada@acme.test", "Ada Admin", "admin", "all"),
        ("dana", "dana@acme.test", "Dana Full", "user", "all"),
        ("bo", "bo@acme.test", "Bo Assigned", "user", "assigned"),
    ],
    "birch": [("zed", "zed@birch.test", "Zed Birch", "admin", "all")],
}
# ref, name, primary, secondary, dnd, assigned user ref
CONTACTS = {
    "acme": [
        ("carla", "Carla Client", "+15125550111", "+15125550121", False, "bo"),
        ("dan", "Dan Buyer", "+15125550112", None, False, "bo"),
        ("erin", "Erin Seller", "+15125550113", None, False, "bo"),
        ("fay", "Fay Lender", "+15125550114", None, False, "bo"),
        ("gus", "Gus Inspector", "+15125550115", None, False, "dana"),
        ("hal", "Hal Title", "+15125550116", None, False, None),
        ("ivy", "Ivy Optout", "+15125550117", None, True, "bo"),
        ("jon", "Jon London", "+447911123456", None, False, "bo"),
        ("kim", "Kim Toronto", "+14165550111", None, False, "bo"),
        ("lea", "Lea Lawyer", "+15125550118", None, False, "bo"),
        ("max", "Max Mover", "+15125550119", None, False, "bo"),
        ("ned", "Ned Neighbor", "+15125550131", None, False, "bo"),
        ("ola", "Ola Owner", "+15125550132", None, False, "bo"),
    ],
    "birch": [("pia", "Pia Birch", "+17375550111", None, False, "zed"),
              ("quinn", "Quinn Birch", "+17375550112", None, False, "zed")],
}


@pytest.fixture
def world(clean_db) -> World:
    w = World()
    with Session(clean_db) as s:
        for loc_ref, name in (("acme", "Acme Realty"), ("birch", "Birch Homes")):
            # Off here, so tests count only the SMS they are about; tests of the intro turn it on.
            loc = Location(ref=loc_ref, name=name, intro_enabled=False)
            s.add(loc)
            s.flush()
            w.locations[loc_ref] = loc.id
            for ref, email, uname, role, access in USERS[loc_ref]:
                user = User(location_id=loc.id, ref=ref, email=email, name=uname, role=role,
                            data_access=access, password_hash=_HASH)
                s.add(user)
                s.flush()
                w.users[ref] = user.id
                w.actors[ref] = Actor.of(user)
            for ref, e164, label, default, assigned in NUMBERS[loc_ref]:
                number = BusinessNumber(location_id=loc.id, ref=ref, e164=e164, label=label, is_default=default)
                s.add(number)
                s.flush()
                w.numbers[ref] = number.id
                for user_ref in assigned:
                    s.add(NumberAssignment(number_id=number.id, user_id=w.users[user_ref]))
            for ref, cname, primary, secondary, dnd, owner in CONTACTS[loc_ref]:
                contact = Contact(location_id=loc.id, ref=ref, name=cname, primary_phone=primary,
                                  secondary_phone=secondary, dnd_sms=dnd,
                                  assigned_user_id=w.users[owner] if owner else None)
                s.add(contact)
                s.flush()
                w.contacts[ref] = contact.id
        s.commit()
    return w


@pytest.fixture
def fake():
    """The fake SMS gateway: records sends, answers as told."""
    from groupsms.messaging.fake_gateway import FakeGateway

    return FakeGateway()


@pytest.fixture
def worker(fake, clean_db):
    """An outbox worker sending through `fake`, drained by the test with run_once()."""
    from groupsms.messaging.worker import Worker

    w = Worker(fake, rate=1000, concurrency=2, lease_seconds=30)
    yield w
    w.close()


@pytest.fixture
def group4(world):
    """Carla, Dan, Erin and Fay on the main number, created by Bo."""
    from groupsms.services import groups

    return groups.create_group(world.actors["bo"], world.numbers["main"], pick(world, "carla", "dan", "erin", "fay"))


def pick(w: World, *refs: str) -> list[tuple[int, str]]:
    """Participants by contact ref, "carla" for the primary number, "carla:secondary" for the other."""
    out = []
    for ref in refs:
        name, _, which = ref.partition(":")
        out.append((w.contacts[name], which or "primary"))
    return out


WEBHOOK_SECRET = "service-tests-webhook-secret"


@pytest.fixture
def webhooks(clean_db, monkeypatch):
    """The app's Vonage webhook routes served by uvicorn on a loopback port; they verify signatures
    made with WEBHOOK_SECRET. Yields the base URL."""
    from groupsms.simulator.testing import wait_until
    from groupsms.webhooks.vonage import routes

    monkeypatch.setenv("VONAGE_SIGNATURE_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("VONAGE_SIGNATURE_METHOD", "sha256")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10, what="the webhook server")
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def changes():
    """The change events published while the test runs (`messaging.notify`), in order."""
    seen: list[events.ChangeEvent] = []
    unsubscribe = notify.subscribe(seen.append)
    yield seen
    unsubscribe()


@pytest.fixture
def steady_webhook_cache(monkeypatch):
    """Which locations have webhook subscriptions is cached for a few seconds; a refresh inside a
    counted call would add a statement depending on how long the setup took. With this, the first
    lookup fills the cache (the setup's, or a warm-up call's) and it stays for the test."""
    from groupsms.messaging import webhook_out

    monkeypatch.setattr(webhook_out, "_cache", None)
    monkeypatch.setattr(webhook_out, "_CACHE_SECONDS", 3600.0)
