"""Matchmaking: cards, "I'd like to meet" requests, anonymous tallies

Revision ID: 0006_matchmaking
Revises: 0005_expert_directory
Create Date: 2026-11-25 15:58:01.099428

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_matchmaking'
down_revision = '0005_expert_directory'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('friends_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('gender', sa.String(length=6), nullable=False),
    sa.Column('age_band', sa.String(length=5), nullable=False),
    sa.Column('area', sa.String(length=20), nullable=False),
    sa.Column('interests', sa.String(length=200), nullable=False),
    sa.Column('looking_for', sa.String(length=10), nullable=False),
    sa.Column('intro', sa.String(length=120), nullable=False),
    sa.Column('real_name', sa.String(length=20), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('consent_public_at', sa.DateTime(), nullable=False),
    sa.Column('consent_matchmaker_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('reject_reason', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("age_band IN ('18-24', '25-29', '30-34', '35-39', '40-44', '45-49', '50-54', '55-59', '60-64', '65-69', '70+')", name=op.f('ck_friends_cards_age_band')),
    sa.CheckConstraint("gender IN ('female', 'male')", name=op.f('ck_friends_cards_gender')),
    sa.CheckConstraint("looking_for IN ('friends', 'partner', 'companion')", name=op.f('ck_friends_cards_looking_for')),
    sa.CheckConstraint("state IN ('pending', 'approved', 'rejected', 'expired')", name=op.f('ck_friends_cards_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_friends_cards')),
    sa.UniqueConstraint('code', name=op.f('uq_friends_cards_code')),
    sa.UniqueConstraint('number', name=op.f('uq_friends_cards_number'))
    )
    with op.batch_alter_table('friends_cards', schema=None) as batch_op:
        batch_op.create_index('ix_friends_cards_public', ['state', 'expires_at', 'number'], unique=False)

    op.create_table('friends_tallies',
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_friends_tallies'))
    )
    op.create_table('friends_interests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('from_card_id', sa.Integer(), nullable=True),
    sa.Column('from_name', sa.String(length=20), nullable=True),
    sa.Column('from_mobile', sa.String(length=11), nullable=True),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('requester_agreed', sa.Boolean(), nullable=False),
    sa.Column('owner_agreed', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state IN ('new', 'asked', 'agreed', 'declined')", name=op.f('ck_friends_interests_state')),
    sa.ForeignKeyConstraint(['card_id'], ['friends_cards.id'], name=op.f('fk_friends_interests_card_id_friends_cards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_card_id'], ['friends_cards.id'], name=op.f('fk_friends_interests_from_card_id_friends_cards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_friends_interests'))
    )
    with op.batch_alter_table('friends_interests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_friends_interests_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_friends_interests_from_card_id'), ['from_card_id'], unique=False)
        batch_op.create_index('ix_friends_interests_state', ['state', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('friends_interests', schema=None) as batch_op:
        batch_op.drop_index('ix_friends_interests_state')
        batch_op.drop_index(batch_op.f('ix_friends_interests_from_card_id'))
        batch_op.drop_index(batch_op.f('ix_friends_interests_card_id'))

    op.drop_table('friends_interests')
    op.drop_table('friends_tallies')
    with op.batch_alter_table('friends_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_friends_cards_public')

    op.drop_table('friends_cards')
