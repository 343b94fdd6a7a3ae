"""`db.read()`: a unit of work that only reads takes no write lock on SQLite and cannot write."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from groupsms import db
from groupsms.models import Location


def test_a_read_opens_a_plain_begin_and_a_write_unit_begin_immediate_on_sqlite(clean_db, statements):
    with statements.count() as log:
        with db.read() as s:
            s.exec(text("SELECT 1"))
        with db.transaction() as s:
            s.exec(text("SELECT 2"))
    if clean_db.dialect.name == "sqlite":
        assert log.sql == ["BEGIN", "SELECT 1", "BEGIN IMMEDIATE", "SELECT 2"]
    else:  # psycopg begins implicitly (BEGIN READ ONLY for the read): no statement of its own
        assert log.sql == ["SELECT 1", "SELECT 2"]


def test_a_read_sees_committed_rows_while_a_writer_holds_its_transaction(clean_db):
    with db.transaction() as writer:
        writer.add(Location(ref="held", name="Held open"))
        writer.flush()
        with db.read() as s:  # on SQLite a BEGIN IMMEDIATE here would wait for the writer
            assert s.exec(text("SELECT count(*) FROM location WHERE ref = 'held'")).one()[0] == 0
    with db.read() as s:
        assert s.exec(text("SELECT count(*) FROM location WHERE ref = 'held'")).one()[0] == 1


def test_a_read_cannot_write(clean_db):
    with pytest.raises(db.ReadOnlyWrite):
        with db.read() as s:
            s.add(Location(ref="nope", name="Never stored"))
    if clean_db.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="read-only transaction"):
            with db.read() as s:
                s.exec(text("INSERT INTO location (ref, name, created_at) VALUES ('raw', 'Raw', now())"))
    with db.read() as s:
        assert s.exec(text("SELECT count(*) FROM location")).one()[0] == 0


def test_after_a_read_the_pooled_connection_writes_again(clean_db):
    for _ in range(3):  # the read-only setting must not stick to a pooled connection
        with db.read() as s:
            s.exec(text("SELECT 1"))
        with db.transaction() as s:
            s.add(Location(ref=f"ok-{_}", name="Written"))
