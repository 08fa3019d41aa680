"""updates taken on by an instance, so that a redelivered update acts once

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processed_updates',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('instance', sa.String(length=100), nullable=False),
    sa.Column('claimed_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('done_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_processed_updates'))
    )
    op.create_index(op.f('ix_processed_updates_claimed_at'), 'processed_updates', ['claimed_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_processed_updates_claimed_at'), table_name='processed_updates')
    op.drop_table('processed_updates')
