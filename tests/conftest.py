"""Shared fixtures: a migrated database on SQLite and on the PostgreSQL at 127.0.0.1:5432.

Tests that take `database_url` or `clean_db` run once per backend. Set GROUPSMS_TEST_BACKENDS=sqlite
to skip PostgreSQL on a machine without it.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from groupsms import db, migrations

PG_ADMIN_URL = os.environ.get(
    "GROUPSMS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = os.environ.get("GROUPSMS_TEST_BACKENDS", "sqlite,postgresql").split(",")


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'groupsms.db'}"
        migrations.upgrade(url)
        yield url
        return
    name = f"groupsms_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    try:
        migrations.upgrade(url)
        yield url
    finally:
        db.engine().dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# Tables that keep their rows between tests: the migrated role policy.
_KEEP = {"casbin_rule", "policy_version"}


def empty_tables(engine) -> None:
    """Delete every row but the migrated role policy's (ids restart on PostgreSQL)."""
    tables = [t for t in reversed(SQLModel.metadata.sorted_tables) if t.name not in _KEEP]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def clean_db(database_url):
    """The process engine pointed at the test database, emptied (but for the policy) after the test."""
    engine = db.init(database_url)
    yield engine
    from groupsms.access import policy

    empty_tables(engine)
    with engine.begin() as conn:
        conn.execute(SQLModel.metadata.tables["casbin_rule"].delete())
    from sqlmodel import Session

    with Session(engine) as session:
        policy.seed_default_policy(session)
        session.commit()
    policy.ENFORCER.forget()


class StatementLog:
    """The SQL statements the process engine ran inside a `with statements.count():` block.

    `statements.count()` yields this log; after the block, `len(log)` is the number of statements and
    `log.sql` their text, so an assertion failure shows what ran. BEGIN (SQLite's `BEGIN IMMEDIATE`
    or `BEGIN`) is counted as a statement of its own, COMMIT and ROLLBACK are not (the driver issues
    them outside the cursor)."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __len__(self) -> int:
        return len(self.sql)

    def __repr__(self) -> str:
        return f"{len(self.sql)} statements:\n" + "\n".join(f"  {s[:160]}" for s in self.sql)

    def writes(self) -> list[str]:
        return [s for s in self.sql if s.split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}]


class _Statements:
    def __init__(self) -> None:
        import contextlib

        self._contextlib = contextlib

    def count(self):
        from sqlalchemy import event

        log = StatementLog()

        def record(_conn, _cursor, statement, _params, _context, _many):  # noqa: ANN001
            log.sql.append(" ".join(str(statement).split()))

        @self._contextlib.contextmanager
        def block():
            engine = db.engine()
            event.listen(engine, "before_cursor_execute", record)
            try:
                yield log
            finally:
                event.remove(engine, "before_cursor_execute", record)

        return block()


@pytest.fixture
def statements():
    """Exact statement counts of a call, Zulip-style::

        with statements.count() as log:
            groups.get_group(actor, group_id)
        assert len(log) == 4, log
    """
    return _Statements()
