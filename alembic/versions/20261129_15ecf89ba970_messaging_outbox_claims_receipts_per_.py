"""messaging: outbox claims, receipts per part, inbound dedupe

Revision ID: 15ecf89ba970
Revises: 30328222ca08
Create Date: 2026-11-29 18:08:11.027200

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '15ecf89ba970'
down_revision: Union[str, Sequence[str], None] = '30328222ca08'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('opt_out_confirmation', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('part_statuses', sa.Text(), nullable=False, server_default='{}'))

    with op.batch_alter_table('inbound_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('concat_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.alter_column('provider_message_id', existing_type=sa.String(length=64),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=100), existing_nullable=False)
        batch_op.create_index(batch_op.f('ix_inbound_event_concat_key'), ['concat_key'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('provider_ref', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.create_unique_constraint('uq_message_provider_ref', ['provider_ref'])



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint('uq_message_provider_ref', type_='unique')
        batch_op.drop_column('provider_ref')
        batch_op.drop_column('sms_text')

    with op.batch_alter_table('inbound_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_event_concat_key'))
        batch_op.alter_column('provider_message_id', existing_type=sqlmodel.sql.sqltypes.AutoString(length=100),
                              type_=sa.String(length=64), existing_nullable=False)
        batch_op.drop_column('concat_key')

    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_column('part_statuses')
        batch_op.drop_column('opt_out_confirmation')
        batch_op.drop_column('claimed_by')

