"""How long each kiosk was online, day by day: the monthly summary's uptime. A kiosk's
heartbeats add the time between them while it stays online.

Revision ID: 0014_kiosk_days
Revises: 0013_grid_order
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_kiosk_days'
down_revision = '0013_grid_order'
branch_labels = None
depends_on = None

SCOPED_ROLE = "linli_scoped"
DISTRICT_ROLE = "linli_district"


def upgrade():
    op.create_table('kiosk_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('online_seconds', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_kiosk_days_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_kiosk_days_kiosk_id_kiosks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_days')),
    sa.UniqueConstraint('kiosk_id', 'day', name='uq_kiosk_days')
    )
    op.create_index('ix_kiosk_days_community', 'kiosk_days', ['community_id', 'day'])
    if op.get_bind().dialect.name == "postgresql":
        # The policies every community table has (migration 0009).
        own = "community_id = NULLIF(current_setting('linli.community', true), '')::integer"
        op.execute("ALTER TABLE kiosk_days ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE kiosk_days FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY community_rows ON kiosk_days TO {SCOPED_ROLE} USING ({own}) WITH CHECK ({own})")
        op.execute(f"CREATE POLICY district_rows ON kiosk_days TO {DISTRICT_ROLE} USING (true) WITH CHECK (true)")


def downgrade():
    op.drop_index('ix_kiosk_days_community', table_name='kiosk_days')
    op.drop_table('kiosk_days')
