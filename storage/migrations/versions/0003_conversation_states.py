"""conversation states kept in the database

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 03:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('conversation_states',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=100), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_conversation_states'))
    )


def downgrade() -> None:
    op.drop_table('conversation_states')
