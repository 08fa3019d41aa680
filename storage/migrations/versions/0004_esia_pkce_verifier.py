"""the PKCE code_verifier of an ESIA log-in, kept with its state

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 03:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: a log-in begun before the upgrade has none and finishes without PKCE.
    with op.batch_alter_table('esia_login_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_verifier', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('esia_login_states', schema=None) as batch_op:
        batch_op.drop_column('code_verifier')
