"""Attendance says absent as well as present: a roll can tell someone who did not come from
someone not marked yet. Rows kept from before were all marks of presence.

Revision ID: 0012_attendance_absent
Revises: 0011_first_password
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_attendance_absent'
down_revision = '0011_first_password'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('class_attendance') as batch:
        batch.add_column(sa.Column('present', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    op.execute("DELETE FROM class_attendance WHERE NOT present")
    with op.batch_alter_table('class_attendance') as batch:
        batch.drop_column('present')
