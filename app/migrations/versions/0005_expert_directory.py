"""Expert directory: experts, skills, pinyin search keys, help requests, weekly caps

Revision ID: 0005_expert_directory
Revises: 0004_class_schedules
Create Date: 2026-11-25 15:19:20.170631

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_expert_directory'
down_revision = '0004_class_schedules'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('directory_experts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=False),
    sa.Column('display_name', sa.String(length=20), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('intro_en', sa.Text(), nullable=False),
    sa.Column('availability', sa.String(length=80), nullable=False),
    sa.Column('availability_en', sa.String(length=120), nullable=False),
    sa.Column('consent_on', sa.Date(), nullable=False),
    sa.Column('consent_scope', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('weekly_cap', sa.Integer(), nullable=False),
    sa.Column('readings', sa.Text(), nullable=False),
    sa.Column('sort_key', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state IN ('listed', 'hidden')", name=op.f('ck_directory_experts_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_experts'))
    )
    with op.batch_alter_table('directory_experts', schema=None) as batch_op:
        batch_op.create_index('ix_directory_experts_listed', ['state', 'sort_key'], unique=False)

    op.create_table('directory_skills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('name_en', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('readings', sa.Text(), nullable=False),
    sa.CheckConstraint("category IN ('calligraphy', 'literature', 'photography', 'music', 'dance', 'law', 'crafts', 'repairs', 'health', 'other')", name=op.f('ck_directory_skills_category')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_skills')),
    sa.UniqueConstraint('name', name=op.f('uq_directory_skills_name'))
    )
    op.create_table('directory_expert_skills',
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('skill_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['directory_experts.id'], name=op.f('fk_directory_expert_skills_expert_id_directory_experts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['skill_id'], ['directory_skills.id'], name=op.f('fk_directory_expert_skills_skill_id_directory_skills'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('expert_id', 'skill_id', name=op.f('pk_directory_expert_skills'))
    )
    with op.batch_alter_table('directory_expert_skills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_expert_skills_skill_id'), ['skill_id'], unique=False)

    op.create_table('directory_expert_weeks',
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('week_of', sa.Date(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['directory_experts.id'], name=op.f('fk_directory_expert_weeks_expert_id_directory_experts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('expert_id', 'week_of', name=op.f('pk_directory_expert_weeks'))
    )
    op.create_table('directory_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=True),
    sa.Column('week_of', sa.Date(), nullable=False),
    sa.Column('needs', sa.String(length=60), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=True),
    sa.Column('mobile', sa.String(length=11), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('staff_note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("state IN ('new', 'assigned', 'contacted', 'done', 'declined')", name=op.f('ck_directory_requests_state')),
    sa.ForeignKeyConstraint(['expert_id'], ['directory_experts.id'], name=op.f('fk_directory_requests_expert_id_directory_experts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_requests')),
    sa.UniqueConstraint('code', name=op.f('uq_directory_requests_code'))
    )
    with op.batch_alter_table('directory_requests', schema=None) as batch_op:
        batch_op.create_index('ix_directory_requests_expert_week', ['expert_id', 'week_of'], unique=False)
        batch_op.create_index('ix_directory_requests_state', ['state', 'id'], unique=False)

    op.create_table('directory_search_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=24), nullable=False),
    sa.Column('sort_key', sa.String(length=80), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['directory_experts.id'], name=op.f('fk_directory_search_keys_expert_id_directory_experts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_search_keys')),
    sa.UniqueConstraint('key', 'expert_id', name='uq_directory_search_keys')
    )
    with op.batch_alter_table('directory_search_keys', schema=None) as batch_op:
        batch_op.create_index('ix_directory_search_keys_expert', ['expert_id'], unique=False)
        batch_op.create_index('ix_directory_search_keys_order', ['key', 'sort_key', 'expert_id'], unique=False)

    with op.batch_alter_table('class_courses', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_class_courses_teacher_expert_id_directory_experts'), 'directory_experts', ['teacher_expert_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('class_courses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_class_courses_teacher_expert_id_directory_experts'), type_='foreignkey')

    with op.batch_alter_table('directory_search_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_directory_search_keys_order')
        batch_op.drop_index('ix_directory_search_keys_expert')

    op.drop_table('directory_search_keys')
    with op.batch_alter_table('directory_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_directory_requests_state')
        batch_op.drop_index('ix_directory_requests_expert_week')

    op.drop_table('directory_requests')
    op.drop_table('directory_expert_weeks')
    with op.batch_alter_table('directory_expert_skills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directory_expert_skills_skill_id'))

    op.drop_table('directory_expert_skills')
    op.drop_table('directory_skills')
    with op.batch_alter_table('directory_experts', schema=None) as batch_op:
        batch_op.drop_index('ix_directory_experts_listed')

    op.drop_table('directory_experts')
