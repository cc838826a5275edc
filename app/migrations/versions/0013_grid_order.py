"""Grids keep the order staff give them (in lists, the case form and the figures); until
then they read by name, as before.

Revision ID: 0013_grid_order
Revises: 0012_attendance_absent
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_grid_order'
down_revision = '0012_attendance_absent'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_grids') as batch:
        batch.add_column(sa.Column('position', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('case_grids') as batch:
        batch.drop_column('position')
