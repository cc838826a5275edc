"""Kiosk experience: phone handoffs; notices remember their last edit

Revision ID: 0007_kiosk_experience
Revises: 0006_matchmaking
Create Date: 2026-11-25 16:53:07.216849

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_kiosk_experience'
down_revision = '0006_matchmaking'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kiosk_handoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=False),
    sa.Column('form', sa.String(length=30), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_kiosk_handoffs_kiosk_id_kiosks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_handoffs')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_kiosk_handoffs_token_hash'))
    )
    with op.batch_alter_table('kiosk_handoffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_handoffs_kiosk_id'), ['kiosk_id'], unique=False)

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('updated_by', sa.Integer(), nullable=True))
    # Notices written before this revision were last changed when they were made.
    op.execute("UPDATE notices SET updated_at = created_at")
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_notices_updated_by_staff_members'), 'staff_members', ['updated_by'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notices_updated_by_staff_members'), type_='foreignkey')
        batch_op.drop_column('updated_by')
        batch_op.drop_column('updated_at')

    with op.batch_alter_table('kiosk_handoffs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_handoffs_kiosk_id'))

    op.drop_table('kiosk_handoffs')
