"""a patient's appointments indexed with their start

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 07:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Without the start, SQLite's planner (no statistics) preferred ix_appointments_status_starts for
    # "this patient's active appointments after now", reading every patient's.
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_patient_status_starts', ['patient_id', 'status', 'starts_at'],
                              unique=False)
        batch_op.drop_index('ix_appointments_patient_status')


def downgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_patient_status', ['patient_id', 'status'], unique=False)
        batch_op.drop_index('ix_appointments_patient_status_starts')
