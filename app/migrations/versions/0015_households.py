"""Households (户码) and their phones; courses and surveys that take one per household.

Revision ID: 0015_households
Revises: 0014_kiosk_days
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_households'
down_revision = '0014_kiosk_days'
branch_labels = None
depends_on = None

SCOPED_ROLE = "linli_scoped"
DISTRICT_ROLE = "linli_district"


def _row_security(table):
    # The policies every community table has (migration 0009).
    own = "community_id = NULLIF(current_setting('linli.community', true), '')::integer"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY community_rows ON {table} TO {SCOPED_ROLE} USING ({own}) WITH CHECK ({own})")
    op.execute(f"CREATE POLICY district_rows ON {table} TO {DISTRICT_ROLE} USING (true) WITH CHECK (true)")


def upgrade():
    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building', sa.String(length=20), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('link_hash', sa.String(length=64), nullable=True),
    sa.Column('card_serial', sa.Integer(), nullable=False),
    sa.Column('batch', sa.Integer(), nullable=True),
    sa.Column('card_issued_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_households_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_households_code_hash')),
    sa.UniqueConstraint('link_hash', name=op.f('uq_households_link_hash'))
    )
    op.create_index('ix_households_community', 'households', ['community_id', 'building', 'unit'])
    op.create_table('household_phones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('bound_by', sa.String(length=10), nullable=False),
    sa.Column('bound_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_household_phones_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_phones_household_id_households'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_phones')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_household_phones_token_hash'))
    )
    op.create_index(op.f('ix_household_phones_household_id'), 'household_phones', ['household_id'])
    with op.batch_alter_table('class_courses') as batch_op:
        batch_op.add_column(sa.Column('one_per_household', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('class_signups') as batch_op:
        batch_op.add_column(sa.Column('household_once', sa.String(length=30), nullable=True))
        batch_op.create_unique_constraint('uq_class_signups_course_household', ['course_id', 'household_once'])
    with op.batch_alter_table('class_surveys') as batch_op:
        batch_op.add_column(sa.Column('one_per_household', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('class_survey_households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_class_survey_households_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_class_survey_households_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['class_surveys.id'], name=op.f('fk_class_survey_households_survey_id_class_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_survey_households')),
    sa.UniqueConstraint('survey_id', 'household_id', name='uq_class_survey_households')
    )
    if op.get_bind().dialect.name == "postgresql":
        _row_security('households')
        _row_security('household_phones')
        _row_security('class_survey_households')


def downgrade():
    op.drop_table('class_survey_households')
    with op.batch_alter_table('class_surveys') as batch_op:
        batch_op.drop_column('one_per_household')
    with op.batch_alter_table('class_signups') as batch_op:
        batch_op.drop_constraint('uq_class_signups_course_household', type_='unique')
        batch_op.drop_column('household_once')
    with op.batch_alter_table('class_courses') as batch_op:
        batch_op.drop_column('one_per_household')
    op.drop_index(op.f('ix_household_phones_household_id'), table_name='household_phones')
    op.drop_table('household_phones')
    op.drop_index('ix_households_community', table_name='households')
    op.drop_table('households')
