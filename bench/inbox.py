"""The conversations page's inbox reads: replies waiting for routing and "Other texts".

Prints milliseconds and SQL statements per call with 100 replies waiting for routing (each sender
in two active groups) and 500 other texts, as an admin and as an assigned-only user whose contacts
are half of the senders, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session, select  # noqa: E402

from bench._world import build, database  # noqa: E402
from bench.reads import measure  # noqa: E402
from groupsms import db  # noqa: E402
from groupsms.models import Contact, Group, Message, Participant, User  # noqa: E402
from groupsms.services import Actor, messages  # noqa: E402

WAITING, OTHER = 100, 500


def seed(actor: Actor, number_id: int, contacts: list[int]) -> Actor:
    with Session(db.engine()) as s:
        bo = User(location_id=actor.location_id, ref="bo", email="bo@bench.test", name="Bo", role="user",
                  data_access="assigned", password_hash="x")
        s.add(bo)
        s.flush()
        rows = {c.id: c for c in s.exec(select(Contact).where(Contact.id.in_(contacts)))}
        for i, cid in enumerate(contacts[:WAITING]):
            contact = rows[cid]
            if i % 2:
                contact.assigned_user_id = bo.id
            s.add(contact)
            for partner in (contacts[WAITING + i % 50], contacts[WAITING + 50 + i % 50]):
                g = Group(location_id=actor.location_id, business_number_id=number_id)
                s.add(g)
                s.flush()
                for pos, member in enumerate((cid, partner)):
                    s.add(Participant(group_id=g.id, contact_id=member, which="primary", name=rows[member].name,
                                      e164=rows[member].primary_phone, position=pos))
            s.add(Message(location_id=actor.location_id, business_number_id=number_id, direction="inbound",
                          routing="needs_routing", body=f"which group? {i}", from_e164=contact.primary_phone))
        for i in range(OTHER):
            sender = rows[contacts[i % WAITING]].primary_phone if i % 2 else f"+1737555{1000 + i:04d}"
            s.add(Message(location_id=actor.location_id, business_number_id=number_id, direction="inbound",
                          routing="unrouted", body=f"hello {i}", from_e164=sender))
        s.commit()
        return Actor.of(bo)


def run(backend: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(backend, tmp)
        try:
            db.init(url)
            admin, number_id, contacts = build(200)
            bo = seed(admin, number_id, contacts)
            print(f"{backend}: {WAITING} replies waiting for routing, {OTHER} other texts")
            for who, actor in (("admin", admin), ("assigned-only", bo)):
                measure(f"list_needs_routing ({who})", lambda a=actor: messages.list_needs_routing(a), repeat=5)
                measure(f"count_needs_routing_for_others ({who})",
                        lambda a=actor: messages.count_needs_routing_for_others(a), repeat=5)
                measure(f"list_other_texts ({who})", lambda a=actor: messages.list_other_texts(a), repeat=5)
        finally:
            drop()


if __name__ == "__main__":
    for backend in sys.argv[1:] or ["sqlite", "postgresql"]:
        run(backend)
