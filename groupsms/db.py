"""Engine and units of work: one transaction per call, `transaction()` for a call that may write,
`read()` for one that only reads (services, the worker, inbound processing and the CLI all use them)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from groupsms import config
from groupsms import guards as _guards  # noqa: F401  (R9: membership cannot change)

_lock = threading.Lock()
_engine: Engine | None = None
_AFTER_COMMIT = "groupsms_after_commit"
_READONLY = "groupsms_readonly"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # pysqlite only opens a transaction at the first write, so a read-then-write could
            # act on stale rows. Take the transaction ourselves (see _sqlite_begin).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # Foreign keys are off by default in SQLite; WAL lets the web app read while a worker writes.
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            # IMMEDIATE takes the write lock up front: SQLite's writers queue (busy_timeout) instead
            # of failing or, worse, writing from a snapshot another writer has moved past. A read
            # (`read()`) takes no lock: a plain BEGIN reads one snapshot (WAL) beside any writer.
            if conn.get_execution_options().get(_READONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def init(url: str | None = None) -> Engine:
    """Configure the process-wide engine (from GROUPSMS_DATABASE_URL unless `url` is given)."""
    global _engine
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = make_engine(url or config.load().database_url)
        return _engine


def engine() -> Engine:
    if _engine is None:
        return init()
    return _engine


def _read_engine(base: Engine) -> Engine:
    """The same engine (and pool) with its transactions read-only: a plain deferred BEGIN on
    SQLite, BEGIN READ ONLY on PostgreSQL (psycopg starts it so; no extra statement)."""
    global _reader
    pair = _reader
    if pair is None or pair[0] is not base:
        options = {_READONLY: True}
        if base.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        pair = _reader = (base, base.execution_options(**options))
    return pair[1]


_reader: tuple[Engine, Engine] | None = None


# SQLite has one writer at a time, and a writer that finds it busy sleeps in its busy handler (1 ms,
# then 2, 5, 10 … up to 100 ms) before it looks again: the write transactions of this process take
# turns here instead, and the next one starts the moment one commits. Reentrant: a hook or a nested
# unit of the same thread goes on. PostgreSQL locks rows; it needs no turns.
_sqlite_writer = threading.RLock()


def write_turn():  # noqa: ANN201 - a context manager
    """This process's turn to write (SQLite), or nothing to wait for (PostgreSQL)."""
    return _sqlite_writer if engine().dialect.name == "sqlite" else nullcontext()


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error, then runs after-commit hooks."""
    with write_turn(), _unit(engine()) as session:
        yield session


@contextmanager
def read() -> Iterator[Session]:
    """A unit of work that only reads: it takes no write lock on SQLite (other writers go on) and
    a write in it fails (`ReadOnlyWrite` for the ORM's; PostgreSQL refuses any). After-commit hooks
    run as for `transaction()`."""
    with _unit(_read_engine(engine()), readonly=True) as session:
        yield session


class ReadOnlyWrite(RuntimeError):
    """A unit of work opened with `read()` tried to write."""


def _refuse_writes(session: Session, _context, _instances) -> None:  # noqa: ANN001
    if session.new or session.dirty or session.deleted:
        raise ReadOnlyWrite("this unit of work was opened with db.read(): it cannot write")


@contextmanager
def _unit(bind: Engine, *, readonly: bool = False) -> Iterator[Session]:
    with Session(bind, expire_on_commit=False) as session:
        if readonly:  # PostgreSQL refuses the write itself; this makes SQLite refuse it too
            event.listen(session, "before_flush", _refuse_writes)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            session.info.pop(_AFTER_COMMIT, None)
            raise
        hooks = session.info.pop(_AFTER_COMMIT, [])
    for hook in hooks:
        hook()


def on_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run `hook` after this unit of work commits (side effects never see rolled-back data)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(hook)
