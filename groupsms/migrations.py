"""Run the Alembic history programmatically (used by `groupsms db upgrade` and the tests)."""

from __future__ import annotations

from alembic.config import Config

from alembic import command
from groupsms import config, db
from groupsms.access import policy

ALEMBIC_INI = config.ROOT / "alembic.ini"
# Full-text search lives outside the SQLModel metadata (the migration that adds it says how):
# SQLite's FTS5 table with its shadow tables, and PostgreSQL's expression index.
FULL_TEXT_OBJECTS = ("message_fts", "ix_message_body_fts")


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Leave the full-text objects out of the drift check (alembic's `include_object` hook)."""
    return not (reflected and name is not None and name.startswith(FULL_TEXT_OBJECTS))


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(config.ROOT / "alembic"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None) -> None:
    """Migrate to the latest schema, then seed the default role policy if there is none."""
    url = url or config.load().database_url
    command.upgrade(alembic_config(url), "head")
    engine = db.make_engine(url)
    try:
        from sqlmodel import Session

        with Session(engine) as session:
            policy.seed_default_policy(session)
            session.commit()
    finally:
        engine.dispose()


def check(url: str | None = None) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(url or config.load().database_url))
