"""Class schedules, sign-ups, waitlists, lotteries, attendance, ratings, needs surveys

Revision ID: 0004_class_schedules
Revises: 0003_message_wall
Create Date: 2026-11-25 14:52:55.619031

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_class_schedules'
down_revision = '0003_message_wall'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('class_courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('title_en', sa.String(length=80), nullable=False),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('teacher', sa.String(length=40), nullable=False),
    sa.Column('teacher_expert_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('venue', sa.String(length=60), nullable=False),
    sa.Column('venue_en', sa.String(length=80), nullable=False),
    sa.Column('eligibility', sa.String(length=120), nullable=False),
    sa.Column('eligibility_en', sa.String(length=160), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('term_starts', sa.Date(), nullable=False),
    sa.Column('term_ends', sa.Date(), nullable=False),
    sa.Column('signup_opens_at', sa.DateTime(), nullable=False),
    sa.Column('signup_closes_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.Column('arrivals', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('draw_seed', sa.String(length=64), nullable=True),
    sa.Column('drawn_at', sa.DateTime(), nullable=True),
    sa.Column('drop_reason', sa.String(length=200), nullable=False),
    sa.Column('purged_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("category IN ('calligraphy', 'music', 'reading', 'family', 'law', 'fitness', 'children', 'elderly', 'other')", name=op.f('ck_class_courses_category')),
    sa.CheckConstraint("mode IN ('first_come', 'lottery')", name=op.f('ck_class_courses_mode')),
    sa.CheckConstraint("status IN ('draft', 'open', 'full', 'running', 'finished', 'dropped')", name=op.f('ck_class_courses_status')),
    sa.CheckConstraint('taken >= 0 AND taken <= capacity', name=op.f('ck_class_courses_seats')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_courses'))
    )
    with op.batch_alter_table('class_courses', schema=None) as batch_op:
        batch_op.create_index('ix_class_courses_listed', ['term_ends', 'status', 'category'], unique=False)

    op.create_table('class_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=120), nullable=False),
    sa.Column('question_en', sa.String(length=160), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("state IN ('draft', 'published', 'closed')", name=op.f('ck_class_surveys_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_surveys'))
    )
    op.create_table('class_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['class_courses.id'], name=op.f('fk_class_sessions_course_id_class_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_sessions'))
    )
    with op.batch_alter_table('class_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_sessions_course_id'), ['course_id'], unique=False)
        batch_op.create_index('ix_class_sessions_starts', ['starts_at'], unique=False)

    op.create_table('class_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=True),
    sa.Column('mobile', sa.String(length=11), nullable=True),
    sa.Column('mobile_tail', sa.String(length=4), nullable=True),
    sa.Column('masked_name', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('queue_key', sa.Integer(), nullable=False),
    sa.Column('arrival', sa.Integer(), nullable=False),
    sa.Column('entry_ref', sa.String(length=8), nullable=True),
    sa.Column('drawn_rank', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("source IN ('kiosk', 'phone', 'assisted')", name=op.f('ck_class_signups_source')),
    sa.CheckConstraint("state IN ('entered', 'confirmed', 'waitlisted', 'cancelled')", name=op.f('ck_class_signups_state')),
    sa.ForeignKeyConstraint(['course_id'], ['class_courses.id'], name=op.f('fk_class_signups_course_id_class_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_signups')),
    sa.UniqueConstraint('code', name=op.f('uq_class_signups_code')),
    sa.UniqueConstraint('course_id', 'entry_ref', name='uq_class_signups_course_entry_ref'),
    sa.UniqueConstraint('course_id', 'mobile', name='uq_class_signups_course_mobile')
    )
    with op.batch_alter_table('class_signups', schema=None) as batch_op:
        batch_op.create_index('ix_class_signups_queue', ['course_id', 'state', 'queue_key'], unique=False)

    op.create_table('class_survey_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('label_en', sa.String(length=60), nullable=False),
    sa.Column('votes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['class_surveys.id'], name=op.f('fk_class_survey_options_survey_id_class_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_survey_options'))
    )
    with op.batch_alter_table('class_survey_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_survey_options_survey_id'), ['survey_id'], unique=False)

    op.create_table('class_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('signup_id', sa.Integer(), nullable=False),
    sa.Column('marked_by', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['marked_by'], ['staff_members.id'], name=op.f('fk_class_attendance_marked_by_staff_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'], name=op.f('fk_class_attendance_session_id_class_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signup_id'], ['class_signups.id'], name=op.f('fk_class_attendance_signup_id_class_signups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_attendance')),
    sa.UniqueConstraint('session_id', 'signup_id', name='uq_class_attendance')
    )
    with op.batch_alter_table('class_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_attendance_signup_id'), ['signup_id'], unique=False)

    op.create_table('class_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('signup_id', sa.Integer(), nullable=True),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('stars BETWEEN 1 AND 5', name=op.f('ck_class_ratings_stars')),
    sa.ForeignKeyConstraint(['course_id'], ['class_courses.id'], name=op.f('fk_class_ratings_course_id_class_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signup_id'], ['class_signups.id'], name=op.f('fk_class_ratings_signup_id_class_signups'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_ratings')),
    sa.UniqueConstraint('signup_id', name='uq_class_ratings_signup')
    )
    with op.batch_alter_table('class_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_ratings_course_id'), ['course_id'], unique=False)


def downgrade():
    with op.batch_alter_table('class_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_ratings_course_id'))

    op.drop_table('class_ratings')
    with op.batch_alter_table('class_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_attendance_signup_id'))

    op.drop_table('class_attendance')
    with op.batch_alter_table('class_survey_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_survey_options_survey_id'))

    op.drop_table('class_survey_options')
    with op.batch_alter_table('class_signups', schema=None) as batch_op:
        batch_op.drop_index('ix_class_signups_queue')

    op.drop_table('class_signups')
    with op.batch_alter_table('class_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_class_sessions_starts')
        batch_op.drop_index(batch_op.f('ix_class_sessions_course_id'))

    op.drop_table('class_sessions')
    op.drop_table('class_surveys')
    with op.batch_alter_table('class_courses', schema=None) as batch_op:
        batch_op.drop_index('ix_class_courses_listed')

    op.drop_table('class_courses')
