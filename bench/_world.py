"""A location with users, numbers and contacts for the benchmarks (not a test fixture)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlmodel import Session

from groupsms import db, migrations
from groupsms.models import BusinessNumber, Contact, Location, User
from groupsms.security import hash_password
from groupsms.services import Actor

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def database(backend: str, tmpdir: str) -> tuple[str, callable]:
    """A fresh migrated database URL and a function that drops it."""
    if backend == "sqlite":
        url = f"sqlite:///{tmpdir}/bench.db"
        migrations.upgrade(url)
        return url, lambda: None
    name = f"groupsms_bench_{uuid.uuid4().hex[:8]}"
    admin = db.make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    migrations.upgrade(url)

    def drop() -> None:
        db.engine().dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return url, drop


def build(contacts: int = 200) -> tuple[Actor, int, list[int]]:
    """An admin actor, the default number's id and `contacts` eligible contact ids."""
    with Session(db.engine()) as s:
        loc = Location(ref="bench", name="Bench Realty", intro_enabled=False)  # measure typed sends only
        s.add(loc)
        s.flush()
        admin = User(location_id=loc.id, ref="admin", email="admin@bench.test", name="Bench Admin",
                     role="admin", data_access="all", password_hash=hash_password("bench-password"))
        s.add(admin)
        number = BusinessNumber(location_id=loc.id, ref="main", e164="+15125550100", label="Main", is_default=True)
        s.add(number)
        s.flush()
        ids = []
        for i in range(contacts):
            c = Contact(location_id=loc.id, ref=f"c{i}", name=f"Client {i:04d}", primary_phone=f"+1512555{2000 + i:04d}")
            s.add(c)
            s.flush()
            ids.append(c.id)
        s.commit()
        return Actor.of(admin), number.id, ids
