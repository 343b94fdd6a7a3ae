"""Group names, local times, intro texts, contact merges and full-text search of messages

Revision ID: 1bcf63d03649
Revises: 097d318e47cf
Create Date: 2026-12-02 05:39:41.203798

SQLite gets an FTS5 index of message bodies (`message_fts`, external content kept in step by
triggers; a later batch migration that copies `message` must create them again); PostgreSQL a GIN index over `to_tsvector('simple', body)`. Neither is part of the
SQLModel metadata: `alembic/env.py` leaves them out of the drift check.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '1bcf63d03649'
down_revision: Union[str, Sequence[str], None] = '097d318e47cf'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE message_fts USING fts5(body, content='message', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN "
    "INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER message_fts_update AFTER UPDATE OF body ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body); END",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
]
_PG_FTS = "CREATE INDEX ix_message_body_fts ON message USING gin (to_tsvector('simple', body))"


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('clock', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, server_default=''))

    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('browser_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('browser_locale', sqlmodel.sql.sqltypes.AutoString(length=35), nullable=False, server_default=''))

    with op.batch_alter_table('chat_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False, server_default=''))

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_contact_merged_into_id'), ['merged_into_id'], unique=False)

    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intro_enabled', sa.Boolean(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('intro_text', sa.Text(), server_default='', nullable=False))

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='text'))

    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)
    else:
        op.execute(_PG_FTS)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("message_fts_insert", "message_fts_delete", "message_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS message_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_message_body_fts")

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('kind')

    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_column('intro_text')
        batch_op.drop_column('intro_enabled')

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_merged_into_id'))
        batch_op.drop_column('merged_into_id')

    with op.batch_alter_table('chat_group', schema=None) as batch_op:
        batch_op.drop_column('name')

    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_column('browser_locale')
        batch_op.drop_column('browser_zone')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('clock')
        batch_op.drop_column('time_zone')
