"""Staff accounts an admin creates, or whose password an admin resets, choose their own
password at their next sign-in: the password the admin handed over works once.

Revision ID: 0011_first_password
Revises: 0010_cases
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_first_password'
down_revision = '0010_cases'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_members') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('staff_members') as batch:
        batch.drop_column('must_change_password')
