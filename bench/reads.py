"""Read paths the pages hit on every visit: conversation list, one conversation, its messages.

Prints milliseconds per call and SQL statements per call with 500 groups and 20 messages each, on
SQLite and PostgreSQL. The statement counts must not grow with the number of groups listed.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench._world import build, database  # noqa: E402
from groupsms import db  # noqa: E402
from groupsms.models import Group, Message, Participant  # noqa: E402
from groupsms.services import groups, messages  # noqa: E402

GROUPS, PER_GROUP, MESSAGES_EACH = 500, 5, 20


def seed(number_id: int, contacts: list[int], actor) -> int:
    rng = random.Random(7)
    with Session(db.engine()) as s:
        for _ in range(GROUPS):
            g = Group(location_id=actor.location_id, business_number_id=number_id, created_by_id=actor.user_id)
            s.add(g)
            s.flush()
            for pos, cid in enumerate(rng.sample(contacts, PER_GROUP)):
                s.add(Participant(group_id=g.id, contact_id=cid, which="primary", name=f"Client {cid}",
                                  e164=f"+1512555{2000 + cid:04d}", position=pos))
            for i in range(MESSAGES_EACH):
                s.add(Message(location_id=actor.location_id, group_id=g.id, business_number_id=number_id,
                              direction="inbound" if i % 2 else "outbound", body=f"message {i}", status="sent"))
        s.commit()
        return g.id


def measure(label: str, fn, repeat: int = 20) -> None:
    statements = 0

    def count(*_args):
        nonlocal statements
        statements += 1

    event.listen(db.engine(), "before_cursor_execute", count)
    fn()  # warm up
    statements = 0
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    elapsed = (time.perf_counter() - start) / repeat
    event.remove(db.engine(), "before_cursor_execute", count)
    print(f"  {label:42} {elapsed * 1000:7.2f} ms/call  {statements / repeat:5.1f} SQL statements/call")


def run(backend: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(backend, tmp)
        try:
            db.init(url)
            actor, number_id, contacts = build(200)
            last = seed(number_id, contacts, actor)
            print(f"{backend}: {GROUPS} groups x {PER_GROUP} participants x {MESSAGES_EACH} messages")
            measure("list_groups (first 50)", lambda: groups.list_groups(actor))
            measure("list_groups search 'Client 1'", lambda: groups.list_groups(actor, search="Client 1"))
            measure("get_group", lambda: groups.get_group(actor, last))
            measure("list_messages (page of 30)", lambda: messages.list_messages(actor, last))
            measure("picker_contacts (first 50)", lambda: groups.picker_contacts(actor))
        finally:
            drop()


if __name__ == "__main__":
    for backend in sys.argv[1:] or ["sqlite", "postgresql"]:
        run(backend)
