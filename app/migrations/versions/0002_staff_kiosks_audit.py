"""Staff sessions, sign-in failures, kiosks, pairing, audit, rate counters

Revision ID: 0002_staff_kiosks_audit
Revises: 0001_foundation
Create Date: 2026-11-25 12:54:47.888648

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_staff_kiosks_audit'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_kind', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=80), nullable=False),
    sa.Column('area', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=30), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_actor', ['actor_kind', 'actor_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_entries_area', ['area', 'id'], unique=False)
        batch_op.create_index('ix_audit_entries_at', ['at'], unique=False)

    op.create_table('kiosks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.Column('last_page', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosks')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_kiosks_token_hash'))
    )
    op.create_table('rate_counters',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('window', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window', name=op.f('pk_rate_counters'))
    )
    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_failures_username_at', ['username', 'at'], unique=False)

    op.create_table('kiosk_pairings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('claim_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_kiosk_pairings_kiosk_id_kiosks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_pairings')),
    sa.UniqueConstraint('claim_hash', name=op.f('uq_kiosk_pairings_claim_hash')),
    sa.UniqueConstraint('code', name=op.f('uq_kiosk_pairings_code'))
    )
    op.create_table('staff_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['staff_members.id'], name=op.f('fk_staff_sessions_member_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_staff_sessions_key_hash'))
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_staff_sessions_member', ['member_id', 'ended_at'], unique=False)



def downgrade():
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_sessions_member')

    op.drop_table('staff_sessions')
    op.drop_table('kiosk_pairings')
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_failures_username_at')

    op.drop_table('sign_in_failures')
    op.drop_table('rate_counters')
    op.drop_table('kiosks')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_at')
        batch_op.drop_index('ix_audit_entries_area')
        batch_op.drop_index('ix_audit_entries_actor')

    op.drop_table('audit_entries')
